package dev.strata.conformance;

import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The child process of the "killed while mounted" case: opens a driver, gets a layer, prints {@value #MOUNTED} and
 * waits, holding the mount (and whatever the driver needed to make it), until the parent kills it with SIGKILL.
 *
 * <p>Usage: {@code GetUntilKilled DRIVER ROOT ID [KEY=VALUE...]}
 */
public final class GetUntilKilled {
    static final String MOUNTED = "MOUNTED";

    private GetUntilKilled() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (args.length < 3) {
            System.err.println("usage: GetUntilKilled DRIVER ROOT ID [KEY=VALUE...]");
            System.exit(2);
        }
        List<String> options = Arrays.asList(args).subList(3, args.length);
        DriverRegistry registry = DriverRegistry.load();
        StorageDriver driver = registry.open(registry.require(args[0]), Path.of(args[1]), options);
        driver.get(args[2], "");
        System.out.println(MOUNTED);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}

package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The child process of the kill -9 case: opens a driver, creates a layer (unless it exists) and applies a tar stream that never
 * ends, printing {@value #APPLYING} once the driver is consuming it. The parent then kills it with SIGKILL.
 *
 * <p>Usage: {@code ApplyUntilKilled DRIVER ROOT ID PARENT [KEY=VALUE...]}
 */
public final class ApplyUntilKilled {
    static final String APPLYING = "APPLYING";

    private ApplyUntilKilled() {
    }

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: ApplyUntilKilled DRIVER ROOT ID PARENT [KEY=VALUE...]");
            System.exit(2);
        }
        List<String> options = Arrays.asList(args).subList(4, args.length);
        DriverRegistry registry = DriverRegistry.load();
        StorageDriver driver = registry.open(registry.require(args[0]), Path.of(args[1]), options);
        String id = args[2];
        String parent = args[3].isEmpty() ? null : args[3];
        if (!driver.exists(id)) driver.create(id, parent, CreateOptions.NONE);
        driver.applyDiff(id, parent, new EndlessTarStream(() -> {
            System.out.println(APPLYING);
            System.out.flush();
        }));
        System.err.println("applyDiff returned from an endless stream");
        System.exit(3);
    }
}

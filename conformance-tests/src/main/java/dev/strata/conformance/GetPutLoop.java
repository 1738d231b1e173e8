package dev.strata.conformance;

import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The second process of the "two processes get and put one layer" case: gets and puts a layer N times, checking
 * that FILE is there after every get, then prints {@value #DONE} and exits without a cleanup (a cleanup unmounts
 * every counted layer, the other process's too), as a CLI command does.
 *
 * <p>Usage: {@code GetPutLoop DRIVER ROOT ID FILE N [KEY=VALUE...]}
 */
public final class GetPutLoop {
    static final String DONE = "DONE";

    private GetPutLoop() {
    }

    public static void main(String[] args) {
        if (args.length < 5) {
            System.err.println("usage: GetPutLoop DRIVER ROOT ID FILE N [KEY=VALUE...]");
            System.exit(2);
        }
        List<String> options = Arrays.asList(args).subList(5, args.length);
        DriverRegistry registry = DriverRegistry.load();
        StorageDriver driver = registry.open(registry.require(args[0]), Path.of(args[1]), options);
        run(driver, args[2], args[3], Integer.parseInt(args[4]));
        System.out.println(DONE);
    }

    /** get, check, put, n times: the loop both processes run. */
    static void run(StorageDriver d, String id, String file, int n) {
        for (int i = 0; i < n; i++) {
            Path root = d.get(id, "");
            if (!Files.exists(root.resolve(file))) throw new IllegalStateException("get " + i + ": " + file + " not in " + root);
            d.get(id, ""); // a second reference: the path without the lock
            d.put(id);
            d.put(id);
        }
    }
}

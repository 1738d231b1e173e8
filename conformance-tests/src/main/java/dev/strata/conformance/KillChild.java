package dev.strata.conformance;

import dev.strata.api.CreateOptions;
import dev.strata.api.DriverRegistry;
import dev.strata.api.StorageDriver;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The process a kill trial ({@link KillTrial}) kills with SIGKILL: opens the driver and says {@code READY}; on
 * {@code CAL} (stdin) runs the operation once on a throwaway id to time it ({@code CAL <nanos>}); on {@code GO} runs
 * it on the trial's layer, says {@code DONE <nanos>} and waits to be killed.
 *
 * <p>Usage: {@code KillChild DRIVER ROOT apply|create|remove ID [KEY=VALUE...]}; the layers the operation needs
 * ({@value KillTrial#BASE}, and ID for apply and remove) are made by the parent.
 */
public final class KillChild {
    private KillChild() {
    }

    public static void main(String[] args) throws Exception {
        List<String> options = Arrays.asList(args).subList(4, args.length);
        DriverRegistry registry = DriverRegistry.load();
        StorageDriver d = registry.open(registry.require(args[0]), Path.of(args[1]), options);
        String op = args[2], id = args[3];
        System.out.println("READY");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line = in.readLine();
        if ("CAL".equals(line)) {
            String cal = "calibrate-" + ProcessHandle.current().pid();
            if (!op.equals("create")) d.create(cal, KillTrial.BASE, CreateOptions.NONE);
            if (op.equals("remove")) d.applyDiff(cal, KillTrial.BASE, new ByteArrayInputStream(KillTrial.applied()));
            long t0 = System.nanoTime();
            run(d, op, cal);
            long took = System.nanoTime() - t0;
            if (!op.equals("remove")) d.remove(cal);
            System.out.println("CAL " + took);
            System.out.flush();
            line = in.readLine();
        }
        if (!"GO".equals(line)) System.exit(2);
        long t0 = System.nanoTime();
        run(d, op, id);
        System.out.println("DONE " + (System.nanoTime() - t0));
        System.out.flush();
        Thread.sleep(600_000);
    }

    private static void run(StorageDriver d, String op, String id) {
        switch (op) {
            case "apply" -> d.applyDiff(id, KillTrial.BASE, new ByteArrayInputStream(KillTrial.applied()));
            case "create" -> d.create(id, KillTrial.BASE, CreateOptions.NONE);
            case "remove" -> d.remove(id);
            default -> throw new IllegalArgumentException(op);
        }
    }
}

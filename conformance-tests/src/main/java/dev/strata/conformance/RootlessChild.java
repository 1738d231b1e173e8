package dev.strata.conformance;

import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.NotSupportedException;
import dev.strata.api.StorageDriver;
import dev.strata.api.Support;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The rootless case's process, run as an unprivileged user inside {@code unshare -Urm} (root there, nobody outside):
 * a whole layer lifecycle through the driver, printing {@code OK}, or {@code UNSUPPORTED <reason>} when the driver
 * says it cannot run without real root.
 *
 * <p>Usage: {@code RootlessChild DRIVER ROOT [KEY=VALUE...]}
 */
public final class RootlessChild {
    private RootlessChild() {
    }

    public static void main(String[] args) throws Exception {
        List<String> options = Arrays.asList(args).subList(2, args.length);
        DriverRegistry registry = DriverRegistry.load();
        DriverProvider p = registry.require(args[0]);
        Path root = Path.of(args[1]);
        StorageDriver d;
        try {
            Support s = p.probe(DriverRegistry.home(root, p));
            if (!s.supported()) unsupported(s.reason());
            d = registry.open(p, root, options);
        } catch (NotSupportedException e) {
            unsupported(e.getMessage());
            return;
        }
        d.create("base", null, null);
        d.applyDiff("base", null, new ByteArrayInputStream(KillTrial.baseTar()));
        d.createReadWrite("c", "base", null);
        Path r = d.get("c", "");
        Files.writeString(r.resolve("written"), "in a user namespace");
        Files.delete(r.resolve("base-gone"));
        d.put("c");
        List<Change> changes = d.changes("c", "base");
        List<String> shown = changes.stream().map(Change::toString).toList();
        if (!shown.contains("A /written") || !shown.contains("D /base-gone")) throw new AssertionError("changes: " + shown);
        try (InputStream diff = d.diff("c", "base")) {
            if (diff.readAllBytes().length < 1024) throw new AssertionError("a diff too short");
        }
        d.create("applied", "base", CreateOptions.NONE);
        d.applyDiff("applied", "base", new ByteArrayInputStream(KillTrial.applied()));
        d.remove("applied");
        d.remove("c");
        d.remove("base");
        d.cleanup();
        System.out.println("OK");
    }

    private static void unsupported(String why) {
        System.out.println("UNSUPPORTED " + why);
        System.exit(4);
    }
}

package dev.strata.driver.devmapper;

import dev.strata.api.StorageDriver;
import dev.strata.api.CreateOptions;

import java.nio.file.Path;
import java.util.List;

/**
 * The process CrashRecoveryTest kills: {@code CrashChild HOME create|create-grown|remove|apply|loop}. With
 * {@code -Dstrata.devmapper.crashAt=POINT} it halts at that point, as a SIGKILL would stop it.
 */
public final class CrashChild {
    private CrashChild() {
    }

    public static void main(String[] args) {
        Path home = Path.of(args[0]);
        StorageDriver d = DmAssumptions.open(home, DmAssumptions.SMALL);
        if (!d.exists("keep")) d.create("keep", null, CreateOptions.NONE);
        switch (args[1]) {
            case "create" -> d.create("victim", "keep", CreateOptions.NONE);
            case "create-grown" -> d.create("victim", "keep", CreateOptions.of(java.util.Map.of("size", "96M"))); // made as -new-victim
            case "remove" -> {
                d.create("victim", "keep", CreateOptions.NONE);
                d.remove("victim");
            }
            case "apply" -> {
                d.create("victim", "keep", CreateOptions.NONE);
                d.applyDiff("victim", "keep", new java.io.ByteArrayInputStream(new byte[1024])); // an empty tar
            }
            case "loop" -> {
                for (int i = 0; ; i++) {
                    d.create("l" + i, "keep", CreateOptions.NONE);
                    System.out.println("created l" + i);
                    System.out.flush();
                }
            }
            default -> throw new IllegalArgumentException(args[1]);
        }
        System.out.println("finished without crashing: " + List.of(args));
        System.exit(3);
    }
}

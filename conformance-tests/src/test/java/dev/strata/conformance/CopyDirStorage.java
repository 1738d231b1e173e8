package dev.strata.conformance;

import dev.strata.api.Capabilities;
import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.OptionSpec;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.api.Support;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.WhiteoutFormat;
import dev.strata.kit.DirectoryStaging;
import dev.strata.kit.DriverKit;
import dev.strata.kit.DirectoryStorage;
import dev.strata.kit.NewLayer;
import dev.strata.kit.StagedApply;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A throwaway driver for the suite's own tests, and the smallest driver on the kit: each layer a full copy of its
 * parent made by {@code cp -a}, no mounts, the naive diff. The kit does everything else.
 */
class CopyDirStorage implements DirectoryStorage {
    static final String NAME = "copydir";
    private final Path home;

    CopyDirStorage(Path home) {
        this.home = home;
        try {
            Files.createDirectories(home.resolve("dir"));
            Files.createDirectories(home.resolve("parents"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The provider, registered for the suite's tests in META-INF/services. */
    public static final class Provider implements DriverProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public int priority() {
            return 0;
        }

        @Override
        public List<OptionSpec> options() {
            return List.of();
        }

        @Override
        public Support probe(Path home) {
            return Support.yes("cp -a works everywhere");
        }

        @Override
        public StorageDriver open(DriverContext context) {
            return DriverKit.wrap(new CopyDirStorage(context.home()));
        }
    }

    private Path dir(String id) {
        return home.resolve("dir").resolve(id);
    }

    @Override
    public void create(NewLayer layer) {
        try {
            run("rm", "-rf", dir(layer.id()).toString());
            if (layer.parent() == null) {
                Files.createDirectory(dir(layer.id()));
                Files.setPosixFilePermissions(dir(layer.id()), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } else {
                run("cp", "-a", dir(layer.parent()).toString(), dir(layer.id()).toString());
            }
            Files.writeString(home.resolve("parents").resolve(layer.id()), layer.parent() == null ? "" : layer.parent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void remove(String id) {
        try {
            Files.deleteIfExists(home.resolve("parents").resolve(id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run("rm", "-rf", dir(id).toString());
    }

    @Override
    public boolean exists(String id) {
        return Files.exists(home.resolve("parents").resolve(id));
    }

    @Override
    public String parent(String id) {
        try {
            String p = Files.readString(home.resolve("parents").resolve(id));
            return p.isEmpty() ? null : p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<String> layers() {
        try (Stream<Path> s = Files.list(home.resolve("parents"))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public List<StatusEntry> status() {
        return List.of(new StatusEntry("Backing", "cp -a"));
    }

    @Override
    public Map<String, String> metadata(String id) {
        return Map.of("Dir", dir(id).toString());
    }

    @Override
    public Path root(String id) {
        return dir(id);
    }

    @Override
    public StagedApply stageApply(String id, String parent) {
        return DirectoryStaging.stage(dir(id), staging(id), ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
    }

    @Override
    public void discardStaged(String id) {
        DirectoryStaging.discard(dir(id), staging(id));
    }

    private Path staging(String id) {
        return home.resolve("dir").resolve(".apply-" + id);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Path home() {
        return home;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(false, false);
    }

    private static void run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) throw new StorageException(command[0], command[command.length - 1], out.strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

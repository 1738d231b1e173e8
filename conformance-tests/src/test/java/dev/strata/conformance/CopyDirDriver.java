package dev.strata.conformance;

import dev.strata.api.Capabilities;
import dev.strata.api.Change;
import dev.strata.api.CreateOptions;
import dev.strata.api.DriverContext;
import dev.strata.api.DriverProvider;
import dev.strata.api.IncompleteLayers;
import dev.strata.api.LayerBusyException;
import dev.strata.api.LayerExistsException;
import dev.strata.api.LayerIds;
import dev.strata.api.LayerUnknownException;
import dev.strata.api.OptionSpec;
import dev.strata.api.ParentUnknownException;
import dev.strata.api.RefCounts;
import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import dev.strata.api.StorageException;
import dev.strata.api.Support;
import dev.strata.archive.ApplyOptions;
import dev.strata.archive.NaiveDiff;
import dev.strata.archive.WhiteoutFormat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A throwaway driver for the kit's own tests: each layer a full copy of its parent made by {@code cp -a}, no
 * mounts, the naive diff. Just enough of the contract to exercise the suite's mechanics.
 */
class CopyDirDriver implements StorageDriver {
    static final String NAME = "copydir";
    private final Path home;
    private final RefCounts refs;
    private final IncompleteLayers incomplete;
    private final NaiveDiff naive;

    CopyDirDriver(Path home) {
        this.home = home;
        this.refs = new RefCounts(home.resolve("refs"), null);
        this.incomplete = new IncompleteLayers(home.resolve("incomplete"));
        this.naive = new NaiveDiff(this, ApplyOptions.of(WhiteoutFormat.DELETE_IN_PLACE));
        try {
            Files.createDirectories(home.resolve("dir"));
            Files.createDirectories(home.resolve("parents"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String id : incomplete.list()) {
            run("rm", "-rf", dir(id).toString());
            incomplete.clear(id);
        }
    }

    /** The provider, registered for the kit's tests in META-INF/services. */
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
            return new CopyDirDriver(context.home());
        }
    }

    private Path dir(String id) {
        return home.resolve("dir").resolve(id);
    }

    @Override
    public void create(String id, String parent, CreateOptions options) {
        LayerIds.check("create", id);
        parent = LayerIds.checkParent("create", parent);
        if (Files.exists(dir(id))) throw new LayerExistsException("create", id);
        if (parent != null && !exists(parent)) throw new ParentUnknownException("create", id, parent);
        try {
            if (parent == null) {
                Files.createDirectory(dir(id));
                Files.setPosixFilePermissions(dir(id), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            } else {
                run("cp", "-a", dir(parent).toString(), dir(id).toString());
            }
            Files.writeString(home.resolve("parents").resolve(id), parent == null ? "" : parent);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void createReadWrite(String id, String parent, CreateOptions options) {
        create(id, parent, options);
    }

    @Override
    public void remove(String id) {
        LayerIds.check("remove", id);
        if (!Files.exists(dir(id))) throw new LayerUnknownException("remove", id);
        for (String other : layers()) {
            if (id.equals(parent(other))) throw new LayerBusyException("remove", id, "layer " + other + " is its child");
        }
        run("rm", "-rf", dir(id).toString());
        try {
            Files.deleteIfExists(home.resolve("parents").resolve(id));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        refs.withLock(id, () -> {
            refs.forget(id);
            return null;
        });
    }

    @Override
    public Path get(String id, String mountLabel) {
        if (!exists(id)) throw new LayerUnknownException("get", LayerIds.check("get", id));
        refs.acquire(id, () -> { });
        return dir(id);
    }

    @Override
    public void put(String id) {
        refs.release(id, () -> { });
    }

    @Override
    public boolean exists(String id) {
        return Files.isDirectory(dir(id)) && !incomplete.isIncomplete(id);
    }

    @Override
    public int references(String id) {
        return refs.count(id);
    }

    @Override
    public String parent(String id) {
        try {
            String p = Files.readString(home.resolve("parents").resolve(LayerIds.check("parent", id)));
            return p.isEmpty() ? null : p;
        } catch (IOException e) {
            throw new LayerUnknownException("parent", id);
        }
    }

    @Override
    public List<String> layers() {
        try (Stream<Path> s = Files.list(home.resolve("dir"))) {
            return s.map(p -> p.getFileName().toString()).filter(this::exists).sorted().toList();
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
    public void cleanup() {
    }

    @Override
    public InputStream diff(String id, String parent) {
        return naive.diff(id, parent);
    }

    @Override
    public List<Change> changes(String id, String parent) {
        return naive.changes(id, parent);
    }

    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        if (!exists(id)) throw new LayerUnknownException("applyDiff", LayerIds.check("applyDiff", id));
        incomplete.mark(id);
        long n = naive.applyDiff(id, parent, diff); // a failure leaves the mark: the layer no longer exists
        incomplete.clear(id);
        return n;
    }

    @Override
    public long diffSize(String id, String parent) {
        return naive.diffSize(id, parent);
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
        return new Capabilities(false, false, false);
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

package dev.strata.conformance;

import dev.strata.nativeio.Errno;
import dev.strata.nativeio.SyscallException;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.abort;

/**
 * An xfs mounted with {@code pquota} on a loop device ({@link LoopFilesystem}): the only backing on which moby's
 * and containers/storage's project quotas work. Skips the test (with the reason) when mkfs.xfs, xfs or its quota
 * support is missing.
 */
final class XfsQuotaDisk implements AutoCloseable {
    private final LoopFilesystem fs;

    private XfsQuotaDisk(LoopFilesystem fs) {
        this.fs = fs;
    }

    /** xfs refuses filesystems under 300 MiB; 512 MiB of sparse file costs only its metadata on tmpfs. */
    static XfsQuotaDisk create(Path dir) throws IOException {
        try {
            return new XfsQuotaDisk(LoopFilesystem.make(dir, "xfs", 512L << 20, "pquota"));
        } catch (LoopFilesystem.Unavailable e) {
            return abort(e.getMessage());
        } catch (SyscallException e) {
            if (e.is(Errno.EINVAL) && LoopFilesystem.mountsWithoutData(dir, "xfs")) {
                return abort("this kernel's xfs mounts without quotas but refuses pquota (no CONFIG_XFS_QUOTA)");
            }
            throw e;
        }
    }

    Path mountPoint() {
        return fs.mountPoint();
    }

    @Override
    public void close() {
        fs.close();
    }
}

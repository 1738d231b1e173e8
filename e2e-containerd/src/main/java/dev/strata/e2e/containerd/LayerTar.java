package dev.strata.e2e.containerd;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Date;
import java.util.HexFormat;

/**
 * Writes one image layer: an uncompressed tar with root-owned entries and a fixed modification time, so the same
 * content always gives the same digest. Its digest (sha256 of the tar) is both the blob digest and the diff id.
 */
public final class LayerTar implements AutoCloseable {
    private static final Date EPOCH = new Date(1_700_000_000_000L);

    private final Path file;
    private final DigestOutputStream digest;
    private final TarArchiveOutputStream tar;

    /** A finished layer file, with its sha256 ({@code sha256:<hex>}) and size. */
    public record Blob(Path file, String digest, long size) {
    }

    public LayerTar(Path file) {
        this.file = file;
        try {
            OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
            digest = new DigestOutputStream(out, MessageDigest.getInstance("SHA-256"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        tar = new TarArchiveOutputStream(digest);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    }

    public LayerTar dir(String name, int mode) {
        TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", TarArchiveEntry.LF_DIR);
        return put(e, mode, null);
    }

    public LayerTar file(String name, int mode, byte[] content) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL);
        e.setSize(content.length);
        return put(e, mode, content);
    }

    public LayerTar file(String name, int mode, Path content) {
        try {
            TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL);
            e.setSize(Files.size(content));
            setCommon(e, mode);
            tar.putArchiveEntry(e);
            Files.copy(content, tar);
            tar.closeArchiveEntry();
            return this;
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot add " + content + " to " + file, ex);
        }
    }

    public LayerTar symlink(String name, String target) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        e.setLinkName(target);
        e.setMode(0120000);
        return put(e, 0777, null);
    }

    private LayerTar put(TarArchiveEntry e, int mode, byte[] content) {
        try {
            setCommon(e, mode);
            tar.putArchiveEntry(e);
            if (content != null) tar.write(content);
            tar.closeArchiveEntry();
            return this;
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write " + e.getName() + " to " + file, ex);
        }
    }

    private static void setCommon(TarArchiveEntry e, int mode) {
        e.setMode((e.getMode() & ~07777) | mode);
        e.setIds(0, 0);
        e.setUserName("");
        e.setGroupName("");
        e.setModTime(EPOCH);
    }

    /** Finishes the tar and returns the layer. */
    public Blob finish() {
        try {
            tar.finish();
            tar.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot finish " + file, e);
        }
        String hex = HexFormat.of().formatHex(digest.getMessageDigest().digest());
        try {
            return new Blob(file, "sha256:" + hex, Files.size(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            tar.close();
        } catch (IOException e) {
            // already finished, or failing anyway
        }
    }
}

package dev.strata.e2e.containerd;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * An image archive built without a registry: an OCI image layout in a tar ({@code oci-layout}, {@code index.json},
 * {@code blobs/sha256/...}) with Docker's {@code manifest.json} beside it, as {@code docker save} writes since 25.
 * {@code ctr images import} (1.6 and 2.x) reads the layout and names the image by the index's
 * {@code io.containerd.image.name} annotation; {@code docker load} names it by the manifest's RepoTags.
 */
public final class OciArchive {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Date EPOCH = new Date(1_700_000_000_000L);

    private OciArchive() {
    }

    /**
     * @param name   e.g. {@code docker.io/strata-e2e/busybox:1}
     * @param layers bottom first, each an uncompressed tar
     * @param cmd    the image's Cmd
     */
    public record Image(String name, List<LayerTar.Blob> layers, List<String> cmd) {
    }

    /** Writes the archive of {@code image} to {@code out}; returns the manifest's digest. */
    public static String write(Image image, Path out) {
        ObjectNode config = JSON.createObjectNode();
        config.put("architecture", "amd64");
        config.put("os", "linux");
        config.put("created", "2023-11-14T22:13:20Z");
        ObjectNode cfg = config.putObject("config");
        cfg.putArray("Env").add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        ArrayNode cmd = cfg.putArray("Cmd");
        image.cmd().forEach(cmd::add);
        cfg.put("WorkingDir", "/");
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        image.layers().forEach(l -> diffIds.add(l.digest()));
        byte[] configBytes = bytes(config);

        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.set("config", descriptor("application/vnd.oci.image.config.v1+json", sha256(configBytes), configBytes.length));
        ArrayNode layers = manifest.putArray("layers");
        image.layers().forEach(l -> layers.add(descriptor("application/vnd.oci.image.layer.v1.tar", l.digest(), l.size())));
        byte[] manifestBytes = bytes(manifest);
        String manifestDigest = sha256(manifestBytes);

        ObjectNode index = JSON.createObjectNode();
        index.put("schemaVersion", 2);
        index.put("mediaType", "application/vnd.oci.image.index.v1+json");
        ObjectNode m = descriptor("application/vnd.oci.image.manifest.v1+json", manifestDigest, manifestBytes.length);
        ObjectNode annotations = m.putObject("annotations");
        annotations.put("io.containerd.image.name", image.name());
        annotations.put("org.opencontainers.image.ref.name", image.name().substring(image.name().lastIndexOf(':') + 1));
        index.putArray("manifests").add(m);

        ArrayNode dockerManifest = JSON.createArrayNode();
        ObjectNode dm = dockerManifest.addObject();
        dm.put("Config", blobPath(sha256(configBytes)));
        dm.putArray("RepoTags").add(image.name().replaceFirst("^docker\\.io/", ""));
        ArrayNode dl = dm.putArray("Layers");
        image.layers().forEach(l -> dl.add(blobPath(l.digest())));

        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new BufferedOutputStream(Files.newOutputStream(out), 1 << 16))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            dir(tar, "blobs/");
            dir(tar, "blobs/sha256/");
            for (LayerTar.Blob l : image.layers()) {
                TarArchiveEntry e = entry(blobPath(l.digest()), l.size());
                tar.putArchiveEntry(e);
                Files.copy(l.file(), tar);
                tar.closeArchiveEntry();
            }
            file(tar, blobPath(sha256(configBytes)), configBytes);
            file(tar, blobPath(manifestDigest), manifestBytes);
            file(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            file(tar, "index.json", bytes(index));
            file(tar, "manifest.json", bytes(dockerManifest));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the image archive " + out, e);
        }
        return manifestDigest;
    }

    private static ObjectNode descriptor(String mediaType, String digest, long size) {
        ObjectNode d = JSON.createObjectNode();
        d.put("mediaType", mediaType);
        d.put("digest", digest);
        d.put("size", size);
        return d;
    }

    private static String blobPath(String digest) {
        return "blobs/sha256/" + digest.substring("sha256:".length());
    }

    private static TarArchiveEntry entry(String name, long size) {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(size);
        e.setMode(0100644);
        e.setModTime(EPOCH);
        return e;
    }

    private static void dir(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_DIR);
        e.setMode(040755);
        e.setModTime(EPOCH);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        tar.putArchiveEntry(entry(name, content.length));
        tar.write(content);
        tar.closeArchiveEntry();
    }

    private static byte[] bytes(Object json) {
        try {
            return JSON.writeValueAsBytes(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(byte[] b) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.strata.kernellab;

import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveOutputStream;
import org.apache.commons.compress.archivers.cpio.CpioConstants;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * The guest's initramfs: a newc cpio with a static busybox, the modules to load and the init script. The kernel
 * unpacks it into its rootfs; init then mounts the host tree and chroots into it.
 */
public final class Initramfs {
    private long inode = 1;

    private Initramfs() {
    }

    /**
     * Writes the archive to {@code out}. Modules land in {@code /lib/modules} as {@code NN-name.ko}, in the given
     * order; compressed modules (.ko.gz, .ko.xz, .ko.zst) are unpacked on the host, since busybox insmod may not.
     * Their names in the archive are {@link #archiveNames}.
     */
    public static void write(Path out, Path busybox, List<Path> modules, String initScript) {
        checkStaticBusybox(busybox);
        Initramfs w = new Initramfs();
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(out), 1 << 16);
             CpioArchiveOutputStream cpio = new CpioArchiveOutputStream(os, CpioConstants.FORMAT_NEW)) {
            for (String d : List.of("bin", "dev", "proc", "sys", "host", "lib", "lib/modules")) w.dir(cpio, d);
            w.charDevice(cpio, "dev/console", 5, 1);
            w.file(cpio, "bin/busybox", Files.readAllBytes(busybox), 0755);
            List<String> names = archiveNames(modules);
            for (int i = 0; i < modules.size(); i++) {
                w.file(cpio, "lib/modules/" + names.get(i), moduleBytes(modules.get(i)), 0644);
            }
            w.file(cpio, "init", initScript.getBytes(StandardCharsets.UTF_8), 0755);
            cpio.finish();
        } catch (IOException e) {
            throw new KernelLabException("cannot write initramfs " + out + ": " + e, e);
        }
    }

    /** The names modules get in /lib/modules of the archive: NN-name.ko, NN giving the load order. */
    public static List<String> archiveNames(List<Path> modules) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < modules.size(); i++) names.add(String.format("%02d-%s", i, moduleFileName(modules.get(i))));
        return names;
    }

    private void dir(CpioArchiveOutputStream cpio, String name) throws IOException {
        CpioArchiveEntry e = entry(name, CpioConstants.C_ISDIR | 0755, 0);
        e.setNumberOfLinks(2);
        cpio.putArchiveEntry(e);
        cpio.closeArchiveEntry();
    }

    private void charDevice(CpioArchiveOutputStream cpio, String name, int major, int minor) throws IOException {
        CpioArchiveEntry e = entry(name, CpioConstants.C_ISCHR | 0600, 0);
        e.setRemoteDeviceMaj(major);
        e.setRemoteDeviceMin(minor);
        cpio.putArchiveEntry(e);
        cpio.closeArchiveEntry();
    }

    private void file(CpioArchiveOutputStream cpio, String name, byte[] data, int mode) throws IOException {
        cpio.putArchiveEntry(entry(name, CpioConstants.C_ISREG | mode, data.length));
        cpio.write(data);
        cpio.closeArchiveEntry();
    }

    private CpioArchiveEntry entry(String name, int mode, long size) {
        CpioArchiveEntry e = new CpioArchiveEntry(CpioConstants.FORMAT_NEW, name);
        e.setMode(mode);
        e.setSize(size);
        e.setInode(inode++);     // newc treats equal inodes with nlink > 1 as hard links: keep them distinct
        e.setNumberOfLinks(1);
        e.setTime(0);
        return e;
    }

    static String moduleFileName(Path m) {
        String n = m.getFileName().toString();
        for (String ext : List.of(".gz", ".xz", ".zst")) if (n.endsWith(ext)) return n.substring(0, n.length() - ext.length());
        return n;
    }

    private static byte[] moduleBytes(Path m) throws IOException {
        String n = m.getFileName().toString();
        if (n.endsWith(".gz")) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(m))) {
                return in.readAllBytes();
            }
        }
        if (n.endsWith(".xz")) return decompress(m, "xz");
        if (n.endsWith(".zst")) return decompress(m, "zstd");
        return Files.readAllBytes(m);
    }

    private static byte[] decompress(Path m, String tool) throws IOException {
        Process p = new ProcessBuilder(tool, "-dc", m.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out;
        try (InputStream in = p.getInputStream()) {
            out = in.readAllBytes();
        }
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new KernelLabException("cannot decompress module " + m + " with " + tool + " -dc");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KernelLabException("interrupted");
        }
        return out;
    }

    /** A dynamically linked busybox has no loader in the initramfs and dies before init runs: refuse it early. */
    static void checkStaticBusybox(Path busybox) {
        if (!Files.isRegularFile(busybox)) {
            throw new KernelLabException("no busybox at " + busybox + " (apt-get install busybox-static)");
        }
        try (RandomAccessFile f = new RandomAccessFile(busybox.toFile(), "r")) {
            byte[] h = new byte[64];
            f.readFully(h);
            ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
            if (b.getInt(0) != 0x464C457F || h[4] != 2) {
                throw new KernelLabException(busybox + " is not a 64-bit ELF executable");
            }
            long phoff = b.getLong(32);
            int phentsize = Short.toUnsignedInt(b.getShort(54));
            int phnum = Short.toUnsignedInt(b.getShort(56));
            for (int i = 0; i < phnum; i++) {
                f.seek(phoff + (long) i * phentsize);
                byte[] ph = new byte[4];
                f.readFully(ph);
                if (ByteBuffer.wrap(ph).order(ByteOrder.LITTLE_ENDIAN).getInt(0) == 3 /* PT_INTERP */) {
                    throw new KernelLabException(busybox + " is dynamically linked and cannot run in the initramfs (apt-get install busybox-static)");
                }
            }
        } catch (IOException e) {
            throw new KernelLabException("cannot read " + busybox + ": " + e);
        }
    }
}

package dev.strata.archive;

import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import dev.strata.api.NotSupportedException;
import dev.strata.api.StorageException;

import java.io.PushbackInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** Detects the compression of a layer stream by its magic bytes, as moby's DecompressStream does. */
final class Decompress {
    private Decompress() {
    }

    /** The channel of a file stream that holds a plain (uncompressed) tar, or null. */
    static java.nio.channels.FileChannel plainFile(java.io.FileInputStream f) {
        try {
            java.nio.channels.FileChannel ch = f.getChannel();
            java.nio.ByteBuffer m = java.nio.ByteBuffer.allocate(6);
            ch.read(m, ch.position());
            m.flip();
            byte[] b = new byte[m.remaining()];
            m.get(b);
            boolean compressed = b.length >= 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b
                    || b.length >= 4 && (b[0] & 0xff) == 0x28 && (b[1] & 0xff) == 0xb5
                    || b.length >= 3 && b[0] == 'B' && b[1] == 'Z' && b[2] == 'h'
                    || b.length >= 6 && (b[0] & 0xff) == 0xfd && b[1] == '7';
            return compressed ? null : ch;
        } catch (IOException e) {
            return null; // not a seekable file after all: read it as a stream
        }
    }

    static InputStream detect(InputStream raw) {
        try {
            // pushback rather than a BufferedInputStream: large reads then go straight to the source, with no extra copy
            PushbackInputStream in = new PushbackInputStream(raw, 8);
            byte[] m = in.readNBytes(6);
            in.unread(m);
            if (m.length >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) {
                return new GZIPInputStream(in, 256 * 1024); // reads concatenated members too
            }
            if (m.length >= 4 && (m[0] & 0xff) == 0x28 && (m[1] & 0xff) == 0xb5 && (m[2] & 0xff) == 0x2f && (m[3] & 0xff) == 0xfd) {
                return new ZstdInputStreamNoFinalizer(in);
            }
            if (m.length >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') {
                throw new NotSupportedException("applyDiff", null, "bzip2-compressed layers are not supported (gzip, zstd and plain tar are)");
            }
            if (m.length >= 6 && (m[0] & 0xff) == 0xfd && m[1] == '7' && m[2] == 'z' && m[3] == 'X' && m[4] == 'Z' && m[5] == 0) {
                throw new NotSupportedException("applyDiff", null, "xz-compressed layers are not supported (gzip, zstd and plain tar are)");
            }
            return in;
        } catch (IOException e) {
            throw new StorageException("applyDiff", (String) null, "reading the layer stream: " + e.getMessage(), e);
        }
    }
}

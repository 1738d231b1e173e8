package dev.strata.driver.aufs;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Builds and reads small tars for the tests. */
final class TarFixtures {
    /** One tar entry, reduced to what a layer diff must carry. Names have no "./" and no trailing "/". */
    record Entry(String name, char type, int mode, String content, String link) {
        static Entry dir(String name, int mode) {
            return new Entry(name, 'd', mode, "", "");
        }

        static Entry file(String name, int mode, String content) {
            return new Entry(name, 'f', mode, content, "");
        }

        static Entry symlink(String name, String target) {
            return new Entry(name, 'l', 0777, "", target);
        }

        static Entry hardlink(String name, String target) {
            return new Entry(name, 'h', 0, "", target);
        }

        /** An OCI whiteout: an empty regular file. */
        static Entry whiteout(String name) {
            return new Entry(name, 'f', 0, "", "");
        }
    }

    private TarFixtures() {
    }

    static byte[] write(List<Entry> entries) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarArchiveOutputStream out = new TarArchiveOutputStream(buf)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Entry e : entries) {
                TarArchiveEntry t = switch (e.type()) {
                    case 'd' -> new TarArchiveEntry(e.name() + "/", TarConstants.LF_DIR);
                    case 'l' -> new TarArchiveEntry(e.name(), TarConstants.LF_SYMLINK);
                    case 'h' -> new TarArchiveEntry(e.name(), TarConstants.LF_LINK);
                    default -> new TarArchiveEntry(e.name(), TarConstants.LF_NORMAL);
                };
                int type = switch (e.type()) {
                    case 'd' -> 040000;
                    case 'l' -> 0120000;
                    default -> 0100000;
                };
                t.setMode(type | e.mode());
                t.setUserId(0);
                t.setGroupId(0);
                t.setModTime(1_700_000_000_000L);
                if (!e.link().isEmpty()) t.setLinkName(e.link());
                byte[] data = e.content().getBytes(StandardCharsets.UTF_8);
                t.setSize(e.type() == 'f' ? data.length : 0);
                out.putArchiveEntry(t);
                if (e.type() == 'f') out.write(data);
                out.closeArchiveEntry();
            }
        }
        return buf.toByteArray();
    }

    static List<Entry> read(byte[] tar) throws IOException {
        return read(new ByteArrayInputStream(tar));
    }

    static List<Entry> read(InputStream tar) throws IOException {
        List<Entry> out = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(tar)) {
            TarArchiveEntry t;
            while ((t = in.getNextEntry()) != null) {
                String name = t.getName();
                if (name.startsWith("./")) name = name.substring(2);
                if (name.endsWith("/")) name = name.substring(0, name.length() - 1);
                if (name.isEmpty()) continue;
                char type = t.isDirectory() ? 'd' : t.isSymbolicLink() ? 'l' : t.isLink() ? 'h' : t.isFile() ? 'f' : '?';
                String content = type == 'f' ? new String(in.readAllBytes(), StandardCharsets.UTF_8) : "";
                String link = t.getLinkName() == null ? "" : t.getLinkName();
                if (link.startsWith("./")) link = link.substring(2);
                out.add(new Entry(name, type, type == 'h' ? 0 : t.getMode() & 07777, content, link));
            }
        }
        return out;
    }
}

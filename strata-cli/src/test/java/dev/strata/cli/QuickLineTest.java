package dev.strata.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** exists and layers without picocli ({@link QuickLine}) answer exactly as through picocli, or leave the line to it. */
class QuickLineTest extends ScratchRootTest {
    @Test
    void quickLinesAnswerAsPicocliDoes() throws Exception {
        assertEquals(0, strata("-s", "vfs", "create", "base").code());
        assertEquals(0, strata("-s", "vfs", "create-rw", "c1", "--parent", "base").code());
        assertEquals(0, strata("-s", "vfs", "mount", "c1").code());
        Files.writeString(tmp.resolve("config.json"), "{\"storage-driver\": \"vfs\"}");
        Files.writeString(tmp.resolve("bad.json"), "{\"storage-driver\": 3, \"nokey\": 1}");
        Files.writeString(tmp.resolve("file"), "not a root");
        String r = root.toString();
        List<List<String>> quick = List.of(
                List.of("--root", r, "-s", "vfs", "exists", "base"),
                List.of("--root", r, "-s", "vfs", "exists", "nosuch"),
                List.of("--root", r, "-s", "vfs", "exists", "../x"),
                List.of("--root", r, "-s", "vfs", "exists", ""),
                List.of("--root", r, "--json", "-s", "vfs", "exists", "c1"),
                List.of("--json", "--root=" + r, "--storage-driver=vfs", "exists", "nosuch"),
                List.of("--root", r, "exists", "base"),
                List.of("--root", r, "--config", tmp.resolve("config.json").toString(), "exists", "base"),
                List.of("--root", r, "--config", tmp.resolve("bad.json").toString(), "exists", "base"),
                List.of("--root", r, "--config", tmp.resolve("nosuch.json").toString(), "layers"),
                List.of("--root", tmp.resolve("file").toString(), "-s", "vfs", "exists", "x"),
                List.of("--root", r, "-s", "vfs", "layers"),
                List.of("--root", r, "-s", "vfs", "ls"),
                List.of("--root", r, "--json", "-s", "vfs", "layers"),
                List.of("--root", r, "-s", "nosuch", "layers"),
                List.of("--root", r, "-s", "vfs", "-o", "novalue", "layers"),
                List.of("--root", r, "-s", "vfs", "-o", "vfs.copy=copy", "--storage-opt", "vfs.nosuch=1", "exists", "base"),
                List.of("--root", r, "-s", "overlay", "-o", "vfs.copy=copy", "layers"));
        for (List<String> line : quick) {
            String[] args = line.toArray(String[]::new);
            Result viaPicocli = runWith(args, true);
            assertNotNull(QuickLine.run(args, new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())), line.toString());
            assertEquals(viaPicocli, runWith(args, false), line.toString());
        }
        assertEquals(0, strata("-s", "vfs", "unmount", "c1").code());
    }

    @Test
    void anyOtherLineIsLeftToPicocli() {
        List<List<String>> others = new ArrayList<>(List.of(
                List.of("exists"), List.of("-s", "vfs", "exists"), List.of("-s", "vfs", "exists", "a", "b"),
                List.of("-s", "vfs", "exists", "--help"), List.of("exists", "-h", "x"), List.of("-s", "vfs", "exists", "-x"),
                List.of("exists", "x", "-s", "vfs"), List.of("-s", "vfs", "-s", "vfs", "exists", "x"),
                List.of("-s", "vfs", "--storage-driver", "vfs", "layers"), List.of("--json", "--json", "layers"),
                List.of("--json=true", "layers"), List.of("-svfs", "layers"), List.of("-s=vfs", "layers"), List.of("-s"),
                List.of("-s", "--json", "layers"), List.of("@args", "layers"), List.of("exists", "@x"), List.of("layers", "--tree"),
                List.of("layers", "x"), List.of("--version"), List.of("-h"), List.of(), List.of("create", "x"), List.of("exist", "x"),
                List.of("--", "layers"), List.of("--root", "/x", "--root", "/y", "layers"), List.of("-V", "layers")));
        for (List<String> line : others) {
            assertNull(QuickLine.run(line.toArray(String[]::new), new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())),
                    line.toString());
        }
    }

    private static Result runWith(String[] args, boolean picocli) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PrintWriter o = new PrintWriter(out, true), e = new PrintWriter(err, true);
        int code = picocli ? Main.runWithPicocli(args, o, e) : Main.run(args, o, e);
        return new Result(code, out.toString(), err.toString());
    }
}

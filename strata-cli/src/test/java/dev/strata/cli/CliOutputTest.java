package dev.strata.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --json on every command with one key style; layers at any id width; layers --tree; du. */
class CliOutputTest extends ScratchRootTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String LONG = "a".repeat(64);

    /** strata --root ROOT -s vfs ARGS..., which must succeed. */
    private Result vfs(String... args) {
        List<String> all = new ArrayList<>(List.of("-s", "vfs"));
        all.addAll(List.of(args));
        Result r = strata(all.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return r;
    }

    private JsonNode json(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--json"));
        all.addAll(List.of(args));
        JsonNode n = JSON.readTree(vfs(all.toArray(String[]::new)).out());
        assertCamelCase(n);
        return n;
    }

    /** One key style: lowerCamelCase (driver metadata keys, moby's names, are values under "metadata"). */
    private static void assertCamelCase(JsonNode n) {
        if (n.isArray()) n.forEach(CliOutputTest::assertCamelCase);
        if (!n.isObject()) return;
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            assertTrue(k.matches("[a-z][A-Za-z0-9]*"), "key " + k + " in " + n);
            if (!k.equals("metadata")) assertCamelCase(n.get(k));
        }
    }

    @Test
    void jsonStringsSurviveAParserWhateverTheyHold() throws Exception {
        String tricky = "quote\" backslash\\ newline\n tab\t nul\u0000 bell\u0007 sep\u2028 é 🙂";
        java.io.StringWriter w = new java.io.StringWriter();
        Output.json(new java.io.PrintWriter(w, true), Output.fields("s", tricky, "n", 42L, "b", false, "none", null,
                "list", List.of(1, "two", List.of())));
        JsonNode n = JSON.readTree(w.toString());
        assertEquals(tricky, n.get("s").asText());
        assertEquals(42, n.get("n").asLong());
        assertEquals("[1,\"two\",[]]", n.get("list").toString());
        assertTrue(n.get("none").isNull() && !n.get("b").asBoolean());
    }

    @Test
    void everyCommandAnswersInJson() throws Exception {
        assertEquals("{\"id\":\"base\",\"parent\":null,\"readWrite\":false}", json("create", "base").toString());
        assertEquals("{\"id\":\"c1\",\"parent\":\"base\",\"readWrite\":true}", json("create-rw", "c1", "--parent", "base").toString());
        JsonNode mount = json("mount", "c1");
        Path dir = Path.of(mount.get("dir").asText());
        Files.writeString(dir.resolve("new"), "x");
        assertEquals("[{\"path\":\"/new\",\"kind\":\"A\"}]", json("changes", "c1", "--parent", "base").toString());
        assertEquals(1, json("diff-size", "c1", "--parent", "base").get("size").asLong());
        assertEquals(dir.toString(), json("metadata", "c1").get("metadata").get("Dir").asText());
        assertEquals(1, json("layers").get(1).get("mounts").asInt());
        assertEquals("{\"id\":\"c1\",\"mounts\":0}", json("unmount", "c1").toString());
        JsonNode diff = json("diff", "c1", "--parent", "base", "--output", tmp.resolve("c1.tar").toString());
        assertTrue(diff.get("bytes").asLong() >= 1536, diff.toString());
        assertEquals("{\"id\":\"base\",\"exists\":true}", json("exists", "base").toString());
        assertEquals("vfs", json("status").get("driver").asText());
        assertTrue(json("drivers").get("drivers").isArray());
        assertEquals(2, json("du").get("total").get("layers").asInt());
        assertEquals("c1", json("layers", "--tree").get(0).get("children").get(0).get("id").asText());
        assertEquals("{\"id\":\"c1\",\"removed\":true}", json("remove", "c1").toString());
        assertEquals("{\"driver\":\"vfs\",\"cleaned\":true}", json("cleanup").toString());
        assertEquals(1, json("apply", "base", tmp.resolve("c1.tar").toString()).get("size").asLong());
    }

    @Test
    void layersFitAnyIdWidthAndDrawTheTreeAndDiskUse() throws Exception {
        vfs("create", "base");
        vfs("create", LONG, "--parent", "base");
        vfs("create-rw", "c", "--parent", LONG);
        vfs("create-rw", "other", "--parent", "base");
        Path dir = Path.of(vfs("mount", "c").out().strip());
        Files.write(dir.resolve("blob"), new byte[100_000]);

        List<String> lines = vfs("layers").out().lines().toList();
        assertEquals(5, lines.size(), String.join("\n", lines));
        int col = lines.get(0).indexOf("PARENT");
        for (String l : lines.subList(1, lines.size())) assertEquals(' ', l.charAt(col - 1), "aligned: " + l);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(LONG + "  base")), String.join("\n", lines));

        String tree = vfs("layers", "--tree").out();
        assertTrue(tree.contains("base") && tree.contains("├── " + LONG) && tree.contains("│   └── c ") && tree.contains("└── other"), tree);
        assertTrue(tree.lines().anyMatch(l -> l.startsWith("│   └── c ") && l.matches(".*100 kB +1$")), tree);

        String du = vfs("du").out();
        assertTrue(du.lines().anyMatch(l -> l.startsWith("c ") && l.contains("100 kB")), du);
        assertTrue(du.contains("Total: 4 layers, 1 mounted, size 100 kB"), du);
        JsonNode total = json("du").get("total");
        assertEquals(100_000, total.get("size").asLong());
        assertTrue(total.get("disk").asLong() >= 100_000, total.toString());
        vfs("unmount", "c");
    }
}

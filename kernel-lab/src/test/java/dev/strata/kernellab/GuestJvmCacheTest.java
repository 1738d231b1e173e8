package dev.strata.kernellab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuestJvmCacheTest {
    @Test
    void keyChangesWithTheJarAndTheOptions(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("a.jar"), "one");
        String k = GuestJvmCache.key(jar.toString(), List.of("-XX:TieredStopAtLevel=1"));
        assertEquals(k, GuestJvmCache.key(jar.toString(), List.of("-XX:TieredStopAtLevel=1")));
        assertNotEquals(k, GuestJvmCache.key(jar.toString(), List.of("-XX:+UseSerialGC")));
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5000));
        assertNotEquals(k, GuestJvmCache.key(jar.toString(), List.of("-XX:TieredStopAtLevel=1")), "a rebuilt jar needs a new cache");
    }

    @Test
    void aClassPathWithADirectoryGetsNoCacheAndNoTrainingRun(@TempDir Path dir) throws Exception {
        List<String> notes = new ArrayList<>();
        var options = new GuestJvmCache(dir.resolve("cache")).options(dir + ":" + dir.resolve("x.jar"), List.of(), "Nope", List.of(), notes::add);
        assertTrue(options.isEmpty());
        assertTrue(notes.isEmpty(), notes::toString);
        assertFalse(Files.exists(dir.resolve("cache")));
    }

    @Test
    void aFailedTrainingRunSaysWhyAndLeavesNoCache(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("empty.jar"), "not a jar");
        List<String> notes = new ArrayList<>();
        var options = new GuestJvmCache(dir.resolve("cache")).options(jar.toString(), List.of(), "no.such.Main", List.of(), notes::add);
        assertTrue(options.isEmpty());
        assertTrue(notes.stream().anyMatch(n -> n.contains("training run exited")), notes::toString);
        try (var files = Files.list(dir.resolve("cache"))) {
            assertEquals(List.of(), files.toList());
        }
    }

    @Test
    void aRecordedCacheIsReusedAndUsedWithoutMachineCode(@TempDir Path dir) throws Exception {
        Path jar = helloJar(dir);
        List<String> notes = new ArrayList<>();
        GuestJvmCache cache = new GuestJvmCache(dir.resolve("cache"));
        List<String> options = cache.options(jar.toString(), List.of("-XX:+UseSerialGC"), "Hello", List.of(GuestJvmCache.SCRATCH), notes::add).orElseThrow();
        assertEquals(1, notes.size(), notes::toString);
        assertTrue(options.containsAll(GuestJvmCache.PORTABLE), options::toString);
        String file = options.stream().filter(o -> o.startsWith("-XX:AOTCache=")).findFirst().orElseThrow().substring("-XX:AOTCache=".length());
        assertTrue(Files.size(Path.of(file)) > 0);

        assertEquals(options, cache.options(jar.toString(), List.of("-XX:+UseSerialGC"), "Hello", List.of(), notes::add).orElseThrow());
        assertEquals(1, notes.size(), "the second call reuses the cache: " + notes);

        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC"));
        cmd.addAll(options);
        cmd.addAll(List.of("-Xlog:aot=info", "-cp", jar.toString(), "Hello", "x"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("hello x"), out);
        assertTrue(out.contains("Opened AOT cache"), out);
    }

    /** A jar with one class, Hello, whose main prints "hello " and its first argument. */
    private static Path helloJar(Path dir) throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.writeString(src.resolve("Hello.java"), "public class Hello { public static void main(String[] a) { System.out.println(\"hello \" + a[0]); } }");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        int rc = javax.tools.ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), src.resolve("Hello.java").toString());
        assertEquals(0, rc, "javac");
        Path jar = dir.resolve("hello.jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new java.util.jar.JarEntry("Hello.class"));
            out.write(Files.readAllBytes(classes.resolve("Hello.class")));
            out.closeEntry();
        }
        return jar;
    }
}

package dev.strata.nativeio;

import org.junit.jupiter.api.Test;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class NativeHoldersTest {
    @Test
    void theBackgroundLinkListNamesEveryClassThatHoldsHandles() throws Exception {
        Path classes = Path.of(Native.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path pkg = classes.resolve("dev/strata/nativeio");
        Set<String> holders = new TreeSet<>();
        try (var walk = Files.walk(pkg)) {
            for (Path f : walk.filter(p -> p.toString().endsWith(".class")).toList()) {
                String rel = pkg.relativize(f).toString().replace('/', '.');
                String name = rel.substring(0, rel.length() - ".class".length());
                Class<?> c = Class.forName("dev.strata.nativeio." + name, false, Native.class.getClassLoader());
                boolean holdsHandles = Arrays.stream(c.getDeclaredFields())
                        .anyMatch(fl -> Modifier.isStatic(fl.getModifiers()) && fl.getType() == MethodHandle.class);
                // Libc holds a class per call inside an area class: the list names the area
                if (holdsHandles) holders.add(name.startsWith("Libc$") ? name.substring(0, name.lastIndexOf('$')) : name);
            }
        }
        assertFalse(holders.isEmpty());
        assertEquals(holders, new TreeSet<>(Native.HOLDERS));
    }

    @Test
    void linkingInTheBackgroundMakesEveryHandle() throws Exception {
        Thread t = Native.linkInBackground();
        t.join(60_000);
        assertFalse(t.isAlive(), "linking took more than a minute");
        Set<String> unset = new HashSet<>();
        for (String h : Native.HOLDERS) {
            Class<?> area = Class.forName("dev.strata.nativeio." + h, false, Native.class.getClassLoader());
            List<Class<?>> classes = new ArrayList<>(List.of(area));
            classes.addAll(List.of(area.getDeclaredClasses()));
            for (Class<?> c : classes) {
                for (Field f : c.getDeclaredFields()) {
                    if (!Modifier.isStatic(f.getModifiers()) || f.getType() != MethodHandle.class) continue;
                    f.setAccessible(true);
                    if (f.get(null) == null) unset.add(c.getName() + "." + f.getName());
                }
            }
        }
        assertEquals(Set.of(), unset);
    }
}

package dev.strata.kernellab;

import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs JUnit 5 tests and prints one line per test as it ends, then {@code N passed, N failed, N skipped}. Meant for
 * the inside of a kernel-lab guest, where surefire is not: {@code GuestTests CLASS[#METHOD] | package:NAME ...}.
 * Exits 0 when all ran passed or skipped, 1 when one failed, 2 when no test ran.
 */
public final class GuestTests {
    private GuestTests() {
    }

    public static void main(String[] args) {
        PrintStream out = System.out;
        List<DiscoverySelector> selectors = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("package:")) selectors.add(DiscoverySelectors.selectPackage(a.substring(8)));
            else if (a.contains("#")) selectors.addAll(methods(a));
            else selectors.add(DiscoverySelectors.selectClass(a));
        }
        if (selectors.isEmpty()) {
            System.err.println("usage: GuestTests CLASS[#METHOD] | package:NAME ...");
            System.exit(2);
        }
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request().selectors(selectors).build();
        AtomicInteger passed = new AtomicInteger(), failed = new AtomicInteger(), skipped = new AtomicInteger();
        ConcurrentHashMap<String, Long> started = new ConcurrentHashMap<>();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, new TestExecutionListener() {
            @Override
            public void executionStarted(TestIdentifier id) {
                if (id.isTest()) started.put(id.getUniqueId(), System.nanoTime());
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (!id.isTest()) {
                    out.println("  skip " + id.getDisplayName() + ": " + reason);
                    return;
                }
                skipped.incrementAndGet();
                out.println("  skip " + name(id) + ": " + reason);
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest()) {
                    if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                        failed.incrementAndGet();
                        out.println("  FAIL " + id.getDisplayName() + " (container): " + result.getThrowable().map(Throwable::toString).orElse(""));
                        result.getThrowable().ifPresent(t -> t.printStackTrace(out));
                    }
                    return;
                }
                Long t0 = started.remove(id.getUniqueId());
                String ms = t0 == null ? "" : String.format(Locale.ROOT, " (%d ms)", (System.nanoTime() - t0) / 1_000_000);
                switch (result.getStatus()) {
                    case SUCCESSFUL -> {
                        passed.incrementAndGet();
                        out.println("  ok   " + name(id) + ms);
                    }
                    case ABORTED -> {
                        skipped.incrementAndGet();
                        out.println("  skip " + name(id) + ": " + result.getThrowable().map(Throwable::getMessage).orElse("aborted"));
                    }
                    case FAILED -> {
                        failed.incrementAndGet();
                        out.println("  FAIL " + name(id) + ms + ": " + result.getThrowable().map(Throwable::toString).orElse(""));
                        result.getThrowable().ifPresent(t -> t.printStackTrace(out));
                    }
                }
                out.flush();
            }
        });
        out.println("guest-tests: " + passed + " passed, " + failed + " failed, " + skipped + " skipped");
        out.flush();
        int total = passed.get() + failed.get() + skipped.get();
        System.exit(failed.get() > 0 ? 1 : total == 0 ? 2 : 0);
    }

    /** CLASS#METHOD selects every method of that name, parameterized ones included (JUnit wants their types). */
    private static List<DiscoverySelector> methods(String spec) {
        if (spec.contains("(")) return List.of(DiscoverySelectors.selectMethod(spec));
        String cls = spec.substring(0, spec.indexOf('#')), name = spec.substring(spec.indexOf('#') + 1);
        List<DiscoverySelector> out = new ArrayList<>();
        try {
            Class<?> c = Class.forName(cls);
            java.util.Set<java.lang.reflect.Method> found = new java.util.LinkedHashSet<>();
            for (java.lang.reflect.Method m : c.getMethods()) if (m.getName().equals(name)) found.add(m); // interface defaults too
            for (Class<?> k = c; k != null; k = k.getSuperclass()) {
                for (java.lang.reflect.Method m : k.getDeclaredMethods()) if (m.getName().equals(name)) found.add(m);
            }
            for (java.lang.reflect.Method m : found) out.add(DiscoverySelectors.selectMethod(c, m));
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("no test class " + cls);
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no method " + name + " in " + cls);
        return out;
    }

    private static String name(TestIdentifier id) {
        String legacy = id.getLegacyReportingName();
        String display = id.getDisplayName();
        return id.getSource().map(s -> s instanceof org.junit.platform.engine.support.descriptor.MethodSource m
                ? m.getClassName().substring(m.getClassName().lastIndexOf('.') + 1) + "." + m.getMethodName()
                        + (display.startsWith(m.getMethodName() + "(") ? "" : " [" + display + "]")
                : legacy).orElse(legacy);
    }
}

package dev.strata.driver.devmapper;

/**
 * Fault injection for the crash tests: when the system property {@code strata.devmapper.crashAt} names a point,
 * the JVM halts there at once (no shutdown hooks, no finally blocks), as if it had been killed with SIGKILL.
 * Costs one string comparison when unset.
 */
final class CrashPoints {
    private static final String AT = System.getProperty("strata.devmapper.crashAt", "");

    private CrashPoints() {
    }

    static void reach(String point) {
        if (!AT.isEmpty() && AT.equals(point)) {
            System.out.println("crash point " + point + ": halting");
            System.out.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}

package dev.strata.driver.devmapper;

/**
 * Fault injection for the crash tests: when the system property {@code strata.devmapper.crashAt} is
 * {@code POINT:LAYER} and that layer's work reaches that point, the JVM halts at once (no shutdown hooks, no
 * finally blocks), as if it had been killed with SIGKILL. Costs one string comparison when unset.
 */
final class CrashPoints {
    private static final String AT = System.getProperty("strata.devmapper.crashAt", "");

    private CrashPoints() {
    }

    static void reach(String point, String layer) {
        if (!AT.isEmpty() && AT.equals(point + ":" + layer)) {
            System.out.println("crash point " + point + ": halting");
            System.out.flush();
            Runtime.getRuntime().halt(137);
        }
    }
}

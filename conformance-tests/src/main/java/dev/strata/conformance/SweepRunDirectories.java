package dev.strata.conformance;

import dev.strata.kit.RunDirectory;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * At the end of a test run (a module's tests, a conformance run), removes the run directories of the homes the tests
 * made and deleted (their scratch tmpfs and temporary directories are gone by then), so a run leaves none behind on
 * the tmpfs. Registered as a service, so every module that tests with this kit gets it.
 */
public final class SweepRunDirectories implements LauncherSessionListener {
    @Override
    public void launcherSessionClosed(LauncherSession session) {
        RunDirectory.sweep();
    }
}

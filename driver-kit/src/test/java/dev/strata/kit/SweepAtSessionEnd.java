package dev.strata.kit;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/** driver-kit's own tests cannot use conformance-tests' SweepRunDirectories (it depends on this module): the same, here. */
public final class SweepAtSessionEnd implements LauncherSessionListener {
    @Override
    public void launcherSessionClosed(LauncherSession session) {
        RunDirectory.sweep();
    }
}

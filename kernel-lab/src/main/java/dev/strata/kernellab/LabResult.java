package dev.strata.kernellab;

import java.time.Duration;
import java.util.List;

/**
 * How a guest run ended.
 *
 * @param exitCode    the command's exit status, or -1 when it did not finish
 * @param timedOut    the guest was killed at the timeout
 * @param message     one line saying what happened, for a person
 * @param output      the command's output lines (kernel messages printed meanwhile included)
 * @param leaks       dm and loop devices still present in the guest after the command
 * @param boot        from the start of qemu to the moment the command was started in the guest
 * @param total       from the call to the end, processes reaped
 * @param warnings    what the guest's init complained about (a module that would not load, ...)
 */
public record LabResult(int exitCode, boolean timedOut, String message, List<String> output, List<String> leaks,
                        Duration boot, Duration total, List<String> warnings) {
    /** The command exited 0 and left no device behind. */
    public boolean passed() {
        return !timedOut && exitCode == 0 && leaks.isEmpty();
    }
}

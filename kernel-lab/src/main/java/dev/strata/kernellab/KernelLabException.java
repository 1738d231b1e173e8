package dev.strata.kernellab;

/** The lab could not be set up or run: a missing tool, kernel, module tree, or a guest that did not come up. */
public class KernelLabException extends RuntimeException {
    public KernelLabException(String message) {
        super("kernel lab: " + message);
    }

    public KernelLabException(String message, Throwable cause) {
        super("kernel lab: " + message, cause);
    }
}

package dev.strata.cli;

/** The command line asks for something that cannot be done as asked; exit 2, nothing was tried. */
class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}

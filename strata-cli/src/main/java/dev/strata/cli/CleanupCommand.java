package dev.strata.cli;

import picocli.CommandLine.Command;

@Command(mixinStandardHelpOptions = true, name = "cleanup", description = "Unmount everything the driver mounted and release its devices; layers stay.")
final class CleanupCommand extends CliCommand {
    @Override
    protected int run() {
        driver().cleanup();
        emit(Output.fields("driver", driver().name(), "cleaned", true), () -> { });
        return Main.OK;
    }
}

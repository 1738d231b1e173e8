package dev.strata.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

@Command(mixinStandardHelpOptions = true, name = "cleanup", description = "Unmount everything the driver mounted and release its devices; layers stay.")
final class CleanupCommand implements Callable<Integer> {
    @ParentCommand
    StrataCommand top;

    @Override
    public Integer call() {
        top.session().driver().cleanup();
        return Main.OK;
    }
}

package dev.strata.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code strata plugin serve}; serving itself is tested in e2e-docker. */
class PluginCommandTest extends ServeCommandTest {
    @Override
    List<String> serve(Path socket, String driver, String... more) {
        List<String> args = new ArrayList<>(List.of("plugin", "serve", "--socket", socket.toString(), "-s", driver));
        args.addAll(List.of(more));
        return args;
    }

    @Override
    List<String> command() {
        return List.of("plugin", "serve");
    }

    @Override
    List<String> helpMentions() {
        return List.of("/run/docker/plugins/strata.sock");
    }
}

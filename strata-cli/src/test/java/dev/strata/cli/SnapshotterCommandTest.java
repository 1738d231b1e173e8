package dev.strata.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code strata snapshotter serve}; serving is tested in snapshotter-server. */
class SnapshotterCommandTest extends ServeCommandTest {
    @Override
    List<String> serve(Path socket, String driver, String... more) {
        List<String> args = new ArrayList<>(List.of("--root", tmp.toString(), "-s", driver, "snapshotter", "serve", "--socket", socket.toString()));
        args.addAll(List.of(more));
        return args;
    }

    @Override
    List<String> command() {
        return List.of("snapshotter", "serve");
    }

    @Override
    List<String> helpMentions() {
        return List.of("/run/strata/snapshotter.sock", "[proxy_plugins.strata]");
    }
}

package dev.strata.plugin;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** What {@code strata plugin serve} does, for a test that runs it as a real process: {@code ServeMain SOCKET [OPTION...]}. */
public final class ServeMain {
    public static void main(String[] args) throws Exception {
        List<String> options = Arrays.asList(args).subList(1, args.length);
        PluginServer.serve(PluginServer.Config.of(Path.of(args[0]), MemoryDriverProvider.NAME, options));
    }
}

package dev.strata.cli;

import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(mixinStandardHelpOptions = true, name = "status", description = "Show the driver's status pairs, as docker info does.")
final class StatusCommand extends CliCommand {
    @Override
    protected int run() {
        StorageDriver d = driver();
        PrintWriter out = out();
        List<StatusEntry> status = d.status();
        if (json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("driver", d.name());
            doc.put("home", d.home().toString());
            List<Map<String, Object>> pairs = new ArrayList<>();
            for (StatusEntry e : status) pairs.add(Output.fields("key", e.key(), "value", e.value()));
            doc.put("status", pairs);
            Output.json(out, doc);
            return Main.OK;
        }
        out.println("Storage Driver: " + d.name());
        out.println(" Home: " + d.home());
        for (StatusEntry e : status) out.println(" " + e.key() + ": " + e.value());
        return Main.OK;
    }
}

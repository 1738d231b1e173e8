package dev.strata.cli;

import dev.strata.api.StatusEntry;
import dev.strata.api.StorageDriver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(mixinStandardHelpOptions = true, name = "status", description = "Show the driver's status pairs, as docker info does.")
final class StatusCommand implements Callable<Integer> {
    @ParentCommand
    StrataCommand top;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        StorageDriver d = top.session().driver();
        PrintWriter out = spec.commandLine().getOut();
        List<StatusEntry> status = d.status();
        if (top.session().json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("driver", d.name());
            doc.put("home", d.home().toString());
            List<List<String>> pairs = new ArrayList<>();
            for (StatusEntry e : status) pairs.add(List.of(e.key(), e.value()));
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

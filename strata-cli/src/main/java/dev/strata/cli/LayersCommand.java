package dev.strata.cli;

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

@Command(mixinStandardHelpOptions = true, name = "layers", aliases = "ls", description = "List the layers with their parents and reference counts.")
final class LayersCommand implements Callable<Integer> {
    @ParentCommand
    StrataCommand top;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        StorageDriver d = top.session().driver();
        PrintWriter out = spec.commandLine().getOut();
        List<String> ids = new ArrayList<>(d.layers());
        ids.sort(null);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String id : ids) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("id", id);
            r.put("parent", d.parent(id));
            r.put("references", d.references(id));
            rows.add(r);
        }
        if (top.session().json()) {
            Output.json(out, rows);
            return Main.OK;
        }
        out.printf("%-40s %-40s %s%n", "LAYER", "PARENT", "REFS");
        for (Map<String, Object> r : rows) {
            out.printf("%-40s %-40s %s%n", r.get("id"), r.get("parent") == null ? "-" : r.get("parent"), r.get("references"));
        }
        return Main.OK;
    }
}

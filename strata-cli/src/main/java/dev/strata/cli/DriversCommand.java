package dev.strata.cli;

import dev.strata.api.DriverProvider;
import dev.strata.api.DriverRegistry;
import dev.strata.api.DriverSelection;
import dev.strata.api.StorageException;
import dev.strata.api.Support;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every driver discovered, whether this machine supports it and why not, and what would be chosen. */
@Command(mixinStandardHelpOptions = true, name = "drivers", description = "List the drivers found, whether this machine supports each (and why not), and which one would be chosen.")
final class DriversCommand extends CliCommand {
    @Override
    protected int run() {
        Session s = session();
        DriverRegistry registry = s.registry();
        PrintWriter out = out();
        List<Map<String, Object>> rows = new ArrayList<>();
        List<Support> idRows = new ArrayList<>();
        for (DriverProvider p : registry.providers()) {
            Path home = DriverRegistry.home(s.root(), p);
            Support sup;
            try {
                sup = p.probe(home);
            } catch (RuntimeException e) {
                sup = Support.no("probe failed: " + ErrorText.cause(e, null, ErrorText.Paths.NONE));
            }
            Support ids = sup.supported() ? idMaps(p, home) : Support.no("the driver cannot run here");
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("name", p.name());
            row.put("aliases", p.aliases());
            row.put("priority", p.priority());
            row.put("supported", sup.supported());
            row.put("reason", sup.reason());
            row.put("options", p.options().stream().map(o -> o.key()).toList());
            row.put("idMaps", Output.fields("supported", ids.supported(), "how", ids.reason()));
            idRows.add(ids);
            rows.add(row);
        }
        String chosen;
        String how;
        try {
            DriverSelection sel = s.selection();
            chosen = sel.provider().name();
            how = sel.source().label() + (sel.source() == DriverSelection.Source.AUTO || sel.source() == DriverSelection.Source.PRIOR_DATA ? "" : " (" + sel.detail() + ")");
        } catch (StorageException e) {
            // An unknown -s/$STRATA_STORAGE_DRIVER/config name is an error that lists the names that exist.
            if (top().driver != null || System.getenv(DriverRegistry.ENV_VAR) != null) throw e;
            chosen = null;
            how = ErrorText.cause(e, null, ErrorText.Paths.NONE);
        }
        if (json()) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("root", s.root().toString());
            doc.put("drivers", rows);
            doc.put("selected", chosen);
            doc.put("selectedBy", how);
            Output.json(out, doc);
            return Main.OK;
        }
        out.printf("%-10s %-9s %-10s %s%n", "DRIVER", "PRIORITY", "SUPPORTED", "DETAIL");
        for (Map<String, Object> r : rows) {
            out.printf("%-10s %-9s %-10s %s%n", r.get("name"), r.get("priority"), (boolean) r.get("supported") ? "yes" : "no", r.get("reason"));
        }
        out.println();
        out.printf("%-10s %s%n", "DRIVER", "ID MAPS (user-namespaced containers: --userns-remap, hostUsers: false)");
        for (int i = 0; i < rows.size(); i++) {
            Support ids = idRows.get(i);
            out.printf("%-10s %s%n", rows.get(i).get("name"), ids.supported() ? ids.reason() : "no: " + ids.reason());
        }
        out.println();
        out.println(chosen == null ? "selected: none (" + how + ")" : "selected: " + chosen + " (by " + how + ", root " + s.root() + ")");
        return Main.OK;
    }

    /** How the driver shows layers under id maps here (the probe of idmapped mounts on the home's filesystem). */
    private static Support idMaps(DriverProvider p, Path home) {
        try {
            return p.idMapSupport(home);
        } catch (RuntimeException e) {
            return Support.no("probe failed: " + ErrorText.cause(e, null, ErrorText.Paths.NONE));
        }
    }
}

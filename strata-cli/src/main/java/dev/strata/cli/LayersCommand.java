package dev.strata.cli;

import dev.strata.api.StorageDriver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code strata layers}: every layer with its parent and mount count; {@code --tree} draws the parent tree with sizes. */
@Command(mixinStandardHelpOptions = true, name = "layers", aliases = "ls",
        description = "List the layers with their parents and mount counts; --tree draws the parent tree with each layer's size.")
final class LayersCommand extends CliCommand {
    @Option(names = "--tree", description = "Draw the layers as a tree of parents and children, with size and mount count.")
    boolean tree;

    @Override
    protected int run() {
        StorageDriver d = driver();
        LayerTable table = LayerTable.read(d, tree);
        if (tree) {
            emit(table.treeJson(), () -> table.printTree(out()));
            return Main.OK;
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (LayerTable.Row r : table.rows()) rows.add(Output.fields("id", r.id(), "parent", r.parent(), "mounts", r.mounts()));
        emit(rows, () -> {
            // Built by hand, not with printf: a format string parsed a thousand times was ~10% of a 1,000-layer listing.
            int w = Math.max(5, table.idWidth());
            StringBuilder text = new StringBuilder((2 * w + 12) * (table.rows().size() + 1));
            line(text, w, "LAYER", "PARENT", "MOUNTS");
            for (LayerTable.Row r : table.rows()) line(text, w, r.id(), r.parent() == null ? "-" : r.parent(), Integer.toString(r.mounts()));
            out().print(text);
            out().flush();
        });
        return Main.OK;
    }

    /** One row as {@code %-Ws  %-Ws  %s%n} would print it. */
    private static void line(StringBuilder text, int w, String layer, String parent, String mounts) {
        text.append(layer).repeat(' ', Math.max(0, w - layer.length())).append("  ");
        text.append(parent).repeat(' ', Math.max(0, w - parent.length())).append("  ");
        text.append(mounts).append(System.lineSeparator());
    }
}

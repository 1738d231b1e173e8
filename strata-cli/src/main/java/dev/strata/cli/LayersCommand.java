package dev.strata.cli;

import dev.strata.api.StorageDriver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
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
            PrintWriter out = out();
            int w = Math.max(5, table.idWidth());
            out.printf("%-" + w + "s  %-" + w + "s  %s%n", "LAYER", "PARENT", "MOUNTS");
            for (LayerTable.Row r : table.rows()) {
                out.printf("%-" + w + "s  %-" + w + "s  %d%n", r.id(), r.parent() == null ? "-" : r.parent(), r.mounts());
            }
        });
        return Main.OK;
    }
}

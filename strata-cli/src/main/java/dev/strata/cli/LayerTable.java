package dev.strata.cli;

import dev.strata.api.LayerEntry;
import dev.strata.api.StorageDriver;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The layers of one driver as {@code layers} and {@code du} show them: sorted rows, and the parent tree. */
final class LayerTable {
    record Row(String id, String parent, int mounts, DiskUsage usage) {
    }

    private final List<Row> rows;
    private final Map<String, List<Row>> children = new TreeMap<>();
    private final List<Row> roots = new ArrayList<>();

    private LayerTable(List<Row> rows) {
        this.rows = rows;
        Map<String, Row> byId = new LinkedHashMap<>();
        rows.forEach(r -> byId.put(r.id(), r));
        for (Row r : rows) {
            // A parent that is gone (a half-removed stack) shows its child as a root rather than hiding it.
            if (r.parent() == null || !byId.containsKey(r.parent())) roots.add(r);
            else children.computeIfAbsent(r.parent(), k -> new ArrayList<>()).add(r);
        }
    }

    /** Reads every layer's parent and mount count, and its size when {@code sizes} is set (a walk per layer). */
    static LayerTable read(StorageDriver d, boolean sizes) {
        List<LayerEntry> entries = new ArrayList<>(d.entries());
        entries.sort((a, b) -> a.id().compareTo(b.id())); // not Comparator.comparing: spun at run time, this is AOT-cached
        List<Row> rows = new ArrayList<>(entries.size());
        for (LayerEntry e : entries) {
            rows.add(new Row(e.id(), e.parent(), e.references(), sizes ? DiskUsage.of(d, e.id(), e.parent()) : null));
        }
        return new LayerTable(rows);
    }

    List<Row> rows() {
        return rows;
    }

    int idWidth() {
        return rows.stream().mapToInt(r -> Math.max(r.id().length(), r.parent() == null ? 1 : r.parent().length())).max().orElse(0);
    }

    List<Map<String, Object>> treeJson() {
        return roots.stream().map(this::node).toList();
    }

    private Map<String, Object> node(Row r) {
        return Output.fields("id", r.id(), "size", r.usage().size(), "disk", r.usage().disk(), "mounts", r.mounts(),
                "children", children.getOrDefault(r.id(), List.of()).stream().map(this::node).toList());
    }

    void printTree(PrintWriter out) {
        List<String[]> lines = new ArrayList<>();
        for (int i = 0; i < roots.size(); i++) draw(roots.get(i), "", "", lines);
        int w = Math.max(5, lines.stream().mapToInt(l -> l[0].length()).max().orElse(0));
        out.printf("%-" + w + "s  %10s  %s%n", "LAYER", "SIZE", "MOUNTS");
        for (String[] l : lines) out.printf("%-" + w + "s  %10s  %s%n", l[0], l[1], l[2]);
    }

    private void draw(Row r, String lead, String childLead, List<String[]> lines) {
        lines.add(new String[]{lead + r.id(), DiskUsage.human(r.usage().size()), Integer.toString(r.mounts())});
        List<Row> kids = children.getOrDefault(r.id(), List.of()); // in id order, as the rows are
        for (int i = 0; i < kids.size(); i++) {
            boolean last = i == kids.size() - 1;
            draw(kids.get(i), childLead + (last ? "└── " : "├── "), childLead + (last ? "    " : "│   "), lines);
        }
    }
}

package dev.strata.cli;

import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;

/** {@code strata du}: disk use per layer and in total, as {@code docker system df -v} shows it for images. */
@Command(mixinStandardHelpOptions = true, name = "du",
        description = {"Show each layer's size (what it adds over its parent) and disk use, and the totals.",
                "SIZE counts file sizes, each inode once; DISK the blocks allocated (- where the driver cannot tell, e.g. devmapper)."})
final class DuCommand extends CliCommand {
    @Override
    protected int run() {
        LayerTable table = LayerTable.read(driver(), true);
        long size = 0, disk = 0;
        int mounted = 0;
        boolean diskKnown = true;
        for (LayerTable.Row r : table.rows()) {
            size += r.usage().size();
            if (r.usage().disk() < 0) diskKnown = false;
            else disk += r.usage().disk();
            if (r.mounts() > 0) mounted++;
        }
        long totalDisk = diskKnown ? disk : -1;
        int mountedLayers = mounted;
        List<Map<String, Object>> layers = table.rows().stream().map(r -> Output.fields("id", r.id(), "parent", r.parent(),
                "size", r.usage().size(), "disk", r.usage().disk(), "mounts", r.mounts())).toList();
        long totalSize = size;
        emit(Output.fields("driver", driver().name(), "layers", layers,
                "total", Output.fields("layers", table.rows().size(), "mounted", mountedLayers, "size", totalSize, "disk", totalDisk)), () -> {
            PrintWriter out = out();
            int w = Math.max(5, table.idWidth());
            String fmt = "%-" + w + "s  %-" + w + "s  %10s  %10s  %s%n";
            out.printf(fmt, "LAYER", "PARENT", "SIZE", "DISK", "MOUNTS");
            for (LayerTable.Row r : table.rows()) {
                out.printf(fmt, r.id(), r.parent() == null ? "-" : r.parent(), DiskUsage.human(r.usage().size()),
                        DiskUsage.human(r.usage().disk()), r.mounts());
            }
            out.printf("%nTotal: %d layers, %d mounted, size %s, disk %s%n", table.rows().size(), mountedLayers,
                    DiskUsage.human(totalSize), DiskUsage.human(totalDisk));
        });
        return Main.OK;
    }
}

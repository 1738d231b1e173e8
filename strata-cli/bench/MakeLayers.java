import dev.strata.api.*;
import java.nio.file.Path;
import java.util.List;
/** 1,000 vfs layers: 100 chains of 10, with 64-hex ids, as engines name them. */
public class MakeLayers {
    public static void main(String[] a) {
        DriverRegistry r = DriverRegistry.load();
        try (StorageDriver d = r.open(r.require(a[1]), Path.of(a[0]), List.of())) {
            for (int c = 0; c < 100; c++) {
                String parent = null;
                for (int i = 0; i < 10; i++) {
                    String id = String.format("%064x", (long) c * 1000 + i);
                    d.create(id, parent, CreateOptions.NONE);
                    parent = id;
                }
            }
        }
    }
}

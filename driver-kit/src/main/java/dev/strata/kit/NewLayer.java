package dev.strata.kit;

import dev.strata.api.CreateOptions;

/**
 * A layer to make.
 *
 * @param id        a valid layer id, free
 * @param parent    an existing layer, or null for a base layer
 * @param readWrite a container layer (createReadWrite) rather than an image layer
 * @param options   never null: {@link CreateOptions#NONE} when the caller gave none
 */
public record NewLayer(String id, String parent, boolean readWrite, CreateOptions options) {
    public NewLayer {
        if (options == null) options = CreateOptions.NONE;
    }

    /** The operation's name as the caller knows it, for errors: {@code create} or {@code createReadWrite}. */
    public String operation() {
        return readWrite ? "createReadWrite" : "create";
    }
}

package dev.strata.archive;

import dev.strata.api.Change;
import dev.strata.api.DiffDriver;
import dev.strata.api.LayerStore;

import java.io.InputStream;
import java.util.List;

/**
 * diff, changes, applyDiff and diffSize for a driver with no native way, by mounting layers through
 * {@link LayerStore#get} and comparing trees (moby's NaiveDiffDriver). CONTRACT ONLY for now.
 */
public final class NaiveDiff implements DiffDriver {
    private final LayerStore layers;
    private final ApplyOptions applyOptions;

    public NaiveDiff(LayerStore layers, ApplyOptions applyOptions) {
        this.layers = layers;
        this.applyOptions = applyOptions;
    }

    @Override
    public InputStream diff(String id, String parent) {
        throw new UnsupportedOperationException("layer-archive: NaiveDiff.diff not implemented yet");
    }

    @Override
    public List<Change> changes(String id, String parent) {
        throw new UnsupportedOperationException("layer-archive: NaiveDiff.changes not implemented yet");
    }

    @Override
    public long applyDiff(String id, String parent, InputStream diff) {
        throw new UnsupportedOperationException("layer-archive: NaiveDiff.applyDiff not implemented yet");
    }

    @Override
    public long diffSize(String id, String parent) {
        throw new UnsupportedOperationException("layer-archive: NaiveDiff.diffSize not implemented yet");
    }
}

package dev.strata.api;

/** A layer as a listing shows it: its id, its parent (null for a base layer) and the references held on it. */
public record LayerEntry(String id, String parent, int references) {
}

package dev.strata.driver.overlay;

import dev.strata.api.IdMaps;
import dev.strata.api.IdTranslation;
import dev.strata.kit.LayerIdMaps;
import dev.strata.nativeio.MountTree;
import dev.strata.nativeio.UserNamespace;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The lowers of one overlay mount, for a layer shown under id maps: a lower stored the way the layer shows it (an
 * ancestor made with the same maps) is used as it is; any other is named inside a detached clone of the home,
 * idmapped to show it the layer's way ({@code /proc/self/fd/N/l/<LID>}), one clone and one user namespace per
 * distinct translation, so a stack of 500 image layers under one map costs one of each. The overlay keeps the trees
 * it stacks on, so they are closed as soon as it is mounted; they are never attached anywhere, and go with the
 * overlay when it is unmounted.
 */
final class IdmappedLowers implements AutoCloseable {
    private final Layout layout;
    private final LayerIdMaps maps;
    // made at the first idmapped lower: a stack shown as stored (every get without maps) allocates none of them
    private Map<IdTranslation, UserNamespace> namespaces = Map.of();
    private Map<IdTranslation, MountTree> homeTrees = Map.of();
    private List<MountTree> single = List.of();

    IdmappedLowers(Layout layout, LayerIdMaps maps) {
        this.layout = layout;
        this.maps = maps;
    }

    /** The paths to stack for {@code id}'s lower entries (uppermost first), shown under {@code id}'s maps. */
    List<String> lowers(String id, List<String> entries) {
        List<String> out = new ArrayList<>(entries.size());
        if (maps == null || !maps.inChain(id)) {
            for (String e : entries) out.add(layout.linkString(e));
            return out;
        }
        IdMaps view = maps.of(id);
        boolean chain = true; // below an ancestor without a record, none has one
        for (String e : entries) {
            IdMaps stored = IdMaps.NONE;
            if (chain) {
                String a = layout.idOfLower(e);
                chain = maps.inChain(a);
                if (chain) stored = maps.of(a);
            }
            IdTranslation t = new IdTranslation(stored, view);
            if (t.isIdentity()) out.add(layout.linkString(e));
            else if (t.uid(0) != IdMaps.OVERFLOW_ID && t.gid(0) != IdMaps.OVERFLOW_ID) out.add(homeTree(t).path().resolve(e).toString());
            else out.add(ownTree(t, layout.resolveLower(e)).path().toString());
        }
        return out;
    }

    /**
     * The home, idmapped by {@code t}: one tree for every lower that needs {@code t}. Only for a translation that
     * maps the home's owner, root: through an idmapped mount even root cannot search a directory whose owner the
     * map leaves out, and the home and layer directories are root's, mode 0710.
     */
    private MountTree homeTree(IdTranslation t) {
        MountTree tree = homeTrees.get(t);
        if (tree == null) {
            if (homeTrees.isEmpty()) homeTrees = new LinkedHashMap<>();
            homeTrees.put(t, tree = idmapped(layout.home(), t));
        }
        return tree;
    }

    /** One lower's diff dir alone, idmapped by {@code t} (which leaves root out: a host-id layer shown unmapped). */
    private MountTree ownTree(IdTranslation t, Path diff) {
        MountTree tree = idmapped(diff, t);
        if (single.isEmpty()) single = new ArrayList<>();
        single.add(tree);
        return tree;
    }

    private MountTree idmapped(Path dir, IdTranslation t) {
        UserNamespace ns = namespaces.get(t);
        if (ns == null) {
            if (namespaces.isEmpty()) namespaces = new LinkedHashMap<>();
            namespaces.put(t, ns = UserNamespace.create(t.uidMapLines(), t.gidMapLines()));
        }
        MountTree clone = MountTree.cloneOf(dir);
        try {
            return clone.idmap(ns);
        } catch (RuntimeException e) {
            clone.close();
            throw e;
        }
    }

    /** How many idmapped trees the lowers needed (0: every lower as it is). */
    int trees() {
        return homeTrees.size() + single.size();
    }

    @Override
    public void close() {
        for (MountTree t : homeTrees.values()) t.close();
        for (MountTree t : single) t.close();
        for (UserNamespace ns : namespaces.values()) ns.close();
        homeTrees = Map.of();
        single = List.of();
        namespaces = Map.of();
    }
}

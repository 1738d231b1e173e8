// Package deep proves that a stack deeper than one page of mount options mounts through containerd's own mount
// code (mount.All, which fails once an overlay's options pass a page even after its common-prefix compaction):
// 210 committed layers, an active container layer and a view on top, each mounted as containerd mounts them.
package deep

import (
	"context"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/containerd/containerd/mount"
	"strata.dev/harness"
)

func TestDeepStackMountsThroughContainerd(t *testing.T) {
	factory := os.Getenv("STRATA_SNAPSHOTTER_FACTORY")
	if factory == "" {
		t.Skip("STRATA_SNAPSHOTTER_FACTORY is not set")
	}
	depth := 210
	if d := os.Getenv("STRATA_DEEP_LAYERS"); d != "" {
		depth, _ = strconv.Atoi(d)
	}
	ctx := context.Background()
	dir, err := ioutil.TempDir("", "strata-deep-")
	check(t, err)
	defer os.RemoveAll(dir)
	root, mp := filepath.Join(dir, "root"), filepath.Join(dir, "mnt")
	check(t, os.MkdirAll(root, 0700))
	check(t, os.MkdirAll(mp, 0755))
	sn, stop, err := harness.FromFactory(factory, root)
	check(t, err)
	defer func() { check(t, stop()) }()

	parent := ""
	selfMounted := 0
	for i := 0; i < depth; i++ {
		key, name := fmt.Sprintf("layer-%d-active", i), fmt.Sprintf("layer-%d", i)
		m, err := sn.Prepare(ctx, key, parent)
		check(t, err)
		if i > 0 && m[0].Type == "bind" {
			selfMounted++
		}
		check(t, mount.All(m, mp))
		check(t, ioutil.WriteFile(filepath.Join(mp, fmt.Sprintf("f-%d", i)), []byte(strconv.Itoa(i)), 0644))
		check(t, ioutil.WriteFile(filepath.Join(mp, "top"), []byte(strconv.Itoa(i)), 0644))
		check(t, mount.UnmountAll(mp, 0))
		check(t, sn.Commit(ctx, name, key))
		parent = name
	}
	if selfMounted == 0 {
		t.Fatalf("no layer of %d was deep enough to be mounted by the snapshotter", depth)
	}

	m, err := sn.Prepare(ctx, "container", parent)
	check(t, err)
	if m[0].Type != "bind" {
		t.Fatalf("a %d-layer container layer is answered as %s, not as a bind mount of Strata's overlay", depth, m[0].Type)
	}
	check(t, mount.All(m, mp))
	expect(t, mp, depth)
	check(t, ioutil.WriteFile(filepath.Join(mp, "written-by-container"), []byte("x"), 0644))
	check(t, mount.UnmountAll(mp, 0))

	v, err := sn.View(ctx, "view", parent)
	check(t, err)
	check(t, mount.All(v, mp))
	expect(t, mp, depth)
	if err := ioutil.WriteFile(filepath.Join(mp, "nope"), []byte("x"), 0644); err == nil {
		t.Fatalf("a view of %d layers is writable", depth)
	}
	check(t, mount.UnmountAll(mp, 0))

	check(t, sn.Remove(ctx, "view"))
	check(t, sn.Remove(ctx, "container"))
	for i := depth - 1; i >= 0; i-- {
		check(t, sn.Remove(ctx, fmt.Sprintf("layer-%d", i)))
	}
	t.Logf("%d layers: %d of them prepared as Strata's own overlay (bind), the rest as overlay specs", depth, selfMounted)
}

func expect(t *testing.T, mp string, depth int) {
	for i := 0; i < depth; i++ {
		b, err := ioutil.ReadFile(filepath.Join(mp, fmt.Sprintf("f-%d", i)))
		check(t, err)
		if string(b) != strconv.Itoa(i) {
			t.Fatalf("f-%d holds %q", i, b)
		}
	}
	b, err := ioutil.ReadFile(filepath.Join(mp, "top"))
	check(t, err)
	if string(b) != strconv.Itoa(depth-1) {
		t.Fatalf("top holds %q, not the uppermost layer's %d", b, depth-1)
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Command moby-remap is moby's side of Strata's IdmapFirstGet benchmark: what it costs moby 20.10 to give a
// container a root filesystem owned by a user namespace's ids (dockerd --userns-remap) when the image is stored
// with the image's own ids. moby has no idmapped mounts: the image must exist again with every owner shifted, in
// the remapped root (/var/lib/docker/100000.100000/overlay2), and the container layer is an overlay on that copy.
//
// Everything below is moby's own code, driven through its Go packages (Debian's golang-github-docker-docker-dev,
// GOPATH mode, as ../shared/peerbench does):
//
//	prepare   an unmapped overlay2 (Init without maps) takes the image tar: Create + ApplyDiff
//	remap-get an overlay2 Init'ed with the maps (what dockerd --userns-remap runs), then, timed:
//	          Create of the image layer in the remapped root, the shifted copy of the image's diff dir into it,
//	          CreateReadWrite of the container layer on it, and its first Get (the overlay mount)
//
// Two ways to make the shifted copy, both moby's, so the faster can be the reference:
//
//	tar      pkg/archive's Archiver with an IdentityMapping, TarUntar: what moby uses to copy with remapped ids
//	         (docker cp, volume copy-up), ids shifted per tar header, in-process (no chroot re-exec)
//	dircopy  daemon/graphdriver/copy.DirCopy (vfs's copy: copy_file_range or reflink, xattrs, hardlinks), then
//	         every entry chowned through pkg/idtools' IdentityMapping.ToHost (lchown), setuid/setgid modes
//	         restored after the chown clears them
//
// Each remap-get prints one JSON line with the times in milliseconds.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/daemon/graphdriver"
	"github.com/docker/docker/daemon/graphdriver/copy"
	"github.com/docker/docker/daemon/graphdriver/overlay2"
	"github.com/docker/docker/pkg/archive"
	"github.com/docker/docker/pkg/idtools"
	"github.com/docker/docker/pkg/reexec"
)

func fatalf(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "moby-remap: "+format+"\n", a...)
	os.Exit(1)
}

// parseMap reads containerd's form, 0:100000:65536[,...].
func parseMap(s string) []idtools.IDMap {
	var out []idtools.IDMap
	for _, part := range strings.Split(s, ",") {
		f := strings.Split(part, ":")
		if len(f) != 3 {
			fatalf("bad map %q", s)
		}
		var n [3]int
		for i := range f {
			v, err := strconv.Atoi(f[i])
			if err != nil {
				fatalf("bad map %q", s)
			}
			n[i] = v
		}
		out = append(out, idtools.IDMap{ContainerID: n[0], HostID: n[1], Size: n[2]})
	}
	return out
}

func initDriver(home string, uids, gids []idtools.IDMap) graphdriver.Driver {
	d, err := overlay2.Init(home, nil, uids, gids)
	if err != nil {
		fatalf("overlay2.Init %s: %v", home, err)
	}
	return d
}

func prepare(home, id, tarPath string) {
	d := initDriver(home, nil, nil)
	if err := d.Create(id, "", nil); err != nil {
		fatalf("Create %s: %v", id, err)
	}
	f, err := os.Open(tarPath)
	if err != nil {
		fatalf("%v", err)
	}
	defer f.Close()
	start := time.Now()
	n, err := d.ApplyDiff(id, "", f)
	if err != nil {
		fatalf("ApplyDiff %s: %v", id, err)
	}
	out, _ := json.Marshal(map[string]interface{}{"op": "prepare", "bytes": n, "ms": ms(time.Since(start))})
	fmt.Println(string(out))
}

// chownByMaps shifts every owner under dir from container to host ids, as a chown'ed copy must.
func chownByMaps(dir string, m *idtools.IdentityMapping) error {
	return filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		host, err := m.ToHost(idtools.Identity{UID: int(st.Uid), GID: int(st.Gid)})
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if err := os.Lchown(p, host.UID, host.GID); err != nil {
			return err
		}
		// chown clears setuid and setgid; put the mode back
		if fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 && fi.Mode()&os.ModeSymlink == 0 {
			return os.Chmod(p, fi.Mode())
		}
		return nil
	})
}

func remapGet(srcHome, srcID, home, variant string, uids, gids []idtools.IDMap, run int) {
	src := initDriver(srcHome, nil, nil)
	meta, err := src.GetMetadata(srcID)
	if err != nil {
		fatalf("GetMetadata %s: %v", srcID, err)
	}
	srcDiff := meta["UpperDir"]
	m := idtools.NewIDMappingsFromMaps(uids, gids)
	d := initDriver(home, uids, gids)
	img, ctr := fmt.Sprintf("img-%d", run), fmt.Sprintf("ctr-%d", run)

	start := time.Now()
	if err := d.Create(img, "", nil); err != nil {
		fatalf("Create %s: %v", img, err)
	}
	imeta, err := d.GetMetadata(img)
	if err != nil {
		fatalf("GetMetadata %s: %v", img, err)
	}
	dst := imeta["UpperDir"]
	switch variant {
	case "tar":
		a := &archive.Archiver{Untar: archive.Untar, IDMapping: m}
		err = a.TarUntar(srcDiff, dst)
	case "dircopy":
		err = copy.DirCopy(srcDiff, dst, copy.Content, true)
		if err == nil {
			err = chownByMaps(dst, m)
		}
	default:
		fatalf("unknown variant %q (tar, dircopy)", variant)
	}
	if err != nil {
		fatalf("copy %s: %v", variant, err)
	}
	copied := time.Since(start)
	if err := d.CreateReadWrite(ctr, img, nil); err != nil {
		fatalf("CreateReadWrite %s: %v", ctr, err)
	}
	fs, err := d.Get(ctr, "")
	if err != nil {
		fatalf("Get %s: %v", ctr, err)
	}
	total := time.Since(start)

	var st syscall.Stat_t
	if err := syscall.Lstat(fs.Path(), &st); err != nil {
		fatalf("%v", err)
	}
	if err := d.Put(ctr); err != nil {
		fatalf("Put %s: %v", ctr, err)
	}
	if err := d.Remove(ctr); err != nil {
		fatalf("Remove %s: %v", ctr, err)
	}
	if err := d.Remove(img); err != nil {
		fatalf("Remove %s: %v", img, err)
	}
	if err := d.Cleanup(); err != nil {
		fatalf("Cleanup: %v", err)
	}
	out, _ := json.Marshal(map[string]interface{}{"op": "remap-get", "variant": variant, "run": run,
		"copy_ms": ms(copied), "total_ms": ms(total), "root_uid": st.Uid})
	fmt.Println(string(out))
}

func ms(d time.Duration) float64 {
	return float64(d.Nanoseconds()) / 1e6
}

func main() {
	if reexec.Init() {
		return
	}
	if len(os.Args) < 2 {
		fatalf("usage: moby-remap prepare -home H -id ID -tar T | remap-get -src-home H -src-id ID -home H2 -variant tar|dircopy -uidmap M -gidmap M -run N")
	}
	fl := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	home := fl.String("home", "", "overlay2 home")
	id := fl.String("id", "image", "layer id")
	tarPath := fl.String("tar", "", "image tar")
	srcHome := fl.String("src-home", "", "the unmapped overlay2 home holding the image")
	srcID := fl.String("src-id", "image", "the image layer there")
	variant := fl.String("variant", "dircopy", "tar or dircopy")
	uidmap := fl.String("uidmap", "0:100000:65536", "uid map")
	gidmap := fl.String("gidmap", "0:100000:65536", "gid map")
	run := fl.Int("run", 0, "run number (names the layers)")
	fl.Parse(os.Args[2:])
	switch os.Args[1] {
	case "prepare":
		prepare(*home, *id, *tarPath)
	case "remap-get":
		remapGet(*srcHome, *srcID, *home, *variant, parseMap(*uidmap), parseMap(*gidmap), *run)
	default:
		fatalf("unknown command %q", os.Args[1])
	}
}

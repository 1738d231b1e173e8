// moby-btrfs: moby 20.10's btrfs graphdriver (Debian's golang-github-docker-docker-dev), driven directly through
// its Go package, as ../shared/peerbench drives overlay2: Strata's interop tests and benchmarks run it beside
// Strata's own btrfs driver on the same filesystem.
//
//	moby-btrfs -root DIR -op lifecycle|create-child|apply|diff [-tar T] [-n N] [-reps R] [-warmup W] ...
//	moby-btrfs -root DIR create|create-rw ID [PARENT] [size=BYTES]
//	moby-btrfs -root DIR apply ID PARENT TAR       prints the size ApplyDiff returned
//	moby-btrfs -root DIR diff ID PARENT OUT        writes Diff's tar to OUT
//	moby-btrfs -root DIR changes ID PARENT         prints the changes as JSON
//	moby-btrfs -root DIR get ID | remove ID | exists ID
//
// The driver's home is DIR/btrfs. Every invocation runs Init, the operation and Cleanup (Init bind-mounts the home
// on itself; Cleanup unmounts it and turns btrfs quotas off, as dockerd's shutdown does). A benchmark op prints one
// JSON line in peerbench's format (times in µs, nearest-rank percentiles, the median of an even count the mean of
// the middle two). Build in GOPATH mode: see ../build. What it shares with moby is in ../gopath/src/strata/peerkit.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	mgd "github.com/docker/docker/daemon/graphdriver"
	mbtrfs "github.com/docker/docker/daemon/graphdriver/btrfs"
	marchive "github.com/docker/docker/pkg/archive"
	mreexec "github.com/docker/docker/pkg/reexec"
	"golang.org/x/sys/unix"
	"strata/peerkit"
)

type config struct{ peerkit.Config }

func initDriver(c *config) (mgd.Driver, error) {
	return mbtrfs.Init(filepath.Join(c.Root, "btrfs"), c.DriverOpts(), nil, nil)
}

// ---------------------------------------------------------------------------
// benchmark ops (lifecycle, apply and diff are peerkit's)

// create-child: the tar applied to P (untimed); -warmup untimed rounds of Create + Remove of a child of an empty
// layer W (the same untimed work on both sides, and cheap: moby's Remove walks the whole tree for nested
// subvolumes); then per rep Create(child, P) and its Remove, each timed after a sync(2) (the line's median is the
// create's; phases has both).
func opCreateChild(d mgd.Driver, c *config, r peerkit.Result) error {
	for _, base := range []string{"P", "W"} {
		if err := d.Create(base, "", nil); err != nil {
			return err
		}
	}
	if _, err := peerkit.ApplyFile(d, "P", "", c.TarPath); err != nil {
		return fmt.Errorf("apply parent: %w", err)
	}
	for i := 0; i < c.Warmup; i++ {
		id := fmt.Sprintf("wu-%d", i)
		if err := d.Create(id, "W", nil); err != nil {
			return fmt.Errorf("warm-up %d: %w", i, err)
		}
		if err := d.Remove(id); err != nil {
			return err
		}
	}
	var td, tr []time.Duration
	for i := 0; i < c.Reps; i++ {
		id := fmt.Sprintf("cc-%d", i)
		unix.Sync()
		t0 := time.Now()
		if err := d.Create(id, "P", nil); err != nil {
			return fmt.Errorf("create child rep %d: %w", i, err)
		}
		td = append(td, time.Since(t0))
		unix.Sync()
		t1 := time.Now()
		if err := d.Remove(id); err != nil {
			return err
		}
		tr = append(tr, time.Since(t1))
	}
	r.PutStat(peerkit.Summarize(td))
	r["phases"] = map[string]peerkit.Stat{"create": peerkit.Summarize(td), "remove": peerkit.Summarize(tr)}
	return nil
}

// ---------------------------------------------------------------------------
// single operations, for the interop tests

type change struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}

func command(c *config, args []string) error {
	need := func(n int) error {
		if len(args) < n {
			return fmt.Errorf("%s needs %d argument(s)", args[0], n-1)
		}
		return nil
	}
	if len(args) == 0 {
		return fmt.Errorf("no operation")
	}
	d, err := initDriver(c)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer func() {
		if cerr := d.Cleanup(); cerr != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", cerr)
		}
	}()
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch args[0] {
	case "create", "create-rw":
		if err := need(2); err != nil {
			return err
		}
		var o *mgd.CreateOpts
		if s := arg(3); strings.HasPrefix(s, "size=") {
			o = &mgd.CreateOpts{StorageOpt: map[string]string{"size": strings.TrimPrefix(s, "size=")}}
		}
		if args[0] == "create" {
			return d.Create(args[1], arg(2), o)
		}
		return d.CreateReadWrite(args[1], arg(2), o)
	case "apply":
		if err := need(4); err != nil {
			return err
		}
		n, err := peerkit.ApplyFile(d, args[1], args[2], args[3])
		if err == nil {
			fmt.Println(n)
		}
		return err
	case "diff":
		if err := need(4); err != nil {
			return err
		}
		rc, err := d.Diff(args[1], args[2])
		if err != nil {
			return err
		}
		defer rc.Close()
		out, err := os.Create(args[3])
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, rc)
		return err
	case "changes":
		if err := need(3); err != nil {
			return err
		}
		ch, err := d.Changes(args[1], args[2])
		if err != nil {
			return err
		}
		out := []change{}
		for _, c := range ch {
			k := map[marchive.ChangeType]string{marchive.ChangeAdd: "A", marchive.ChangeModify: "C", marchive.ChangeDelete: "D"}[c.Kind]
			out = append(out, change{c.Path, k})
		}
		b, _ := json.Marshal(out)
		fmt.Println(string(b))
		return nil
	case "get":
		if err := need(2); err != nil {
			return err
		}
		fs, err := d.Get(args[1], "")
		if err != nil {
			return err
		}
		fmt.Println(fs.Path())
		return d.Put(args[1])
	case "remove":
		if err := need(2); err != nil {
			return err
		}
		return d.Remove(args[1])
	case "exists":
		if err := need(2); err != nil {
			return err
		}
		fmt.Println(strconv.FormatBool(d.Exists(args[1])))
		return nil
	}
	return fmt.Errorf("unknown operation %q", args[0])
}

func main() {
	// moby's chrootarchive re-executes this binary to untar and tar: that entry point must run first.
	if mreexec.Init() {
		return
	}
	c := &config{}
	c.Flags(peerkit.Help{
		Impl: "the only one: moby-btrfs (accepted for peerbench's command line)", ImplDefault: "moby-btrfs",
		Root: "the driver's root (its home is ROOT/btrfs)",
		Op:   "benchmark: lifecycle|create-child|apply|diff",
		Tar:  "the layer tar (create-child: the parent's content)",
		Opts: "comma-separated driver options for Init (btrfs.min_space=...)",
		Reps: "timed repetitions"})
	c.Parse(func() bool { return c.Impl == "moby-btrfs" })
	if c.Op != "" {
		ops := c.Ops(map[string]peerkit.Op{
			"lifecycle":    func(d mgd.Driver, r peerkit.Result, _ int64) error { return peerkit.Lifecycle(d, &c.Config, r, "") },
			"create-child": func(d mgd.Driver, r peerkit.Result, _ int64) error { return opCreateChild(d, c, r) },
		})
		needsTar := func(op string) bool { return op != "lifecycle" }
		os.Exit(peerkit.Bench(&c.Config, peerkit.Result{"backing": "btrfs"}, needsTar,
			func() (mgd.Driver, error) { return initDriver(c) }, []string{"lifecycle", "create-child", "apply", "diff"}, ops))
	}
	if err := command(c, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "moby-btrfs:", err)
		os.Exit(1)
	}
}

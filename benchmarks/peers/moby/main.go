// moby: moby 20.10's overlay2 and vfs graphdrivers (Debian's golang-github-docker-docker-dev), driven directly
// through their Go packages as ../shared/peerbench drives them, with what a fair comparison needs and peerbench
// lacks: -warmup, the same untimed work Strata's side (dev.strata.bench.PeerBench) does before it times anything.
//
//	moby -impl moby-overlay2|moby-vfs -root DIR -op lifecycle|create-chain|apply|diff [flags]
//
// One JSON line on stdout in peerbench's format (times in µs, nearest-rank percentiles, the median of an even count
// the mean of the middle two); logs on stderr. Build in GOPATH mode: ../build moby. What it shares with moby-btrfs is
// in ../gopath/src/strata/peerkit.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	mgd "github.com/docker/docker/daemon/graphdriver"
	moverlay2 "github.com/docker/docker/daemon/graphdriver/overlay2"
	mvfs "github.com/docker/docker/daemon/graphdriver/vfs"
	mreexec "github.com/docker/docker/pkg/reexec"
	"golang.org/x/sys/unix"
	"strata/peerkit"
)

type config struct {
	peerkit.Config
	depth, depthWarmup   int
	depths, warmupDepths []int
}

func initDriver(c *config) (mgd.Driver, error) {
	o := c.DriverOpts()
	switch c.Impl {
	case "moby-overlay2":
		return moverlay2.Init(filepath.Join(c.Root, "overlay2"), o, nil, nil)
	case "moby-vfs":
		return mvfs.Init(filepath.Join(c.Root, "vfs"), o, nil, nil)
	}
	return nil, fmt.Errorf("unknown -impl %q (moby-overlay2, moby-vfs)", c.Impl)
}

// ---------------------------------------------------------------------------
// inputs

// tinyTar is peerbench's: one USTAR regular file of xorshift content (splitmix64-seeded), 0644, mtime 2020-01-01.
func tinyTar(name string, size int, seed uint64) io.Reader {
	z := seed + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	z ^= z >> 31
	if z == 0 {
		z = 1
	}
	data := make([]byte, size)
	for i := 0; i < size; i += 8 {
		z ^= z << 13
		z ^= z >> 7
		z ^= z << 17
		for k := 0; k < 8 && i+k < size; k++ {
			data[i+k] = byte(z >> (8 * k))
		}
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0644, Size: int64(size),
		ModTime: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), Uname: "root", Gname: "root", Format: tar.FormatUSTAR})
	tw.Write(data)
	tw.Close()
	return &b
}

// ---------------------------------------------------------------------------
// benchmark ops: each does what PeerBench's op of the same name does, warm-up included

// ---------------------------------------------------------------------------
// benchmark ops: each does what PeerBench's op of the same name does, warm-up included (lifecycle, apply and diff
// are peerkit's)

type depthResult struct {
	Depth    int           `json:"depth"`
	Lowers   int           `json:"lowers"`
	CreateUS float64       `json:"create_apply_us,omitempty"`
	Get      *peerkit.Stat `json:"get,omitempty"`
	Put      *peerkit.Stat `json:"put,omitempty"`
	GetPut   *peerkit.Stat `json:"get_put,omitempty"`
	CPUUS    float64       `json:"cpu_us,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// create-chain: -warmup untimed rounds on a scratch chain (warmUp), sync(2), then peerbench's chain: ch-0001..
// each Create + ApplyDiff of a 1 KiB one-file tar, and right after each depth D in -depths, -depth-warmup untimed and
// -reps timed Get + Put of the top (an uncommitted layer with D-1 lowers): PeerBench's create-chain (ChainOp).
func opCreateChain(d mgd.Driver, c *config, r peerkit.Result) error {
	r["warmup_depths"], r["depth_warmup"] = c.warmupDepths, c.depthWarmup
	if c.Warmup > 0 {
		t0 := time.Now()
		if err := warmUp(d, c.Warmup, c.warmupDepths); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		r["warmup_s"] = time.Since(t0).Seconds()
	}
	unix.Sync()
	want := map[int]bool{c.depth: true}
	maxD := c.depth
	for _, x := range c.depths {
		want[x] = true
		if x > maxD {
			maxD = x
		}
	}
	var results []depthResult
	var createTimes []time.Duration
	prev := ""
	for dep := 1; dep <= maxD; dep++ {
		id := fmt.Sprintf("ch-%04d", dep)
		t0 := time.Now()
		err := d.Create(id, prev, nil)
		if err == nil {
			_, err = d.ApplyDiff(id, prev, tinyTar(fmt.Sprintf("layer-%04d.txt", dep), 1024, uint64(dep)))
		}
		ct := time.Since(t0)
		if err != nil {
			r["chain_error"], r["chain_error_depth"] = err.Error(), dep
			for x := range want {
				if x >= dep {
					results = append(results, depthResult{Depth: x, Lowers: x - 1, Error: fmt.Sprintf("chain creation failed at depth %d: %v", dep, err)})
				}
			}
			break
		}
		createTimes = append(createTimes, ct)
		if want[dep] {
			results = append(results, measureDepth(d, c, id, dep, ct))
		}
		prev = id
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Depth < results[j].Depth })
	r["depths"] = results
	r["chain_create_apply"] = peerkit.Summarize(createTimes)
	r["chain_built"] = len(createTimes)
	for _, dr := range results {
		if dr.Depth == c.depth && dr.GetPut != nil {
			r.PutStat(*dr.GetPut)
		}
	}
	return nil
}

// warmUp is PeerBench's JitWarmUp call for call: a scratch chain wu-0001.. and, at every depth D of depths, a leaf
// wl-D with D-1 lowers; then round i, with D the i-th of depths (cycling): Create of a child wc-i with D-1 lowers
// (and ApplyDiff in every applyEvery-th round), Get + Put of it twice, Get + Put of every leaf, Remove of the child; at the
// end everything is removed, top first.
func warmUp(d mgd.Driver, rounds int, depths []int) error {
	layer := func(id, parent, file string, seed int) error {
		if err := d.Create(id, parent, nil); err != nil {
			return err
		}
		_, err := d.ApplyDiff(id, parent, tinyTar(file, 1024, uint64(seed)))
		return err
	}
	top := 1
	for _, x := range depths {
		if x > top {
			top = x
		}
	}
	var chain, leaves []string
	prev := ""
	for dep := 1; dep < top; dep++ {
		id := fmt.Sprintf("wu-%04d", dep)
		if err := layer(id, prev, id+".txt", dep); err != nil {
			return err
		}
		chain, prev = append(chain, id), id
	}
	for _, dep := range depths {
		id, parent := fmt.Sprintf("wl-%04d", dep), ""
		if dep > 1 {
			parent = chain[dep-2]
		}
		if err := layer(id, parent, id+".txt", dep); err != nil {
			return err
		}
		leaves = append(leaves, id)
	}
	for i := 0; i < rounds; i++ {
		id, parent := fmt.Sprintf("wc-%d", i), ""
		if dep := depths[i%len(depths)]; dep > 1 {
			parent = chain[dep-2]
		}
		if err := d.Create(id, parent, nil); err != nil {
			return err
		}
		if i%applyEvery == 0 {
			if _, err := d.ApplyDiff(id, parent, tinyTar(id+".txt", 1024, uint64(i))); err != nil {
				return err
			}
		}
		for _, x := range append([]string{id, id}, leaves...) { // the child twice: JitWarmUp.CHILD_GET_PUTS
			if _, err := d.Get(x, ""); err != nil {
				return err
			}
			if err := d.Put(x); err != nil {
				return err
			}
		}
		if err := d.Remove(id); err != nil {
			return err
		}
	}
	for _, id := range leaves {
		if err := d.Remove(id); err != nil {
			return err
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if err := d.Remove(chain[i]); err != nil {
			return err
		}
	}
	return nil
}

// applyEvery: the warm-up rounds whose child gets a diff applied, one in this many (JitWarmUp.APPLY_EVERY).
const applyEvery = 10

func measureDepth(d mgd.Driver, c *config, id string, dep int, ct time.Duration) depthResult {
	dr := depthResult{Depth: dep, Lowers: dep - 1, CreateUS: peerkit.US(ct)}
	for i := 0; i < c.depthWarmup; i++ {
		if _, err := d.Get(id, ""); err != nil {
			dr.Error = "get: " + err.Error()
			return dr
		}
		if err := d.Put(id); err != nil {
			dr.Error = "put: " + err.Error()
			return dr
		}
	}
	t := &timed{d: d, id: id, dep: dep, dr: &dr}
	if err := c.Slices(strconv.Itoa(dep), c.Reps, t.reps); err != nil && dr.Error == "" {
		dr.Error = err.Error()
	}
	if len(t.tgp) > 0 {
		dr.CPUUS = peerkit.US(time.Duration(t.cpuNanos / int64(len(t.tgp))))
		sg, sp, sgp := peerkit.Summarize(t.tg), peerkit.Summarize(t.tp), peerkit.Summarize(t.tgp)
		dr.Get, dr.Put, dr.GetPut = &sg, &sp, &sgp
	}
	return dr
}

// timed: the timed Get + Puts of one layer, in one or several slices (lockstep), with the process's CPU summed over
// the slices only.
type timed struct {
	d           mgd.Driver
	id          string
	dep         int
	dr          *depthResult
	tg, tp, tgp []time.Duration
	cpuNanos    int64
}

func (t *timed) reps(n int) {
	if t.dr.Error != "" {
		return
	}
	cpu0 := peerkit.CPUNanos()
	defer func() { t.cpuNanos += peerkit.CPUNanos() - cpu0 }()
	for i := 0; i < n; i++ {
		t1 := time.Now()
		fs, err := t.d.Get(t.id, "")
		t2 := time.Now()
		if err != nil {
			t.dr.Error = "get: " + err.Error()
			return
		}
		if i == 0 && len(t.tgp) == 0 {
			if _, err := os.Stat(filepath.Join(fs.Path(), fmt.Sprintf("layer-%04d.txt", t.dep))); err != nil {
				t.dr.Error = "mounted view lacks top file"
			}
			if _, err := os.Stat(filepath.Join(fs.Path(), "layer-0001.txt")); t.dep > 1 && err != nil {
				t.dr.Error = "mounted view lacks bottom file"
			}
		}
		t3 := time.Now()
		if err := t.d.Put(t.id); err != nil {
			t.dr.Error = "put: " + err.Error()
			return
		}
		t4 := time.Now()
		t.tg, t.tp, t.tgp = append(t.tg, t2.Sub(t1)), append(t.tp, t4.Sub(t3)), append(t.tgp, t2.Sub(t1)+t4.Sub(t3))
	}
}

func ints(flagName, list string) []int {
	var out []int
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				fmt.Fprintln(os.Stderr, flagName+": not a depth:", s)
				os.Exit(2)
			}
			out = append(out, n)
		}
	}
	return out
}

func main() {
	// moby's chrootarchive and overlay2's mountfrom re-execute this binary: that entry point must run first.
	if mreexec.Init() {
		return
	}
	c := &config{}
	var depths, warmupDepths string
	c.Flags(peerkit.Help{
		Impl: "moby-overlay2|moby-vfs",
		Root: "the driver's root (its home is ROOT/overlay2 or ROOT/vfs)",
		Op:   "lifecycle|create-chain|apply|diff",
		Tar:  "the layer tar (apply, diff; lifecycle: the base layer's content)",
		Opts: "comma-separated driver options for Init",
		Reps: "timed repetitions (create-chain: per depth)"})
	flag.IntVar(&c.depth, "depth", 100, "create-chain headline depth")
	flag.StringVar(&depths, "depths", "1,10,50,100,127,128,129,130", "create-chain depths to time")
	flag.StringVar(&warmupDepths, "warmup-depths", "2", "create-chain: the depths of the warm-up's leaves")
	flag.IntVar(&c.depthWarmup, "depth-warmup", 0, "create-chain: untimed Get + Put at each depth before its -reps")
	c.Parse(func() bool {
		c.depths, c.warmupDepths = ints("-depths", depths), ints("-warmup-depths", warmupDepths)
		return c.Op != "" && c.Impl != ""
	})
	ops := c.Ops(map[string]peerkit.Op{
		"lifecycle": func(d mgd.Driver, r peerkit.Result, _ int64) error {
			r["warmup_rounds"] = c.Warmup
			return peerkit.Lifecycle(d, &c.Config, r, c.TarPath)
		},
		"create-chain": func(d mgd.Driver, r peerkit.Result, _ int64) error { return opCreateChain(d, c, r) },
	})
	needsTar := func(op string) bool { return op == "apply" || op == "diff" }
	os.Exit(peerkit.Bench(&c.Config, peerkit.Result{}, needsTar, func() (mgd.Driver, error) { return initDriver(c) },
		[]string{"lifecycle", "create-chain", "apply", "diff"}, ops))
}

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
// the middle two). Build in GOPATH mode: see ../build.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	mgd "github.com/docker/docker/daemon/graphdriver"
	mbtrfs "github.com/docker/docker/daemon/graphdriver/btrfs"
	marchive "github.com/docker/docker/pkg/archive"
	mreexec "github.com/docker/docker/pkg/reexec"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

type config struct {
	root, op, tarPath, label, opts, session string
	n, reps, warmup, run                    int
}

func initDriver(root, opts string) (mgd.Driver, error) {
	var o []string
	if opts != "" {
		o = strings.Split(opts, ",")
	}
	return mbtrfs.Init(filepath.Join(root, "btrfs"), o, nil, nil)
}

// ---------------------------------------------------------------------------
// statistics, as peerbench computes them

type stat struct {
	N        int     `json:"n"`
	TotalS   float64 `json:"total_s"`
	MedianUS float64 `json:"median_us"`
	P90US    float64 `json:"p90_us"`
	P99US    float64 `json:"p99_us"`
	MinUS    float64 `json:"min_us"`
	MaxUS    float64 `json:"max_us"`
}

func us(d time.Duration) float64 { return math.Round(float64(d.Nanoseconds())/10) / 100 }

func pct(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func summarize(ds []time.Duration) stat {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var tot time.Duration
	for _, d := range s {
		tot += d
	}
	st := stat{N: len(s), TotalS: math.Round(tot.Seconds()*1e6) / 1e6}
	if len(s) > 0 {
		med := s[len(s)/2]
		if len(s)%2 == 0 {
			med = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		st.MedianUS, st.P90US, st.P99US = us(med), us(pct(s, 0.90)), us(pct(s, 0.99))
		st.MinUS, st.MaxUS = us(s[0]), us(s[len(s)-1])
	}
	return st
}

type result map[string]interface{}

func (r result) putStat(s stat) {
	r["ops"], r["total_s"], r["median_us"], r["p90_us"] = s.N, s.TotalS, s.MedianUS, s.P90US
	r["p99_us"], r["min_us"], r["max_us"] = s.P99US, s.MinUS, s.MaxUS
}

func (r result) putRate(bytes int64, files int, s stat) {
	if s.MedianUS <= 0 {
		return
	}
	sec := s.MedianUS / 1e6
	if bytes > 0 {
		r["mb_s"] = math.Round(float64(bytes)/1e6/sec*100) / 100
	}
	if files > 0 {
		r["files_s"] = math.Round(float64(files)/sec*100) / 100
	}
}

// ---------------------------------------------------------------------------
// benchmark ops

// stream hides *os.File from the driver, so the layer reaches the re-exec'd untar helper through a pipe, as a
// decompressor's output would (peerbench's streamReader).
type stream struct{ r io.Reader }

func (s stream) Read(p []byte) (int, error) { return s.r.Read(p) }

func applyFile(d mgd.Driver, id, parent, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return d.ApplyDiff(id, parent, stream{f})
}

// warm reads the tar once, so that every rep (and the other side) starts with it in the page cache.
func warm(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(io.Discard, f)
}

// lifecycle: Create(lc-i, base) + Get + Put + Remove, each phase timed, after -warmup untimed rounds.
func opLifecycle(d mgd.Driver, c *config, r result) error {
	if err := d.Create("base", "", nil); err != nil {
		return err
	}
	round := func(id string) ([4]time.Duration, error) {
		var t [4]time.Duration
		t0 := time.Now()
		if err := d.Create(id, "base", nil); err != nil {
			return t, err
		}
		t1 := time.Now()
		if _, err := d.Get(id, ""); err != nil {
			return t, err
		}
		t2 := time.Now()
		if err := d.Put(id); err != nil {
			return t, err
		}
		t3 := time.Now()
		if err := d.Remove(id); err != nil {
			return t, err
		}
		t4 := time.Now()
		return [4]time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3)}, nil
	}
	for i := 0; i < c.warmup; i++ {
		if _, err := round(fmt.Sprintf("wu-%05d", i)); err != nil {
			return fmt.Errorf("warm-up %d: %w", i, err)
		}
	}
	unix.Sync()
	var tc, tg, tp, tr, tt []time.Duration
	for i := 0; i < c.n; i++ {
		t, err := round(fmt.Sprintf("lc-%05d", i))
		if err != nil {
			return fmt.Errorf("iteration %d: %w", i, err)
		}
		tc, tg, tp, tr = append(tc, t[0]), append(tg, t[1]), append(tp, t[2]), append(tr, t[3])
		tt = append(tt, t[0]+t[1]+t[2]+t[3])
	}
	s := summarize(tt)
	r.putStat(s)
	r["phases"] = map[string]stat{"create": summarize(tc), "get": summarize(tg), "put": summarize(tp), "remove": summarize(tr)}
	r["ops_s"] = math.Round(float64(len(tt))/s.TotalS*100) / 100
	return nil
}

// create-child: the tar applied to P (untimed); -warmup untimed rounds of Create + Remove of a child of an empty
// layer W (the same untimed work on both sides, and cheap: moby's Remove walks the whole tree for nested
// subvolumes); then per rep Create(child, P) and its Remove, each timed after a sync(2) (the line's median is the
// create's; phases has both).
func opCreateChild(d mgd.Driver, c *config, r result) error {
	for _, base := range []string{"P", "W"} {
		if err := d.Create(base, "", nil); err != nil {
			return err
		}
	}
	if _, err := applyFile(d, "P", "", c.tarPath); err != nil {
		return fmt.Errorf("apply parent: %w", err)
	}
	for i := 0; i < c.warmup; i++ {
		id := fmt.Sprintf("wu-%d", i)
		if err := d.Create(id, "W", nil); err != nil {
			return fmt.Errorf("warm-up %d: %w", i, err)
		}
		if err := d.Remove(id); err != nil {
			return err
		}
	}
	var td, tr []time.Duration
	for i := 0; i < c.reps; i++ {
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
	r.putStat(summarize(td))
	r["phases"] = map[string]stat{"create": summarize(td), "remove": summarize(tr)}
	return nil
}

func opApply(d mgd.Driver, c *config, r result, tarBytes int64) error {
	var td []time.Duration
	var size int64
	for i := -c.warmup; i < c.reps; i++ {
		id := fmt.Sprintf("ap-%d", i+c.warmup)
		if err := d.Create(id, "", nil); err != nil {
			return err
		}
		unix.Sync()
		t0 := time.Now()
		n, err := applyFile(d, id, "", c.tarPath)
		dt := time.Since(t0)
		if err != nil {
			return fmt.Errorf("apply rep %d: %w", i, err)
		}
		size = n
		if i >= 0 {
			td = append(td, dt)
		}
		if err := d.Remove(id); err != nil {
			return err
		}
	}
	s := summarize(td)
	r.putStat(s)
	r.putRate(tarBytes, 0, s)
	r["layer_size"] = size
	return nil
}

func opDiff(d mgd.Driver, c *config, r result) error {
	if err := d.Create("df", "", nil); err != nil {
		return err
	}
	if _, err := applyFile(d, "df", "", c.tarPath); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	var td []time.Duration
	var n int64
	for i := -c.warmup; i < c.reps; i++ {
		unix.Sync()
		t0 := time.Now()
		rc, err := d.Diff("df", "")
		if err != nil {
			return fmt.Errorf("diff rep %d: %w", i, err)
		}
		n, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("diff read rep %d: %w", i, err)
		}
		if i >= 0 {
			td = append(td, time.Since(t0))
		}
	}
	s := summarize(td)
	r.putStat(s)
	r["diff_bytes"] = n
	r.putRate(n, 0, s)
	return nil
}

func bench(c *config) int {
	var uts unix.Utsname
	unix.Uname(&uts)
	r := result{"impl": "moby-btrfs", "op": c.op, "run": c.run, "date": time.Now().UTC().Format(time.RFC3339),
		"kernel": strings.TrimRight(string(uts.Release[:]), "\x00"), "go": runtime.Version(), "ncpu": runtime.NumCPU(),
		"backing": "btrfs", "warmup": c.warmup}
	if c.label != "" {
		r["label"] = c.label
	}
	if c.session != "" {
		r["session"] = c.session
	}
	if c.op == "lifecycle" {
		r["n"] = c.n
	} else {
		r["reps"] = c.reps
	}
	var tarBytes int64
	if c.tarPath != "" {
		r["tar"] = filepath.Base(c.tarPath)
		n, err := warm(c.tarPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		tarBytes = n
		r["tar_bytes"] = n
	} else if c.op != "lifecycle" {
		fmt.Fprintln(os.Stderr, "-op "+c.op+" needs -tar")
		return 2
	}
	start := time.Now()
	d, err := initDriver(c.root, c.opts)
	r["init_ms"] = math.Round(float64(time.Since(start).Microseconds())/10) / 100
	if err != nil {
		r["error"] = "init: " + err.Error()
		emit(r)
		return 1
	}
	st := map[string]string{}
	for _, kv := range d.Status() {
		st[kv[0]] = kv[1]
	}
	r["driver_status"] = st
	switch c.op {
	case "lifecycle":
		err = opLifecycle(d, c, r)
	case "create-child":
		err = opCreateChild(d, c, r)
	case "apply":
		err = opApply(d, c, r, tarBytes)
	case "diff":
		err = opDiff(d, c, r)
	default:
		err = fmt.Errorf("unknown -op %q", c.op)
	}
	r["wall_s"] = math.Round(time.Since(start).Seconds()*1e6) / 1e6
	if err != nil {
		r["error"] = err.Error()
	}
	if cerr := d.Cleanup(); cerr != nil {
		r["cleanup_error"] = cerr.Error()
	}
	emit(r)
	if err != nil {
		return 1
	}
	return 0
}

func emit(r result) {
	b, _ := json.Marshal(r)
	os.Stdout.Write(append(b, '\n'))
}

// ---------------------------------------------------------------------------
// single operations, for the interop tests

type change struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}

func command(root, opts string, args []string) error {
	need := func(n int) error {
		if len(args) < n {
			return fmt.Errorf("%s needs %d argument(s)", args[0], n-1)
		}
		return nil
	}
	if len(args) == 0 {
		return fmt.Errorf("no operation")
	}
	d, err := initDriver(root, opts)
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
		n, err := applyFile(d, args[1], args[2], args[3])
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
	var impl string
	flag.StringVar(&impl, "impl", "moby-btrfs", "the only one: moby-btrfs (accepted for peerbench's command line)")
	flag.StringVar(&c.root, "root", "", "the driver's root (its home is ROOT/btrfs)")
	flag.StringVar(&c.op, "op", "", "benchmark: lifecycle|create-child|apply|diff")
	flag.StringVar(&c.tarPath, "tar", "", "the layer tar (create-child: the parent's content)")
	flag.StringVar(&c.label, "label", "", "copied into the JSON line")
	flag.StringVar(&c.session, "session", "", "copied into the JSON line")
	flag.StringVar(&c.opts, "driver-opts", "", "comma-separated driver options for Init (btrfs.min_space=...)")
	flag.IntVar(&c.n, "n", 200, "lifecycle rounds")
	flag.IntVar(&c.reps, "reps", 5, "timed repetitions")
	flag.IntVar(&c.warmup, "warmup", 0, "untimed rounds or repetitions first")
	flag.IntVar(&c.run, "run", 0, "copied into the JSON line")
	flag.Parse()
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetOutput(os.Stderr)
	if c.root == "" || impl != "moby-btrfs" {
		flag.Usage()
		os.Exit(2)
	}
	if err := os.MkdirAll(c.root, 0711); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if c.op != "" {
		os.Exit(bench(c))
	}
	if err := command(c.root, c.opts, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "moby-btrfs:", err)
		os.Exit(1)
	}
}

// moby: moby 20.10's overlay2 and vfs graphdrivers (Debian's golang-github-docker-docker-dev), driven directly
// through their Go packages as ../shared/peerbench drives them, with what a fair comparison needs and peerbench
// lacks: -warmup, the same untimed work Strata's side (dev.strata.bench.PeerBench) does before it times anything.
//
//	moby -impl moby-overlay2|moby-vfs -root DIR -op lifecycle|create-chain|apply|diff [flags]
//
// One JSON line on stdout in peerbench's format (times in µs, nearest-rank percentiles, the median of an even count
// the mean of the middle two); logs on stderr. Build in GOPATH mode: ../build moby.
package main

import (
	"archive/tar"
	"bytes"
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
	moverlay2 "github.com/docker/docker/daemon/graphdriver/overlay2"
	mvfs "github.com/docker/docker/daemon/graphdriver/vfs"
	mreexec "github.com/docker/docker/pkg/reexec"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

type config struct {
	impl, root, op, tarPath, label, opts, session string
	n, depth, reps, warmup, run                   int
	depths                                        []int
}

func initDriver(c *config) (mgd.Driver, error) {
	var o []string
	if c.opts != "" {
		o = strings.Split(c.opts, ",")
	}
	switch c.impl {
	case "moby-overlay2":
		return moverlay2.Init(filepath.Join(c.root, "overlay2"), o, nil, nil)
	case "moby-vfs":
		return mvfs.Init(filepath.Join(c.root, "vfs"), o, nil, nil)
	}
	return nil, fmt.Errorf("unknown -impl %q (moby-overlay2, moby-vfs)", c.impl)
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

func (r result) putRate(bytes int64, s stat) {
	if s.MedianUS > 0 && bytes > 0 {
		r["mb_s"] = math.Round(float64(bytes)/1e6/(s.MedianUS/1e6)*100) / 100
	}
}

// ---------------------------------------------------------------------------
// inputs

// stream hides *os.File from the driver, so the layer reaches the re-exec'd untar helper through a pipe, as a
// decompressor's output would (peerbench's streamReader; Strata's side wraps its stream the same way).
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

// lifecycle: -warmup untimed rounds, then -n rounds of Create(lc-i, base) + Get + Put + Remove, each phase timed.
func opLifecycle(d mgd.Driver, c *config, r result) error {
	if err := d.Create("base", "", nil); err != nil {
		return err
	}
	if c.tarPath != "" {
		if _, err := applyFile(d, "base", "", c.tarPath); err != nil {
			return fmt.Errorf("apply base: %w", err)
		}
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
	r["warmup_rounds"] = c.warmup
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

type depthResult struct {
	Depth    int     `json:"depth"`
	Lowers   int     `json:"lowers"`
	CreateUS float64 `json:"create_apply_us,omitempty"`
	Get      *stat   `json:"get,omitempty"`
	Put      *stat   `json:"put,omitempty"`
	GetPut   *stat   `json:"get_put,omitempty"`
	Error    string  `json:"error,omitempty"`
}

// create-chain: -warmup untimed rounds on a throwaway pair of layers (Create + ApplyDiff of a child, Get + Put of it
// and of its parent, Remove), then peerbench's chain: ch-0001.. each Create + ApplyDiff of a 1 KiB one-file tar, and
// right after each depth D in -depths, -reps times Get + Put of the top (an uncommitted layer with D-1 lowers).
func opCreateChain(d mgd.Driver, c *config, r result) error {
	if c.warmup > 0 {
		if err := d.Create("wu-base", "", nil); err != nil {
			return err
		}
		if _, err := d.ApplyDiff("wu-base", "", tinyTar("wu.txt", 1024, 0)); err != nil {
			return err
		}
		for i := 0; i < c.warmup; i++ {
			id := fmt.Sprintf("wu-%d", i)
			if err := d.Create(id, "wu-base", nil); err != nil {
				return err
			}
			if _, err := d.ApplyDiff(id, "wu-base", tinyTar(fmt.Sprintf("wu-%d.txt", i), 1024, uint64(i))); err != nil {
				return err
			}
			for _, x := range []string{id, "wu-base"} {
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
		if err := d.Remove("wu-base"); err != nil {
			return err
		}
	}
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
			results = append(results, measureDepth(d, id, dep, ct, c.reps))
		}
		prev = id
	}
	sort.Slice(results, func(i, j int) bool { return results[i].Depth < results[j].Depth })
	r["depths"] = results
	r["chain_create_apply"] = summarize(createTimes)
	r["chain_built"] = len(createTimes)
	for _, dr := range results {
		if dr.Depth == c.depth && dr.GetPut != nil {
			r.putStat(*dr.GetPut)
		}
	}
	return nil
}

func measureDepth(d mgd.Driver, id string, dep int, ct time.Duration, reps int) depthResult {
	dr := depthResult{Depth: dep, Lowers: dep - 1, CreateUS: us(ct)}
	var tg, tp, tgp []time.Duration
	for i := 0; i < reps; i++ {
		t1 := time.Now()
		fs, err := d.Get(id, "")
		t2 := time.Now()
		if err != nil {
			dr.Error = "get: " + err.Error()
			break
		}
		if i == 0 {
			if _, err := os.Stat(filepath.Join(fs.Path(), fmt.Sprintf("layer-%04d.txt", dep))); err != nil {
				dr.Error = "mounted view lacks top file"
			}
			if _, err := os.Stat(filepath.Join(fs.Path(), "layer-0001.txt")); dep > 1 && err != nil {
				dr.Error = "mounted view lacks bottom file"
			}
		}
		t3 := time.Now()
		if err := d.Put(id); err != nil {
			dr.Error = "put: " + err.Error()
			break
		}
		t4 := time.Now()
		tg, tp, tgp = append(tg, t2.Sub(t1)), append(tp, t4.Sub(t3)), append(tgp, t2.Sub(t1)+t4.Sub(t3))
	}
	if len(tgp) > 0 {
		sg, sp, sgp := summarize(tg), summarize(tp), summarize(tgp)
		dr.Get, dr.Put, dr.GetPut = &sg, &sp, &sgp
	}
	return dr
}

// apply: per rep (the first -warmup untimed) a new layer, sync(2), ApplyDiff of the tar timed, the layer removed.
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
	r.putRate(tarBytes, s)
	r["layer_size"] = size
	return nil
}

// diff: the tar applied to a layer (untimed), then per rep (the first -warmup untimed) sync(2) and Diff read fully.
func opDiff(d mgd.Driver, c *config, r result) error {
	if err := d.Create("df", "", nil); err != nil {
		return err
	}
	if _, err := applyFile(d, "df", "", c.tarPath); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	var td []time.Duration
	var n int64
	buf := make([]byte, 32<<10)
	for i := -c.warmup; i < c.reps; i++ {
		unix.Sync()
		t0 := time.Now()
		rc, err := d.Diff("df", "")
		if err != nil {
			return fmt.Errorf("diff rep %d: %w", i, err)
		}
		n, err = io.CopyBuffer(io.Discard, rc, buf)
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
	r.putRate(n, s)
	return nil
}

func bench(c *config) int {
	var uts unix.Utsname
	unix.Uname(&uts)
	r := result{"impl": c.impl, "op": c.op, "run": c.run, "date": time.Now().UTC().Format(time.RFC3339),
		"kernel": strings.TrimRight(string(uts.Release[:]), "\x00"), "go": runtime.Version(), "ncpu": runtime.NumCPU(),
		"warmup": c.warmup}
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
	} else if c.op == "apply" || c.op == "diff" {
		fmt.Fprintln(os.Stderr, "-op "+c.op+" needs -tar")
		return 2
	}
	start := time.Now()
	d, err := initDriver(c)
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
	case "create-chain":
		err = opCreateChain(d, c, r)
	case "apply":
		err = opApply(d, c, r, tarBytes)
	case "diff":
		err = opDiff(d, c, r)
	default:
		err = fmt.Errorf("unknown -op %q (lifecycle, create-chain, apply, diff)", c.op)
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

func main() {
	// moby's chrootarchive and overlay2's mountfrom re-execute this binary: that entry point must run first.
	if mreexec.Init() {
		return
	}
	c := &config{}
	var depths string
	flag.StringVar(&c.impl, "impl", "", "moby-overlay2|moby-vfs")
	flag.StringVar(&c.root, "root", "", "the driver's root (its home is ROOT/overlay2 or ROOT/vfs)")
	flag.StringVar(&c.op, "op", "", "lifecycle|create-chain|apply|diff")
	flag.StringVar(&c.tarPath, "tar", "", "the layer tar (apply, diff; lifecycle: the base layer's content)")
	flag.StringVar(&c.label, "label", "", "copied into the JSON line")
	flag.StringVar(&c.session, "session", "", "copied into the JSON line")
	flag.StringVar(&c.opts, "driver-opts", "", "comma-separated driver options for Init")
	flag.IntVar(&c.n, "n", 200, "lifecycle rounds")
	flag.IntVar(&c.depth, "depth", 100, "create-chain headline depth")
	flag.StringVar(&depths, "depths", "1,10,50,100,127,128,129,130", "create-chain depths to time")
	flag.IntVar(&c.reps, "reps", 5, "timed repetitions (create-chain: per depth)")
	flag.IntVar(&c.warmup, "warmup", 0, "untimed rounds or repetitions first")
	flag.IntVar(&c.run, "run", 0, "copied into the JSON line")
	flag.Parse()
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetOutput(os.Stderr)
	for _, s := range strings.Split(depths, ",") {
		if s = strings.TrimSpace(s); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				fmt.Fprintln(os.Stderr, "-depths:", err)
				os.Exit(2)
			}
			c.depths = append(c.depths, n)
		}
	}
	if c.root == "" || c.op == "" || c.impl == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := os.MkdirAll(c.root, 0711); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(bench(c))
}

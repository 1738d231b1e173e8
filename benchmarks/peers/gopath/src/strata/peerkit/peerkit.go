// Package peerkit is what the moby peers (../../../moby, ../../../moby-btrfs) share: their common flags, peerbench's
// statistics and JSON line, the run of one benchmark op around Init and Cleanup, and the ops that are the same for
// every moby driver (lifecycle, apply, diff). Built in GOPATH mode with them: see ../../../build.
package peerkit

import (
	"bufio"
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
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Config holds the flags every peer takes.
type Config struct {
	Impl, Root, Op, TarPath, Label, Opts, Session string
	N, Reps, Warmup, Run                          int
	lockstep                                      bool
	// Lockstep is -lockstep's commands on stdin (nil: each stage timed at once); see Slices.
	Lockstep *bufio.Scanner
}

// Help is the help of the flags whose meaning depends on the peer; ImplDefault is -impl's default.
type Help struct {
	Impl, ImplDefault, Root, Op, Tar, Opts, Reps string
}

// Flags registers the common flags into c.
func (c *Config) Flags(h Help) {
	flag.StringVar(&c.Impl, "impl", h.ImplDefault, h.Impl)
	flag.StringVar(&c.Root, "root", "", h.Root)
	flag.StringVar(&c.Op, "op", "", h.Op)
	flag.StringVar(&c.TarPath, "tar", "", h.Tar)
	flag.StringVar(&c.Label, "label", "", "copied into the JSON line")
	flag.StringVar(&c.Session, "session", "", "copied into the JSON line")
	flag.StringVar(&c.Opts, "driver-opts", "", h.Opts)
	flag.IntVar(&c.N, "n", 200, "lifecycle rounds")
	flag.IntVar(&c.Reps, "reps", 5, h.Reps)
	flag.IntVar(&c.Warmup, "warmup", 0, "untimed rounds or repetitions first")
	flag.IntVar(&c.Run, "run", 0, "copied into the JSON line")
	flag.BoolVar(&c.lockstep, "lockstep", false, "lifecycle, create-chain: once warmed up print 'ready STAGE' and time the "+
		"rounds or reps stdin asks for ('reps N', answered 'done STAGE') until any other line")
}

// Parse parses the command line; without -root, or unless complete says the peer's own flags are right, it prints
// the usage and exits 2. Then it Starts.
func (c *Config) Parse(complete func() bool) {
	flag.Parse()
	if c.Root == "" || !complete() {
		flag.Usage()
		os.Exit(2)
	}
	if c.lockstep {
		c.Lockstep = bufio.NewScanner(os.Stdin)
	}
	c.Start()
}

// Slices times one stage (lifecycle: its timed rounds; create-chain: a depth) with time(n), n rounds or reps at a
// time. Without -lockstep: time(all) once. With it (the Java harness's Lockstep drives it, the other side's process
// waiting meanwhile): "ready STAGE" on stdout, then time(N) and "done STAGE" for each "reps N" on stdin, until any
// other line or the end of stdin. A count that is not a number is answered "done" untimed and returned as the error.
func (c *Config) Slices(stage string, all int, time func(n int)) error {
	if c.Lockstep == nil {
		time(all)
		return nil
	}
	var bad error
	fmt.Println("ready " + stage)
	for c.Lockstep.Scan() && strings.HasPrefix(c.Lockstep.Text(), "reps ") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(c.Lockstep.Text(), "reps ")))
		if err != nil && bad == nil {
			bad = fmt.Errorf("lockstep: %w", err)
		} else if err == nil {
			time(n)
		}
		fmt.Println("done " + stage)
	}
	return bad
}

// DriverOpts is -driver-opts as Init takes them.
func (c *Config) DriverOpts() []string {
	if c.Opts == "" {
		return nil
	}
	return strings.Split(c.Opts, ",")
}

// Start quiets moby's logging to warnings on stderr and makes the root, exiting 1 if it cannot.
func (c *Config) Start() {
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetOutput(os.Stderr)
	if err := os.MkdirAll(c.Root, 0711); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------
// statistics, as peerbench computes them

// Stat is one phase's figures in peerbench's form.
type Stat struct {
	N        int     `json:"n"`
	TotalS   float64 `json:"total_s"`
	MedianUS float64 `json:"median_us"`
	P90US    float64 `json:"p90_us"`
	P99US    float64 `json:"p99_us"`
	MinUS    float64 `json:"min_us"`
	MaxUS    float64 `json:"max_us"`
}

// CPUNanos is the CPU time of this process and of its waited-for children (moby re-executes helpers), user and
// system, ns: the same measure as PeerBench's process CPU, which other processes on a busy machine do not stretch.
func CPUNanos() int64 {
	var self, children unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &self) != nil || unix.Getrusage(unix.RUSAGE_CHILDREN, &children) != nil {
		return 0
	}
	var ns int64
	for _, t := range []unix.Timeval{self.Utime, self.Stime, children.Utime, children.Stime} {
		ns += t.Nano()
	}
	return ns
}

// US is d in microseconds, two decimals.
func US(d time.Duration) float64 { return math.Round(float64(d.Nanoseconds())/10) / 100 }

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

// Summarize gives nearest-rank percentiles; the median of an even count is the mean of the middle two.
func Summarize(ds []time.Duration) Stat {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var tot time.Duration
	for _, d := range s {
		tot += d
	}
	st := Stat{N: len(s), TotalS: math.Round(tot.Seconds()*1e6) / 1e6}
	if len(s) > 0 {
		med := s[len(s)/2]
		if len(s)%2 == 0 {
			med = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
		st.MedianUS, st.P90US, st.P99US = US(med), US(pct(s, 0.90)), US(pct(s, 0.99))
		st.MinUS, st.MaxUS = US(s[0]), US(s[len(s)-1])
	}
	return st
}

// Result is one JSON line.
type Result map[string]interface{}

// PutStat puts the headline phase's figures at the top level of the line.
func (r Result) PutStat(s Stat) {
	r["ops"], r["total_s"], r["median_us"], r["p90_us"] = s.N, s.TotalS, s.MedianUS, s.P90US
	r["p99_us"], r["min_us"], r["max_us"] = s.P99US, s.MinUS, s.MaxUS
}

// PutRate adds MB/s and files/s at the median, for those of bytes and files that are known (> 0).
func (r Result) PutRate(bytes int64, files int, s Stat) {
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

// Emit prints the line on stdout.
func Emit(r Result) {
	b, _ := json.Marshal(r)
	os.Stdout.Write(append(b, '\n'))
}

// ---------------------------------------------------------------------------
// inputs

// stream hides *os.File from the driver, so the layer reaches the re-exec'd untar helper through a pipe, as a
// decompressor's output would (peerbench's streamReader; Strata's side wraps its stream the same way).
type stream struct{ r io.Reader }

func (s stream) Read(p []byte) (int, error) { return s.r.Read(p) }

// ApplyFile applies the tar at path to layer id.
func ApplyFile(d mgd.Driver, id, parent, path string) (int64, error) {
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

// ---------------------------------------------------------------------------
// one benchmark run

// Op is one benchmark op on an initialised driver; tarBytes is the size of -tar (0 without one).
type Op func(d mgd.Driver, r Result, tarBytes int64) error

// Ops is the peer's own ops and the ones every moby driver runs the same (apply, diff).
func (c *Config) Ops(own map[string]Op) map[string]Op {
	ops := map[string]Op{
		"apply": func(d mgd.Driver, r Result, n int64) error { return Apply(d, c, r, n) },
		"diff":  func(d mgd.Driver, r Result, _ int64) error { return Diff(d, c, r) },
	}
	for name, op := range own {
		ops[name] = op
	}
	return ops
}

// Bench runs -op from ops (named in that order in its error) around Init and Cleanup and prints its line, -impl and
// fields added to peerbench's; returns the exit code. An op that needsTar is refused without -tar (exit 2).
func Bench(c *Config, fields Result, needsTar func(op string) bool, init func() (mgd.Driver, error), names []string, ops map[string]Op) int {
	var uts unix.Utsname
	unix.Uname(&uts)
	r := Result{"op": c.Op, "run": c.Run, "date": time.Now().UTC().Format(time.RFC3339),
		"kernel": strings.TrimRight(string(uts.Release[:]), "\x00"), "go": runtime.Version(), "ncpu": runtime.NumCPU(),
		"warmup": c.Warmup, "impl": c.Impl}
	for k, v := range fields {
		r[k] = v
	}
	if c.Label != "" {
		r["label"] = c.Label
	}
	if c.Session != "" {
		r["session"] = c.Session
	}
	if c.Op == "lifecycle" {
		r["n"] = c.N
	} else {
		r["reps"] = c.Reps
	}
	var tarBytes int64
	if c.TarPath != "" {
		r["tar"] = filepath.Base(c.TarPath)
		n, err := warm(c.TarPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		tarBytes = n
		r["tar_bytes"] = n
	} else if needsTar(c.Op) {
		fmt.Fprintln(os.Stderr, "-op "+c.Op+" needs -tar")
		return 2
	}
	start := time.Now()
	d, err := init()
	r["init_ms"] = math.Round(float64(time.Since(start).Microseconds())/10) / 100
	if err != nil {
		r["error"] = "init: " + err.Error()
		Emit(r)
		return 1
	}
	st := map[string]string{}
	for _, kv := range d.Status() {
		st[kv[0]] = kv[1]
	}
	r["driver_status"] = st
	if op, ok := ops[c.Op]; ok {
		err = op(d, r, tarBytes)
	} else {
		err = fmt.Errorf("unknown -op %q (%s)", c.Op, strings.Join(names, ", "))
	}
	r["wall_s"] = math.Round(time.Since(start).Seconds()*1e6) / 1e6
	if err != nil {
		r["error"] = err.Error()
	}
	if cerr := d.Cleanup(); cerr != nil {
		r["cleanup_error"] = cerr.Error()
	}
	Emit(r)
	if err != nil {
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------
// the ops every moby driver runs alike, each as PeerBench's op of the same name

// Lifecycle: layer "base" (with baseTar applied, if any), -warmup untimed rounds, sync(2), then -n rounds of
// Create(lc-i, base) + Get + Put + Remove, each phase timed, in Slices of stage "1" under -lockstep (the harness asks
// for -n in all). The process's CPU per round is taken from the first timed round to the end of the last, waits for
// the other side included (a blocked read costs nothing; Strata's JIT finishing in the background is its cost).
func Lifecycle(d mgd.Driver, c *Config, r Result, baseTar string) error {
	if err := d.Create("base", "", nil); err != nil {
		return err
	}
	if baseTar != "" {
		if _, err := ApplyFile(d, "base", "", baseTar); err != nil {
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
	for i := 0; i < c.Warmup; i++ {
		if _, err := round(fmt.Sprintf("wu-%05d", i)); err != nil {
			return fmt.Errorf("warm-up %d: %w", i, err)
		}
	}
	unix.Sync()
	var tc, tg, tp, tr, tt []time.Duration
	var cpu0, cpu1 int64
	var failed error
	err := c.Slices("1", c.N, func(n int) {
		if cpu0 == 0 {
			cpu0 = CPUNanos()
		}
		for k := 0; k < n && failed == nil; k++ {
			t, err := round(fmt.Sprintf("lc-%05d", len(tt)))
			if err != nil {
				failed = fmt.Errorf("iteration %d: %w", len(tt), err)
				break
			}
			tc, tg, tp, tr = append(tc, t[0]), append(tg, t[1]), append(tp, t[2]), append(tr, t[3])
			tt = append(tt, t[0]+t[1]+t[2]+t[3])
		}
		cpu1 = CPUNanos()
	})
	if failed != nil {
		return failed
	}
	if err != nil {
		return err
	}
	r["n"] = len(tt)
	s := Summarize(tt)
	r.PutStat(s)
	r["phases"] = map[string]Stat{"create": Summarize(tc), "get": Summarize(tg), "put": Summarize(tp), "remove": Summarize(tr)}
	if len(tt) > 0 {
		r["cpu_us"] = US(time.Duration((cpu1 - cpu0) / int64(len(tt))))
		r["ops_s"] = math.Round(float64(len(tt))/s.TotalS*100) / 100
	}
	return nil
}

// Apply: per rep (the first -warmup untimed) a new layer, sync(2), ApplyDiff of -tar timed, the layer removed.
func Apply(d mgd.Driver, c *Config, r Result, tarBytes int64) error {
	var td []time.Duration
	var size int64
	for i := -c.Warmup; i < c.Reps; i++ {
		id := fmt.Sprintf("ap-%d", i+c.Warmup)
		if err := d.Create(id, "", nil); err != nil {
			return err
		}
		unix.Sync()
		t0 := time.Now()
		n, err := ApplyFile(d, id, "", c.TarPath)
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
	s := Summarize(td)
	r.PutStat(s)
	r.PutRate(tarBytes, 0, s)
	r["layer_size"] = size
	return nil
}

// Diff: -tar applied to a layer (untimed), then per rep (the first -warmup untimed) sync(2) and Diff read fully.
func Diff(d mgd.Driver, c *Config, r Result) error {
	if err := d.Create("df", "", nil); err != nil {
		return err
	}
	if _, err := ApplyFile(d, "df", "", c.TarPath); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	var td []time.Duration
	var n int64
	for i := -c.Warmup; i < c.Reps; i++ {
		unix.Sync()
		t0 := time.Now()
		rc, err := d.Diff("df", "")
		if err != nil {
			return fmt.Errorf("diff rep %d: %w", i, err)
		}
		n, err = io.Copy(io.Discard, rc) // io.Discard reads with buffers of its own, whatever buffer one gives
		rc.Close()
		if err != nil {
			return fmt.Errorf("diff read rep %d: %w", i, err)
		}
		if i >= 0 {
			td = append(td, time.Since(t0))
		}
	}
	s := Summarize(td)
	r.PutStat(s)
	r["diff_bytes"] = n
	r.PutRate(n, 0, s)
	return nil
}

// Command roundbench times containerd's snapshot round against proxy snapshotters on UNIX sockets, the way
// containerd drives a snapshotter for a container layer: Prepare (on a committed base) → Mounts → mount, write one
// file, unmount (containerd's own mount code) → Commit → Remove. Given two sockets it measures both in the same
// run, alternating their order (A B B A ...), and reports per operation the median of per-run ratios A/B with the
// min-max spread.
//
//	roundbench -a /run/strata/snapshotter.sock [-b /run/strata/refsnap.sock] [-runs 7] [-rounds 200] [-warmup 100]
//	           [-dir /var/tmp] [-rss-pid PID] [-no-mount] [-json]
//
// -no-mount leaves out the mount, write and unmount (and the base's files): the round is then the snapshotter's
// calls alone, which an in-process caller can make too (benchmarks' PluginOverhead compares the two). -json prints
// one JSON line instead of the table: per operation the median over the runs of side A.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/mount"
	"github.com/containerd/containerd/pkg/dialer"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/proxy"
	"google.golang.org/grpc"
)

var ops = []string{"prepare", "mounts", "mount+write+unmount", "commit", "remove", "round"}

// noMount: the rounds make no mount (-no-mount).
var noMount bool

type side struct {
	name string
	sn   snapshots.Snapshotter
	base string
}

func main() {
	a := flag.String("a", "", "socket of the snapshotter measured (required)")
	b := flag.String("b", "", "socket of the reference (optional)")
	runs := flag.Int("runs", 7, "measured runs per side")
	rounds := flag.Int("rounds", 200, "rounds per run")
	warmup := flag.Int("warmup", 100, "unmeasured rounds per side first")
	dir := flag.String("dir", os.TempDir(), "where the mount targets go")
	rssPid := flag.Int("rss-pid", 0, "report this process's resident memory idle and during the runs")
	flag.BoolVar(&noMount, "no-mount", false, "leave out mount+write+unmount: the snapshotter's calls alone")
	asJSON := flag.Bool("json", false, "one JSON line of side A's medians instead of the table")
	flag.Parse()
	if *a == "" {
		fmt.Fprintln(os.Stderr, "roundbench: -a SOCKET is required")
		os.Exit(2)
	}
	ctx := context.Background()
	target, err := ioutil.TempDir(*dir, "roundbench-")
	check(err)
	defer os.RemoveAll(target)

	sides := []*side{open(ctx, "A", *a)}
	if *b != "" {
		sides = append(sides, open(ctx, "B", *b))
	}
	for _, s := range sides {
		s.base = makeBase(ctx, s.sn, target)
	}
	idle := rss(*rssPid)
	var peak int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	if *rssPid > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if r := rss(*rssPid); r > peak {
					peak = r
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
	}
	seq := 0
	for _, s := range sides {
		runRounds(ctx, s, *warmup, target, &seq)
	}
	// medians[side][op][run]
	medians := make([]map[string][]time.Duration, len(sides))
	for i := range medians {
		medians[i] = map[string][]time.Duration{}
	}
	for r := 0; r < *runs; r++ {
		order := []int{0, 1}
		if len(sides) == 1 {
			order = []int{0}
		} else if r%4 == 1 || r%4 == 2 {
			order = []int{1, 0}
		}
		for _, i := range order {
			times := runRounds(ctx, sides[i], *rounds, target, &seq)
			for _, op := range ops {
				medians[i][op] = append(medians[i][op], median(times[op]))
			}
		}
	}
	close(stop)
	wg.Wait()
	for _, s := range sides {
		check(s.sn.Remove(ctx, s.base))
		cleanup(ctx, s.sn)
	}

	if *asJSON {
		phases := map[string]map[string]float64{}
		for _, op := range ops {
			phases[op] = map[string]float64{"median_us": us(median(medians[0][op]))}
		}
		b, err := json.Marshal(map[string]interface{}{"runs": *runs, "rounds": *rounds, "warmup": *warmup, "no_mount": noMount, "phases": phases})
		check(err)
		fmt.Println(string(b))
		return
	}
	fmt.Printf("roundbench: %d runs x %d rounds per side, %d warm-up rounds; mounts under %s\n", *runs, *rounds, *warmup, *dir)
	fmt.Printf("%-22s %14s", "op (median µs)", "A "+*a)
	if len(sides) == 2 {
		fmt.Printf(" %14s %10s %16s", "B", "A/B", "A/B min-max")
	}
	fmt.Println()
	for _, op := range ops {
		fmt.Printf("%-22s %14.1f", op, us(median(medians[0][op])))
		if len(sides) == 2 {
			var ratios []float64
			for r := range medians[0][op] {
				ratios = append(ratios, float64(medians[0][op][r])/float64(medians[1][op][r]))
			}
			sort.Float64s(ratios)
			fmt.Printf(" %14.1f %10.2f %8.2f-%-7.2f", us(median(medians[1][op])), ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1])
		}
		fmt.Println()
	}
	if *rssPid > 0 {
		fmt.Printf("rss of pid %d: idle %d KiB, peak during the runs %d KiB\n", *rssPid, idle, peak)
	}
}

func open(ctx context.Context, name, sock string) *side {
	conn, err := grpc.Dial(dialer.DialAddress(sock), grpc.WithInsecure(), grpc.WithContextDialer(dialer.ContextDialer))
	check(err)
	return &side{name: name, sn: proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), "bench")}
}

// makeBase commits a small base layer, as an image's top layer: the rounds are container layers on it.
func makeBase(ctx context.Context, sn snapshots.Snapshotter, dir string) string {
	key, name := "roundbench-base-active", "roundbench-base"
	m, err := sn.Prepare(ctx, key, "")
	check(err)
	if noMount {
		check(sn.Commit(ctx, name, key))
		return name
	}
	mp := filepath.Join(dir, "base")
	check(os.MkdirAll(mp, 0755))
	check(mount.All(m, mp))
	for i := 0; i < 16; i++ {
		check(ioutil.WriteFile(filepath.Join(mp, "f"+strconv.Itoa(i)), []byte(strings.Repeat("x", 4096)), 0644))
	}
	check(mount.UnmountAll(mp, 0))
	check(sn.Commit(ctx, name, key))
	return name
}

func runRounds(ctx context.Context, s *side, n int, dir string, seq *int) map[string][]time.Duration {
	times := map[string][]time.Duration{}
	mp := filepath.Join(dir, "rootfs")
	check(os.MkdirAll(mp, 0755))
	for i := 0; i < n; i++ {
		*seq++
		key := fmt.Sprintf("roundbench-active-%d", *seq)
		name := fmt.Sprintf("roundbench-layer-%d", *seq)
		t0 := time.Now()
		_, err := s.sn.Prepare(ctx, key, s.base)
		check(err)
		t1 := time.Now()
		m, err := s.sn.Mounts(ctx, key)
		check(err)
		t2 := time.Now()
		if !noMount {
			check(mount.All(m, mp))
			check(ioutil.WriteFile(filepath.Join(mp, "written"), []byte("round "+key+"\n"), 0644))
			check(mount.UnmountAll(mp, 0))
		}
		t3 := time.Now()
		check(s.sn.Commit(ctx, name, key))
		t4 := time.Now()
		check(s.sn.Remove(ctx, name))
		t5 := time.Now()
		times["prepare"] = append(times["prepare"], t1.Sub(t0))
		times["mounts"] = append(times["mounts"], t2.Sub(t1))
		times["mount+write+unmount"] = append(times["mount+write+unmount"], t3.Sub(t2))
		times["commit"] = append(times["commit"], t4.Sub(t3))
		times["remove"] = append(times["remove"], t5.Sub(t4))
		times["round"] = append(times["round"], t5.Sub(t0))
	}
	cleanup(ctx, s.sn) // untimed: containerd's GC runs Cleanup after removals
	return times
}

func cleanup(ctx context.Context, sn snapshots.Snapshotter) {
	if c, ok := sn.(snapshots.Cleaner); ok {
		check(c.Cleanup(ctx))
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

func rss(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "roundbench:", err)
		os.Exit(1)
	}
}

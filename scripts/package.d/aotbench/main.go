// Command aotbench starts a snapshotter server and measures what a freshly (re)started one gives its first
// callers: the time until its socket appears and until its first Prepare is answered (from the exec), the wall
// time of its first N rounds (Prepare on a committed parent, Mounts, Stat, Commit, List, Remove: containerd's calls
// for a container layer, no mount), and the CPU the server's JIT compiler threads and the whole process spent
// until then (from /proc/PID/task/*/schedstat, nanoseconds). One JSON line per run; the server gets SIGTERM after.
//
//	aotbench -socket S [-marks 100,1000] -- COMMAND ARGS...   (COMMAND must exec the JVM, as ./strata does)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/pkg/dialer"
	"google.golang.org/grpc"
)

type sample struct {
	WallMs     float64 `json:"wall_ms"`
	CompilerMs float64 `json:"compiler_cpu_ms"`
	ProcessMs  float64 `json:"process_cpu_ms"`
}

func main() {
	socket := flag.String("socket", "", "the socket the server makes")
	marksFlag := flag.String("marks", "100,1000", "report after these many rounds")
	flag.Parse()
	var marks []int
	for _, m := range strings.Split(*marksFlag, ",") {
		n, err := strconv.Atoi(m)
		check(err)
		marks = append(marks, n)
	}
	cmd := exec.Command(flag.Args()[0], flag.Args()[1:]...)
	server = cmd
	cmd.Stderr = os.Stderr
	t0 := time.Now()
	check(cmd.Start())
	pid := cmd.Process.Pid
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	for {
		if _, err := os.Stat(*socket); err == nil {
			break
		}
		if time.Since(t0) > 120*time.Second {
			check(fmt.Errorf("%s never appeared", *socket))
		}
		time.Sleep(time.Millisecond)
	}
	socketAt := time.Since(t0)
	conn, err := grpc.Dial(dialer.DialAddress(*socket), grpc.WithInsecure(), grpc.WithContextDialer(dialer.ContextDialer))
	check(err)
	c := snapshotsapi.NewSnapshotsClient(conn)
	ctx := context.Background()
	base := "default/1/aotbench-base"
	_, err = c.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{Snapshotter: "strata", Key: "default/0/aotbench-extract"})
	check(err)
	first := sample{WallMs: ms(time.Since(t0))}
	first.CompilerMs, first.ProcessMs = cpu(pid)
	_, err = c.Commit(ctx, &snapshotsapi.CommitSnapshotRequest{Snapshotter: "strata", Name: base, Key: "default/0/aotbench-extract"})
	check(err)
	out := map[string]interface{}{"socket_ms": ms(socketAt), "first_prepare": first}
	start := time.Now()
	mi := 0
	for i := 1; mi < len(marks); i++ {
		key := fmt.Sprintf("default/%d/aotbench-%d", i+1, i)
		name := key + "-committed"
		_, err := c.Prepare(ctx, &snapshotsapi.PrepareSnapshotRequest{Snapshotter: "strata", Key: key, Parent: base,
			Labels: map[string]string{"containerd.io/gc.root": "2026-01-01T00:00:00Z"}})
		check(err)
		_, err = c.Mounts(ctx, &snapshotsapi.MountsRequest{Snapshotter: "strata", Key: key})
		check(err)
		_, err = c.Stat(ctx, &snapshotsapi.StatSnapshotRequest{Snapshotter: "strata", Key: key})
		check(err)
		_, err = c.Commit(ctx, &snapshotsapi.CommitSnapshotRequest{Snapshotter: "strata", Name: name, Key: key})
		check(err)
		l, err := c.List(ctx, &snapshotsapi.ListSnapshotsRequest{Snapshotter: "strata", Filters: []string{"parent==" + base}})
		check(err)
		for {
			if _, err := l.Recv(); err != nil {
				break
			}
		}
		_, err = c.Remove(ctx, &snapshotsapi.RemoveSnapshotRequest{Snapshotter: "strata", Key: name})
		check(err)
		if i == marks[mi] {
			s := sample{WallMs: ms(time.Since(start))}
			s.CompilerMs, s.ProcessMs = cpu(pid)
			out["rounds_"+strconv.Itoa(i)] = s
			mi++
		}
	}
	_, err = c.Remove(ctx, &snapshotsapi.RemoveSnapshotRequest{Snapshotter: "strata", Key: base})
	check(err)
	b, err := json.Marshal(out)
	check(err)
	fmt.Println(string(b))
}

// cpu: milliseconds on CPU of the JIT's compiler threads (schedstat, ns) and of the whole process.
func cpu(pid int) (compiler, process float64) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, t := range tasks {
		comm, _ := ioutil.ReadFile(t + "/comm")
		st, err := ioutil.ReadFile(t + "/schedstat")
		if err != nil {
			continue
		}
		ns, _ := strconv.ParseFloat(strings.Fields(string(st))[0], 64)
		if n := string(comm); strings.HasPrefix(n, "C1 Compiler") || strings.HasPrefix(n, "C2 Compiler") {
			compiler += ns / 1e6
		}
	}
	// the whole process from /proc/PID/stat (utime + stime, clock ticks of 10 ms): it counts threads that ended too
	if st, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		f := strings.Fields(string(st)[strings.LastIndexByte(string(st), ')')+2:])
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		process = (u + s) * 10
	}
	return
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// server is the process under test, stopped (SIGTERM, as its unit would) when a check fails.
var server *exec.Cmd

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "aotbench:", err)
		if server != nil && server.Process != nil {
			server.Process.Signal(syscall.SIGTERM)
			server.Wait()
		}
		os.Exit(1)
	}
}

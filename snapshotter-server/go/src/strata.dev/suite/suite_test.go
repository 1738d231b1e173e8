// Package suite runs containerd's own snapshotter test suite (snapshots/testsuite, unchanged, from Debian's
// containerd sources) through containerd's own proxy client (snapshots/proxy) against a snapshotter served on a
// UNIX socket. Each sub-test gets a fresh snapshotter in its own root, as containerd's suites make a fresh
// snapshotter per test. Where it comes from:
//
//   - $STRATA_SNAPSHOTTER_FACTORY: a UNIX socket that starts one on request ("serve ROOT SOCKET" → "ok",
//     "stop SOCKET" → "ok"): the JUnit test that runs this suite, which serves every sub-test from its own JVM;
//   - else $STRATA_SNAPSHOTTER: a command that serves one until SIGTERM, given --socket and --root (e.g.
//     "strata -s overlay snapshotter serve"), started per sub-test.
package suite

import (
	"context"
	"os"
	"testing"

	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/testsuite"
	"strata.dev/harness"
)

func TestSnapshotterThroughProxy(t *testing.T) {
	factory := os.Getenv("STRATA_SNAPSHOTTER_FACTORY")
	cmd := os.Getenv("STRATA_SNAPSHOTTER")
	name := os.Getenv("STRATA_SUITE_NAME")
	if (cmd == "" && factory == "") || name == "" {
		t.Skip("set STRATA_SUITE_NAME and STRATA_SNAPSHOTTER_FACTORY or STRATA_SNAPSHOTTER (see the package doc)")
	}
	testsuite.SnapshotterSuite(t, name, func(ctx context.Context, root string) (snapshots.Snapshotter, func() error, error) {
		if factory != "" {
			return harness.FromFactory(factory, root)
		}
		return harness.Serve(cmd, root)
	})
}

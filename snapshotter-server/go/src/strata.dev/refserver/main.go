// Command refserver serves containerd's built-in overlayfs snapshotter through containerd's own
// contrib/snapshotservice on a UNIX socket: the reference a proxy snapshotter is measured against, on the same
// proxy path. Options as containerd's overlayfs plugin passes them (asynchronous remove: Remove drops the
// metadata, Cleanup deletes the directories).
//
//	refserver -socket /run/refsnap.sock -root /var/lib/refsnap [-sync-remove]
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/contrib/snapshotservice"
	"github.com/containerd/containerd/snapshots/overlay"
	"google.golang.org/grpc"
)

func main() {
	socket := flag.String("socket", "/run/strata/refsnap.sock", "UNIX socket to serve on")
	root := flag.String("root", "/var/lib/strata-refsnap", "snapshotter root directory")
	syncRemove := flag.Bool("sync-remove", false, "delete directories in Remove (containerd's plugin removes them in Cleanup)")
	flag.Parse()

	var opts []overlay.Opt
	if !*syncRemove {
		opts = append(opts, overlay.AsynchronousRemove)
	}
	sn, err := overlay.NewSnapshotter(*root, opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(1)
	}
	os.Remove(*socket)
	l, err := net.Listen("unix", *socket)
	if err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	snapshotsapi.RegisterSnapshotsServer(srv, snapshotservice.FromSnapshotter(sn))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		srv.GracefulStop()
	}()
	fmt.Fprintf(os.Stderr, "refserver: serving containerd's overlayfs snapshotter on %s (root %s)\n", *socket, *root)
	if err := srv.Serve(l); err != nil {
		fmt.Fprintln(os.Stderr, "refserver:", err)
		os.Exit(1)
	}
	sn.Close()
	os.Remove(*socket)
}

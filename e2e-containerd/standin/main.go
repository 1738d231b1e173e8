// Command standin serves containerd's own overlayfs snapshotter (containerd 1.6.20's snapshots/overlay, from
// Debian's golang-github-containerd-containerd-dev) as a proxy snapshotter on a UNIX socket, through containerd's
// contrib/snapshotservice: the reference for "overlayfs served through the same proxy path" as Strata's server.
//
//	standin SOCKET ROOT
package main

import (
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
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: standin SOCKET ROOT")
		os.Exit(2)
	}
	socket, root := os.Args[1], os.Args[2]
	sn, err := overlay.NewSnapshotter(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	snapshotsapi.RegisterSnapshotsServer(srv, snapshotservice.FromSnapshotter(sn))
	os.Remove(socket)
	l, err := net.Listen("unix", socket)
	if err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		srv.GracefulStop()
	}()
	fmt.Fprintln(os.Stderr, "standin: serving overlayfs from", root, "on", socket)
	if err := srv.Serve(l); err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
	sn.Close()
	os.Remove(socket)
}

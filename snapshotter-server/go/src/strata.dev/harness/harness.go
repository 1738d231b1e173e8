// Package harness connects containerd's proxy client to a snapshotter under test: one from the JUnit test's
// factory socket, or one started as a process.
package harness

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/pkg/dialer"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/proxy"
	"google.golang.org/grpc"
)

// FromFactory asks the factory for a snapshotter in root and connects to it.
func FromFactory(factory, root string) (snapshots.Snapshotter, func() error, error) {
	sock := filepath.Join(root, "snapshotter.sock")
	if err := ask(factory, "serve "+root+" "+sock); err != nil {
		return nil, nil, err
	}
	conn, err := grpc.Dial(dialer.DialAddress(sock), grpc.WithInsecure(), grpc.WithContextDialer(dialer.ContextDialer))
	if err != nil {
		return nil, nil, err
	}
	sn := proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), "strata")
	return sn, func() error {
		conn.Close()
		return ask(factory, "stop "+sock)
	}, nil
}

func ask(factory, line string) error {
	c, err := net.Dial("unix", factory)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s: %v", line, err)
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		return fmt.Errorf("%s: %s", line, reply)
	}
	return nil
}

// Serve starts one snapshotter in root and connects containerd's proxy client to it. The cleanup stops it with
// SIGTERM and fails if it does not exit cleanly.
func Serve(cmd, root string) (snapshots.Snapshotter, func() error, error) {
	sock := filepath.Join(root, "snapshotter.sock")
	// A daemon's umask, not the suite's (it sets 0 for its own files, and children inherit it).
	c := exec.Command("/bin/sh", "-c", "umask 022; exec "+cmd+` --socket "$0" --root "$1"`, sock, root)
	c.Stdout = os.Stderr
	c.Stderr = os.Stderr
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.Start(); err != nil {
		return nil, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case err := <-exited:
			return nil, nil, fmt.Errorf("snapshotter exited before serving: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Process.Kill()
			return nil, nil, fmt.Errorf("snapshotter did not serve %s within 60s", sock)
		}
	}
	conn, err := grpc.Dial(dialer.DialAddress(sock), grpc.WithInsecure(), grpc.WithContextDialer(dialer.ContextDialer))
	if err != nil {
		c.Process.Kill()
		return nil, nil, err
	}
	sn := proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), "strata")
	stop := func() error {
		conn.Close()
		c.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 143 {
				return nil // the JVM's status after a clean stop on SIGTERM
			}
			return err
		case <-time.After(60 * time.Second):
			c.Process.Kill()
			return fmt.Errorf("snapshotter did not stop within 60s of SIGTERM")
		}
	}
	return sn, stop, nil
}

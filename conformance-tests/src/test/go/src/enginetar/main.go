// enginetar applies layer tars the way the engines do, so that Strata's apply can be compared with theirs
// (EngineDifferentialTest). Built in GOPATH mode against Debian's packages: containerd 1.6's archive.Apply and
// moby 20.10's chrootarchive.ApplyLayer (the re-exec'd, pivot_root-confined apply dockerd's graphdrivers use).
//
//	enginetar containerd|moby TAR DEST [TAR DEST]...
//
// prints one line per pair: "ok" or "error: <message>". DEST must exist. Needs root (moby's apply pivots into DEST).
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/containerd/containerd/archive"
	"github.com/docker/docker/pkg/chrootarchive"
	"github.com/docker/docker/pkg/reexec"
)

func main() {
	if reexec.Init() {
		return
	}
	if len(os.Args) < 4 || len(os.Args)%2 != 0 || (os.Args[1] != "containerd" && os.Args[1] != "moby") {
		fmt.Fprintln(os.Stderr, "usage: enginetar containerd|moby TAR DEST [TAR DEST]...")
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for i := 2; i < len(os.Args); i += 2 {
		err := apply(os.Args[1], os.Args[i], os.Args[i+1])
		if err != nil {
			fmt.Fprintf(out, "error: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		} else {
			fmt.Fprintln(out, "ok")
		}
	}
}

func apply(engine, tarPath, dest string) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if engine == "containerd" {
		_, err = archive.Apply(context.Background(), dest, f)
	} else {
		_, err = chrootarchive.ApplyLayer(dest, f)
	}
	return err
}

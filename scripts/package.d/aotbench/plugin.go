package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/pkg/plugins"
)

// pluginReq and pluginReply are daemon/graphdriver/proxy.go's request and reply shapes.
type pluginReq struct {
	ID         string `json:",omitempty"`
	Parent     string `json:",omitempty"`
	MountLabel string `json:",omitempty"`
}

type pluginReply struct {
	Err string `json:",omitempty"`
	Dir string `json:",omitempty"`
}

type pluginInit struct {
	Home    string
	Opts    []string
	UIDMaps []struct{} `json:"UIDMaps"`
	GIDMaps []struct{} `json:"GIDMaps"`
}

// pluginRun drives a graphdriver plugin through moby 20.10's plugin client (dockerd's, one kept-alive connection):
// Activate, Init and the first Create is the first answer; then rounds of a container's life on that layer
// (CreateReadWrite of its -init layer, Get, Put, CreateReadWrite of its own, Exists, Get, GetMetadata, Put, Remove
// of both), sampled at the marks.
func pluginRun(socket, home string, pid int, t0 time.Time, marks []int, out map[string]interface{}) {
	c, err := plugins.NewClient("unix://"+socket, nil)
	check(err)
	call := func(method string, args interface{}) {
		var r pluginReply
		check(c.Call("GraphDriver."+method, args, &r))
		if r.Err != "" {
			check(fmt.Errorf("%s: %s", method, r.Err))
		}
	}
	var manifest struct{ Implements []string }
	check(c.Call("Plugin.Activate", nil, &manifest))
	call("Init", pluginInit{Home: home})
	base := "aotbench-base"
	call("Create", pluginReq{ID: base})
	first := sample{WallMs: ms(time.Since(t0))}
	first.CompilerMs, first.ProcessMs = cpu(pid)
	out["first_call"] = first
	start := time.Now()
	mi := 0
	for i := 1; mi < len(marks); i++ {
		id := "aotbench-" + strconv.Itoa(i)
		init := id + "-init"
		call("CreateReadWrite", pluginReq{ID: init, Parent: base})
		call("Get", pluginReq{ID: init})
		call("Put", pluginReq{ID: init})
		call("CreateReadWrite", pluginReq{ID: id, Parent: init})
		call("Exists", pluginReq{ID: id})
		call("Get", pluginReq{ID: id})
		call("GetMetadata", pluginReq{ID: id})
		call("Put", pluginReq{ID: id})
		call("Remove", pluginReq{ID: id})
		call("Remove", pluginReq{ID: init})
		if i == marks[mi] {
			s := sample{WallMs: ms(time.Since(start))}
			s.CompilerMs, s.ProcessMs = cpu(pid)
			out["rounds_"+strconv.Itoa(i)] = s
			mi++
		}
	}
	call("Remove", pluginReq{ID: base})
}

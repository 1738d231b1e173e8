package main

// moby's overlay2 graphdriver (the code the moby peer drives for OverlayVsMoby) as the served reference for Strata's
// plugin server, and the same driver called in-process:
//
// plugin-client -serve-overlay2 S: serves it as a graphdriver plugin on socket S the way a plugin built on
// docker/go-plugins-helpers does (its sdk.Handler and graphdriver.Handler over a moby driver, as its graphdriver/shim
// maps them): Go's net/http serving one ServeMux, /Plugin.Activate answering the manifest, one handler per
// GraphDriver method that decodes the JSON request, calls the driver and encodes its reply struct as
// application/vnd.docker.plugins.v1.1+json, with status 500 and Err on a failure. Init opens the driver on its Home;
// a later Init on the same Home keeps it (one dockerd Inits its driver once; Strata's server does the same). On
// SIGTERM or SIGINT it stops serving and unmounts whatever the driver left mounted under its home (moby's Cleanup).
//
// -client in-process: the client's calls on the same driver opened in the client's own process on -home (Init there),
// with no socket, HTTP or JSON: what serving adds to moby's overlay2 is the served block minus this one.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	mgd "github.com/docker/docker/daemon/graphdriver"
	moverlay2 "github.com/docker/docker/daemon/graphdriver/overlay2"
)

// overlay2Host holds the driver Init opened.
type overlay2Host struct {
	mu   sync.Mutex
	home string
	d    mgd.Driver
}

var errNotInitialized = errors.New("not initialized: Init first")

func (h *overlay2Host) init(home string, opts []string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.d != nil {
		if home != h.home {
			return fmt.Errorf("Init on %s: the driver is open on %s", home, h.home)
		}
		return nil
	}
	d, err := moverlay2.Init(home, opts, nil, nil)
	if err != nil {
		return err
	}
	h.home, h.d = home, d
	return nil
}

func (h *overlay2Host) driver() (mgd.Driver, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.d == nil {
		return nil, errNotInitialized
	}
	return h.d, nil
}

// cleanup unmounts what is still mounted under the home (a Get without its Put).
func (h *overlay2Host) cleanup() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.d == nil {
		return nil
	}
	return h.d.Cleanup()
}

// call is one GraphDriver method on the driver, as the shim maps it: what a served handler and an in-process call run.
func (h *overlay2Host) call(method string, req *request) (response, error) {
	d, err := h.driver()
	if err != nil {
		return response{}, err
	}
	opts := func() *mgd.CreateOpts { return &mgd.CreateOpts{MountLabel: req.MountLabel, StorageOpt: req.StorageOpt} }
	switch method {
	case "Create":
		return response{}, d.Create(req.ID, req.Parent, opts())
	case "CreateReadWrite":
		return response{}, d.CreateReadWrite(req.ID, req.Parent, opts())
	case "Get":
		fs, err := d.Get(req.ID, req.MountLabel)
		if err != nil {
			return response{}, err
		}
		return response{Dir: fs.Path()}, nil
	case "Put":
		return response{}, d.Put(req.ID)
	case "Remove":
		return response{}, d.Remove(req.ID)
	case "Exists":
		return response{Exists: d.Exists(req.ID)}, nil
	}
	return response{}, fmt.Errorf("no method GraphDriver.%s", method)
}

// The reply structs of go-plugins-helpers' graphdriver package: each method's own fields, none omitted when empty.
type (
	errReply    struct{ Err string }
	getReply    struct{ Dir, Err string }
	existsReply struct{ Exists bool }
)

const pluginContentType = "application/vnd.docker.plugins.v1.1+json"

func serveOverlay2(socket string) error {
	h := &overlay2Host{}
	mux := http.NewServeMux()
	mux.HandleFunc("/Plugin.Activate", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", pluginContentType)
		fmt.Fprintln(w, `{"Implements": ["GraphDriver"]}`)
	})
	reply := func(w http.ResponseWriter, v interface{}, failed bool) {
		w.Header().Set("Content-Type", pluginContentType)
		if failed {
			w.WriteHeader(http.StatusInternalServerError)
		}
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/GraphDriver.Init", func(w http.ResponseWriter, r *http.Request) {
		var req initRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		msg := ""
		if err := h.init(req.Home, req.Opts); err != nil {
			msg = err.Error()
		}
		reply(w, &errReply{Err: msg}, msg != "")
	})
	for _, m := range []string{"Create", "CreateReadWrite", "Get", "Put", "Remove", "Exists"} {
		method := m
		mux.HandleFunc("/GraphDriver."+method, func(w http.ResponseWriter, r *http.Request) {
			var req request
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			res, err := h.call(method, &req)
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			switch method {
			case "Get":
				reply(w, &getReply{Dir: res.Dir, Err: msg}, msg != "")
			case "Exists":
				reply(w, &existsReply{Exists: res.Exists}, false)
			default:
				reply(w, &errReply{Err: msg}, msg != "")
			}
		})
	}
	os.Remove(socket)
	l, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- (&http.Server{Handler: mux}).Serve(l) }()
	select {
	case <-stop:
		l.Close()
	case err = <-served:
	}
	if cerr := h.cleanup(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// inProcess is the client's caller for -client in-process: the driver's calls made directly.
type inProcess struct{ h *overlay2Host }

func (c inProcess) Call(serviceMethod string, args, ret interface{}) error {
	method := strings.TrimPrefix(serviceMethod, "GraphDriver.")
	if method == "Init" {
		a := args.(*initRequest)
		return c.h.init(a.Home, a.Opts)
	}
	res, err := c.h.call(method, args.(*request))
	if err != nil {
		return err
	}
	if ret != nil {
		*ret.(*response) = res
	}
	return nil
}

// plugin-client: dockerd's side of the graphdriver plugin protocol, timed. It calls a plugin socket through moby
// 20.10's own plugin client (github.com/docker/docker/pkg/plugins, what dockerd's graphDriverProxy uses, with its
// kept-alive HTTP connection), with the request and reply shapes of daemon/graphdriver/proxy.go.
//
//	plugin-client [-socket S] -home H -op exists|lifecycle [-n N] [-warmup W] [-client moby|raw|in-process]
//
// plugin-client -serve S [METHOD=D,...]: a stub plugin in Go's net/http on socket S that answers every call from memory
// (Exists true, Get a fixed path): what the Go stack Docker's own plugins are built on costs per request. At once, or
// for each GraphDriver method named (create=270us,get=300us: any case) after taking D, in a nanosleep(2) as a driver's
// blocking system call would and a spin through the sleep's last 100 µs (this VM wakes a sleeper ~70 µs late; Go's
// time.Sleep rounds anything under 1 ms up to ~1.1 ms here): a server with a driver exactly as fast as D.
//
// plugin-client -serve-minimal S [D]: the least a plugin server can do per request on socket S, without an HTTP library:
// a goroutine per connection reads the request line, the headers and the Content-Length body, and answers with one
// write of a fixed reply (as -serve), after taking D (a Go duration, default 0, taken as -serve takes it) for any call
// but Exists. Set against -serve, it shows what net/http costs; with both clients against it, what moby's client costs
// over the raw one with no server work to speak of, when the reply is at once (Exists) and when it comes after a wait
// as a disk call's does.
//
// plugin-client -serve-overlay2 S: moby's overlay2 served on socket S as a go-plugins-helpers plugin serves a moby
// driver; -client in-process: the same calls on moby's overlay2 in this process, no socket (overlay2.go).
//
// -client raw: a minimal kept-alive HTTP/1.1 client instead (one connection, the request bytes dockerd sends, the
// reply read by its Content-Length): what the server itself adds, without the Go HTTP client's own goroutine hops.
//
// exists: Exists of a layer, N times. lifecycle: Create(lc-i, base) + Get + Put + Remove, each phase timed, N rounds.
// Before either: Init(H), the base layer created when missing, and W untimed calls or rounds. One JSON line on
// stdout: per phase n, median_us, min_us, max_us (the median of an even count is the mean of the middle two).
// Build in GOPATH mode: ../build plugin-client.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/pkg/plugins"
	mreexec "github.com/docker/docker/pkg/reexec"
)

type request struct {
	ID         string            `json:",omitempty"`
	Parent     string            `json:",omitempty"`
	MountLabel string            `json:",omitempty"`
	StorageOpt map[string]string `json:",omitempty"`
}

type response struct {
	Err    string `json:",omitempty"`
	Dir    string `json:",omitempty"`
	Exists bool   `json:",omitempty"`
}

type initRequest struct {
	Home    string
	Opts    []string
	UIDMaps []struct{} `json:"UIDMaps"`
	GIDMaps []struct{} `json:"GIDMaps"`
}

// caller makes one plugin call: moby's client, or the raw one.
type caller interface {
	Call(serviceMethod string, args, ret interface{}) error
}

type client struct{ c caller }

func (c client) call(method string, args interface{}) (response, error) {
	var r response
	if err := c.c.Call("GraphDriver."+method, args, &r); err != nil {
		return r, err
	}
	if r.Err != "" {
		return r, fmt.Errorf("%s: %s", method, r.Err)
	}
	return r, nil
}

// raw is one kept-alive connection written to and read from directly.
type raw struct {
	conn net.Conn
	r    *bufio.Reader
	buf  bytes.Buffer
}

func (c *raw) Call(method string, args, ret interface{}) error {
	var body bytes.Buffer
	if args != nil {
		if err := json.NewEncoder(&body).Encode(args); err != nil {
			return err
		}
	}
	c.buf.Reset()
	fmt.Fprintf(&c.buf, "POST /%s HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: %d\r\n"+
		"Accept: application/vnd.docker.plugins.v1.2+json\r\nAccept-Encoding: gzip\r\n\r\n", method, body.Len())
	c.buf.Write(body.Bytes())
	if _, err := c.conn.Write(c.buf.Bytes()); err != nil {
		return err
	}
	tp := textproto.NewReader(c.r)
	status, err := tp.ReadLine()
	if err != nil {
		return err
	}
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(h.Get("Content-Length"))
	if err != nil {
		return fmt.Errorf("%s: no Content-Length in the reply (%s)", method, status)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return err
	}
	if ret == nil {
		return nil
	}
	return json.Unmarshal(b, ret)
}

type stat struct {
	N        int     `json:"n"`
	MedianUS float64 `json:"median_us"`
	MinUS    float64 `json:"min_us"`
	MaxUS    float64 `json:"max_us"`
}

func summarize(ds []time.Duration) stat {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	us := func(d time.Duration) float64 { return math.Round(float64(d.Nanoseconds())/10) / 100 }
	if len(s) == 0 {
		return stat{}
	}
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{N: len(s), MedianUS: us(med), MinUS: us(s[0]), MaxUS: us(s[len(s)-1])}
}

func run(c client, op string, n, warmup int) (map[string]stat, error) {
	switch op {
	case "exists":
		var t []time.Duration
		for i := -warmup; i < n; i++ {
			t0 := time.Now()
			r, err := c.call("Exists", &request{ID: "base"})
			dt := time.Since(t0)
			if err != nil {
				return nil, err
			}
			if !r.Exists {
				return nil, fmt.Errorf("Exists(base) answered false")
			}
			if i >= 0 {
				t = append(t, dt)
			}
		}
		return map[string]stat{"exists": summarize(t)}, nil
	case "lifecycle":
		phases := []string{"create", "get", "put", "remove"}
		t := make([][]time.Duration, len(phases))
		for i := -warmup; i < n; i++ {
			id := fmt.Sprintf("lc-%d", i+warmup)
			calls := []func() error{
				func() error { _, err := c.call("Create", &request{ID: id, Parent: "base"}); return err },
				func() error { _, err := c.call("Get", &request{ID: id}); return err },
				func() error { _, err := c.call("Put", &request{ID: id}); return err },
				func() error { _, err := c.call("Remove", &request{ID: id}); return err },
			}
			for p, call := range calls {
				t0 := time.Now()
				if err := call(); err != nil {
					return nil, err
				}
				if i >= 0 {
					t[p] = append(t[p], time.Since(t0))
				}
			}
		}
		out := map[string]stat{}
		for p, name := range phases {
			out[name] = summarize(t[p])
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown -op %q (exists, lifecycle)", op)
}

func serveStub(socket string, delays map[string]time.Duration) error {
	os.Remove(socket)
	l, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	reply := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if d := delays[strings.ToLower(strings.TrimPrefix(r.URL.Path, "/GraphDriver."))]; d > 0 {
				take(d)
			}
			w.Header().Set("Content-Type", "application/vnd.docker.plugins.v1+json")
			io.WriteString(w, body)
		}
	}
	mux := http.NewServeMux()
	for _, m := range []string{"Init", "Create", "Put", "Remove"} {
		mux.HandleFunc("/GraphDriver."+m, reply(`{}`))
	}
	mux.HandleFunc("/GraphDriver.Exists", reply(`{"Exists":true}`))
	mux.HandleFunc("/GraphDriver.Get", reply(`{"Dir":"/var/lib/stub"}`))
	return http.Serve(l, mux)
}

// take returns d after it is called, most of it asleep.
func take(d time.Duration) {
	const spin = 100 * time.Microsecond
	end := time.Now().Add(d)
	if d > spin {
		ts := syscall.NsecToTimespec(int64(d - spin))
		syscall.Nanosleep(&ts, nil)
	}
	for time.Now().Before(end) {
	}
}

// parseDelays reads -serve's METHOD=D,... list.
func parseDelays(list string) (map[string]time.Duration, error) {
	delays := map[string]time.Duration{}
	for _, kv := range strings.Split(list, ",") {
		k, v, ok := strings.Cut(kv, "=")
		d, err := time.ParseDuration(v)
		if !ok || err != nil || d < 0 {
			return nil, fmt.Errorf("-serve: %q is not METHOD=DURATION", kv)
		}
		delays[strings.ToLower(k)] = d
	}
	return delays, nil
}

func serveMinimal(socket string, delay time.Duration) error {
	os.Remove(socket)
	l, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	reply := func(body string) []byte {
		return []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.plugins.v1+json\r\n"+
			"Content-Length: %d\r\n\r\n%s", len(body), body))
	}
	ok, exists, get := reply(`{}`), reply(`{"Exists":true}`), reply(`{"Dir":"/var/lib/stub"}`)
	for {
		conn, err := l.Accept()
		if err != nil {
			return err
		}
		go func(conn net.Conn) {
			defer conn.Close()
			tp := textproto.NewReader(bufio.NewReader(conn))
			for {
				line, err := tp.ReadLine()
				if err != nil {
					return
				}
				h, err := tp.ReadMIMEHeader()
				if err != nil {
					return
				}
				n, _ := strconv.Atoi(h.Get("Content-Length"))
				if _, err := io.CopyN(io.Discard, tp.R, int64(n)); err != nil {
					return
				}
				out, wait := ok, delay
				if strings.HasPrefix(line, "POST /GraphDriver.Exists ") {
					out, wait = exists, 0
				} else if strings.HasPrefix(line, "POST /GraphDriver.Get ") {
					out = get
				}
				if wait > 0 {
					take(wait)
				}
				if _, err := conn.Write(out); err != nil {
					return
				}
			}
		}(conn)
	}
}

func main() {
	// overlay2's mountfrom re-executes this binary: that entry point must run first.
	if mreexec.Init() {
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "-serve-overlay2" {
		if err := serveOverlay2(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) >= 3 && len(os.Args) <= 4 && (os.Args[1] == "-serve" || os.Args[1] == "-serve-minimal") {
		serve := func(socket string) error { return serveStub(socket, nil) }
		if os.Args[1] == "-serve" && len(os.Args) == 4 {
			delays, err := parseDelays(os.Args[3])
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			serve = func(socket string) error { return serveStub(socket, delays) }
		} else if os.Args[1] == "-serve-minimal" {
			var delay time.Duration
			if len(os.Args) == 4 {
				d, err := time.ParseDuration(os.Args[3])
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				delay = d
			}
			serve = func(socket string) error { return serveMinimal(socket, delay) }
		}
		if err := serve(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(measure())
}

// measure is the client: its exit code.
func measure() int {
	socket := flag.String("socket", "", "the plugin's socket (not for -client in-process)")
	home := flag.String("home", "", "Init's Home")
	op := flag.String("op", "", "exists|lifecycle")
	n := flag.Int("n", 1000, "timed calls or rounds")
	warmup := flag.Int("warmup", 0, "untimed calls or rounds first")
	kind := flag.String("client", "moby", "moby (dockerd's plugin client), raw, or in-process (moby's overlay2 in this process)")
	flag.Parse()
	if *socket == "" && *kind != "in-process" || *home == "" || *op == "" {
		flag.Usage()
		return 2
	}
	var c client
	switch *kind {
	case "raw":
		conn, err := net.Dial("unix", *socket)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		c = client{&raw{conn: conn, r: bufio.NewReader(conn)}}
	case "in-process":
		h := &overlay2Host{}
		defer func() {
			if err := h.cleanup(); err != nil {
				fmt.Fprintln(os.Stderr, "Cleanup:", err)
			}
		}()
		c = client{inProcess{h}}
	case "moby":
		pc, err := plugins.NewClient("unix://"+*socket, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		c = client{pc}
	default:
		fmt.Fprintf(os.Stderr, "unknown -client %q (moby, raw, in-process)\n", *kind)
		return 2
	}
	if err := c.c.Call("GraphDriver.Init", &initRequest{Home: *home}, nil); err != nil {
		fmt.Fprintln(os.Stderr, "Init:", err)
		return 1
	}
	if r, err := c.call("Exists", &request{ID: "base"}); err == nil && !r.Exists {
		if _, err := c.call("Create", &request{ID: "base"}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	out, err := run(c, *op, *n, *warmup)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, _ := json.Marshal(map[string]interface{}{"op": *op, "client": *kind, "n": *n, "warmup": *warmup, "phases": out})
	fmt.Println(string(b))
	return 0
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"mpnet/hostsim/fixtures"
)

// serve runs the fixture servers (hostsim/fixtures) until stdin closes,
// SIGINT or SIGTERM.
//
//	hostsim serve [--ca FILE] [--listen HOST] [--only NAME,...] [--json] [--verbose]
func (e *env) serve(args []string) error {
	fs, _ := e.flags("serve", "serve [--ca FILE] [--listen HOST] [--only NAME,...] [--json] [--verbose]")
	caPath := fs.String("ca", "mpnet-test-ca.pem", "write the generated root CA certificate (PEM) to this file")
	listen := fs.String("listen", "127.0.0.1", "loopback address to listen on (127.0.0.1, ::1 or localhost)")
	only := fs.String("only", "", "comma-separated fault names to start (default all): "+strings.Join(fixtures.Names(), ", "))
	asJSON := fs.Bool("json", false, "print the servers as JSON")
	verbose := fs.Bool("verbose", false, "log the servers' errors (TLS handshake failures) to stderr")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return badInput("serve takes no arguments, got %q", pos)
	}
	if err := fixtures.CheckLoopback(*listen); err != nil {
		return badInput("--listen %q is not a loopback address: the fixtures are deliberately broken test servers, so they listen only on 127.0.0.1, ::1 or localhost", *listen)
	}
	var names []string
	if *only != "" {
		known := map[string]bool{}
		for _, n := range fixtures.Names() {
			known[n] = true
		}
		for _, n := range strings.Split(*only, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if !known[n] {
				return badInput("--only: unknown fault %q (known: %s)", n, strings.Join(fixtures.Names(), ", "))
			}
			names = append(names, n)
		}
		if len(names) == 0 {
			return badInput("--only names no fault")
		}
	}
	opts := fixtures.Options{ListenHost: *listen, Only: names}
	if *verbose {
		opts.ErrorLog = log.New(e.stderr, "hostsim serve: ", log.Ltime)
	}

	set, err := fixtures.Start(opts)
	if err != nil {
		return err
	}
	defer set.Close()
	if err := set.WriteCA(*caPath); err != nil {
		return badInput("--ca: %v", err)
	}
	caFile := *caPath
	if abs, err := filepath.Abs(caFile); err == nil {
		caFile = abs
	}

	if *asJSON {
		if err := e.serveJSON(set, caFile); err != nil {
			return err
		}
	} else {
		e.serveTable(set, caFile)
	}

	ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	reason := "interrupted"
	stdinDone := make(chan struct{})
	if watchStdin(e.stdin) {
		go func() {
			io.Copy(io.Discard, e.stdin)
			close(stdinDone)
		}()
	}
	select {
	case <-ctx.Done():
	case <-stdinDone:
		reason = "stdin closed"
	}
	fmt.Fprintf(e.stderr, "hostsim serve: %s; stopping the fixture servers\n", reason)
	return set.Close()
}

// watchStdin reports whether serve should stop when stdin ends. A terminal
// or a character device (/dev/null) is not watched: reading a terminal from
// a background job would stop the process, and /dev/null ends at once.
// Stop those with Ctrl-C or SIGTERM.
func watchStdin(r io.Reader) bool {
	if r == nil {
		return false
	}
	if f, ok := r.(*os.File); ok {
		st, err := f.Stat()
		if err != nil || st.Mode()&os.ModeCharDevice != 0 {
			return false
		}
	}
	return true
}

// serveFault is one row of `hostsim serve --json`.
type serveFault struct {
	Name        string `json:"name"`
	Rule        string `json:"rule"`
	URL         string `json:"url"`
	Host        string `json:"host"`
	Addr        string `json:"addr"`
	Scheme      string `json:"scheme"`
	Description string `json:"description"`
	Expect      string `json:"expect"`
}

func (e *env) serveJSON(set *fixtures.Set, caFile string) error {
	out := struct {
		CA            string       `json:"ca"`
		Listen        string       `json:"listen"`
		ResolverRules string       `json:"hostResolverRules"`
		Faults        []serveFault `json:"faults"`
	}{CA: caFile, Listen: set.ListenIP(), ResolverRules: set.ResolverRules()}
	for _, f := range set.Faults {
		out.Faults = append(out.Faults, serveFault{
			Name: f.Name, Rule: f.Rule, URL: set.URL(f.Name), Host: f.Host, Addr: f.Addr,
			Scheme: f.Scheme, Description: f.Description, Expect: f.Expect,
		})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func (e *env) serveTable(set *fixtures.Set, caFile string) {
	w := e.stdout
	fmt.Fprintln(w, "mpnet fixture servers: deliberately broken TEST servers on loopback; stop with Ctrl-C.")
	fmt.Fprintln(w)
	width := 0
	for _, f := range set.Faults {
		width = max(width, len(f.Name))
	}
	for _, f := range set.Faults {
		fmt.Fprintf(w, "%-*s  %-14s  %s\n", width, f.Name, f.Rule, set.URL(f.Name))
		fmt.Fprintf(w, "%*s  shows:  %s\n", width, "", f.Description)
		fmt.Fprintf(w, "%*s  expect: %s\n", width, "", f.Expect)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "CA certificate (new every run; trust it in the client under test):\n  %s\n\n", caFile)
	fmt.Fprintf(w, "Chromium:\n  --host-resolver-rules=%q\n\n", set.ResolverRules())

	ex := set.Get("valid")
	if ex == nil {
		ex = set.Faults[0]
	}
	_, port, _ := net.SplitHostPort(ex.Addr)
	ip := set.ListenIP()
	if strings.Contains(ip, ":") {
		ip = "[" + ip + "]"
	}
	resolve := ex.Host + ":" + port + ":" + ip
	u := set.URL(ex.Name)
	ca := shellQuote(caFile)
	fmt.Fprintf(w, "The names resolve nowhere; map each host:port to %s, e.g.:\n", set.ListenIP())
	fmt.Fprintf(w, "  curl --cacert %s --resolve %s %s\n", ca, resolve, u)
	fmt.Fprintf(w, "  hostsim request --roots %s --resolve %s %s\n", ca, resolve, u)
	if f := set.Get("expired"); f != nil {
		_, p, _ := net.SplitHostPort(f.Addr)
		fmt.Fprintf(w, "  hostsim cert --roots %s --resolve %s:%s:%s %s:%s\n", ca, f.Host, p, ip, f.Host, p)
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

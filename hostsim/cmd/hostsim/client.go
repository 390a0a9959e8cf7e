package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"mpnet/abi"
	"mpnet/hostsim"
	"mpnet/hostsim/tlsprobe"
)

// finding is one line of a callback's "findings": a rule, its severity and the fix.
type finding struct {
	Rule      string   `json:"rule"`
	Check     string   `json:"check,omitempty"`
	Severity  string   `json:"severity"`
	Platforms []string `json:"platforms,omitempty"`
	Message   string   `json:"message"`
	Fix       string   `json:"fix,omitempty"`
}

// clientFlags are the flags every command that makes real calls shares.
type clientFlags struct {
	configs  multiFlag
	resolves multiFlag
	roots    string
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "configuration file (repeatable; formats merge in order); without one, domain rules are reported, not enforced")
	fs.Var(&c.resolves, "resolve", "HOST:PORT:ADDR: connect to ADDR for HOST:PORT, like curl --resolve (repeatable)")
	fs.StringVar(&c.roots, "roots", "", "PEM file of root certificates to trust instead of the system's")
}

// client is a simulated mini program making real calls through the module.
type client struct {
	e           *env
	m           *hostsim.Module
	inst        *hostsim.Instance
	sim         *hostsim.Sim
	roots       *x509.CertPool
	rootsSource string
	resolve     map[string]string // "host:port" -> "addr:port"
	dialer      net.Dialer
	// probeDial, when set, dials for TLS probes instead of dial (the
	// agent's, which refuses local targets).
	probeDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// newClient loads the module, configures it and prepares dialing and roots.
func (e *env) newClient(module string, cf *clientFlags) (*client, error) {
	c := &client{e: e, resolve: map[string]string{}, rootsSource: "system"}
	for _, r := range cf.resolves {
		parts := strings.SplitN(r, ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
			return nil, badInput("--resolve %q: want HOST:PORT:ADDR, e.g. api.example.com:443:127.0.0.1", r)
		}
		if _, err := strconv.Atoi(parts[1]); err != nil {
			return nil, badInput("--resolve %q: port %q is not a number", r, parts[1])
		}
		addr := strings.Trim(parts[2], "[]")
		if net.ParseIP(addr) == nil {
			return nil, badInput("--resolve %q: %q is not an IP address", r, parts[2])
		}
		c.resolve[strings.ToLower(parts[0])+":"+parts[1]] = net.JoinHostPort(addr, parts[1])
	}
	if cf.roots != "" {
		pool, err := tlsprobe.ParseRoots(cf.roots)
		if err != nil {
			return nil, badInput("%v", err)
		}
		c.roots, c.rootsSource = pool, cf.roots
	}
	m, inst, err := e.instance(module)
	if err != nil {
		return nil, err
	}
	c.m, c.inst = m, inst
	if len(cf.configs) > 0 {
		if _, err := configure(e.ctx, inst, cf.configs, false); err != nil {
			m.Close(e.ctx)
			return nil, err
		}
	} else {
		// No project configuration: judge everything, enforce nothing.
		res, err := inst.Configure(e.ctx, abi.ConfigureRequest{Config: &abi.Config{Mode: "report"}})
		if err != nil || !res.OK {
			m.Close(e.ctx)
			return nil, badInput("configuring the module: %v", err)
		}
	}
	c.sim = hostsim.NewSim(inst, hostsim.RealClock())
	return c, nil
}

func (c *client) close() { c.m.Close(c.e.ctx) }

// dial connects to addr, honouring --resolve.
func (c *client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if to, ok := c.resolve[strings.ToLower(addr)]; ok {
		addr = to
	}
	return c.dialer.DialContext(ctx, network, addr)
}

// tlsConfig verifies like the client: the chosen roots, the real host name.
// An empty host leaves the name to net/http, which verifies each
// connection, redirect hops included, for the host it connects to.
func (c *client) tlsConfig(host string) *tls.Config {
	return &tls.Config{ServerName: host, RootCAs: c.roots, MinVersion: tls.VersionTLS12}
}

// target is where a URL really goes: the module's WHATWG host, checked
// against Go's own parsing so hostsim never talks to a different host than
// a browser would.
func target(raw, moduleHost string) (*url.URL, string, int, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, "", 0, badInput("Go cannot parse %q (%v), so hostsim cannot make this call the way the client would", raw, err)
	}
	goHost := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	want := strings.TrimSuffix(strings.Trim(moduleHost, "[]"), ".")
	if goHost != want {
		return nil, "", 0, badInput("%q: Go's URL parser reads host %q where browsers read %q; refusing to call a different host than the client would", raw, goHost, want)
	}
	port := 443
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	} else if u.Scheme == "http" || u.Scheme == "ws" {
		port = 80
	}
	return u, want, port, nil
}

// judgeTLS probes host:port and has the module judge it (R12). timeout
// bounds each handshake.
func (c *client) judgeTLS(ctx context.Context, host string, port int, timeout time.Duration, progress func(string)) (abi.TLSFacts, abi.TLSVerdict, error) {
	if progress != nil {
		progress("probing TLS 1.0-1.3 and their cipher suites")
	}
	dial := c.dial
	if c.probeDial != nil {
		dial = c.probeDial
	}
	facts := tlsprobe.Probe(ctx, host, port, tlsprobe.Options{Roots: c.roots, RootsSource: c.rootsSource, Timeout: timeout, Dial: dial})
	if progress != nil {
		progress("judging")
	}
	v, err := c.inst.JudgeTLS(ctx, facts)
	return facts, v, err
}

func tlsFindings(v abi.TLSVerdict) []finding {
	var out []finding
	for _, f := range v.Findings {
		out = append(out, finding{Rule: f.Rule, Check: f.Check, Severity: f.Severity, Platforms: f.Platforms, Message: f.Message, Fix: f.Fix})
	}
	return out
}

func actionFinding(a abi.Action) finding {
	sev := a.Severity
	if sev == "" {
		sev = "error"
	}
	return finding{Rule: a.Rule, Severity: sev, Message: a.Message, Fix: a.Fix}
}

func warningFindings(ws []abi.Warning) []finding {
	var out []finding
	for _, w := range ws {
		sev := "warning"
		if w.Rule == "R4" {
			sev = "info"
		}
		out = append(out, finding{Rule: w.Rule, Severity: sev, Message: w.Message, Fix: w.Fix})
	}
	return out
}

// isTerminal reports whether f is a terminal (for progress display).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine returns a function that redraws one status line on stderr
// when it is a terminal, and does nothing otherwise.
func (e *env) progressLine() (func(string), func()) {
	f, ok := e.stderr.(*os.File)
	if !ok || !isTerminal(f) {
		return func(string) {}, func() {}
	}
	return func(s string) {
			fmt.Fprintf(f, "\r\033[K%s", safe(shorten(s, 100)))
		}, func() {
			fmt.Fprint(f, "\r\033[K")
		}
}

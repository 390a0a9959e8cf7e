package main

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mpnet/abi"
	"mpnet/hostsim/fixtures"
)

// hostsim agent serves R12 reports to mpnet's extension, which cannot see
// certificate chains or probe TLS versions itself:
//
//	GET /v1/cert?host=H&port=P -> {"facts": abi.TLSFacts, "verdict": abi.TLSVerdict, "at": ...}
//	GET /v1/version            -> {"abi": 2, "sha256": "...", "origin": "chrome-extension://..."}
//
// Any web page in the browser can send requests to a loopback port, so the
// agent answers only the extension the user paired with it (docs/RATIONALE.md,
// "hostsim agent: who may talk to it"):
//
//   - Host must name the agent's own listener (127.0.0.1, localhost or [::1]
//     with its port): a DNS-rebinding page's requests carry its own name.
//   - Origin must be present (no-cors requests from pages carry none, or
//     "null") and be the paired extension's origin exactly.
//   - Every request but a CORS preflight carries the pairing token
//     (Authorization: Bearer TOKEN), which the agent prints and the user
//     pastes into the extension's options. The first extension origin that
//     presents it is pinned (or --extension-id names it beforehand); both
//     are kept in the state file, so pairing survives restarts.
//   - CORS answers name that one origin; preflights are answered.
//   - Probes run at most agentWorkers at a time from a bounded queue; a probe
//     whose every client has gone is cancelled; answers are cached, bounded
//     (agentCacheSize), errors for less time; the server has timeouts.
//   - Targets: loopback, unspecified, link-local (cloud metadata included),
//     multicast and broadcast addresses are refused unless --resolve maps the
//     name there (agentTarget).

// Bounds of the agent; variables for tests.
var (
	agentCacheTTL  = 5 * time.Minute  // a report is reused this long
	agentErrorTTL  = 30 * time.Second // a report that could not connect, this long
	agentCacheSize = 512              // reports kept
	agentWorkers   = 4                // probes at once
	agentQueue     = 64               // probes waiting or running
	agentHeaders   = 5 * time.Second  // to read a request's header
	// agentStarted, when set (tests), sees the server once it is ready.
	agentStarted func(*agentServer)
)

// agentReport is what GET /v1/cert answers: the facts and the module's verdict.
type agentReport struct {
	Facts   abi.TLSFacts   `json:"facts"`
	Verdict abi.TLSVerdict `json:"verdict"`
	At      time.Time      `json:"at"`
}

// agentEntry is one host:port's report, being probed or done.
type agentEntry struct {
	key     string
	done    chan struct{}
	report  agentReport
	err     error
	expires time.Time // when done
	waiters int       // requests waiting for the probe
	cancel  context.CancelFunc
	elem    *list.Element
}

// agentState is the state file: the pairing token and the paired origin.
type agentState struct {
	Token  string `json:"token"`
	Origin string `json:"origin,omitempty"`
}

// agentServer answers the extension's requests.
type agentServer struct {
	port  int // the listener's, for the Host check
	probe func(ctx context.Context, host string, port int) (agentReport, error)
	// refuse says why a target may not be probed, "" when it may.
	refuse func(host string, port int) string
	ctx    context.Context

	mu        sync.Mutex
	state     agentState
	statePath string // "" keeps the pairing in memory only
	cache     map[string]*agentEntry
	lru       *list.List // of *agentEntry, most recent first
	pending   int        // probes waiting or running
	slots     chan struct{}
	version   map[string]any
}

func (e *env) agent(args []string) error {
	fs, module := e.flags("agent", "agent [--listen 127.0.0.1:7460] [--state FILE] [--new-token] [--extension-id ID] [--roots FILE] [--resolve H:P:A]... [--timeout MS]")
	var cf clientFlags
	fs.Var(&cf.resolves, "resolve", "HOST:PORT:ADDR: connect to ADDR for HOST:PORT (repeatable); a mapping may name a local address the agent otherwise refuses")
	fs.StringVar(&cf.roots, "roots", "", "PEM file of root certificates to trust instead of the system's")
	listen := fs.String("listen", "127.0.0.1:7460", "loopback address to listen on (port 0 picks one)")
	timeout := fs.Int("timeout", 10000, "timeout of each TLS handshake in ms")
	statePath := fs.String("state", "", "file keeping the pairing token and the paired extension (default: mpnet/agent.json in the user's config directory)")
	newToken := fs.Bool("new-token", false, "make a new pairing token (the extension must be paired again)")
	extID := fs.String("extension-id", "", "pair with this extension id (chrome-extension://ID) instead of the first one that presents the token")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return badInput("agent takes no arguments, got %q", pos)
	}
	if *timeout <= 0 {
		return badInput("--timeout must be a positive number of ms")
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return badInput("--listen %q: %v", *listen, err)
	}
	if fixtures.CheckLoopback(host) != nil {
		return badInput("--listen %q is not a loopback address: the agent probes servers for the local browser only", *listen)
	}
	if *extID != "" && !validExtensionID(*extID) {
		return badInput("--extension-id %q: want the 32 letters a-p of chrome://extensions", *extID)
	}
	if *statePath == "" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return badInput("no user config directory for the pairing (%v): give --state FILE", err)
		}
		*statePath = filepath.Join(dir, "mpnet", "agent.json")
	}
	c, err := e.newClient(*module, &cf)
	if err != nil {
		return err
	}
	defer c.close()
	c.probeDial = c.agentDial
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return badInput("--listen: %v", err)
	}
	defer ln.Close()
	ctx, stop := signal.NotifyContext(e.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	to := time.Duration(*timeout) * time.Millisecond
	a := &agentServer{
		port: ln.Addr().(*net.TCPAddr).Port, ctx: ctx, statePath: *statePath,
		version: map[string]any{"abi": c.m.ABI, "sha256": c.m.SHA256},
		probe: func(ctx context.Context, host string, port int) (agentReport, error) {
			facts, v, err := c.judgeTLS(ctx, host, port, to, nil)
			return agentReport{Facts: facts, Verdict: v, At: time.Now()}, err
		},
		refuse: c.agentRefuses,
	}
	if err := a.loadState(*newToken, *extID); err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a,
		ReadHeaderTimeout: agentHeaders,
		ReadTimeout:       10 * time.Second,
		// A probe tries each TLS version with its own timeout.
		WriteTimeout:   6*to + 10*time.Second,
		IdleTimeout:    time.Minute,
		MaxHeaderBytes: 16 << 10,
		BaseContext:    func(net.Listener) context.Context { return ctx },
	}
	url := "http://" + ln.Addr().String()
	json.NewEncoder(e.stdout).Encode(map[string]string{"url": url, "token": a.state.Token, "origin": a.state.Origin, "state": *statePath})
	if f, ok := e.stdout.(*os.File); ok {
		f.Sync()
	}
	paired := "not paired yet: paste the token into mpnet's options (Certificates and TLS) with the address " + url
	if a.state.Origin != "" {
		paired = "paired with " + a.state.Origin
	}
	fmt.Fprintf(e.stderr, "hostsim agent: serving R12 reports on %s for the mpnet extension; %s\n  pairing token: %s\n  (kept in %s; --new-token makes another) Stop with Ctrl-C.\n", url, paired, a.state.Token, *statePath)
	if agentStarted != nil {
		agentStarted(a)
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

// loadState reads (or makes) the pairing token and the paired origin.
func (a *agentServer) loadState(newToken bool, extID string) error {
	a.cache, a.lru, a.slots = map[string]*agentEntry{}, list.New(), make(chan struct{}, agentWorkers)
	if b, err := os.ReadFile(a.statePath); err == nil && !newToken {
		if err := json.Unmarshal(b, &a.state); err != nil || len(a.state.Token) < 32 {
			return badInput("%s is not an agent state file (remove it, or give --new-token): %v", a.statePath, err)
		}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return badInput("reading %s: %v", a.statePath, err)
	}
	changed := false
	if a.state.Token == "" || newToken {
		var b [16]byte
		rand.Read(b[:])
		a.state = agentState{Token: hex.EncodeToString(b[:])}
		changed = true
	}
	if extID != "" && a.state.Origin != "chrome-extension://"+extID {
		a.state.Origin, changed = "chrome-extension://"+extID, true
	}
	if changed {
		return a.saveState()
	}
	return nil
}

// saveState writes the state file, readable by the user only.
func (a *agentServer) saveState() error {
	if a.statePath == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(a.statePath), 0o700); err != nil {
		return badInput("%v", err)
	}
	b, _ := json.Marshal(a.state)
	tmp := a.statePath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return badInput("%v", err)
	}
	if err := os.Rename(tmp, a.statePath); err != nil {
		return badInput("%v", err)
	}
	return nil
}

// validExtensionID reports whether id looks like a Chromium extension id.
func validExtensionID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 'a' || id[i] > 'p' {
			return false
		}
	}
	return true
}

// isExtensionOrigin reports whether origin is an extension's origin.
func isExtensionOrigin(origin string) bool {
	id, ok := strings.CutPrefix(origin, "chrome-extension://")
	return ok && validExtensionID(id)
}

// ServeHTTP checks who is asking, then routes.
func (a *agentServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.ownHost(r.Host) {
		// A DNS-rebinding page reaches the port under its own name.
		agentJSON(w, http.StatusForbidden, map[string]string{"error": "Host " + strconv.Quote(r.Host) + " is not this agent's address"})
		return
	}
	origin := r.Header.Get("Origin")
	a.mu.Lock()
	paired := a.state.Origin
	a.mu.Unlock()
	allowed := origin != "" && (origin == paired || paired == "" && isExtensionOrigin(origin))
	if !allowed {
		agentJSON(w, http.StatusForbidden, map[string]string{"error": "only the paired mpnet extension may use the agent"})
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		// A CORS preflight carries no credentials; the request it
		// announces must.
		h.Set("Access-Control-Allow-Methods", "GET")
		h.Set("Access-Control-Allow-Headers", "Authorization")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet {
		agentJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "GET only"})
		return
	}
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if subtle.ConstantTimeCompare([]byte(token), []byte(a.state.Token)) != 1 {
		agentJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong pairing token: paste the token hostsim agent printed into mpnet's options"})
		return
	}
	if paired == "" {
		// The first extension with the token is the one the user paired.
		a.mu.Lock()
		if a.state.Origin == "" {
			a.state.Origin = origin
			if err := a.saveState(); err != nil {
				a.mu.Unlock()
				agentJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
				return
			}
		}
		paired = a.state.Origin
		a.mu.Unlock()
		if paired != origin {
			agentJSON(w, http.StatusForbidden, map[string]string{"error": "only the paired mpnet extension may use the agent"})
			return
		}
	}
	switch r.URL.Path {
	case "/v1/version":
		v := map[string]any{"origin": paired}
		for k, x := range a.version {
			v[k] = x
		}
		agentJSON(w, http.StatusOK, v)
	case "/v1/cert":
		a.cert(w, r)
	default:
		agentJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	}
}

// ownHost reports whether a Host header names the agent's own listener.
func (a *agentServer) ownHost(host string) bool {
	h, p, err := net.SplitHostPort(host)
	if err != nil || p != strconv.Itoa(a.port) {
		return false
	}
	return h == "127.0.0.1" || h == "::1" || strings.EqualFold(h, "localhost")
}

// cert answers one host:port's report, probing it once for all who ask.
func (a *agentServer) cert(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	h := strings.ToLower(strings.TrimSpace(q.Get("host")))
	port, perr := strconv.Atoi(q.Get("port"))
	if q.Get("port") == "" {
		port, perr = 443, nil
	}
	if h == "" || strings.ContainsAny(h, " /@?#%\\") || len(h) > 253 || perr != nil || port < 1 || port > 65535 {
		agentJSON(w, http.StatusBadRequest, map[string]string{"error": "want ?host=NAME&port=N"})
		return
	}
	target := strings.Trim(h, "[]")
	if a.refuse != nil {
		if reason := a.refuse(target, port); reason != "" {
			agentJSON(w, http.StatusForbidden, map[string]string{"error": reason})
			return
		}
	}
	ent, status, msg := a.join(net.JoinHostPort(strings.Trim(h, "[]"), strconv.Itoa(port)), strings.Trim(h, "[]"), port)
	if ent == nil {
		agentJSON(w, status, map[string]string{"error": msg})
		return
	}
	defer a.leave(ent)
	select {
	case <-ent.done:
	case <-r.Context().Done():
		return
	}
	if ent.err != nil {
		agentJSON(w, http.StatusInternalServerError, map[string]string{"error": ent.err.Error()})
		return
	}
	agentJSON(w, http.StatusOK, ent.report)
}

// join returns the entry for key, starting a probe if there is none (or
// only an expired one), counting the caller as a waiter; nil with a status
// when the queue is full.
func (a *agentServer) join(key, host string, port int) (*agentEntry, int, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	if ent := a.cache[key]; ent != nil {
		if !isClosed(ent.done) || now.Before(ent.expires) {
			ent.waiters++
			a.lru.MoveToFront(ent.elem)
			return ent, 0, ""
		}
		a.drop(ent)
	}
	if a.pending >= agentQueue {
		return nil, http.StatusServiceUnavailable, fmt.Sprintf("%d probes are already waiting; ask again later", a.pending)
	}
	ctx, cancel := context.WithCancel(a.ctx)
	ent := &agentEntry{key: key, done: make(chan struct{}), waiters: 1, cancel: cancel}
	ent.elem = a.lru.PushFront(ent)
	a.cache[key] = ent
	a.pending++
	go a.run(ctx, ent, host, port)
	a.evict()
	return ent, 0, ""
}

// run probes one entry when a slot frees, unless every client left first.
func (a *agentServer) run(ctx context.Context, ent *agentEntry, host string, port int) {
	defer func() {
		a.mu.Lock()
		a.pending--
		ttl := agentCacheTTL
		if ent.err != nil || ent.report.Facts.Error != "" {
			ttl = agentErrorTTL
		}
		ent.expires = time.Now().Add(ttl)
		ent.cancel()
		close(ent.done)
		a.evict()
		a.mu.Unlock()
	}()
	select {
	case a.slots <- struct{}{}:
		defer func() { <-a.slots }()
	case <-ctx.Done():
		ent.err = ctx.Err()
		return
	}
	ent.report, ent.err = a.probe(ctx, host, port)
	if ctx.Err() != nil {
		ent.err = ctx.Err() // abandoned: no report worth keeping
	}
}

// leave ends a request's wait; the last one to leave an unfinished probe
// cancels it, so that nobody's abandoned probe holds a slot.
func (a *agentServer) leave(ent *agentEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ent.waiters--
	if ent.waiters == 0 && !isClosed(ent.done) {
		ent.cancel()
		a.drop(ent)
	}
}

// drop forgets an entry; the caller holds a.mu.
func (a *agentServer) drop(ent *agentEntry) {
	if a.cache[ent.key] == ent {
		delete(a.cache, ent.key)
		a.lru.Remove(ent.elem)
	}
}

// evict keeps the cache within agentCacheSize, dropping the least recently
// used finished entries (running ones are bounded by agentQueue); the
// caller holds a.mu.
func (a *agentServer) evict() {
	for e := a.lru.Back(); e != nil && a.lru.Len() > agentCacheSize; {
		prev := e.Prev()
		if ent := e.Value.(*agentEntry); isClosed(ent.done) {
			a.drop(ent)
		}
		e = prev
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func agentJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// agentDial is the agent's dial for probes: a --resolve mapping is the
// operator's own choice and is followed as given; any other name is
// resolved here and every address it has must pass agentTarget, and the
// connection goes to an address that was checked (no second lookup a
// rebinding name could answer differently).
func (c *client) agentDial(ctx context.Context, network, addr string) (net.Conn, error) {
	if _, ok := c.resolve[strings.ToLower(addr)]; ok {
		return c.dial(ctx, network, addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if reason := agentName(host); reason != "" {
		return nil, errors.New(reason)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if reason := agentTarget(ip); reason != "" {
			return nil, fmt.Errorf("%s is %s, %s", host, ip, reason)
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s has no address", host)
	}
	return c.dialer.DialContext(ctx, network, net.JoinHostPort(ips[0].String(), port))
}

// agentRefuses says why the agent will not probe host:port as asked ("" if
// it will): an address or a name it refuses, unless --resolve maps it.
// Names that resolve to refused addresses are refused when dialled.
func (c *client) agentRefuses(host string, port int) string {
	if _, ok := c.resolve[strings.ToLower(net.JoinHostPort(host, strconv.Itoa(port)))]; ok {
		return ""
	}
	// The host as a browser reads it ("127.1" and "0x7f.1" are 127.0.0.1),
	// from the module.
	d, err := c.inst.Check(c.e.ctx, abi.CheckRequest{API: "request", URL: "https://" + net.JoinHostPort(host, strconv.Itoa(port)) + "/"})
	if err != nil || d.Host == "" {
		return strconv.Quote(host) + " is not a host name"
	}
	host = strings.Trim(d.Host, "[]")
	if ip, err := netip.ParseAddr(host); err == nil {
		if reason := agentTarget(ip); reason != "" {
			return host + " is " + reason
		}
		return ""
	}
	if reason := agentName(host); reason != "" {
		return host + " is " + reason
	}
	return ""
}

// agentName refuses names that are local or cloud metadata by name alone.
func agentName(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	switch {
	case h == "localhost" || strings.HasSuffix(h, ".localhost"):
		return "a local name: the agent probes the servers a phone would call, never this machine (R3)"
	case h == "metadata" || h == "metadata.google.internal" || h == "instance-data" || strings.HasSuffix(h, ".internal") && strings.HasPrefix(h, "metadata."):
		return "a cloud metadata name: the agent does not probe it"
	}
	return ""
}

// agentTarget refuses an address the agent must not probe for a browser:
// this machine (loopback, unspecified), the link-local range where cloud
// metadata services live (169.254.169.254, fd00:ec2::254 is unique-local
// but named by its provider), multicast and broadcast. Private LAN
// addresses (RFC 1918, fc00::/7) are allowed: a device may call them (R4),
// and their certificates are R12's business.
func agentTarget(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback() || ip.IsUnspecified() || ip.Is4() && ip.As4()[0] == 0:
		return "an address of this machine: the agent probes the servers a phone would call, never this machine (R3)"
	case ip.IsLinkLocalUnicast() || ip == netip.MustParseAddr("fd00:ec2::254"):
		return "a link-local address (cloud metadata lives there): the agent does not probe it"
	case ip.IsMulticast() || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "a multicast or broadcast address: not a server"
	}
	return ""
}

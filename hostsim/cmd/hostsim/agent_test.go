package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	extA = "chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	extB = "chrome-extension://bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// testAgent is a running `hostsim agent`.
type testAgent struct {
	url, token, port string
	srv              *agentServer
	stop             func() int
}

// startAgent runs the agent in-process with a state file in dir and the
// fixtures mapped, plus extra flags.
func startAgent(t *testing.T, dir string, extra ...string) *testAgent {
	t.Helper()
	var srv *agentServer
	ready := make(chan struct{})
	agentStarted = func(a *agentServer) { srv = a; close(ready) }
	t.Cleanup(func() { agentStarted = nil })
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	args := append(append([]string{"agent", "--listen", "127.0.0.1:0", "--state", filepath.Join(dir, "agent.json"), "--timeout", "10000"}, fxArgs(t)...), extra...)
	go func() { done <- run(ctx, args, strings.NewReader(""), pw, io.Discard); pw.Close() }()
	var hello struct{ URL, Token string }
	if err := json.NewDecoder(pr).Decode(&hello); err != nil {
		cancel()
		t.Fatalf("agent %v: %v (exit %d)", extra, err, <-done)
	}
	go io.Copy(io.Discard, pr)
	<-ready
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(hello.URL, "http://"))
	a := &testAgent{url: hello.URL, token: hello.Token, port: port, srv: srv}
	stopped := false
	a.stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { a.stop() })
	return a
}

// get asks the agent for path as origin (none when ""), with token (none
// when ""), under the Host header host ("" for the agent's own).
func (a *testAgent) get(t *testing.T, ctx context.Context, method, path, origin, token, host string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, method, a.url+path, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v, resp.Header
}

func fixturePath(t *testing.T, name string) string {
	f := fx(t).Get(name)
	_, port, _ := net.SplitHostPort(f.Addr)
	return "/v1/cert?host=" + f.Host + "&port=" + port
}

// The attacks on the agent, each refused: a request without Origin
// (no-cors from any page), a DNS-rebinding Host, a web page's origin,
// another extension's origin, no token or a wrong one; and the pairing that
// lets mpnet's own extension in, kept across restarts.
func TestAgentAnswersOnlyThePairedExtension(t *testing.T) {
	dir := t.TempDir()
	a := startAgent(t, dir)
	ctx := t.Context()
	if len(a.token) != 32 {
		t.Fatalf("token %q", a.token)
	}
	if st, err := os.Stat(filepath.Join(dir, "agent.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v %v", st, err)
	}
	expired := fixturePath(t, "expired")
	for _, tc := range []struct {
		name, method, path, origin, token, host string
		want                                    int
	}{
		{"the issue's curl: a rebinding Host, no Origin", "GET", "/v1/cert?host=127.0.0.1&port=1", "", "", "attacker.example:" + a.port, 403},
		{"a rebinding Host with everything else right", "GET", expired, extA, a.token, "attacker.example:" + a.port, 403},
		{"another port in Host", "GET", expired, extA, a.token, "127.0.0.1:1", 403},
		{"no Origin (an <img> or no-cors fetch)", "GET", expired, "", a.token, "", 403},
		{"a web page's origin", "GET", expired, "https://evil.example", a.token, "", 403},
		{"an opaque origin", "GET", expired, "null", a.token, "", 403},
		{"not an extension id", "GET", expired, "chrome-extension://x", a.token, "", 403},
		{"no token", "GET", expired, extA, "", "", 401},
		{"a wrong token", "GET", expired, extA, strings.Repeat("0", 32), "", 401},
		{"a preflight from a web page", "OPTIONS", expired, "https://evil.example", "", "", 403},
	} {
		if code, v, _ := a.get(t, ctx, tc.method, tc.path, tc.origin, tc.token, tc.host); code != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.name, code, v, tc.want)
		}
	}
	// A preflight from an extension is answered for exactly that origin.
	code, _, h := a.get(t, ctx, "OPTIONS", expired, extA, "", "")
	if code != 204 || h.Get("Access-Control-Allow-Origin") != extA || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", code, h)
	}
	// Pairing: the first extension with the token is pinned.
	code, v, h := a.get(t, ctx, "GET", "/v1/version", extA, a.token, "localhost:"+a.port)
	if code != 200 || v["origin"] != extA || h.Get("Access-Control-Allow-Origin") != extA {
		t.Fatalf("pairing: %d %v %v", code, v, h)
	}
	code, v, _ = a.get(t, ctx, "GET", expired, extA, a.token, "")
	verdict, _ := v["verdict"].(map[string]any)
	if code != 200 || verdict["ok"] != false || !strings.Contains(fmt.Sprint(verdict["findings"]), "expired on") {
		t.Errorf("the paired extension's report: %d %v", code, v)
	}
	for _, m := range []string{"GET", "OPTIONS"} {
		if code, _, _ := a.get(t, ctx, m, expired, extB, a.token, ""); code != 403 {
			t.Errorf("%s from another extension with the token: %d, want 403", m, code)
		}
	}
	// The pairing survives a restart; --new-token forgets it.
	a.stop()
	a = startAgent(t, dir)
	if code, _, _ := a.get(t, ctx, "GET", "/v1/version", extB, a.token, ""); code != 403 {
		t.Errorf("after a restart another extension got %d", code)
	}
	if code, _, _ := a.get(t, ctx, "GET", "/v1/version", extA, a.token, ""); code != 200 {
		t.Errorf("after a restart the paired extension got %d", code)
	}
	old := a.token
	a.stop()
	a = startAgent(t, dir, "--new-token")
	if code, _, _ := a.get(t, ctx, "GET", "/v1/version", extA, old, ""); a.token == old || code != 401 {
		t.Errorf("--new-token: the old token got %d", code)
	}
	if code, _, _ := a.get(t, ctx, "GET", "/v1/version", extB, a.token, ""); code != 200 {
		t.Errorf("--new-token: a new pairing got %d", code)
	}
	// --extension-id pins the origin beforehand.
	a.stop()
	a = startAgent(t, t.TempDir(), "--extension-id", strings.TrimPrefix(extA, "chrome-extension://"))
	if code, _, _ := a.get(t, ctx, "GET", "/v1/version", extB, a.token, ""); code != 403 {
		t.Errorf("--extension-id: another extension got %d", code)
	}
	if code, _, _ := cli(t, "agent", "--listen", "192.0.2.1:7460"); code != 2 {
		t.Errorf("a non-loopback listener: exit %d", code)
	}
}

// The private-address policy: this machine, link-local (cloud metadata) and
// multicast targets are refused; LAN addresses (R4) are not; a --resolve
// mapping to loopback (the fixtures) is the operator's choice and works.
func TestAgentPrivateAddressPolicy(t *testing.T) {
	a := startAgent(t, t.TempDir())
	ctx := t.Context()
	a.get(t, ctx, "GET", "/v1/version", extA, a.token, "")
	for _, target := range []string{"127.0.0.1&port=1", "127.1", "0x7f.1", "2130706433", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "localhost", "a.localhost", "169.254.169.254&port=80", "[fe80::1]", "metadata.google.internal", "224.0.0.1", "255.255.255.255"} {
		code, v, _ := a.get(t, ctx, "GET", "/v1/cert?host="+target, extA, a.token, "")
		if code != 403 {
			t.Errorf("%s: %d %v, want 403", target, code, v)
		}
	}
	if code, v, _ := a.get(t, ctx, "GET", fixturePath(t, "valid"), extA, a.token, ""); code != 200 {
		t.Errorf("a fixture mapped to loopback by --resolve: %d %v", code, v)
	}
	for ip, refused := range map[string]bool{"10.0.0.1": false, "192.168.1.20": false, "172.16.0.1": false, "fd12::1": false, "8.8.8.8": false,
		"127.0.0.1": true, "::1": true, "::ffff:127.0.0.1": true, "169.254.169.254": true, "fe80::1": true, "fd00:ec2::254": true, "0.1.2.3": true, "ff02::1": true} {
		if got := agentTarget(netip.MustParseAddr(ip)) != ""; got != refused {
			t.Errorf("agentTarget(%s) refuses %v, want %v", ip, got, refused)
		}
	}
}

// hangingPorts listens on n loopback ports that accept and never answer,
// and returns --resolve flags naming them hangN.mpnet.test.
func hangingPorts(t *testing.T, n int) (flags []string, paths []string) {
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var conns []net.Conn
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
		})
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		host := fmt.Sprintf("hang%d.mpnet.test", i)
		flags = append(flags, "--resolve", host+":"+port+":127.0.0.1")
		paths = append(paths, "/v1/cert?host="+host+"&port="+port)
	}
	return flags, paths
}

// The issue: 59 requests to hanging ports, each abandoned after 0.3 s,
// delayed the next legitimate answer by 40 s (their probes kept the
// workers). A probe whose every client left is cancelled now.
func TestAgentAbandonedProbesDoNotDelay(t *testing.T) {
	flags, paths := hangingPorts(t, 59)
	a := startAgent(t, t.TempDir(), flags...)
	ctx := t.Context()
	a.get(t, ctx, "GET", "/v1/version", extA, a.token, "")
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			a.get(t, c, "GET", p, extA, a.token, "")
		}()
	}
	wg.Wait()
	t0 := time.Now()
	code, v, _ := a.get(t, ctx, "GET", fixturePath(t, "valid"), extA, a.token, "")
	// A hanging probe holds a worker for its 10 s timeout per handshake;
	// the answer may take a second or two on a busy machine.
	d := time.Since(t0)
	if code != 200 || d > 8*time.Second {
		t.Errorf("the next legitimate answer: %d after %v (%v)", code, d, v)
	}
	t.Logf("the next legitimate answer came after %v", d)
	a.srv.mu.Lock()
	pending := a.srv.pending
	a.srv.mu.Unlock()
	if pending > agentWorkers {
		t.Errorf("%d abandoned probes still pending", pending)
	}
}

// Many distinct ports do not grow the agent without bound: the cache keeps
// agentCacheSize reports, the queue refuses past agentQueue, and a report
// that could not connect expires sooner than one that did.
func TestAgentIsBounded(t *testing.T) {
	defer func(c, q int, e time.Duration) { agentCacheSize, agentQueue, agentErrorTTL = c, q, e }(agentCacheSize, agentQueue, agentErrorTTL)
	agentCacheSize, agentQueue, agentErrorTTL = 20, 8, 300*time.Millisecond
	var flags, paths []string
	for i := range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ln.Close() // refused from now on
		host := fmt.Sprintf("closed%d.mpnet.test", i)
		flags = append(flags, "--resolve", host+":"+port+":127.0.0.1")
		paths = append(paths, "/v1/cert?host="+host+"&port="+port)
	}
	hang, hangPaths := hangingPorts(t, 12)
	a := startAgent(t, t.TempDir(), append(flags, hang...)...)
	ctx := t.Context()
	a.get(t, ctx, "GET", "/v1/version", extA, a.token, "")
	for _, p := range paths {
		if code, v, _ := a.get(t, ctx, "GET", p, extA, a.token, ""); code != 200 {
			t.Fatalf("%s: %d %v", p, code, v)
		}
	}
	a.srv.mu.Lock()
	n, l := len(a.srv.cache), a.srv.lru.Len()
	a.srv.mu.Unlock()
	if n > agentCacheSize || l != n {
		t.Errorf("100 distinct ports left %d cached reports (list %d), want at most %d", n, l, agentCacheSize)
	}
	// A refused port's report expires after agentErrorTTL: asked again
	// later, it is probed again.
	_, v1, _ := a.get(t, ctx, "GET", paths[99], extA, a.token, "")
	_, v2, _ := a.get(t, ctx, "GET", paths[99], extA, a.token, "")
	time.Sleep(400 * time.Millisecond)
	_, v3, _ := a.get(t, ctx, "GET", paths[99], extA, a.token, "")
	if v1["at"] != v2["at"] || v1["at"] == v3["at"] {
		t.Errorf("error report times %v %v %v: want the second cached, the third probed again", v1["at"], v2["at"], v3["at"])
	}
	// The queue: hanging probes waiting for clients fill it; the next
	// distinct target is told to come back.
	var wg sync.WaitGroup
	c, cancel := context.WithCancel(ctx)
	for _, p := range hangPaths[:agentQueue] {
		wg.Add(1)
		go func() { defer wg.Done(); a.get(t, c, "GET", p, extA, a.token, "") }()
	}
	waitUntil(t, func() bool { a.srv.mu.Lock(); defer a.srv.mu.Unlock(); return a.srv.pending == agentQueue })
	if code, _, _ := a.get(t, ctx, "GET", hangPaths[agentQueue], extA, a.token, ""); code != 503 {
		t.Errorf("past the queue: %d, want 503", code)
	}
	cancel()
	wg.Wait()
}

// The server's timeouts: a client that trickles its header is cut off.
func TestAgentReadTimeout(t *testing.T) {
	defer func(h time.Duration) { agentHeaders = h }(agentHeaders)
	agentHeaders = 200 * time.Millisecond
	a := startAgent(t, t.TempDir())
	conn, err := net.Dial("tcp", strings.TrimPrefix(a.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET /v1/version HTTP/1.1\r\nHost: 127.0.0.1:" + a.port + "\r\n"))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	t0 := time.Now()
	io.Copy(io.Discard, conn) // returns when the server closes the connection
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("a trickled header kept the connection %v", d)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
	}
}

//go:build !js

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start runs `mpnet-team serve` in-process and returns its start-up line.
func start(t *testing.T, args ...string) (started, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--json", "--quiet", "--listen", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no start-up line: %v (exit %d)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	var s started
	if err := json.Unmarshal([]byte(line), &s); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
	}
	return s, stop
}

func TestServeBootstrapsOnceAndRefusesForeignHosts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "team.db")
	s, stop := start(t, "--db", db, "--project", "wx0123456789abcdef")
	if !strings.HasPrefix(s.Operator, "mpnet_") || !strings.HasPrefix(s.Projects["wx0123456789abcdef"], "mpnet_") {
		t.Fatalf("first start printed %+v", s)
	}
	req, _ := http.NewRequest("GET", s.URL+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+s.Projects["wx0123456789abcdef"])
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("admin token: %v %v", res, err)
	}
	res.Body.Close()
	// DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends
	// its own name as Host.
	req, _ = http.NewRequest("GET", s.URL+"/v1/health", nil)
	req.Host = "evil.example:80"
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("foreign Host answered %v %v", res, err)
	}
	res.Body.Close()
	stop()
	// A restart on the same database shows no token again.
	s, stop = start(t, "--db", db, "--project", "wx0123456789abcdef")
	defer stop()
	if s.Operator != "" || len(s.Projects) != 0 {
		t.Fatalf("a restart printed tokens again: %+v", s)
	}
}

func TestServeBadInput(t *testing.T) {
	if code := run(context.Background(), []string{"serve"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("serve without --db: exit %d", code)
	}
	if code := run(context.Background(), []string{"frobnicate"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
	if code := run(context.Background(), []string{"serve", "--db", filepath.Join(t.TempDir(), "x.db"), "--project", "wx/../x", "--listen", "127.0.0.1:0"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("bad appid: exit %d", code)
	}
}

//go:build !js

package service_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"mpnet/internal/buildwasm"
	"mpnet/internal/buildworker"
	"mpnet/service/apitest"
)

// LocalWorker is the built Worker running in workerd (Miniflare) with a
// local D1 database, as service/worker/local.mjs starts it.
type LocalWorker struct {
	URL string
	cmd *exec.Cmd
}

// startWorker builds (or takes $MPNET_WORKER) and starts the Worker. It
// skips the test where the npm packages are missing, except in CI.
func startWorker(t testing.TB, operator string, rate int, persist string) *LocalWorker {
	t.Helper()
	root := buildwasm.Root()
	if _, err := os.Stat(filepath.Join(root, "node_modules", "miniflare")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node_modules/miniflare is missing: run scripts/install-deps.sh")
		}
		t.Skip("node_modules/miniflare is missing (scripts/install-deps.sh --npm-only installs it)")
	}
	dir, err := buildworker.Dir()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join(root, "service/worker/local.mjs"), "--dir", dir, "--operator", operator, "--rate", itoa(rate)}
	if persist != "" {
		args = append(args, "--persist", persist)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
		}
	}()
	select {
	case l, ok := <-line:
		var doc struct{ URL string }
		if !ok || json.Unmarshal([]byte(l), &doc) != nil || doc.URL == "" {
			t.Fatalf("local.mjs printed %q", l)
		}
		return &LocalWorker{URL: doc.URL, cmd: cmd}
	case <-time.After(60 * time.Second):
		t.Fatal("the local Worker did not start within 60 s")
	}
	return nil
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// randomOperator makes an operator token for a test Worker's environment.
func randomOperator() string {
	var b [24]byte
	rand.Read(b[:])
	return "op-" + hex.EncodeToString(b[:])
}

// TestWorker runs the HTTP suite against the built Worker in workerd with
// a local D1 database: the same suite as TestNative.
func TestWorker(t *testing.T) {
	op := randomOperator()
	w := startWorker(t, op, 100, "")
	apitest.Run(t, apitest.Target{URL: w.URL, Operator: op, RatePerMinute: 100})
}

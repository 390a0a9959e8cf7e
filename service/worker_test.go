//go:build !js

package service_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"mpnet/internal/buildwasm"
	"mpnet/internal/buildworker"
	"mpnet/service/apitest"
)

// startWorker builds (or takes $MPNET_WORKER) and starts the Worker in
// workerd with a local D1. It skips the test where the npm packages are
// missing, except in CI.
func startWorker(t testing.TB, operator string, rate int) *buildworker.Local {
	t.Helper()
	if _, err := os.Stat(filepath.Join(buildwasm.Root(), "node_modules", "miniflare")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node_modules/miniflare is missing: run scripts/install-deps.sh")
		}
		t.Skip("node_modules/miniflare is missing (scripts/install-deps.sh --npm-only installs it)")
	}
	dir, err := buildworker.Dir()
	if err != nil {
		t.Fatal(err)
	}
	l, err := buildworker.StartLocal(dir, "--operator", operator, "--rate", strconv.Itoa(rate))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Stop(false) })
	return l
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
	if os.Getenv("MPNET_WORKER_LATER") != "" {
		t.Skip("go run ./build test runs the Worker's suite in a step of its own")
	}
	op := randomOperator()
	w := startWorker(t, op, 100)
	apitest.Run(t, apitest.Target{URL: w.URL, Operator: op, RatePerMinute: 100})
}

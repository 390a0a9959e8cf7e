//go:build !js

package service_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"mpnet/internal/buildwasm"
	"mpnet/internal/buildworker"
	"mpnet/service/api"
	"mpnet/service/apitest"
)

// startWorker builds (or takes $MPNET_WORKER) and starts the Worker in
// workerd with a local D1. It skips the test where the npm packages are
// missing, except in CI.
func startWorker(t testing.TB, operator string, rate int) *buildworker.Local {
	t.Helper()
	return startWorkerFrom(t, buildworker.Dir, operator, rate)
}

// startWorkerFrom is startWorker on the build that dir returns.
func startWorkerFrom(t testing.TB, dir func() (string, error), operator string, rate int) *buildworker.Local {
	t.Helper()
	if _, err := os.Stat(filepath.Join(buildwasm.Root(), "node_modules", "miniflare")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node_modules/miniflare is missing: run scripts/install-deps.sh")
		}
		t.Skip("node_modules/miniflare is missing (scripts/install-deps.sh --npm-only installs it)")
	}
	d, err := dir()
	if err != nil {
		t.Fatal(err)
	}
	l, err := buildworker.StartLocal(d, "--operator", operator, "--rate", strconv.Itoa(rate))
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
	later(t)
	op := randomOperator()
	w := startWorker(t, op, 100)
	// The deployed build has none of the tests' hooks.
	if status, inst, body := instanceGet(t, w.URL, "/__test/panic", ""); status != http.StatusNotFound || inst != "" {
		t.Fatalf("GET /__test/panic in the deployed build: status %d, instance %q, want 404 and none\n%s", status, inst, body)
	}
	apitest.Run(t, apitest.Target{URL: w.URL, Operator: op, RatePerMinute: 100})
}

// later skips a Worker test in the step of `go run ./build test` that runs
// everything else: the Worker's tests run in a step of their own.
func later(t *testing.T) {
	if os.Getenv("MPNET_WORKER_LATER") != "" {
		t.Skip("go run ./build test runs the Worker's tests in a step of their own")
	}
}

// instanceGet sends GET path to the tests' build of the Worker and returns
// the status, the Go instance that answered (its X-Mpnet-Test-Instance
// header) and the body, failing the test when there is no answer.
func instanceGet(t *testing.T, base, path, token string) (int, string, []byte) {
	t.Helper()
	status, inst, body, err := fetchInstance(base, path, token)
	if err != nil {
		t.Fatal(err)
	}
	return status, inst, body
}

// fetchInstance is instanceGet for any goroutine. The client gives up
// after a minute: a request the Worker never answers fails the test
// instead of hanging it.
func fetchInstance(base, path, token string) (int, string, []byte, error) {
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		return 0, "", nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		return 0, "", nil, fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return 0, "", nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return res.StatusCode, res.Header.Get("X-Mpnet-Test-Instance"), b, nil
}

// TestWorkerReusesInstance: one Go instance answers an isolate's requests,
// at once (the isolate's first eight share one start) and one after
// another (the glue starts it once, not per request).
func TestWorkerReusesInstance(t *testing.T) {
	later(t)
	op := randomOperator()
	w := startWorkerFrom(t, buildworker.TestDir, op, 1000)
	seen := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, inst, body, err := fetchInstance(w.URL, "/v1/whoami", op)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || status != http.StatusOK {
				t.Errorf("concurrent whoami: %v, status %d\n%s", err, status, body)
			}
			seen[inst]++
		}()
	}
	wg.Wait()
	for i := 0; i < 4; i++ {
		status, inst, body := instanceGet(t, w.URL, "/v1/whoami", op)
		if status != http.StatusOK || inst == "" {
			t.Fatalf("whoami %d: status %d, instance %q\n%s", i, status, inst, body)
		}
		seen[inst]++
	}
	if len(seen) != 1 {
		t.Fatalf("12 requests were answered by %d Go instances, want 1: %v", len(seen), seen)
	}
}

// TestWorkerPanic: a Go panic in one request ends its instance; that
// request gets a 500 with the service's JSON error (not a hang), and the
// next request is answered by a new instance, D1 and the schema flag
// working as before.
func TestWorkerPanic(t *testing.T) {
	later(t)
	op := randomOperator()
	w := startWorkerFrom(t, buildworker.TestDir, op, 1000)
	status, before, body := instanceGet(t, w.URL, "/v1/whoami", op)
	if status != http.StatusOK {
		t.Fatalf("whoami: status %d\n%s", status, body)
	}
	// At once (in the call that hands Go the request), then after D1
	// queries (in a later turn, while the glue waits for the answer).
	for _, path := range []string{"/__test/panic", "/__test/panic?after=d1"} {
		status, _, body = instanceGet(t, w.URL, path, op)
		var e api.Error
		if status != http.StatusInternalServerError || json.Unmarshal(body, &e) != nil || e.Error.Code != "internal" {
			t.Fatalf("GET %s: status %d, want 500 with an \"internal\" JSON error\n%s", path, status, body)
		}
		var next string
		for i := 0; i < 2; i++ {
			status, after, body := instanceGet(t, w.URL, "/v1/whoami", op)
			if status != http.StatusOK {
				t.Fatalf("whoami %d after GET %s: status %d\n%s", i, path, status, body)
			}
			if after == before || after == "" || next != "" && after != next {
				t.Fatalf("whoami %d after GET %s: answered by instance %q (before the panic %q, the first after it %q): want one new instance", i, path, after, before, next)
			}
			next = after
		}
		before = next
	}
}

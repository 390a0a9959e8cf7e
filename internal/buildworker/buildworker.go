// Package buildworker builds the team service's Cloudflare Worker
// (service/worker) for `go run ./build service` and for tests: the Go
// program compiled with GOOS=js GOARCH=wasm (app.wasm), the project's own
// glue (service/worker/worker.mjs: one Go instance per isolate) and
// syumai/workers' wasm_exec.js (written by its workers-assets-gen at the
// version go.mod pins; its cloudflare/d1 driver reads the runtime context
// that this wasm_exec.js passes to Go).
package buildworker

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"mpnet/internal/buildwasm"
)

// Files are the files of a built Worker directory.
var Files = []string{"worker.mjs", "wasm_exec.js", "app.wasm"}

// Build writes the Worker into dir (replacing what is there). The result
// depends on the tree and the Go toolchain only: -trimpath, no build ids
// of this machine, so the same commit builds the same bytes. tags are Go
// build tags (the tests' build adds mpnettest: service/worker/testhooks.go).
func Build(dir string, tags ...string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	gen, err := os.MkdirTemp("", "mpnet-worker-glue-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(gen)
	run := func(env []string, args ...string) error {
		cmd := exec.Command("go", args...)
		cmd.Dir = buildwasm.Root()
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
		return nil
	}
	// syumai's generated worker.mjs and runtime.mjs start a Go instance per
	// request; only its wasm_exec.js is kept.
	if err := run(nil, "run", "github.com/syumai/workers/cmd/workers-assets-gen", "-mode=go", "-o", gen); err != nil {
		return fmt.Errorf("writing the Worker's glue: %w", err)
	}
	for _, c := range [][2]string{
		{filepath.Join(gen, "wasm_exec.js"), filepath.Join(abs, "wasm_exec.js")},
		{filepath.Join(buildwasm.Root(), "service", "worker", "worker.mjs"), filepath.Join(abs, "worker.mjs")},
	} {
		b, err := os.ReadFile(c[0])
		if err != nil {
			return err
		}
		if err := os.WriteFile(c[1], b, 0o644); err != nil {
			return err
		}
	}
	// What an earlier build's glue left (syumai's runtime.mjs).
	os.Remove(filepath.Join(abs, "runtime.mjs"))
	args := []string{"build", "-trimpath", "-ldflags=-s -w -buildid="}
	if len(tags) > 0 {
		args = append(args, "-tags="+strings.Join(tags, ","))
	}
	args = append(args, "-o", filepath.Join(abs, "app.wasm"), "./service/worker")
	if err := run([]string{"GOOS=js", "GOARCH=wasm"}, args...); err != nil {
		return fmt.Errorf("building the Worker: %w", err)
	}
	return nil
}

// build is a Worker built once per process into a temporary directory.
type build struct {
	once sync.Once
	dir  string
	err  error
}

// get builds it with tags on the first call, unless env names a directory
// to use instead.
func (b *build) get(env string, tags ...string) (string, error) {
	b.once.Do(func() {
		if d := os.Getenv(env); env != "" && d != "" {
			b.dir = d
			return
		}
		b.dir, b.err = os.MkdirTemp("", "mpnet-worker-")
		if b.err == nil {
			b.err = Build(b.dir, tags...)
		}
	})
	return b.dir, b.err
}

var deployed, tests build

// Dir returns a directory holding the Worker to test: $MPNET_WORKER when
// set (`go run ./build test` sets it to what it built), else a fresh build
// into a temporary directory, once per process.
func Dir() (string, error) { return deployed.get("MPNET_WORKER") }

// TestDir returns a directory holding the tests' build of the Worker
// (-tags mpnettest: it names its Go instance in a response header and
// panics on request; service/worker/testhooks.go), built once per process
// into a temporary directory. The deployed build has neither.
func TestDir() (string, error) { return tests.get("", "mpnettest") }

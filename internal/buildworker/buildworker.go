// Package buildworker builds the team service's Cloudflare Worker
// (service/worker) for `go run ./build service` and for tests: the Go
// program compiled with GOOS=js GOARCH=wasm, beside syumai/workers' glue
// (worker.mjs, runtime.mjs, wasm_exec.js, written by its
// workers-assets-gen at the version go.mod pins).
package buildworker

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"mpnet/internal/buildwasm"
)

// Files are the files of a built Worker directory.
var Files = []string{"worker.mjs", "runtime.mjs", "wasm_exec.js", "app.wasm"}

// Build writes the Worker into dir (replacing what is there). The result
// depends on the tree and the Go toolchain only: -trimpath, no build ids
// of this machine, so the same commit builds the same bytes.
func Build(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	run := func(env []string, args ...string) error {
		cmd := exec.Command("go", args...)
		cmd.Dir = buildwasm.Root()
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go %v: %v\n%s", args, err, out)
		}
		return nil
	}
	if err := run(nil, "run", "github.com/syumai/workers/cmd/workers-assets-gen", "-mode=go", "-o", abs); err != nil {
		return fmt.Errorf("writing the Worker's glue: %w", err)
	}
	if err := run([]string{"GOOS=js", "GOARCH=wasm"}, "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", filepath.Join(abs, "app.wasm"), "./service/worker"); err != nil {
		return fmt.Errorf("building the Worker: %w", err)
	}
	return nil
}

var (
	once sync.Once
	dir  string
	berr error
)

// Dir returns a directory holding the Worker to test: $MPNET_WORKER when
// set (`go run ./build test` sets it to what it built), else a fresh build
// into a temporary directory, once per process.
func Dir() (string, error) {
	once.Do(func() {
		if d := os.Getenv("MPNET_WORKER"); d != "" {
			dir = d
			return
		}
		dir, berr = os.MkdirTemp("", "mpnet-worker-")
		if berr == nil {
			berr = Build(dir)
		}
	})
	return dir, berr
}

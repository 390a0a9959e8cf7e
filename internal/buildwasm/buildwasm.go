// Package buildwasm builds the mpnet module for tests: it returns the path
// of a .wasm built from this tree, or the one named by $MPNET_WASM.
package buildwasm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

var (
	once sync.Once
	path string
	err  error
)

// Root returns the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Module returns the path of the module to test: $MPNET_WASM when set (CI
// sets it to the file `go run ./build` produced), else a fresh build into a
// temporary directory, once per process.
func Module() (string, error) {
	once.Do(func() {
		if p := os.Getenv("MPNET_WASM"); p != "" {
			path = p
			return
		}
		dir, e := os.MkdirTemp("", "mpnet-wasm-")
		if e != nil {
			err = e
			return
		}
		path = filepath.Join(dir, "mpnet.wasm")
		err = Build(path)
	})
	return path, err
}

// Build compiles the module (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared)
// from this tree to out.
func Build(out string) error {
	abs, e := filepath.Abs(out)
	if e != nil {
		return e
	}
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", abs, "./wasm")
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, e := cmd.CombinedOutput(); e != nil {
		return fmt.Errorf("building the module: %v\n%s", e, out)
	}
	return nil
}

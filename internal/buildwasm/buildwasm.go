// Package buildwasm builds the mpnet module for tests: it returns the path
// of a .wasm built from this tree, or the one named by $MPNET_WASM.
package buildwasm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/tetratelabs/wazero/api"

	"mpnet/internal/wasmsnap"
)

var (
	once sync.Once
	path string
	err  error
	tmp  string // the directory Module built into, if it did
)

// Root returns the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Module returns the path of the module to test: $MPNET_WASM when set (CI
// sets it to the file `go run ./build` produced), else a fresh build into a
// temporary directory, once per process; a TestMain that calls Module calls
// Cleanup when its tests are done.
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
		tmp = dir
		path = filepath.Join(dir, "mpnet.wasm")
		err = Build(path)
	})
	return path, err
}

// Cleanup removes the directory Module built the module into, if any.
func Cleanup() {
	if tmp != "" {
		os.RemoveAll(tmp)
	}
}

// Build compiles the module (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared)
// from this tree and pre-initialises it (Snapshot) into out. The same tree
// gives the same bytes every time (a test builds twice).
func Build(out string) error {
	abs, e := filepath.Abs(out)
	if e != nil {
		return e
	}
	bin, e := Raw(abs + ".raw")
	if e != nil {
		return e
	}
	snap, e := Snapshot(bin)
	if e != nil {
		return fmt.Errorf("pre-initialising the module: %w", e)
	}
	return os.WriteFile(abs, snap, 0o644)
}

// Raw compiles the module without pre-initialising it and returns its
// bytes; tmp is the scratch file the compiler writes (removed again).
func Raw(tmp string) ([]byte, error) {
	defer os.Remove(tmp)
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, "./wasm")
	cmd.Dir = Root()
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, e := cmd.CombinedOutput(); e != nil {
		return nil, fmt.Errorf("building the module: %v\n%s", e, out)
	}
	return os.ReadFile(tmp)
}

// Snapshot pre-initialises a freshly built module (internal/wasmsnap): the Go
// runtime's start-up and the package initialisers run once, here, and so
// does a dry-run configure (whatever it sets up lazily: maps grown, memos
// made), so that none of it runs again in every page that loads the module.
func Snapshot(bin []byte) ([]byte, error) {
	return wasmsnap.Snapshot(context.Background(), bin, warm)
}

// warmConfig exercises every list and the import of project files.
var warmConfig = `{"files":[` +
	`{"name":"mpnet.json","content":"{\"appid\":\"wx0123456789abcdef\",\"domains\":{\"request\":[\"https://api.example.com\"],\"uploadFile\":[\"https://up.example.com\"],\"downloadFile\":[\"https://cdn.example.com\"],\"socket\":[\"wss://ws.example.com\"]},\"networkTimeout\":{\"request\":10000}}"},` +
	`{"name":"project.config.json","content":"{\"appid\":\"wx0123456789abcdef\",\"setting\":{\"urlCheck\":true}}"}` +
	`],"dryRun":true}`

func warm(ctx context.Context, mod api.Module) error {
	call := func(export string, msg []byte) ([]byte, error) {
		res, err := mod.ExportedFunction("mpnet_buffer").Call(ctx, uint64(len(msg)))
		if err != nil {
			return nil, err
		}
		if !mod.Memory().Write(uint32(res[0]), msg) {
			return nil, fmt.Errorf("mpnet_buffer answered an address outside memory")
		}
		res, err = mod.ExportedFunction(export).Call(ctx, uint64(len(msg)))
		if err != nil {
			return nil, err
		}
		out, _ := mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
		return out, nil
	}
	out, err := call("mpnet_configure", []byte(warmConfig))
	if err != nil {
		return err
	}
	if !bytes.Contains(out, []byte(`"ok":true`)) {
		return fmt.Errorf("the warm-up configuration was refused: %s", out)
	}
	if _, err := mod.ExportedFunction("mpnet_status").Call(ctx); err != nil {
		return err
	}
	// Collect the warm-up's garbage before memory is captured.
	_, err = mod.ExportedFunction("mpnet_debug").Call(ctx, 1)
	return err
}

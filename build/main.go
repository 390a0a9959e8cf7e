// Command build is the project's one build entry point:
//
//	go run ./build            builds dist/mpnet.wasm and dist/hostsim
//	go run ./build -o DIR     writes to DIR instead of dist/
//
// The module is built once (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared);
// the CLI and the extension use that one file.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"mpnet/internal/buildwasm"
)

func main() {
	out := flag.String("o", "dist", "output directory")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: go run ./build [-o DIR]\n\nBuilds the mpnet module (DIR/mpnet.wasm) and the hostsim CLI (DIR/hostsim).\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := build(*out); err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
}

func build(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	wasm := filepath.Join(out, "mpnet.wasm")
	if err := buildwasm.Build(wasm); err != nil {
		return err
	}
	sum, err := fileSHA(wasm)
	if err != nil {
		return err
	}
	st, _ := os.Stat(wasm)
	fmt.Printf("module  %s  %.1f MB  sha256 %s\n", wasm, float64(st.Size())/1e6, sum[:16])
	exe := filepath.Join(out, "hostsim")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if err := goBuild(nil, "-trimpath", "-o", exe, "./hostsim/cmd/hostsim"); err != nil {
		return err
	}
	fmt.Printf("cli     %s\n", exe)
	return nil
}

func goBuild(env []string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %v: %w", args, err)
	}
	return nil
}

func fileSHA(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

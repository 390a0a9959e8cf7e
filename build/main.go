// Command build is the project's one build entry point:
//
//	go run ./build            builds dist/mpnet.wasm, dist/hostsim, dist/mpnet-team, dist/extension and its zip
//	go run ./build service    also builds the team service's Cloudflare Worker into dist/worker
//	go run ./build -o DIR     writes to DIR instead of dist/
//	go run ./build --config mpnet.json --origin 'http://localhost/*'
//	                          bakes a default configuration and preview origins into the extension
//	go run ./build demo       builds, then runs hostsim and the extension on the bundled demo
//	go run ./build test       builds, then runs every test (Go and browser) against that build
//
// The module is built once (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared);
// the CLI and the extension use that one file.
package main

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"mpnet/docs"
	"mpnet/internal/buildwasm"
	"mpnet/internal/buildworker"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

var configs, origins, hosts multi

func main() {
	out := flag.String("o", "dist", "output directory")
	flag.Var(&configs, "config", "project file to bake into the extension as its default configuration (repeatable)")
	flag.Var(&origins, "origin", "preview origin match pattern that gets the runtime from install, e.g. http://localhost/* (repeatable)")
	flag.Var(&hosts, "host", "API host match pattern the Referer rule may rewrite, e.g. https://api.example.com/* (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, `Usage: go run ./build [-o DIR] [demo | test | service]

Builds the mpnet module (DIR/mpnet.wasm), the hostsim CLI (DIR/hostsim),
the team service (DIR/mpnet-team) and the extension (DIR/extension).
  demo     then runs hostsim, the team service and the extension on the bundled demo
  test     then runs go vet and every test against the built module and Worker
  service  then builds the team service's Cloudflare Worker (DIR/worker)

`)
		flag.PrintDefaults()
	}
	flag.Parse()
	err := build(*out)
	if err == nil {
		switch flag.Arg(0) {
		case "":
		case "demo":
			err = demo(*out)
		case "test":
			err = test(*out)
		case "service":
			err = worker(*out)
		default:
			flag.Usage()
			os.Exit(2)
		}
	}
	if err != nil {
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
	team := filepath.Join(out, "mpnet-team")
	if runtime.GOOS == "windows" {
		team += ".exe"
	}
	if err := goBuild(nil, "-trimpath", "-o", team, "./service/cmd/mpnet-team"); err != nil {
		return err
	}
	fmt.Printf("service %s\n", team)
	if err := run(nil, "bash", "scripts/install-deps.sh", "--npm-only"); err != nil {
		return err
	}
	rules := filepath.Join(out, "rules.html")
	if err := os.WriteFile(rules, docs.RulesHTML(), 0o644); err != nil {
		return err
	}
	args := []string{"build/bundle.mjs", "--out", filepath.Join(out, "extension"), "--wasm", wasm, "--rules", rules}
	for _, c := range configs {
		args = append(args, "--config", c)
	}
	for _, o := range origins {
		args = append(args, "--origin", o)
	}
	for _, h := range hosts {
		args = append(args, "--host", h)
	}
	if err := run(nil, "node", args...); err != nil {
		return err
	}
	zipPath := filepath.Join(out, "mpnet-extension.zip")
	if err := zipDir(filepath.Join(out, "extension"), zipPath); err != nil {
		return err
	}
	fmt.Printf("zip     %s\n", zipPath)
	return nil
}

// zipEpoch is every zip entry's modification time: a fixed one, so that the
// same tree gives the same zip (the files' own times differ per checkout).
var zipEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// zipDir packs dir's files into a zip (for the Chrome Web Store or sharing),
// reproducibly: entries in byte order of their paths, fixed times and modes.
func zipDir(dir, path string) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, name := range names {
		hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipEpoch}
		hdr.SetMode(0o644)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return zw.Close()
}

// checkReproducible builds everything again into a temporary directory and
// requires the module, the extension zip and the Worker's files to be
// byte-identical to out's (the Worker must be built into out first).
func checkReproducible(out string) error {
	tmp, err := os.MkdirTemp("", "mpnet-repro-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Println("$ (reproducibility) the same build again, into a temporary directory")
	if err := build(tmp); err != nil {
		return err
	}
	if err := buildworker.Build(filepath.Join(tmp, "worker")); err != nil {
		return err
	}
	names := []string{"mpnet.wasm", "mpnet-extension.zip"}
	for _, f := range buildworker.Files {
		names = append(names, filepath.Join("worker", f))
	}
	for _, name := range names {
		a, err := fileSHA(filepath.Join(out, name))
		if err != nil {
			return err
		}
		b, err := fileSHA(filepath.Join(tmp, name))
		if err != nil {
			return err
		}
		if a != b {
			return fmt.Errorf("the build is not reproducible: two builds of this tree gave different %s (sha256 %s and %s)", name, a[:16], b[:16])
		}
		fmt.Printf("reproducible  %s  sha256 %s\n", name, a[:16])
	}
	return nil
}

// demo shows hostsim on the bundled demo project: lint of its files, two
// checks, and the audit of a HAR saved from the demo preview.
func demo(out string) error {
	hostsim := filepath.Join(out, "hostsim")
	steps := [][]string{
		{"lint", "demo/project/project.config.json", "demo/project/app.json", "demo/project/domains.json"},
		{"check", "--config", "demo/mpnet.json", "--api", "request", "https://api.example.com/user/profile"},
		{"check", "--config", "demo/mpnet.json", "--api", "request", "https://ｌｏｃａｌｈｏｓｔ:3000/mock"},
		{"audit", "--config", "demo/mpnet.json", "demo/preview.har"},
	}
	for _, args := range steps {
		fmt.Printf("\n$ hostsim %s\n", strings.Join(args, " "))
		cmd := exec.Command(hostsim, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			// Exit status 1 means "found problems", which is the demo's point.
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				return fmt.Errorf("hostsim %s: %w", args[0], err)
			}
		}
	}
	// The browser half: the demo preview page with the extension loaded.
	if err := run(nil, "bash", "scripts/install-deps.sh"); err != nil {
		return err
	}
	fmt.Println()
	return run(nil, "node", "extension/tools/demo.mjs", "--out", filepath.Join(out, "demo"))
}

// worker builds the team service for Cloudflare Workers into out/worker
// (deploy it with service/worker/wrangler.toml: README.md, "Team service").
func worker(out string) error {
	dir := filepath.Join(out, "worker")
	if err := buildworker.Build(dir); err != nil {
		return err
	}
	st, err := os.Stat(filepath.Join(dir, "app.wasm"))
	if err != nil {
		return err
	}
	sum, err := fileSHA(filepath.Join(dir, "app.wasm"))
	if err != nil {
		return err
	}
	fmt.Printf("worker  %s  %.1f MB  sha256 %s\n", dir, float64(st.Size())/1e6, sum[:16])
	return nil
}

// test runs go vet and every Go test against the module and the Worker
// just built.
func test(out string) error {
	wasm, err := filepath.Abs(filepath.Join(out, "mpnet.wasm"))
	if err != nil {
		return err
	}
	if err := worker(out); err != nil {
		return err
	}
	if err := checkReproducible(out); err != nil {
		return err
	}
	workerDir, err := filepath.Abs(filepath.Join(out, "worker"))
	if err != nil {
		return err
	}
	env := []string{"MPNET_WASM=" + wasm, "MPNET_WORKER=" + workerDir}
	if err := run(env, "bash", "scripts/install-deps.sh"); err != nil {
		return err
	}
	if err := run(env, "go", "vet", "./..."); err != nil {
		return err
	}
	// The Worker's suite (workerd, busy on both cores) runs in a step of its
	// own, after the rest: beside it, the timing-bound tests of other
	// packages would see a slower machine than they are written for.
	if err := run(append(env, "MPNET_WORKER_LATER=1"), "go", "test", "-count=1", "-timeout", "30m", "./..."); err != nil {
		return err
	}
	if err := run(env, "go", "test", "-count=1", "-timeout", "10m", "-run", "^TestWorker", "-v", "./service/"); err != nil {
		return err
	}
	// The browser tests: the JS loader and UI helpers in Node, then the real
	// extension in Chromium.
	return run(env, "node", "--test", "--test-timeout=300000", "--test-concurrency=1", "extension/ui/", "extension/test/")
}

func run(env []string, name string, args ...string) error {
	fmt.Printf("$ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
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

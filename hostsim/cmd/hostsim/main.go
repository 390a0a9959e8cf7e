// Command hostsim behaves like the mini-program client natively, through the
// same mpnet WebAssembly module the browser extension runs.
//
//	hostsim check --config FILE --api API [--timeout MS] URL
//	hostsim lint FILE...
//	hostsim audit --config FILE [--json] HAR
//	hostsim request|uploadFile|downloadFile [--config FILE] ... URL
//	hostsim socket [--config FILE] wss://...
//	hostsim cert HOST[:PORT]...
//	hostsim serve
//	hostsim agent
//	hostsim rules [ID...]
//	hostsim version
//	hostsim gate [PROJECT_URL]
//
// Exit status: 0 allowed / no problems, 1 a call would fail on device or the
// configuration has problems, 2 bad input.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"mpnet/abi"
	"mpnet/hostsim"
	"mpnet/internal/bytesize"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `hostsim: the mini-program client's network rules, natively, through the mpnet module.

Usage:
  hostsim check --config FILE --api API [--timeout MS] URL
                           judge one call (API: request, uploadFile, downloadFile,
                           connectSocket, tcp, udp, resource); prints a JSON decision
  hostsim lint FILE...     report configuration problems (C1-C4) in project files
  hostsim audit --config FILE [--json] HAR
                           judge every request of a HAR saved from DevTools
  hostsim request [--config FILE] [--method M] [--header K:V]... [--data D] [--timeout MS] URL
                           make the call as the client would; print its callback
  hostsim uploadFile [--config FILE] --file PATH URL
  hostsim downloadFile [--config FILE] [--output PATH] URL
  hostsim socket [--config FILE] wss://URL...
                           open WebSockets as connectSocket would; stdin lines are sent
  hostsim cert [--roots FILE] HOST[:PORT]...
                           the R12 report: certificates and TLS, verdicts for iOS and Android
  hostsim serve [--ca FILE]
                           start fixture servers on loopback, one per fault
  hostsim agent [--listen 127.0.0.1:7460]
                           serve R12 reports to the extension paired with it
  hostsim rules [ID...]    the rules (C1-C6, R1-R15): the list, or each rule named
  hostsim version          the module's ABI version and sha256
  hostsim gate [--json] [--since 7d] [PROJECT_URL]
                           the team service's release gate: exit 1 when it fails

Calls that reach servers take --resolve HOST:PORT:ADDR (like curl) and
--roots FILE (trust these roots instead of the system's).

Every command takes --module PATH (default: $MPNET_WASM, else mpnet.wasm beside
this program, else dist/mpnet.wasm in this directory or a parent).
--config may be given several times; the files (mpnet.json, project.config.json,
app.json, manifest.json, admin console JSON) merge in order. --config may also
be a team service project's URL (https://HOST/v1/projects/APPID), with the
token in $MPNET_TOKEN; audit --report sends its findings there (or to $MPNET_SERVICE).

Exit status: 0 ok, 1 a call would fail on device / problems found, 2 bad input.
Run "hostsim COMMAND --help" for a command's flags.
`

// exitError carries an exit status and a message for stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func badInput(format string, a ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, a...)}
}

type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "check":
		err = e.check(args[1:])
	case "lint":
		err = e.lint(args[1:])
	case "audit":
		err = e.audit(args[1:])
	case "version":
		err = e.version(args[1:])
	case "request", "uploadFile", "downloadFile":
		err = e.request(args[0], args[1:])
	case "socket":
		err = e.socket(args[1:])
	case "cert":
		err = e.cert(args[1:])
	case "serve":
		err = e.serve(args[1:])
	case "agent":
		err = e.agent(args[1:])
	case "rules":
		err = e.rules(args[1:])
	case "gate":
		err = e.gate(args[1:]) // the team service (team.go)
	default:
		fmt.Fprintf(stderr, "hostsim: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err == nil {
		return 0
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if xe.msg != "" {
			fmt.Fprintln(stderr, "hostsim "+args[0]+": "+safeLines(xe.msg))
		}
		return xe.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "hostsim "+args[0]+": "+safeLines(err.Error()))
	return 2
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// flags makes a FlagSet with the common --module flag and a usage line.
func (e *env) flags(name, synopsis string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	module := fs.String("module", "", "path of the mpnet .wasm module")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: hostsim %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs, module
}

// parse parses flags, allowing them before and after positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &exitError{code: 2}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// findModule locates the .wasm: flag, $MPNET_WASM, beside the executable,
// then dist/mpnet.wasm in the working directory or a parent.
func findModule(flagPath string) (string, error) {
	if flagPath != "" {
		return flagPath, nil
	}
	if p := os.Getenv("MPNET_WASM"); p != "" {
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "mpnet.wasm")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, "dist", "mpnet.wasm")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", badInput("cannot find the mpnet module (mpnet.wasm): build it with `go run ./build`, or pass --module PATH or set MPNET_WASM")
}

// instance loads the module and starts one instance.
func (e *env) instance(modulePath string) (*hostsim.Module, *hostsim.Instance, error) {
	path, err := findModule(modulePath)
	if err != nil {
		return nil, nil, err
	}
	m, err := hostsim.Load(e.ctx, path, hostsim.Options{})
	if err != nil {
		return nil, nil, badInput("%v", err)
	}
	inst, err := m.NewInstance(e.ctx)
	if err != nil {
		m.Close(e.ctx)
		return nil, nil, badInput("%v", err)
	}
	return m, inst, nil
}

// readFiles reads configuration files for the module, each bounded before
// it is read (abi.MaxConfigFileSize, as many as abi.MaxConfigFiles).
func readFiles(paths []string) ([]abi.File, error) {
	if len(paths) > abi.MaxConfigFiles {
		return nil, badInput("%d configuration files; one import merges at most %d", len(paths), abi.MaxConfigFiles)
	}
	var files []abi.File
	for _, p := range paths {
		if isServiceURL(p) { // the team service's configuration (team.go)
			f, err := teamConfig(context.Background(), p)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
			continue
		}
		b, err := readBounded(p, abi.MaxConfigFileSize, "configuration files")
		if err != nil {
			return nil, err
		}
		files = append(files, abi.File{Name: p, Content: string(b)})
	}
	return files, nil
}

// readBounded reads the file at path, refusing it if it holds more than
// limit bytes: a regular file by its size, before reading; anything else
// (a FIFO, /dev/zero, a terminal) by reading at most limit+1 bytes. what
// names such files in the error.
func readBounded(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, badInput("%v", err)
	}
	defer f.Close()
	tooBig := func() error {
		return badInput("%s: larger than %s; %s are at most that", path, mib(limit), what)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, badInput("%v", err)
	}
	if st.IsDir() {
		return nil, badInput("%s is a directory", path)
	}
	if st.Mode().IsRegular() && st.Size() > limit {
		return nil, tooBig()
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, badInput("reading %s: %v", path, err)
	}
	if int64(len(b)) > limit {
		return nil, tooBig()
	}
	return b, nil
}

// mib writes a byte limit the way messages state limits ("4 MiB").
func mib(n int64) string { return bytesize.String(n) }

// formatProblem renders a configuration problem as file:line:col: RULE severity: message.
func formatProblem(p abi.Problem) string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(safe(p.File))
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.Line, p.Col)
		}
		b.WriteString(": ")
	}
	if p.Rule != "" {
		b.WriteString(safe(p.Rule) + " ")
	}
	b.WriteString(safe(p.Severity) + ": " + safe(p.Message))
	if p.Fix != "" {
		b.WriteString("\n    fix: " + safe(p.Fix))
	}
	return b.String()
}

// configure loads configuration files into inst; configuration errors are bad input.
func configure(ctx context.Context, inst *hostsim.Instance, paths []string, dryRun bool) (abi.ConfigureResult, error) {
	files, err := readFiles(paths)
	if err != nil {
		return abi.ConfigureResult{}, err
	}
	res, err := inst.Configure(ctx, abi.ConfigureRequest{Files: files, DryRun: dryRun})
	if err != nil {
		return res, badInput("%v", err)
	}
	if !res.OK {
		var lines []string
		for _, p := range res.Errors {
			lines = append(lines, formatProblem(p))
		}
		return res, badInput("the configuration cannot be used:\n%s", strings.Join(lines, "\n"))
	}
	return res, nil
}

// Package hostsim is the native host of the mpnet policy module: it loads the
// same .wasm the browser extension runs with wazero, keeps one module
// instance per simulated mini program, and offers a typed Go API over the
// module's JSON ABI (wasm/ABI.md).
//
// A Module compiles the .wasm once (with wazero's compilation cache on disk,
// keyed by the module's hash, so later processes start fast); each Instance
// is one mini program and is safe for concurrent use. When the module traps,
// the Instance replaces its wazero instance, restores the configuration and
// replays the events since the engine was last idle, then reports the trap.
package hostsim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"mpnet/abi"
	"mpnet/abi/wire"
	"mpnet/internal/decode"
)

// Options configure Load.
type Options struct {
	// CacheDir is the directory of wazero's compilation cache. Empty means
	// the user's cache directory (os.UserCacheDir()/mpnet/wazero); "-" disables
	// the cache.
	CacheDir string
	// CallTimeout bounds one call into the module (default 10 s); a call that
	// runs longer is stopped and treated as a trap.
	CallTimeout time.Duration
}

// Module is a compiled mpnet module.
type Module struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	// SHA256 is the hex digest of the .wasm bytes.
	SHA256 string
	// ABI is the module's ABI version.
	ABI         int
	callTimeout time.Duration

	spareMu sync.Mutex
	spare   *Instance // the instance LoadBytes started, handed out first
}

// DefaultCacheDir returns the compilation cache directory used when
// Options.CacheDir is empty.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "mpnet", "wazero")
}

// Load reads and compiles the module at path.
func Load(ctx context.Context, path string, opts Options) (*Module, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the mpnet module: %w (build it with `go run ./build`)", err)
	}
	m, err := LoadBytes(ctx, bin, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// LoadBytes compiles a module from its bytes and checks its ABI version.
func LoadBytes(ctx context.Context, bin []byte, opts Options) (*Module, error) {
	sum := sha256.Sum256(bin)
	// No WithCloseOnContextDone: its termination checks at every function
	// entry and loop made each call 3.4x slower (docs/RATIONALE.md); the
	// module does no I/O and never sleeps; a runaway loop would hang hostsim
	// as it would hang the page (V8 cannot interrupt it either).
	rc := wazero.NewRuntimeConfig()
	if opts.CacheDir != "-" {
		dir := opts.CacheDir
		if dir == "" {
			dir = DefaultCacheDir()
		}
		if cache, err := wazero.NewCompilationCacheWithDir(dir); err == nil {
			rc = rc.WithCompilationCache(cache)
		}
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("instantiating WASI: %w", err)
	}
	compiled, err := rt.CompileModule(ctx, bin)
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("not a valid WebAssembly module: %w", err)
	}
	m := &Module{rt: rt, compiled: compiled, SHA256: hex.EncodeToString(sum[:]), callTimeout: opts.CallTimeout}
	if m.callTimeout <= 0 {
		m.callTimeout = 10 * time.Second
	}
	for _, name := range exports {
		if _, ok := compiled.ExportedFunctions()[name]; !ok {
			rt.Close(ctx)
			return nil, fmt.Errorf("not an mpnet module: export %s is missing", name)
		}
	}
	inst, err := m.NewInstance(ctx)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	m.ABI = inst.abi
	m.spare = inst
	return m, nil
}

// Close releases the runtime and every instance.
func (m *Module) Close(ctx context.Context) error { return m.rt.Close(ctx) }

var exports = []string{"mpnet_abi_version", "mpnet_buffer", "mpnet_configure", "mpnet_check", "mpnet_step", "mpnet_body", "mpnet_judge_tls", "mpnet_status", "mpnet_debug"}

// Instance is one simulated mini program running in its own module instance.
type Instance struct {
	m      *Module
	mu     sync.Mutex
	mod    api.Module
	fns    map[string]api.Function
	stderr bytes.Buffer
	abi    int
	inPtr  uint32 // the module's input buffer (mpnet_buffer) and its size
	inCap  int

	// Restoring state after a trap.
	config []byte            // the last configure message that succeeded (not dry runs)
	replay [][]byte          // step messages since the engine was last idle
	sticky map[string][]byte // "tls" and "tlsSource" step messages by server: engine knowledge that outlives idleness

	// replayLost is set when the replay log outgrew MaxReplay: a restart
	// then restores the configuration but not the calls in flight.
	replayLost bool

	// Restarts counts how many times the instance was replaced after a trap.
	Restarts int
}

// MaxReplay bounds the events kept for replay after a trap. An engine that
// is never idle (a socket open for hours) would otherwise keep every event.
const MaxReplay = 50000

// NewInstance starts a fresh instance of the module.
func (m *Module) NewInstance(ctx context.Context) (*Instance, error) {
	m.spareMu.Lock()
	spare := m.spare
	m.spare = nil
	m.spareMu.Unlock()
	if spare != nil {
		return spare, nil
	}
	i := &Instance{m: m}
	if err := i.start(ctx); err != nil {
		return nil, err
	}
	return i, nil
}

func (i *Instance) start(ctx context.Context) error {
	i.stderr.Reset()
	cfg := wazero.NewModuleConfig().WithName("").WithSysNanotime().WithSysWalltime().WithStartFunctions("_initialize").WithStderr(&limitedWriter{w: &i.stderr, n: 64 << 10})
	mod, err := i.m.rt.InstantiateModule(ctx, i.m.compiled, cfg)
	if err != nil {
		return fmt.Errorf("starting the mpnet module: %w%s", err, i.stderrNote())
	}
	i.mod, i.inPtr, i.inCap = mod, 0, 0
	i.fns = map[string]api.Function{}
	for _, name := range exports {
		i.fns[name] = mod.ExportedFunction(name)
	}
	res, err := i.fns["mpnet_abi_version"].Call(ctx)
	if err != nil {
		return fmt.Errorf("mpnet_abi_version: %w", err)
	}
	i.abi = int(uint32(res[0]))
	if i.abi != abi.Version {
		mod.Close(ctx)
		return fmt.Errorf("the module speaks ABI version %d, this hostsim understands version %d: rebuild both from the same tree", i.abi, abi.Version)
	}
	return nil
}

func (i *Instance) stderrNote() string {
	s := bytes.TrimSpace(i.stderr.Bytes())
	if len(s) == 0 {
		return ""
	}
	if len(s) > 2000 {
		s = s[:2000]
	}
	return "\nmodule stderr:\n" + string(s)
}

// Close releases the instance.
func (i *Instance) Close(ctx context.Context) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.mod == nil {
		return nil
	}
	err := i.mod.Close(ctx)
	i.mod = nil
	return err
}

// ModuleError is an error answer from the module (abi.ErrorInfo).
type ModuleError struct {
	Export string
	abi.ErrorInfo
}

func (e *ModuleError) Error() string { return e.Export + ": " + e.Message }

// TrapError reports that the module trapped (panicked, ran out of memory or
// time). The instance has already been replaced and its state restored.
type TrapError struct {
	Export string
	Err    error
	Stderr string
}

func (e *TrapError) Error() string {
	msg := fmt.Sprintf("the mpnet module trapped in %s: %v; the instance was replaced", e.Export, e.Err)
	if e.Stderr != "" {
		msg += "\nmodule stderr:\n" + e.Stderr
	}
	return msg
}

func (e *TrapError) Unwrap() error { return e.Err }

// call runs an export with msg as input and returns a copy of the answer.
// The caller holds i.mu.
func (i *Instance) call(ctx context.Context, export string, msg []byte) ([]byte, error) {
	if i.mod == nil {
		return nil, errors.New("hostsim: instance is closed")
	}
	out, err := i.rawCall(ctx, export, msg)
	if err == nil {
		return out, nil
	}
	trap := &TrapError{Export: export, Err: err, Stderr: string(bytes.TrimSpace(i.stderr.Bytes()))}
	if rerr := i.restart(ctx); rerr != nil {
		return nil, fmt.Errorf("%v; restarting it failed too: %w", trap, rerr)
	}
	return nil, trap
}

func (i *Instance) rawCall(ctx context.Context, export string, msg []byte) ([]byte, error) {
	var args []uint64
	switch export {
	case "mpnet_status":
	case "mpnet_debug":
		args = []uint64{uint64(binary.LittleEndian.Uint32(append(msg, 0, 0, 0, 0)))}
	default:
		if len(msg) > i.inCap || i.inCap == 0 {
			// The buffer stays valid until the next mpnet_buffer call
			// (ABI.md), so it is asked for only when it must grow.
			size := max(len(msg), 4096)
			res, err := i.fns["mpnet_buffer"].Call(ctx, uint64(size))
			if err != nil {
				return nil, err
			}
			i.inPtr, i.inCap = uint32(res[0]), size
		}
		if !i.mod.Memory().Write(i.inPtr, msg) {
			return nil, fmt.Errorf("mpnet_buffer returned %#x, outside memory", i.inPtr)
		}
		args = []uint64{uint64(len(msg))}
	}
	res, err := i.fns[export].Call(ctx, args...)
	if err != nil {
		return nil, err
	}
	ptr, n := uint32(res[0]>>32), uint32(res[0])
	b, ok := i.mod.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("%s answered %d bytes at %#x, outside memory", export, n, ptr)
	}
	return bytes.Clone(b), nil
}

// restart replaces a trapped instance and restores its configuration and
// the engine state (by replaying the events since it was last idle).
func (i *Instance) restart(ctx context.Context) error {
	i.Restarts++
	if i.mod != nil {
		i.mod.Close(ctx)
		i.mod = nil
	}
	if err := i.start(ctx); err != nil {
		return err
	}
	if i.config != nil {
		if _, err := i.rawCall(ctx, "mpnet_configure", i.config); err != nil {
			return fmt.Errorf("restoring the configuration: %w", err)
		}
	}
	for _, ev := range i.sticky {
		if _, err := i.rawCall(ctx, "mpnet_step", ev); err != nil {
			return fmt.Errorf("replaying TLS verdicts: %w", err)
		}
	}
	for _, ev := range i.replay {
		if _, err := i.rawCall(ctx, "mpnet_step", ev); err != nil {
			return fmt.Errorf("replaying events: %w", err)
		}
	}
	if i.replayLost {
		i.replay, i.replayLost = nil, false
		return fmt.Errorf("more than %d events since the engine was last idle were not kept: the configuration is restored, the calls in flight are forgotten", MaxReplay)
	}
	return nil
}

// decodeAnswer unmarshals an answer, turning error answers into *ModuleError.
func decodeAnswer(export string, b []byte, v any) error {
	if bytes.HasPrefix(b, []byte(`{"error":`)) {
		var e abi.ErrorResult
		if err := json.Unmarshal(b, &e); err == nil {
			return &ModuleError{Export: export, ErrorInfo: e.Error}
		}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: cannot read the module's answer: %w", export, err)
	}
	return nil
}

// Raw sends a message as-is to an export ("configure", "check", "step",
// "body", "status" or "debug", with or without the "mpnet_" prefix) and
// returns the answer's bytes. It is for conformance tests, fuzzing and
// hosts that speak JSON themselves.
func (i *Instance) Raw(ctx context.Context, export string, msg []byte) ([]byte, error) {
	return i.raw(ctx, export, msg, false)
}

// raw is Raw; plain says msg is a step event known to carry no R12 knowledge
// (Step wrote it), which spares remember decoding it again.
func (i *Instance) raw(ctx context.Context, export string, msg []byte, plain bool) ([]byte, error) {
	if len(export) < 6 || export[:6] != "mpnet_" {
		export = "mpnet_" + export
	}
	if _, ok := i.fns[export]; !ok {
		return nil, fmt.Errorf("hostsim: no export %s", export)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	out, err := i.call(ctx, export, msg)
	if err != nil {
		return nil, err
	}
	i.remember(export, msg, out, plain)
	return out, nil
}

// remember keeps what restart needs after a successful call.
func (i *Instance) remember(export string, msg, out []byte, plain bool) {
	if bytes.HasPrefix(out, []byte(`{"error":`)) {
		return
	}
	switch export {
	case "mpnet_configure":
		var req struct {
			DryRun bool `json:"dryRun"`
		}
		var res struct {
			OK bool `json:"ok"`
		}
		if json.Unmarshal(msg, &req) == nil && !req.DryRun && json.Unmarshal(out, &res) == nil && res.OK {
			i.config = bytes.Clone(msg)
		}
	case "mpnet_step":
		var ev struct {
			Type string          `json:"type"`
			TLS  *abi.TLSVerdict `json:"tls"`
		}
		// What the engine knows about R12 outlives idleness: verdicts, the
		// servers none can be had for, and that a source of verdicts exists.
		var fast abi.Event // events the fast decoder takes carry no verdict
		sticky := ""
		if !plain {
			if wire.DecodeEvent(msg, &fast) {
				if fast.Type == abi.EvTLSSource {
					sticky = "source"
				} else if fast.Type == abi.EvTLS && fast.Server != "" {
					sticky = "none " + fast.Server
				}
			} else if json.Unmarshal(msg, &ev) == nil && ev.Type == abi.EvTLS && ev.TLS != nil {
				sticky = fmt.Sprintf("%s:%d", ev.TLS.Host, ev.TLS.Port)
			}
		}
		if sticky != "" {
			if i.sticky == nil {
				i.sticky = map[string][]byte{}
			}
			if _, known := i.sticky[sticky]; known || len(i.sticky) < 2*MaxReplay {
				i.sticky[sticky] = bytes.Clone(msg)
			}
			return
		}
		if idleAnswer(out) {
			i.replay, i.replayLost = i.replay[:0], false
			return
		}
		if i.replayLost {
			return
		}
		if len(i.replay) >= MaxReplay {
			i.replay, i.replayLost = nil, true
			return
		}
		i.replay = append(i.replay, bytes.Clone(msg))
	}
}

// idleSuffix ends every step answer after which the engine is idle: the
// module encodes StepResult's fields in declaration order, as encoding/json
// does (abi/wire's tests hold it to that).
var idleSuffix = []byte(`"inFlight":0,"queued":0,"sockets":0,"hidden":false}`)

func idleAnswer(out []byte) bool { return bytes.HasSuffix(out, idleSuffix) }

func (i *Instance) do(ctx context.Context, export string, req, res any) error {
	msg, err := json.Marshal(req)
	if err != nil {
		return err
	}
	out, err := i.Raw(ctx, export, msg)
	if err != nil {
		return err
	}
	return decodeAnswer(export, out, res)
}

// Configure loads configuration (files in any supported format, or a
// structured config). A result with OK false carries the errors; the engine
// then keeps its previous configuration.
func (i *Instance) Configure(ctx context.Context, req abi.ConfigureRequest) (abi.ConfigureResult, error) {
	var r abi.ConfigureResult
	err := i.do(ctx, "mpnet_configure", req, &r)
	return r, err
}

// Check judges one call as a release build on a device would.
func (i *Instance) Check(ctx context.Context, req abi.CheckRequest) (abi.Decision, error) {
	var d abi.Decision
	err := i.do(ctx, "mpnet_check", req, &d)
	return d, err
}

// Step reports an event and returns the actions to carry out.
func (i *Instance) Step(ctx context.Context, ev abi.Event) (abi.StepResult, error) {
	var r abi.StepResult
	msg, ok := wire.AppendEvent(nil, &ev)
	if !ok {
		err := i.do(ctx, "mpnet_step", ev, &r)
		return r, err
	}
	// R12 knowledge (a "tls" event without a verdict, "tlsSource") is kept
	// apart from the replay log: remember reads those messages itself.
	out, err := i.raw(ctx, "mpnet_step", msg, ev.Type != abi.EvTLS && ev.Type != abi.EvTLSSource)
	if err != nil {
		return r, err
	}
	if wire.DecodeStepResult(out, &r) {
		return r, nil
	}
	err = decodeAnswer("mpnet_step", out, &r)
	return r, err
}

// JudgeTLS has the module judge a server's TLS facts (R12).
func (i *Instance) JudgeTLS(ctx context.Context, f abi.TLSFacts) (abi.TLSVerdict, error) {
	var v abi.TLSVerdict
	err := i.do(ctx, "mpnet_judge_tls", f, &v)
	return v, err
}

// Status returns the engine's counters.
func (i *Instance) Status(ctx context.Context) (abi.Status, error) {
	out, err := i.Raw(ctx, "mpnet_status", nil)
	if err != nil {
		return abi.Status{}, err
	}
	var s abi.Status
	return s, decodeAnswer("mpnet_status", out, &s)
}

// Body applies R10 to a response body and returns the body to deliver. A
// body in a legacy charset is converted here, natively, when the module
// asks (internal/decode).
func (i *Instance) Body(ctx context.Context, req abi.BodyRequest, body []byte) (abi.BodyResult, []byte, error) {
	hdr, err := json.Marshal(req)
	if err != nil {
		return abi.BodyResult{}, nil, err
	}
	out, err := i.BodyRaw(ctx, abi.Frame(hdr, body))
	if err != nil {
		return abi.BodyResult{}, nil, err
	}
	h, payload, err := abi.Unframe(out)
	if err != nil {
		return abi.BodyResult{}, nil, fmt.Errorf("mpnet_body: %w", err)
	}
	var r abi.BodyResult
	if err := decodeAnswer("mpnet_body", h, &r); err != nil {
		return abi.BodyResult{}, nil, err
	}
	return r, payload, nil
}

// BodyRaw is Body on a framed message (abi.BodyRequest header, raw body),
// answering the module's framed answer; the conversion the module may ask
// for is done here.
func (i *Instance) BodyRaw(ctx context.Context, msg []byte) ([]byte, error) {
	return decode.Body(func(m []byte) ([]byte, error) { return i.Raw(ctx, "mpnet_body", m) }, msg)
}

// Debug runs a test hook of the module: 1 = garbage collection, 2 = a
// deliberate trap, 3 = memory statistics.
func (i *Instance) Debug(ctx context.Context, op uint32) ([]byte, error) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], op)
	return i.Raw(ctx, "mpnet_debug", b[:])
}

type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.n - l.w.Len(); room > 0 {
		if len(p) > room {
			l.w.Write(p[:room])
		} else {
			l.w.Write(p)
		}
	}
	return len(p), nil
}

// Package wasmsnap pre-initialises a WebAssembly reactor: it runs the
// module's _initialize (and a warm-up the caller supplies) once, at build
// time, under wazero, and writes a new module whose memory and globals start
// in the state that left, with _initialize replaced by a function that does
// nothing. Every instance of the result starts where the warm-up ended,
// without running the Go runtime's start-up and package initialisation
// again (see docs/RATIONALE.md for what it saves and what it assumes).
//
// What the snapshot keeps is exactly linear memory and the module's own
// globals; a module whose state lives anywhere else (host objects, tables
// changed at run time, a start section) is refused or must not be given.
package wasmsnap

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Section ids of the WebAssembly binary format.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secMemory   = 5
	secGlobal   = 6
	secExport   = 7
	secStart    = 8
	secCode     = 10
	secData     = 11
	secDataCnt  = 12
)

type section struct {
	id   byte
	body []byte
}

func parse(bin []byte) ([]section, error) {
	if len(bin) < 8 || !bytes.Equal(bin[:4], []byte("\x00asm")) || binary.LittleEndian.Uint32(bin[4:8]) != 1 {
		return nil, errors.New("not a WebAssembly 1.0 binary")
	}
	var out []section
	r := reader{b: bin, i: 8}
	for r.i < len(r.b) {
		id := r.byte()
		n := r.u32()
		if r.err != nil || r.i+int(n) > len(r.b) {
			return nil, fmt.Errorf("section %d at %d overruns the file", id, r.i)
		}
		out = append(out, section{id: id, body: r.b[r.i : r.i+int(n)]})
		r.i += int(n)
	}
	return out, r.err
}

type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) byte() byte {
	if r.i >= len(r.b) {
		r.err = errors.New("unexpected end")
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) u32() uint32 {
	v, n := binary.Uvarint(r.b[min(r.i, len(r.b)):])
	if n <= 0 || v > math.MaxUint32 {
		r.err = errors.New("bad LEB128")
		return 0
	}
	r.i += n
	return uint32(v)
}

func (r *reader) name() string {
	n := int(r.u32())
	if r.err != nil || r.i+n > len(r.b) {
		r.err = errors.New("bad name")
		return ""
	}
	s := string(r.b[r.i : r.i+n])
	r.i += n
	return s
}

// skipExpr skips a constant expression up to and including its end (0x0B).
// Constant expressions here are single instructions.
func (r *reader) skipExpr() {
	switch op := r.byte(); op {
	case 0x41: // i32.const
		r.sleb()
	case 0x42: // i64.const
		r.sleb()
	case 0x43: // f32.const
		r.i += 4
	case 0x44: // f64.const
		r.i += 8
	case 0x23: // global.get
		r.u32()
	default:
		r.err = fmt.Errorf("unsupported constant expression opcode 0x%02x", op)
	}
	if r.byte() != 0x0B {
		r.err = errors.New("constant expression does not end after one instruction")
	}
}

func (r *reader) sleb() {
	for r.err == nil {
		if r.byte()&0x80 == 0 {
			return
		}
	}
}

func appendU32(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte { return append(appendU32(b, uint32(len(s))), s...) }

type global struct {
	valtype byte
	mutable bool
}

type module struct {
	secs          []section
	importedFuncs uint32
	importedGlobs uint32
	funcs         uint32 // defined functions
	globals       []global
	exports       []export
	memories      int
}

type export struct {
	name  string
	kind  byte
	index uint32
}

func analyse(bin []byte) (*module, error) {
	secs, err := parse(bin)
	if err != nil {
		return nil, err
	}
	m := &module{secs: secs}
	for _, s := range secs {
		r := reader{b: s.body}
		switch s.id {
		case secImport:
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				r.name()
				r.name()
				switch kind := r.byte(); kind {
				case 0:
					r.u32()
					m.importedFuncs++
				case 3:
					r.byte()
					r.byte()
					m.importedGlobs++
				default:
					return nil, fmt.Errorf("imports of kind %d (tables, memories) are not supported", kind)
				}
			}
		case secFunction:
			m.funcs = r.u32()
		case secMemory:
			m.memories = int(r.u32())
		case secGlobal:
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				g := global{valtype: r.byte(), mutable: r.byte() == 1}
				r.skipExpr()
				m.globals = append(m.globals, g)
			}
		case secExport:
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				e := export{name: r.name(), kind: r.byte()}
				e.index = r.u32()
				m.exports = append(m.exports, e)
			}
		case secStart:
			return nil, errors.New("the module has a start section: its state cannot be snapshotted")
		}
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", s.id, r.err)
		}
	}
	if m.memories != 1 {
		return nil, fmt.Errorf("the module defines %d memories, want exactly 1", m.memories)
	}
	return m, nil
}

func (m *module) exportIndex(name string, kind byte) (uint32, bool) {
	for _, e := range m.exports {
		if e.name == name && e.kind == kind {
			return e.index, true
		}
	}
	return 0, false
}

// globalExport names the export the instrumented module adds for global i.
func globalExport(i int) string { return fmt.Sprintf("__wasmsnap_global_%d", i) }

// instrument returns the module with every defined global exported, so that
// the host can read their values after initialisation.
func (m *module) instrument() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, s := range m.secs {
		body := s.body
		if s.id == secExport {
			b := appendU32(nil, uint32(len(m.exports)+len(m.globals)))
			r := reader{b: s.body}
			r.u32()
			b = append(b, s.body[r.i:]...)
			for i := range m.globals {
				b = appendName(b, globalExport(i))
				b = append(b, 3)
				b = appendU32(b, m.importedGlobs+uint32(i))
			}
			body = b
		}
		out = append(out, s.id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	return out
}

// Warm is run on the initialised instance before the snapshot is taken.
type Warm func(ctx context.Context, mod api.Module) error

// Snapshot pre-initialises bin (see the package comment). The clock the
// module sees while it runs starts at zero and advances 1 ns per reading, so
// that any host's monotonic clock is ahead of every time it remembers.
//
// The result is a function of bin and warm only: the module's every input is
// fixed here (monotonic and wall clocks that count readings, the random
// source wazero's deterministic one), so two builds of one commit are
// byte-identical. The Go runtime writes the wall time of each collection
// into its memory (MemStats.LastGC, PauseEnd), which a real wall clock made
// differ on every build.
func Snapshot(ctx context.Context, bin []byte, warm Warm) ([]byte, error) {
	m, err := analyse(bin)
	if err != nil {
		return nil, err
	}
	initFn, ok := m.exportIndex("_initialize", 0)
	if !ok {
		return nil, errors.New("the module exports no _initialize: not a reactor")
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
	defer rt.Close(ctx)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, err
	}
	var tick, wall int64
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize").
		WithNanotime(func() int64 { tick++; return tick }, 1).
		WithWalltime(func() (int64, int32) { wall++; return wall / 1e9, int32(wall % 1e9) }, 1).
		WithRandSource(rand.NewChaCha8(seed))
	mod, err := rt.InstantiateWithConfig(ctx, m.instrument(), cfg)
	if err != nil {
		return nil, fmt.Errorf("initialising the module: %w", err)
	}
	if warm != nil {
		if err := warm(ctx, mod); err != nil {
			return nil, fmt.Errorf("warming the module up: %w", err)
		}
	}
	values := make([]uint64, len(m.globals))
	for i := range m.globals {
		g := mod.ExportedGlobal(globalExport(i))
		if g == nil {
			return nil, fmt.Errorf("global %d was not exported", i)
		}
		values[i] = g.Get()
	}
	size := mod.Memory().Size()
	mem, ok := mod.Memory().Read(0, size)
	if !ok {
		return nil, errors.New("cannot read memory")
	}
	return m.rebuild(values, mem, initFn)
}

// seed keys the snapshot's random source: the seeds the runtime draws at
// start-up (map hashes) are the same in every build and every instance,
// which RATIONALE ("A pre-initialised module") explains is no loss here.
var seed = [32]byte([]byte("mpnet wasmsnap: fixed seed 00001"))

// gap is the shortest run of zero bytes worth a segment of its own: a new
// instance's memory is zero already, and a segment header costs about 8
// bytes.
const gap = 16

// nonZero returns the [start, end) ranges of mem to put in data segments:
// every non-zero byte, with zero runs shorter than gap kept inside.
func nonZero(mem []byte) [][2]int {
	var out [][2]int
	start, zeros := -1, 0
	for i, c := range mem {
		if c != 0 {
			if start < 0 {
				start = i
			}
			zeros = 0
			continue
		}
		if start >= 0 {
			zeros++
			if zeros >= gap {
				out = append(out, [2]int{start, i - zeros + 1})
				start, zeros = -1, 0
			}
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(mem) - zeros})
	}
	return out
}

func (m *module) rebuild(values []uint64, mem []byte, initFn uint32) ([]byte, error) {
	// The new _initialize: a function of _initialize's type that returns at once.
	var typeIdx uint32
	var haveType bool
	for _, s := range m.secs {
		if s.id == secFunction {
			r := reader{b: s.body}
			n := r.u32()
			def := initFn - m.importedFuncs
			if initFn < m.importedFuncs || def >= n {
				return nil, errors.New("_initialize is not a function defined by the module")
			}
			for i := uint32(0); i <= def; i++ {
				typeIdx = r.u32()
			}
			haveType = r.err == nil
		}
	}
	if !haveType {
		return nil, errors.New("cannot find _initialize's type")
	}
	noop := m.importedFuncs + m.funcs
	segments := 0
	var data []byte
	for _, r := range nonZero(mem) {
		data = append(data, 0) // active, memory 0
		data = append(data, 0x41)
		data = appendS64(data, int64(int32(uint32(r[0]))))
		data = append(data, 0x0B)
		data = appendU32(data, uint32(r[1]-r[0]))
		data = append(data, mem[r[0]:r[1]]...)
		segments++
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	for _, s := range m.secs {
		switch s.id {
		case secFunction:
			r := reader{b: s.body}
			n := r.u32()
			b := appendU32(nil, n+1)
			b = append(b, s.body[r.i:]...)
			emit(s.id, appendU32(b, typeIdx))
		case secMemory:
			r := reader{b: s.body}
			r.u32()
			flags := r.byte()
			r.u32() // old minimum
			b := appendU32(nil, 1)
			b = append(b, flags)
			b = appendU32(b, uint32(len(mem)/65536))
			if flags&1 != 0 {
				b = appendU32(b, r.u32())
			}
			if r.err != nil {
				return nil, fmt.Errorf("memory section: %w", r.err)
			}
			emit(s.id, b)
		case secGlobal:
			b := appendU32(nil, uint32(len(m.globals)))
			for i, g := range m.globals {
				mut := byte(0)
				if g.mutable {
					mut = 1
				}
				b = append(b, g.valtype, mut)
				switch g.valtype {
				case 0x7F:
					b = appendS64(append(b, 0x41), int64(int32(uint32(values[i]))))
				case 0x7E:
					b = appendS64(append(b, 0x42), int64(values[i]))
				case 0x7D:
					b = binary.LittleEndian.AppendUint32(append(b, 0x43), uint32(values[i]))
				case 0x7C:
					b = binary.LittleEndian.AppendUint64(append(b, 0x44), values[i])
				default:
					return nil, fmt.Errorf("global %d has type 0x%02x, not a number", i, g.valtype)
				}
				b = append(b, 0x0B)
			}
			emit(s.id, b)
		case secExport:
			b := appendU32(nil, uint32(len(m.exports)))
			for _, e := range m.exports {
				b = appendName(b, e.name)
				b = append(b, e.kind)
				if e.name == "_initialize" && e.kind == 0 {
					b = appendU32(b, noop)
				} else {
					b = appendU32(b, e.index)
				}
			}
			emit(s.id, b)
		case secCode:
			r := reader{b: s.body}
			n := r.u32()
			b := appendU32(nil, n+1)
			b = append(b, s.body[r.i:]...)
			emit(s.id, append(b, 2, 0, 0x0B)) // body size 2: no locals, end
		case secData:
			b := appendU32(nil, uint32(segments))
			emit(s.id, append(b, data...))
		case secDataCnt:
			emit(s.id, appendU32(nil, uint32(segments)))
		default:
			emit(s.id, s.body)
		}
	}
	return out, nil
}

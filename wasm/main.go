//go:build wasip1

// Command wasm is the mpnet policy module: GOOS=wasip1 GOARCH=wasm,
// -buildmode=c-shared (a reactor). Its exports are documented in ABI.md.
//
// Conventions: the host asks mpnet_buffer for an input buffer of the size it
// needs, writes the message there, and calls an entry point with the
// message's length. The answer's pointer and length come back packed in one
// i64 (ptr<<32 | len) and stay valid until the next call into the module.
package main

import (
	"runtime"
	"unsafe"

	"mpnet/abi"
	"mpnet/wasm/serve"
)

func main() {}

var (
	inst  = serve.New()
	inBuf []byte // the host writes messages here
	out   []byte // the last answer, kept reachable until the next call
)

func pack(b []byte) uint64 {
	out = b
	if len(b) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(&b[0])))<<32 | uint64(len(b))
}

func input(n uint32) []byte {
	if int(n) > len(inBuf) {
		return nil
	}
	return inBuf[:n]
}

// mpnet_abi_version returns the ABI version (abi.Version).
//
//go:wasmexport mpnet_abi_version
func abiVersion() uint32 { return abi.Version }

// mpnet_buffer returns the address of an input buffer of at least size bytes.
// Calling it may grow memory: hosts must refresh their views of memory.
//
//go:wasmexport mpnet_buffer
func buffer(size uint32) uint32 {
	out = nil
	if int(size) > cap(inBuf) {
		inBuf = make([]byte, size)
	}
	inBuf = inBuf[:cap(inBuf)]
	if len(inBuf) == 0 {
		inBuf = make([]byte, 1)
	}
	return uint32(uintptr(unsafe.Pointer(&inBuf[0])))
}

func badLength(n uint32) uint64 {
	return pack([]byte(`{"error":{"code":"bad_message","message":"message length exceeds the buffer from mpnet_buffer"}}`))
}

// mpnet_configure loads configuration files (abi.ConfigureRequest).
//
//go:wasmexport mpnet_configure
func configure(n uint32) uint64 {
	msg := input(n)
	if msg == nil && n > 0 {
		return badLength(n)
	}
	return pack(inst.Configure(msg))
}

// mpnet_check judges one call without touching the engine (abi.CheckRequest).
//
//go:wasmexport mpnet_check
func check(n uint32) uint64 {
	msg := input(n)
	if msg == nil && n > 0 {
		return badLength(n)
	}
	return pack(inst.Check(msg))
}

// mpnet_step applies one event to the engine (abi.Event).
//
//go:wasmexport mpnet_step
func step(n uint32) uint64 {
	msg := input(n)
	if msg == nil && n > 0 {
		return badLength(n)
	}
	return pack(inst.Step(msg))
}

// mpnet_body applies R10 to a response body (framed abi.BodyRequest + bytes).
//
//go:wasmexport mpnet_body
func bodyExport(n uint32) uint64 {
	msg := input(n)
	if msg == nil && n > 0 {
		return badLength(n)
	}
	return pack(inst.Body(msg))
}

// mpnet_judge_tls judges a server's certificates and TLS (abi.TLSFacts, R12).
//
//go:wasmexport mpnet_judge_tls
func judgeTLS(n uint32) uint64 {
	msg := input(n)
	if msg == nil && n > 0 {
		return badLength(n)
	}
	return pack(inst.JudgeTLS(msg))
}

// mpnet_status reports the engine's counters (abi.Status).
//
//go:wasmexport mpnet_status
func status() uint64 { return pack(inst.Status()) }

// mpnet_debug is a test hook: op 1 runs a garbage collection, op 2 panics
// without recovering (the module traps: hosts must replace the instance),
// op 3 reports memory statistics as JSON.
//
//go:wasmexport mpnet_debug
func debug(op uint32) uint64 {
	switch op {
	case 1:
		runtime.GC()
		return pack([]byte(`{"ok":true}`))
	case 2:
		panic("mpnet_debug: deliberate trap")
	case 3:
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return pack(serve.MemJSON(m.HeapAlloc, m.HeapSys, m.NumGC))
	}
	return pack([]byte(`{"error":{"code":"bad_message","message":"unknown debug op"}}`))
}

package hostsim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mpnet/abi"
	"mpnet/internal/buildwasm"
	"mpnet/wasm/serve"
)

// benchCase is bench/decision.json: the configuration (50 domains per
// list, like a large production mini program) and the URLs that every host
// of the benchmark decides, V8 included (bench/lib/decision.mjs).
var benchCase = func() (c struct {
	Config json.RawMessage `json:"config"`
	URLs   []string        `json:"urls"`
}) {
	b, err := os.ReadFile(filepath.Join(buildwasm.Root(), "bench", "decision.json"))
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || len(c.URLs) < 2 {
		panic(fmt.Sprintf("bench/decision.json: %v", err))
	}
	return c
}()

// realisticConfig is benchCase's configuration, as an mpnet.json.
func realisticConfig() string { return string(benchCase.Config) }

var benchURLs = benchCase.URLs

// nativeConfigured is serve.New configured with realisticConfig: the
// policy compiled natively, the floor of the wasm benchmarks.
func nativeConfigured(b *testing.B) *serve.Instance {
	s := serve.New()
	cfg := fmt.Sprintf(`{"files":[{"name":"mpnet.json","content":%q}]}`, realisticConfig())
	if out := s.Configure([]byte(cfg)); !strings.Contains(string(out), `"ok":true`) {
		b.Fatal(string(out))
	}
	return s
}

// checkMessages returns one mpnet_check message per benchURLs entry.
func checkMessages() [][]byte {
	msgs := make([][]byte, len(benchURLs))
	for i, u := range benchURLs {
		msgs[i] = []byte(fmt.Sprintf(`{"api":"request","url":%q}`, u))
	}
	return msgs
}

// BenchmarkCheckWasm measures one decision (mpnet_check) through the module
// under wazero, JSON in and out included.
func BenchmarkCheckWasm(b *testing.B) {
	inst := configured(b, realisticConfig())
	ctx := context.Background()
	msgs := checkMessages()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := inst.Raw(ctx, "check", msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckNative is the same decision on the policy compiled natively
// (no WebAssembly), the floor for BenchmarkCheckWasm.
func BenchmarkCheckNative(b *testing.B) {
	s := nativeConfigured(b)
	msgs := checkMessages()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Check(msgs[i%len(msgs)])
	}
}

// BenchmarkOpenFinishWasm measures a call's life in the engine: open
// (decision + pool) and finish, two module calls.
func BenchmarkOpenFinishWasm(b *testing.B) {
	inst := configured(b, realisticConfig())
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(i + 1)
		if _, err := inst.Step(ctx, abi.Event{Type: "open", At: int64(i), ID: id, API: "request", URL: benchURLs[i%2]}); err != nil {
			b.Fatal(err)
		}
		if _, err := inst.Step(ctx, abi.Event{Type: "finish", At: int64(i), ID: id}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenFinishNative is BenchmarkOpenFinishWasm on the policy
// compiled natively, JSON in and out included (the floor).
func BenchmarkOpenFinishNative(b *testing.B) {
	s := nativeConfigured(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(i + 1)
		s.Step([]byte(fmt.Sprintf(`{"type":"open","at":%d,"id":%d,"api":"request","url":%q}`, i, id, benchURLs[i%2])))
		s.Step([]byte(fmt.Sprintf(`{"type":"finish","at":%d,"id":%d}`, i, id)))
	}
}

// BenchmarkCheckWasmDistinct is BenchmarkCheckWasm with a URL never seen
// before on every call (a new query string), so neither memo of the exact
// message answers: allowed URLs are answered by their origin, violations
// are judged in full.
func BenchmarkCheckWasmDistinct(b *testing.B) {
	inst := configured(b, realisticConfig())
	ctx := context.Background()
	msgs := distinctMessages(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := inst.Raw(ctx, "check", msgs[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckNativeDistinct is BenchmarkCheckWasmDistinct natively.
func BenchmarkCheckNativeDistinct(b *testing.B) {
	s := nativeConfigured(b)
	msgs := distinctMessages(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Check(msgs[i])
	}
}

// distinctMessages returns n check messages, each with a URL not seen before.
func distinctMessages(n int) [][]byte {
	msgs := make([][]byte, n)
	for i := range msgs {
		u := benchURLs[i%len(benchURLs)]
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		msgs[i] = []byte(fmt.Sprintf(`{"api":"request","url":"%s%sn=%d"}`, u, sep, i))
	}
	return msgs
}

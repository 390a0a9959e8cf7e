package hostsim

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"mpnet/abi"
	"mpnet/wasm/serve"
)

// realisticConfig has 50 domains in each list, like a large production
// mini program.
func realisticConfig() string {
	var lists []string
	for _, l := range []struct{ name, scheme string }{{"request", "https"}, {"uploadFile", "https"}, {"downloadFile", "https"}, {"socket", "wss"}} {
		var entries []string
		for i := 0; i < 50; i++ {
			entries = append(entries, fmt.Sprintf("%q", fmt.Sprintf("%s://svc%d.%s.example.com", l.scheme, i, strings.ToLower(l.name))))
		}
		lists = append(lists, fmt.Sprintf("%q: [%s]", l.name, strings.Join(entries, ", ")))
	}
	return fmt.Sprintf(`{"appid": "wx0123456789abcdef", "domains": {%s}, "networkTimeout": {"request": 10000}}`, strings.Join(lists, ", "))
}

var benchURLs = []string{
	"https://svc17.request.example.com/api/v1/user?id=42",
	"https://svc49.request.example.com/feed",
	"https://evil.example.net/collect",
	"http://svc3.request.example.com/plain",
	"https://127.1/admin",
	"https://v2.svc3.request.example.com/x",
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
	s := serve.New()
	cfg := fmt.Sprintf(`{"files":[{"name":"mpnet.json","content":%q}]}`, realisticConfig())
	if out := s.Configure([]byte(cfg)); !strings.Contains(string(out), `"ok":true`) {
		b.Fatal(string(out))
	}
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
	s := serve.New()
	cfg := fmt.Sprintf(`{"files":[{"name":"mpnet.json","content":%q}]}`, realisticConfig())
	if out := s.Configure([]byte(cfg)); !strings.Contains(string(out), `"ok":true`) {
		b.Fatal(string(out))
	}
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
	s := serve.New()
	cfg := fmt.Sprintf(`{"files":[{"name":"mpnet.json","content":%q}]}`, realisticConfig())
	if out := s.Configure([]byte(cfg)); !strings.Contains(string(out), `"ok":true`) {
		b.Fatal(string(out))
	}
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

package policy_test

import (
	"testing"

	"mpnet/conformance"
	"mpnet/docs"
	"mpnet/internal/decode"
	"mpnet/wasm/serve"
)

// nativeHost runs the policy directly (through the module's message layer,
// without WebAssembly).
type nativeHost struct{ s *serve.Instance }

func (h nativeHost) Configure(m []byte) ([]byte, error) { return h.s.Configure(m), nil }
func (h nativeHost) Check(m []byte) ([]byte, error)     { return h.s.Check(m), nil }
func (h nativeHost) Step(m []byte) ([]byte, error)      { return h.s.Step(m), nil }

// TestConformance runs the shared vectors against the policy natively.
func TestConformance(t *testing.T) {
	conformance.Run(t, func(*testing.T) conformance.Host { return nativeHost{serve.New()} })
}

// TestVectorsCoverEveryRule keeps the vectors honest: at least 150 cases,
// every rule of RULES.md that the engine implements named at least once.
func TestVectorsCoverEveryRule(t *testing.T) {
	v, err := conformance.Load()
	if err != nil {
		t.Fatal(err)
	}
	if n := v.Count(); n < 150 {
		t.Errorf("only %d vectors, want at least 150", n)
	}
	have := map[string]bool{}
	for _, r := range v.Rules() {
		have[r] = true
	}
	// Every rule of docs/RULES.md.
	for _, r := range docs.IDs() {
		if !have[r] {
			t.Errorf("no vector names rule %s", r)
		}
	}
}

// Body converts legacy charsets as a native host does (internal/decode).
func (h nativeHost) Body(m []byte) ([]byte, error) {
	return decode.Body(func(m []byte) ([]byte, error) { return h.s.Body(m), nil }, m)
}

func (h nativeHost) JudgeTLS(m []byte) ([]byte, error) { return h.s.JudgeTLS(m), nil }

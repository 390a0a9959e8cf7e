// Package conformance runs the shared conformance vectors (vectors.json in
// this directory) against any host of the mpnet ABI: the policy natively,
// the built .wasm under wazero, and (from JavaScript) the same .wasm in
// Chromium. A vector that passes in one host and fails in another is a bug.
package conformance

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"mpnet/abi"
)

// Host is one fresh simulated mini program speaking the ABI's JSON messages.
type Host interface {
	Configure(msg []byte) ([]byte, error)
	Check(msg []byte) ([]byte, error)
	Step(msg []byte) ([]byte, error)
	// Body takes and returns framed messages (abi.Frame).
	Body(msg []byte) ([]byte, error)
	JudgeTLS(msg []byte) ([]byte, error)
}

// Vectors is the decoded vectors file.
type Vectors struct {
	Configs     map[string]json.RawMessage `json:"configs"`
	Checks      []CheckCase                `json:"checks"`
	Sequences   []Sequence                 `json:"sequences"`
	ConfigFiles []ConfigCase               `json:"configFiles"`
	Bodies      []BodyCase                 `json:"bodies"`
	TLS         []TLSCase                  `json:"tls"`
}

// TLSCase is a server's TLS facts and the expected R12 verdict.
type TLSCase struct {
	Name   string          `json:"name"`
	Rules  []string        `json:"rules"`
	Facts  json.RawMessage `json:"facts"`
	Expect any             `json:"expect"`
}

// BodyCase is one response body and what R10 makes of it.
type BodyCase struct {
	Name        string   `json:"name"`
	Rules       []string `json:"rules"`
	API         string   `json:"api"`
	ContentType string   `json:"contentType"`
	Body        *string  `json:"body"`
	BodyHex     string   `json:"bodyHex"`
	Expect      any      `json:"expect"`
	Output      *string  `json:"output"`
	OutputHex   *string  `json:"outputHex"`
}

// CheckCase is one stateless decision.
type CheckCase struct {
	Name    string   `json:"name"`
	Rules   []string `json:"rules"`
	Config  string   `json:"config"`
	API     string   `json:"api"`
	URL     string   `json:"url"`
	Timeout int64    `json:"timeout"`
	Headers []string `json:"headers"`
	Expect  any      `json:"expect"`
}

// Sequence is a series of events with the actions each must produce.
type Sequence struct {
	Name   string   `json:"name"`
	Rules  []string `json:"rules"`
	Config string   `json:"config"`
	Steps  []Step   `json:"steps"`
}

// Step is one event and what must follow.
type Step struct {
	Event   json.RawMessage `json:"event"`
	Expect  []any           `json:"expect"`
	Reports []string        `json:"reports"`
	State   map[string]any  `json:"state"`
	Error   string          `json:"error~"`
}

// ConfigCase is a set of configuration files and the expected import result.
type ConfigCase struct {
	Name   string            `json:"name"`
	Rules  []string          `json:"rules"`
	Files  []json.RawMessage `json:"files"`
	Expect any               `json:"expect"`
}

// Path returns the vectors file's path.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "vectors.json")
}

// Load reads the vectors file.
func Load() (*Vectors, error) {
	b, err := os.ReadFile(Path())
	if err != nil {
		return nil, err
	}
	var v Vectors
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("vectors.json: %w", err)
	}
	return &v, nil
}

// Count returns the number of cases.
func (v *Vectors) Count() int {
	return len(v.Checks) + len(v.Sequences) + len(v.ConfigFiles) + len(v.Bodies) + len(v.TLS)
}

// Rules lists every rule ID the vectors cover.
func (v *Vectors) Rules() []string {
	set := map[string]bool{}
	add := func(rs []string) {
		for _, r := range rs {
			set[r] = true
		}
	}
	for _, c := range v.Checks {
		add(c.Rules)
	}
	for _, s := range v.Sequences {
		add(s.Rules)
	}
	for _, c := range v.ConfigFiles {
		add(c.Rules)
	}
	for _, c := range v.Bodies {
		add(c.Rules)
	}
	for _, c := range v.TLS {
		add(c.Rules)
	}
	var out []string
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func (v *Vectors) configMsg(name string) []byte {
	cfg, ok := v.Configs[name]
	if !ok {
		panic("vectors: unknown config " + name)
	}
	msg, _ := json.Marshal(map[string]any{"files": []map[string]string{{"name": "mpnet.json", "content": string(cfg)}}})
	return msg
}

// Run runs every vector as a subtest; newHost returns a fresh host.
func Run(t *testing.T, newHost func(t *testing.T) Host) {
	v, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("checks", func(t *testing.T) {
		h := newHost(t)
		for _, c := range v.Checks {
			t.Run(c.Name, func(t *testing.T) {
				out, err := h.Configure(v.configMsg(c.Config))
				mustOK(t, out, err)
				msg, _ := json.Marshal(map[string]any{"api": c.API, "url": c.URL, "timeout": c.Timeout, "headers": c.Headers})
				expectAnswer(t, c.Expect)(h.Check(msg))
			})
		}
	})
	t.Run("sequences", func(t *testing.T) {
		for _, s := range v.Sequences {
			t.Run(s.Name, func(t *testing.T) {
				h := newHost(t)
				out, err := h.Configure(v.configMsg(s.Config))
				mustOK(t, out, err)
				for i, st := range s.Steps {
					out, err := h.Step(st.Event)
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if p := checkStep(st, out); p != "" {
						t.Fatalf("step %d %s: %s\ngot: %s", i, st.Event, p, out)
					}
				}
			})
		}
	})
	t.Run("configFiles", func(t *testing.T) {
		h := newHost(t)
		for _, c := range v.ConfigFiles {
			t.Run(c.Name, func(t *testing.T) {
				msg, _ := json.Marshal(map[string]any{"files": c.Files, "dryRun": true})
				expectAnswer(t, c.Expect)(h.Configure(msg))
			})
		}
	})
	t.Run("tls", func(t *testing.T) { runTLS(t, v, newHost) })
	t.Run("bodies", func(t *testing.T) {
		h := newHost(t)
		for _, c := range v.Bodies {
			t.Run(c.Name, func(t *testing.T) {
				in := []byte(nil)
				if c.Body != nil {
					in = []byte(*c.Body)
				} else if b, err := hex.DecodeString(c.BodyHex); err == nil {
					in = b
				} else {
					t.Fatalf("bodyHex: %v", err)
				}
				hdr, _ := json.Marshal(map[string]string{"api": c.API, "contentType": c.ContentType})
				out, err := h.Body(abi.Frame(hdr, in))
				if err != nil {
					t.Fatal(err)
				}
				head, payload, err := abi.Unframe(out)
				if err != nil {
					t.Fatalf("answer %q: %v", out, err)
				}
				var got any
				if err := json.Unmarshal(head, &got); err != nil {
					t.Fatalf("header is not JSON: %s", head)
				}
				if p := Match(c.Expect, got, ""); p != "" {
					t.Errorf("%s\ngot: %s", p, head)
				}
				switch {
				case c.Output != nil && string(payload) != *c.Output:
					t.Errorf("output %q, want %q", payload, *c.Output)
				case c.OutputHex != nil && hex.EncodeToString(payload) != *c.OutputHex:
					t.Errorf("output %x, want %s", payload, *c.OutputHex)
				}
			})
		}
	})
}

func runTLS(t *testing.T, v *Vectors, newHost func(t *testing.T) Host) {
	h := newHost(t)
	for _, c := range v.TLS {
		t.Run(c.Name, func(t *testing.T) { expectAnswer(t, c.Expect)(h.JudgeTLS(c.Facts)) })
	}
}

// expectAnswer returns a checker of one host answer against an expectation.
func expectAnswer(t *testing.T, want any) func([]byte, error) {
	return func(out []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var got any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("answer is not JSON: %s", out)
		}
		if p := Match(want, got, ""); p != "" {
			t.Errorf("%s\ngot: %s", p, out)
		}
	}
}

func mustOK(t *testing.T, out []byte, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("configure failed: %s", out)
	}
}

// checkStep compares one step's answer with its expectation.
func checkStep(st Step, out []byte) string {
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		return "answer is not JSON"
	}
	if st.Error != "" {
		e, _ := got["error"].(map[string]any)
		if e == nil {
			return fmt.Sprintf("expected an error containing %q", st.Error)
		}
		if msg, _ := e["message"].(string); !strings.Contains(msg, st.Error) {
			return fmt.Sprintf("error %q does not contain %q", msg, st.Error)
		}
		return ""
	}
	if e, ok := got["error"]; ok {
		return fmt.Sprintf("unexpected error %v", e)
	}
	acts, _ := got["actions"].([]any)
	var main []any
	var reports []string
	for _, a := range acts {
		m, _ := a.(map[string]any)
		if m["type"] == "report" {
			r, _ := m["rule"].(string)
			reports = append(reports, r)
			continue
		}
		main = append(main, a)
	}
	expect := st.Expect
	if expect == nil {
		expect = []any{}
	}
	if main == nil {
		main = []any{}
	}
	if p := Match(expect, main, "actions"); p != "" {
		return p
	}
	if st.Reports != nil {
		if strings.Join(st.Reports, ",") != strings.Join(reports, ",") {
			return fmt.Sprintf("reports: want rules %v, got %v", st.Reports, reports)
		}
	}
	if st.State != nil {
		if p := Match(any(st.State), any(got), "state"); p != "" {
			return p
		}
	}
	return ""
}

// Match reports the first difference between an expectation and an actual
// JSON value ("" when they match), following the rules in vectors.json.
func Match(want, got any, path string) string {
	switch w := want.(type) {
	case nil:
		if !empty(got) {
			return fmt.Sprintf("%s: want absent or empty, got %v", path, got)
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want an object, got %v", path, got)
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if base, ok := strings.CutSuffix(k, "~"); ok {
				s, _ := g[base].(string)
				sub, _ := w[k].(string)
				if !strings.Contains(s, sub) {
					return fmt.Sprintf("%s.%s: %q does not contain %q", path, base, s, sub)
				}
				continue
			}
			if p := Match(w[k], g[k], path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		g, _ := got.([]any)
		if got != nil && g == nil {
			return fmt.Sprintf("%s: want an array, got %v", path, got)
		}
		if len(w) != len(g) {
			return fmt.Sprintf("%s: want %d elements, got %d: %v", path, len(w), len(g), got)
		}
		for i := range w {
			if p := Match(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case string:
		if m, ok := got.(map[string]any); ok {
			got = m["rule"]
		}
		if got != w {
			return fmt.Sprintf("%s: want %q, got %v", path, w, got)
		}
	default:
		if fmt.Sprint(w) != fmt.Sprint(got) {
			return fmt.Sprintf("%s: want %v, got %v", path, w, got)
		}
	}
	return ""
}

func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

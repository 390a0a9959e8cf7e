package conformance

import (
	"encoding/json"
	"testing"
)

// TestMatch checks the matcher itself: a vector runner that cannot fail
// would make every vector pass.
func TestMatch(t *testing.T) {
	j := func(s string) any {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		want, got string
		ok        bool
	}{
		{`{"a":1}`, `{"a":1,"b":2}`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{"a":1}`, `{"b":1}`, false},
		{`{"a":null}`, `{"b":1}`, true},
		{`{"a":null}`, `{"a":""}`, true},
		{`{"a":null}`, `{"a":"x"}`, false},
		{`[1,2]`, `[1,2]`, true},
		{`[1,2]`, `[1,2,3]`, false},
		{`[1,2]`, `[2,1]`, false},
		{`[]`, `null`, true},
		{`["R2"]`, `[{"rule":"R2","message":"m"}]`, true},
		{`["R2"]`, `[{"rule":"R3"}]`, false},
		{`{"m~":"domain"}`, `{"m":"not in domain list"}`, true},
		{`{"m~":"queue"}`, `{"m":"not in domain list"}`, false},
		{`{"a":true}`, `{"a":false}`, false},
		{`{"a":false}`, `{}`, false},
		{`{"a":{"b":[{"c":1}]}}`, `{"a":{"b":[{"c":1,"d":2}]}}`, true},
		{`{"a":{"b":[{"c":1}]}}`, `{"a":{"b":[{"c":2}]}}`, false},
	}
	for _, c := range cases {
		p := Match(j(c.want), j(c.got), "")
		if (p == "") != c.ok {
			t.Errorf("Match(%s, %s) = %q, want ok=%v", c.want, c.got, p, c.ok)
		}
	}
}

// TestCheckStep checks the step comparison: extra or missing actions and
// reports are differences.
func TestCheckStep(t *testing.T) {
	out := []byte(`{"actions":[{"type":"report","rule":"R4"},{"type":"start","id":1}],"inFlight":1,"queued":0}`)
	cases := []struct {
		step Step
		ok   bool
	}{
		{Step{Expect: []any{map[string]any{"type": "start", "id": 1.0}}}, true},
		{Step{Expect: []any{}}, false},
		{Step{Expect: []any{map[string]any{"type": "start"}, map[string]any{"type": "queue"}}}, false},
		{Step{Expect: []any{map[string]any{"type": "start"}}, Reports: []string{"R4"}}, true},
		{Step{Expect: []any{map[string]any{"type": "start"}}, Reports: []string{}}, false},
		{Step{Expect: []any{map[string]any{"type": "start"}}, State: map[string]any{"inFlight": 2.0}}, false},
		{Step{Error: "went backwards"}, false},
	}
	for i, c := range cases {
		if p := checkStep(c.step, out); (p == "") != c.ok {
			t.Errorf("case %d: %q, want ok=%v", i, p, c.ok)
		}
	}
}

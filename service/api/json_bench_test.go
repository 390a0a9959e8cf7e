package api

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"testing"

	gojson "github.com/goccy/go-json"
)

// The service's JSON work is decoding report batches (up to 1 MiB) and
// encoding summaries. These benchmarks compare encoding/json with
// goccy/go-json on both, natively and (GOOS=js GOARCH=wasm, under Node's
// V8 like the Worker's workerd) in the Worker's build:
//
//	go test -run x -bench JSON ./service/api/
//	GOOS=js GOARCH=wasm go test -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec" -run x -bench JSON ./service/api/
//
// docs/BENCHMARKS.md has the figures; docs/RATIONALE.md why the service
// uses encoding/json.

func benchBatch(n int) []byte {
	b := Batch{Source: "extension"}
	for i := 0; i < n; i++ {
		b.Records = append(b.Records, Record{API: "request", URL: fmt.Sprintf("https://api%d.example.com/v1/user/%d/profile?session=abcdef%d&lang=zh_CN", i%17, i, i), At: 1700000000000 + int64(i)})
	}
	out, _ := stdjson.Marshal(b)
	return out
}

func benchSummary(n int) Summary {
	s := Summary{Project: "wx0123456789abcdef", Config: &ConfigVersion{Version: 7, ETag: `"7-0123456789abcdef"`, Author: "alice", At: 1700000000000},
		HostsToAdd: map[string][]string{"domains.request": {"https://a.example.com", "https://b.example.com"}}, OpenByRule: map[string]int64{"R1": 3, "R2": 40}}
	for i := 0; i < n; i++ {
		s.Violations = append(s.Violations, Violation{List: "domains.request", Host: fmt.Sprintf("h%d.example.com", i), Rule: "R2", API: "request",
			Count: int64(i), FirstSeen: 1700000000000, LastSeen: 1700000100000, LastBy: "alice",
			Reporters: []Reporter{{Name: "alice", Count: 3, LastSeen: 1700000100000}, {Name: "ci", Count: 1, LastSeen: 1700000000000}},
			Examples:  []string{fmt.Sprintf("https://h%d.example.com/a/b", i), fmt.Sprintf("https://h%d.example.com/c", i)},
			Open:      true, ErrMsg: "request:fail url not in domain list", Message: fmt.Sprintf("[R2] https://h%d.example.com/a/b is not in domains.request", i),
			Fix: fmt.Sprintf("add https://h%d.example.com to domains.request (admin console: 开发管理 > 开发设置 > 服务器域名 > request合法域名)", i), Entry: fmt.Sprintf("https://h%d.example.com", i)})
	}
	return s
}

func BenchmarkJSONDecodeBatch(b *testing.B) {
	body := benchBatch(500)
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			var v Batch
			d := stdjson.NewDecoder(bytes.NewReader(body))
			d.DisallowUnknownFields()
			if err := d.Decode(&v); err != nil || len(v.Records) != 500 {
				b.Fatal(err)
			}
		}
	})
	b.Run("goccy", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			var v Batch
			d := gojson.NewDecoder(bytes.NewReader(body))
			d.DisallowUnknownFields()
			if err := d.Decode(&v); err != nil || len(v.Records) != 500 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJSONEncodeSummary(b *testing.B) {
	s := benchSummary(200)
	b.Run("encoding-json", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := stdjson.Marshal(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goccy", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := gojson.Marshal(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// Both libraries must agree on what the service reads, or the comparison
// is moot.
func TestJSONLibrariesAgree(t *testing.T) {
	body := benchBatch(50)
	var a, b Batch
	if err := stdjson.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if err := gojson.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	x, _ := stdjson.Marshal(a)
	y, _ := stdjson.Marshal(b)
	if !bytes.Equal(x, y) {
		t.Error("the libraries decode a batch differently")
	}
	s := benchSummary(5)
	x, _ = stdjson.Marshal(s)
	y, _ = gojson.Marshal(s)
	var m1, m2 any
	stdjson.Unmarshal(x, &m1)
	stdjson.Unmarshal(y, &m2)
	if fmt.Sprint(m1) != fmt.Sprint(m2) {
		t.Error("the libraries encode a summary differently")
	}
}

package policy

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"mpnet/abi"
	"mpnet/policy/config"
)

func compiled(t *testing.T, mpnetJSON string) *config.Compiled {
	t.Helper()
	l, errs := config.Load([]abi.File{{Name: "mpnet.json", Content: mpnetJSON}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	c, _ := config.Compile(l)
	return c
}

// The memoised Judger must answer exactly what judge answers, whatever the
// order of calls: URLs that share a written authority with an allowed one
// but are parsed differently are the cases to get wrong.
func TestJudgerMatchesJudge(t *testing.T) {
	c := compiled(t, `{"appid":"wx0123456789abcdef","domains":{"request":["https://a.example.com","https://b.example.com:8443"],"socket":["wss://a.example.com"]},"networkTimeout":{"request":5000}}`)
	urls := []string{
		"https://a.example.com/x?y=1", "https://a.example.com/other#f", "https://a.example.com", "https://a.example.com?q",
		"https://a.example.com:443/x", "https://A.EXAMPLE.COM/x", "HTTPS://a.example.com/x", "https://a.example.com\\@evil.com/",
		"https://a.example.com\t/x", " https://a.example.com/x", "https://a.example.com/x ", "https://a.example.com@evil.com/x",
		"https://user:pw@a.example.com/x", "https:///a.example.com/x", "https:///evil.com/x", "https:a.example.com/x",
		"https://b.example.com:8443/x", "https://b.example.com/x", "https://a.example.com.evil.com/x", "http://a.example.com/x",
		"wss://a.example.com/s", "ws://a.example.com/s", "https://127.0.0.1/x", "https://10.0.0.2/x", "https://localhost/x",
		"https://sub.a.example.com/x", "https://a.example.com%2f@evil.com/", "https://xn--a.example.com/", "https://a.example.com./x",
		"https://%61.example.com/x", "https://a.example.com:0443/x", "https://a.example.com:/x", "https://[::1]/x", "https://",
		// Violations sharing an origin, so that templates are filled in for other URLs.
		"https://evil.example.net/collect?t=1", "https://evil.example.net/collect?t=2", "https://evil.example.net/",
		"http://a.example.com/p1", "http://a.example.com/p2?q=%22x%22", "http://localhost:8080/mock/1", "http://localhost:8080/mock/2",
		"https://203.0.113.5/x", "https://203.0.113.5/y", "https://sub.a.example.com/one", "https://sub.a.example.com/two#f",
		"https://b.example.com/x\u00e9", "https://b.example.com/%E4%BD%A0", "https://b.example.com/你好",
		"https://a.example.com.evil.com/1", "https://a.example.com.evil.com/2", "https://a.example.com@evil.com/2",
	}
	apis := []string{"request", "connectSocket", "uploadFile", "resource"}
	j := NewJudger(c)
	for round := 0; round < 3; round++ { // later rounds hit the memos
		for _, api := range apis {
			for _, u := range urls {
				for _, timeout := range []int64{0, 70000} {
					req := abi.CheckRequest{API: api, URL: u, Timeout: timeout}
					want, _, werr := judge(c, req)
					got, gerr := j.Judge(req)
					if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
						t.Fatalf("round %d %s %q timeout %d:\n memo  %+v %v\n judge %+v %v", round, api, u, timeout, got, gerr, want, werr)
					}
				}
			}
		}
	}
	if len(j.origins) == 0 || len(j.memo) == 0 {
		t.Fatalf("memos unused: %d origins, %d URLs", len(j.origins), len(j.memo))
	}
	templates := 0
	for _, v := range j.origins {
		if !v.d.Allowed {
			templates++
		}
	}
	if templates < 5 {
		t.Fatalf("only %d violation templates were kept: the fill-in path is barely tested", templates)
	}
	// Appending to a memoised decision's warnings must copy them, so that
	// the memo cannot be modified through a decision it returned.
	for _, u := range []string{"https://a.example.com/w", "https://a.example.com/w", "https://a.example.com/v", "https://evil.com/"} {
		d, _ := j.Judge(abi.CheckRequest{API: "request", URL: u, Timeout: 70000})
		if len(d.Warnings) == 0 || cap(d.Warnings) != len(d.Warnings) {
			t.Fatalf("%s: warnings %d with capacity %d: appending would write into the memo", u, len(d.Warnings), cap(d.Warnings))
		}
	}
}

func TestAuthority(t *testing.T) {
	for raw, want := range map[string]string{
		"https://a.com/x": "https://a.com", "https://a.com": "https://a.com", "wss://u@a.com:1?q": "wss://u@a.com:1",
		"https:///a.com": "", "https://a.com\\x": "", "https://a .com/": "", "HTTPS://a.com": "", "ftp://a.com": "", "https://#": "",
	} {
		got, ok := authority(raw)
		if got != want || ok != (want != "") {
			t.Errorf("authority(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}

// TestAuthorityWordAtATime holds authority's eight-bytes-at-a-time scan to
// the byte-by-byte definition, on long URLs mixing every byte that matters
// at every position.
func TestAuthorityWordAtATime(t *testing.T) {
	bytewise := func(raw string) (string, bool) {
		i := strings.Index(raw, "://")
		if i < 0 || !map[string]bool{"https": true, "http": true, "wss": true, "ws": true}[raw[:i]] {
			return "", false
		}
		rest := raw[i+3:]
		end := len(rest)
		for j := 0; j < len(rest); j++ {
			c := rest[j]
			if c <= ' ' || c == '\\' || c == 0x7f {
				return "", false
			}
			if end == len(rest) && (c == '/' || c == '?' || c == '#') {
				end = j
			}
		}
		if end == 0 {
			return "", false
		}
		return raw[:i+3+end], true
	}
	edge := []byte{0, '\t', ' ', '!', '#', '/', '?', '\\', 0x7f, 0x80, 0xe4, 0xff, '.', ':', '@', '&', '=', '\'', 0x1f, 0x3f ^ 0x10, 0x2f ^ 0x10}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 200000; n++ {
		b := []byte([]string{"https://", "http://", "wss://", "ws://"}[r.IntN(4)])
		for k, l := 0, r.IntN(40); k < l; k++ {
			if r.IntN(8) == 0 {
				b = append(b, edge[r.IntN(len(edge))])
			} else {
				b = append(b, byte('a'+r.IntN(26)))
			}
		}
		raw := string(b)
		got, ok := authority(raw)
		want, wantOK := bytewise(raw)
		if got != want || ok != wantOK {
			t.Fatalf("authority(%q) = %q, %v; byte by byte %q, %v", raw, got, ok, want, wantOK)
		}
	}
}

package config

import "testing"

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"/*", "/", true},
		{"/*", "/a/b?c=d", true},
		{"/__mock/*", "/__mock/", true},
		{"/__mock/*", "/__mock", false},
		{"/__mock/*", "/api/__mock/x", false},
		{"/*/x", "/a/b/x", true},
		{"/*/x", "/a/b/xy", false},
		{"/a*b*c", "/aXbYbZc", true},
		{"/a*b*c", "/aXbYbZ", false},
		{"/ws", "/ws", true},
		{"/ws", "/ws/", false},
		{"**", "", true},
	} {
		if got := Glob(c.pattern, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestSplitURL(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want URLParts
		ok   bool
	}{
		{"http://localhost:10086", URLParts{"http", "localhost", "10086", "/"}, true},
		{"ws://localhost:5173/?token=a#x", URLParts{"ws", "localhost", "5173", "/?token=a"}, true},
		{"https://[::1]:8443/x", URLParts{"https", "[::1]", "8443", "/x"}, true},
		{"https://[::1]/x", URLParts{"https", "[::1]", "", "/x"}, true},
		{"http://user@localhost/", URLParts{}, false},
		{"http://LOCALHOST/", URLParts{}, false},
		{"blob:http://localhost/1", URLParts{}, false},
		{"http:///x", URLParts{}, false},
	} {
		got, ok := SplitURL(c.raw)
		if ok != c.ok || got != c.want {
			t.Errorf("SplitURL(%q) = %+v %v, want %+v %v", c.raw, got, ok, c.want, c.ok)
		}
	}
}

func TestToolingPatternMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, url string
		want         bool
	}{
		{"http://localhost:*/__mock/*", "http://localhost:3000/__mock/a", true},
		{"http://localhost:*/__mock/*", "http://localhost/__mock/a", true},
		{"http://localhost/__mock/*", "http://localhost:3000/__mock/a", false},
		{"http://localhost:80/__mock/*", "http://localhost/__mock/a", true},
		{"wss://*.dev.example.com/*", "wss://a.b.dev.example.com/x", true},
		{"wss://*.dev.example.com/*", "wss://dev.example.com/x", false},
		{"wss://*.dev.example.com/*", "wss://evildev.example.com/x", false},
		{"https://LOCALHOST:8080/x", "https://localhost:8080/x", true},
		{"https://localhost:8080/x", "http://localhost:8080/x", false},
	} {
		p, msg, _ := parseTooling(c.pattern)
		if msg != "" {
			t.Fatalf("parseTooling(%q): %s", c.pattern, msg)
		}
		u, ok := SplitURL(c.url)
		if !ok {
			t.Fatalf("SplitURL(%q) failed", c.url)
		}
		if got := p.Match(u); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.url, got, c.want)
		}
	}
}

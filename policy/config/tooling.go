package config

import (
	"fmt"
	"strings"

	"mpnet/abi"
	"mpnet/policy/urlhost"
)

// URLParts is a URL as the browser writes it (canonical: lowercase scheme
// and host, default port left out), cut where R15's matching needs it.
type URLParts struct {
	Scheme string
	Host   string // as written: lowercase, punycode, IPv6 in brackets
	Port   string // "" for the scheme's default
	Path   string // path and query, no fragment ("/" at least)
}

// SplitURL cuts a canonical http(s)/ws(s) URL into its parts; ok is false
// for other schemes, userinfo, or anything not written canonically (such a
// URL is never tooling: it is judged).
func SplitURL(raw string) (URLParts, bool) {
	scheme, rest, ok := strings.Cut(raw, "://")
	switch scheme {
	case "http", "https", "ws", "wss":
	default:
		return URLParts{}, false
	}
	if !ok {
		return URLParts{}, false
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth, path := rest[:end], rest[end:]
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path[0] == '?' {
		path = "/" + path
	}
	if auth == "" || strings.ContainsAny(auth, "@\\ \t") || strings.ToLower(auth) != auth {
		return URLParts{}, false
	}
	host, port := auth, ""
	if i := strings.LastIndexByte(auth, ':'); i >= 0 && !strings.Contains(auth[i:], "]") {
		host, port = auth[:i], auth[i+1:]
	}
	return URLParts{Scheme: scheme, Host: host, Port: port, Path: path}, true
}

// ToolingPattern is one valid entry of mpnet.json's "tooling": URLs of the
// preview that are not mini-program calls (R15).
type ToolingPattern struct {
	Raw    string
	scheme string
	host   string // a host, or "*." + a host (any subdomain of it)
	port   string // "" (default port), digits, or "*" (any port, default included)
	path   string // a glob over path and query: "*" matches any run
}

// Match reports whether the pattern covers a URL.
func (p *ToolingPattern) Match(u URLParts) bool {
	if u.Scheme != p.scheme || (p.port != "*" && u.Port != p.port) {
		return false
	}
	if sub, ok := strings.CutPrefix(p.host, "*."); ok {
		if !strings.HasSuffix(u.Host, "."+sub) {
			return false
		}
	} else if u.Host != p.host {
		return false
	}
	return Glob(p.path, u.Path)
}

// Glob reports whether s matches pattern, where "*" matches any run of
// bytes and every other byte itself.
func Glob(pattern, s string) bool {
	// The classic two-pointer match: on a mismatch, let the last star
	// swallow one more byte.
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(pattern) && pattern[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pattern) && pattern[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(pattern) && pattern[pi] == '*' {
		pi++
	}
	return pi == len(pattern)
}

// compileTooling checks the "tooling" patterns and keeps the valid ones.
// An invalid pattern is an error and ignored; one that covers a host of the
// domain lists is a warning (those calls would go unjudged).
func (c *Compiled) compileTooling(l *Loaded) []abi.Problem {
	var probs []abi.Problem
	for i, raw := range c.Config.Tooling {
		w := l.Where[fmt.Sprintf("tooling[%d]", i)]
		problem := func(sev, msg, fix string) {
			probs = append(probs, abi.Problem{Rule: "R15", Severity: sev, File: w.File, Line: w.Line, Col: w.Col, Entry: raw, List: "tooling", Message: msg, Fix: fix})
		}
		p, msg, fix := parseTooling(raw)
		if msg != "" {
			problem("error", fmt.Sprintf("tooling pattern %q %s; it is ignored", raw, msg), fix)
			continue
		}
		host := strings.TrimPrefix(p.host, "*.")
		for _, list := range Lists {
			for _, e := range c.Entries[list] {
				if e.Valid() && (e.Key == host || strings.HasPrefix(p.host, "*.") && strings.HasSuffix(e.Key, "."+host)) {
					problem("warning", fmt.Sprintf("tooling pattern %q covers %s, a host of domains.%s: the preview will not judge those calls", raw, e.Key, list),
						"narrow the pattern to the dev server's own URLs")
				}
			}
		}
		c.Tooling = append(c.Tooling, p)
	}
	return probs
}

// parseTooling reads one pattern; msg says what is wrong with it.
func parseTooling(raw string) (p ToolingPattern, msg, fix string) {
	const example = "write a URL pattern such as \"http://localhost:*/mock/*\" or \"wss://*.dev.example.com/live/*\""
	p.Raw = raw
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return p, "has no scheme", example
	}
	switch scheme {
	case "http", "https", "ws", "wss":
	default:
		return p, fmt.Sprintf("has the scheme %q; patterns use http, https, ws or wss", scheme), example
	}
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		return p, "has no path", fmt.Sprintf("add a path, e.g. %q", raw+"/*")
	}
	auth, path := rest[:end], rest[end:]
	if strings.ContainsAny(auth, "@?#\\ ") || strings.ContainsAny(path, "# ") {
		return p, "is not a plain scheme://host[:port]/path", example
	}
	host, port := auth, ""
	if i := strings.LastIndexByte(auth, ':'); i >= 0 && !strings.Contains(auth[i:], "]") {
		host, port = auth[:i], auth[i+1:]
		if port != "*" && (port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5) {
			return p, fmt.Sprintf("has the port %q; write digits or *", port), example
		}
	}
	sub := strings.HasPrefix(host, "*.")
	name := strings.TrimPrefix(host, "*.")
	if name == "" || strings.Contains(name, "*") {
		return p, "leaves the host open; only a leading \"*.\" (any subdomain) is allowed there, so that a pattern never covers every host", example
	}
	h, err := urlhost.ParseHost(name)
	if err != nil {
		return p, "has an invalid host: " + err.Error(), example
	}
	p.scheme, p.port, p.path = scheme, port, path
	p.host = h.String()
	if sub {
		p.host = "*." + p.host
	}
	if port != "" && port != "*" && port == defaultPort(scheme) {
		p.port = "" // canonical URLs leave the default port out
	}
	return p, "", ""
}

func defaultPort(scheme string) string {
	if scheme == "https" || scheme == "wss" {
		return "443"
	}
	return "80"
}

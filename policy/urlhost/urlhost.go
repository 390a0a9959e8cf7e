// Package urlhost parses absolute URLs and hosts the way the WHATWG URL
// Standard does (and therefore the way Chromium does), so that a Go policy
// engine and the browser agree on which host a URL really targets.
//
// Naive parsers disagree with browsers on inputs such as
// "https://good.com\@evil.com" (the backslash starts the path, so the host is
// good.com), "https://good.com@evil.com" (the host is evil.com),
// "http://0x7f.1" (the host is 127.0.0.1) or "http://ＬＯＣＡＬＨＯＳＴ"
// (the host is localhost). This package follows the standard's basic URL
// parser and host parser for absolute URLs (no base URL), including IDNA
// (UTS #46) processing of international domain names, the IPv4 number forms
// (hex, octal, fewer than four parts) and the IPv6 parser and serializer.
//
// Deliberate deviations from the standard, all chosen so that a policy
// decision is never made on a host the browser would read differently:
//
//   - "file:" URLs are rejected with the reason "unsupported scheme file";
//     the product never checks file URLs.
//   - URLs without a host (opaque paths such as "mailto:x" or "data:,x", a
//     non-special scheme without "//", or an empty host such as "tcp:///x")
//     are rejected with the reason "missing host".
//   - Non-special schemes (tcp, udp, anything other than http, https, ws, wss,
//     ftp, file) have their host parsed by the special (domain) host parser
//     rather than the opaque-host parser, because the client resolves tcp/udp
//     hosts like domains: "tcp://0x7f.1:22" targets 127.0.0.1.
//   - Inputs longer than 8 KiB are rejected with the reason "URL too long".
//     International domain names have Chromium's limits (measured in
//     Chromium 156; the standard has none): a host that needs IDNA is at most
//     1265 UTF-16 code units as written ("domain too long"), and a label that
//     needs Punycode encoding at most 1000 UTF-16 code units once mapped
//     ("domain label too long"; ICU's encoder refuses longer input). ASCII
//     hosts have neither limit. Both bound the work done on hostile input.
//   - A Go string is not necessarily valid UTF-8; each invalid byte is read as
//     U+FFFD, as a browser does for unpaired surrogates.
//   - International domain names are mapped with golang.org/x/net/idna's
//     Unicode 15.0 tables, corrected to current UTS #46 (as Chromium 156,
//     with Unicode 17 data, applies it) for every code point assigned before
//     Unicode 16.0 whose processing changed since (U+1E9E maps to ß, so
//     https://FAẞ.de/ is xn--fa-hia.de; see uts46Since16), and with the Bidi
//     rule applied to labels as mapped (x/net applies it to labels as written).
//     Code points first assigned in Unicode 16.0 or 17.0, and U+1806, are
//     still refused ("invalid international domain name") where Chromium
//     accepts them.
//   - Chromium percent-escapes a space or '*' inside a host ("a%20b.de") where
//     the standard refuses the space and keeps '*'; here the space is refused
//     and '*' kept, as the standard says. Neither host can be a list entry.
package urlhost

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxInputLen is the longest input, in bytes, that Parse, ParseHost and
// ParseHostPort accept; longer inputs fail with the reason "URL too long".
const MaxInputLen = 8 << 10

// Error is returned for input that cannot be parsed.
type Error struct {
	// Input is the string that was given to the parser, unmodified.
	Input string
	// Reason is a short English phrase such as "invalid IPv4 address",
	// "forbidden host code point '%'", "missing host", "invalid port" or
	// "not an absolute URL".
	Reason string
}

// Error formats the reason and (a prefix of) the input.
func (e *Error) Error() string {
	in := e.Input
	if len(in) > 100 {
		in = in[:100] + "..."
	}
	return fmt.Sprintf("urlhost: %s: %q", e.Reason, in)
}

// URL is a parsed absolute URL with a host.
type URL struct {
	// Scheme is lower-case, without the trailing ':'.
	Scheme string
	// Username is the username as the WHATWG serializer writes it, i.e.
	// percent-encoded with the userinfo percent-encode set.
	Username string
	// Password is the password, percent-encoded like Username.
	Password string
	// Host is the parsed host.
	Host Host
	// Port is the port, or -1 when it is absent or equal to the scheme's
	// default port (http and ws 80, https and wss 443, ftp 21; non-special
	// schemes have no default port).
	Port int
	// Path is the serialized path: "/" at least for special schemes, possibly
	// empty for non-special ones.
	Path string
	// Query is the serialized query without the leading '?'.
	Query string
	// Fragment is the serialized fragment without the leading '#'.
	Fragment string

	// hasQuery and hasFragment record an empty but present query or
	// fragment ("https://a/?#"), so that String round-trips.
	hasQuery, hasFragment bool
}

// HasUserinfo reports whether the URL includes credentials, i.e. a non-empty
// username or password ("https://@a.com" and "https://:@a.com" do not).
func (u *URL) HasUserinfo() bool {
	return u.Username != "" || u.Password != ""
}

// Origin returns "scheme://host[:port]", with IPv6 hosts in brackets and the
// port omitted when it is the scheme's default. For non-special schemes the
// WHATWG origin is opaque; this method still returns the tuple form, which is
// what policy rules for tcp/udp URLs match on.
func (u *URL) Origin() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	b.WriteString(u.Host.String())
	if u.Port >= 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	return b.String()
}

// String returns the WHATWG serialization (href) of the URL:
// scheme://[user[:pass]@]host[:port]path[?query][#fragment].
func (u *URL) String() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.HasUserinfo() {
		b.WriteString(u.Username)
		if u.Password != "" {
			b.WriteByte(':')
			b.WriteString(u.Password)
		}
		b.WriteByte('@')
	}
	b.WriteString(u.Host.String())
	if u.Port >= 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(u.Port))
	}
	b.WriteString(u.Path)
	if u.hasQuery || u.Query != "" {
		b.WriteByte('?')
		b.WriteString(u.Query)
	}
	if u.hasFragment || u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(u.Fragment)
	}
	return b.String()
}

// defaultPort returns the default port of a special scheme, or -1.
func defaultPort(scheme string) int {
	switch scheme {
	case "http", "ws":
		return 80
	case "https", "wss":
		return 443
	case "ftp":
		return 21
	}
	return -1
}

// isSpecial reports whether scheme is one of the WHATWG special schemes.
func isSpecial(scheme string) bool {
	switch scheme {
	case "http", "https", "ws", "wss", "ftp", "file":
		return true
	}
	return false
}

// Parse parses an absolute URL string (there is no base URL) as the WHATWG
// basic URL parser does. It fails for relative references, for URLs without
// a host and for file: URLs (see the package documentation).
func Parse(raw string) (*URL, error) {
	fail := func(reason string) (*URL, error) {
		return nil, &Error{Input: raw, Reason: reason}
	}
	if len(raw) > MaxInputLen {
		return fail("URL too long")
	}
	s := cleanInput(raw)

	// Scheme: an ASCII alpha, then ASCII alphanumerics, '+', '-' or '.',
	// then ':'. Anything else would need a base URL.
	colon := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.') {
			continue
		}
		if c == ':' && i > 0 {
			colon = i
		}
		break
	}
	if colon < 0 {
		return fail("not an absolute URL")
	}
	u := &URL{Scheme: strings.ToLower(s[:colon]), Port: -1}
	rest := s[colon+1:]
	special := isSpecial(u.Scheme)
	switch {
	case u.Scheme == "file":
		return fail("unsupported scheme file")
	case special:
		// Special authority (ignore) slashes states: any number of '/'
		// and '\', including none, precede the authority.
		rest = strings.TrimLeft(rest, `/\`)
	case strings.HasPrefix(rest, "//"):
		rest = rest[2:]
	default:
		// Opaque path ("mailto:x") or path-only URL ("tcp:/x").
		return fail("missing host")
	}

	// Authority state: the authority ends at the first '/', '?', '#' and,
	// for special schemes, '\'.
	end := len(rest)
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c == '/' || c == '?' || c == '#' || special && c == '\\' {
			end = i
			break
		}
	}
	auth := rest[:end]
	rest = rest[end:]

	// The last '@' separates the userinfo; earlier ones are part of it
	// (and end up percent-encoded as %40). The first ':' of the userinfo
	// separates username and password.
	hostport := auth
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		hostport = auth[at+1:]
		if hostport == "" {
			return fail("missing host")
		}
		user, pass, _ := strings.Cut(auth[:at], ":")
		u.Username = percentEncode(user, setUserinfo)
		u.Password = percentEncode(pass, setUserinfo)
	}

	hostStr, portStr, hasPort := splitHostPort(hostport)
	if hostStr == "" {
		return fail("missing host")
	}
	h, reason := parseHost(hostStr)
	if reason != "" {
		return fail(reason)
	}
	u.Host = h
	if hasPort {
		p, reason := parsePort(portStr)
		if reason != "" {
			return fail(reason)
		}
		if p != defaultPort(u.Scheme) {
			u.Port = p
		}
	}

	// Fragment, then query, then path.
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.Fragment = percentEncode(rest[i+1:], setFragment)
		u.hasFragment = true
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		set := setQuery
		if special {
			set = setSpecialQuery
		}
		u.Query = percentEncode(rest[i+1:], set)
		u.hasQuery = true
		rest = rest[:i]
	}
	u.Path = parsePath(rest, special)
	return u, nil
}

// cleanInput removes leading and trailing C0 controls and spaces, removes
// every ASCII tab and newline, and replaces each byte that is not part of
// valid UTF-8 with U+FFFD.
func cleanInput(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= 0x20 {
		i++
	}
	for j > i && s[j-1] <= 0x20 {
		j--
	}
	s = s[i:j]
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
	}
	if !utf8.ValidString(s) {
		var b strings.Builder
		for _, r := range s { // an invalid byte yields utf8.RuneError
			b.WriteRune(r)
		}
		s = b.String()
	}
	return s
}

// splitHostPort splits a host from its port as Chromium does: the port
// follows the last ':' that comes after the last ']', and a host that starts
// with '[' and has no ']' is all host. On the inputs a browser accepts this
// is the WHATWG host state's split (the first ':' outside brackets); the two
// differ on escaped brackets, where Chromium reads "%5B::1]" as the IPv6
// address [::1] (the standard would take "%5B" as the host), and on hosts
// that neither accepts.
func splitHostPort(s string) (host, port string, hasPort bool) {
	term, colon := -1, -1
	if s != "" && s[0] == '[' {
		term = len(s)
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ']':
			term = i
		case ':':
			colon = i
		}
	}
	if colon > term {
		return s[:colon], s[colon+1:], true
	}
	return s, "", false
}

// parsePort implements the port state: ASCII digits only, at most 65535; an
// empty port means no port (-1).
func parsePort(s string) (int, string) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, "invalid port"
		}
		if n <= 65535 {
			n = n*10 + int(s[i]-'0')
		}
	}
	if s == "" {
		return -1, ""
	}
	if n > 65535 {
		return 0, "port out of range"
	}
	return n, ""
}

// parsePath implements the path start and path states for the part of the
// input between the authority and the query or fragment, and returns the
// serialized path.
func parsePath(p string, special bool) string {
	isSlash := func(c byte) bool { return c == '/' || special && c == '\\' }
	if p == "" && !special {
		return ""
	}
	if p != "" && isSlash(p[0]) {
		p = p[1:]
	}
	var segs []string
	for {
		i := 0
		for i < len(p) && !isSlash(p[i]) {
			i++
		}
		seg := percentEncode(p[:i], setPath)
		more := i < len(p) // the segment is followed by a slash
		switch {
		case isDoubleDot(seg):
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
			if !more {
				segs = append(segs, "")
			}
		case isSingleDot(seg):
			if !more {
				segs = append(segs, "")
			}
		default:
			segs = append(segs, seg)
		}
		if !more {
			break
		}
		p = p[i+1:]
	}
	var b strings.Builder
	for _, seg := range segs {
		b.WriteByte('/')
		b.WriteString(seg)
	}
	return b.String()
}

func isSingleDot(s string) bool {
	return s == "." || strings.EqualFold(s, "%2e")
}

func isDoubleDot(s string) bool {
	switch strings.ToLower(s) {
	case "..", ".%2e", "%2e.", "%2e%2e":
		return true
	}
	return false
}

// encodeSet names a WHATWG percent-encode set.
type encodeSet uint8

const (
	setFragment encodeSet = iota
	setQuery
	setSpecialQuery
	setPath
	setUserinfo
)

// inSet reports whether byte c must be percent-encoded in set. Every
// non-ASCII byte is, as are C0 controls and DEL (the C0 control
// percent-encode set).
func inSet(c byte, set encodeSet) bool {
	if c < 0x20 || c > 0x7e {
		return true
	}
	if set == setFragment {
		return c == ' ' || c == '"' || c == '<' || c == '>' || c == '`'
	}
	if c == ' ' || c == '"' || c == '#' || c == '<' || c == '>' {
		return true
	}
	switch set {
	case setQuery:
		return false
	case setSpecialQuery:
		return c == '\''
	}
	if c == '?' || c == '^' || c == '`' || c == '{' || c == '}' {
		return true
	}
	if set == setPath {
		return false
	}
	return c == '/' || c == ':' || c == ';' || c == '=' || c == '@' || c == '[' || c == '\\' || c == ']' || c == '|'
}

// percentEncode UTF-8 percent-encodes s (valid UTF-8) with set; '%' itself is
// never encoded, as in the URL parser.
func percentEncode(s string, set encodeSet) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if inSet(s[i], set) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inSet(c, set) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

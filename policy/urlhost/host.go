package urlhost

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Kind tells which sort of host a Host is.
type Kind uint8

const (
	// Domain is a domain name (lower-case ASCII, international names in
	// punycode).
	Domain Kind = iota + 1
	// IPv4 is an IPv4 address, whatever form it was written in.
	IPv4
	// IPv6 is an IPv6 address, written in brackets in URLs.
	IPv6
)

// String returns "domain", "ipv4", "ipv6" or "invalid".
func (k Kind) String() string {
	switch k {
	case Domain:
		return "domain"
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "invalid"
}

// Host is a parsed host.
type Host struct {
	// Kind is Domain, IPv4 or IPv6.
	Kind Kind
	// Name is the WHATWG serialization without brackets: a lower-case
	// ASCII (punycode) domain, keeping a trailing dot if present;
	// dotted-decimal IPv4; or IPv6 as lower-case hex pieces with the
	// longest run of two or more zero pieces compressed to "::" (an
	// IPv4-mapped address is "::ffff:7f00:1", not "::ffff:127.0.0.1").
	Name string
	// IP is the address for IPv4 and IPv6 hosts (a 4-byte address for
	// IPv4, a 16-byte one for IPv6); it is the zero Addr for domains.
	IP netip.Addr
}

// Key returns the comparison key: Name without one trailing dot for domains,
// Name otherwise. Because Name is already lower-case and IDNA-processed, two
// hosts that differ only in case, IDNA form or one trailing dot have the same
// Key.
func (h Host) Key() string {
	if h.Kind == Domain {
		return strings.TrimSuffix(h.Name, ".")
	}
	return h.Name
}

// String returns the host as it appears in a URL: Name, with brackets around
// IPv6 addresses.
func (h Host) String() string {
	if h.Kind == IPv6 {
		return "[" + h.Name + "]"
	}
	return h.Name
}

// Unmap returns the address to use for range checks: for an IPv4-mapped IPv6
// address (::ffff:a.b.c.d) the IPv4 address a.b.c.d, for any other IP host its
// IP, and the zero (invalid) Addr for domains.
func (h Host) Unmap() netip.Addr {
	return h.IP.Unmap()
}

// IsLocal reports whether the host names this machine: "localhost",
// "localhost." and any "*.localhost" domain; loopback addresses (127.0.0.0/8,
// ::1); the unspecified addresses (0.0.0.0/8, ::); and the IPv4-mapped forms
// (::ffff:127.0.0.1, ::ffff:0.1.2.3) of those IPv4 ranges. Of the deprecated
// IPv4-compatible forms (::a.b.c.d) those of 127.0.0.0/8 count, but not those of
// 0.0.0.0/8 other than :: and ::1 themselves (so ::2 is not local).
//
// As a conservative extra, a domain that is a local IPv4 address or
// "localhost" followed by several dots ("127.0.0.1..", "localhost..") counts as
// local too; such names never resolve through DNS.
func (h Host) IsLocal() bool {
	switch h.Kind {
	case Domain:
		n := strings.TrimRight(h.Name, ".")
		if n == "localhost" || strings.HasSuffix(n, ".localhost") {
			return true
		}
		if n != h.Name && n != "" && endsInNumber(n) {
			if ip, ok := parseIPv4(n); ok {
				return isLocal4(ip)
			}
		}
		return false
	case IPv4:
		return h.IP.Is4() && isLocal4(h.IP.As4())
	case IPv6:
		if !h.IP.Is6() {
			return false
		}
		if h.IP.Is4In6() {
			return isLocal4(h.IP.Unmap().As4())
		}
		b := h.IP.As16()
		for _, x := range b[:12] {
			if x != 0 {
				return false
			}
		}
		// IPv4-compatible, including :: and ::1.
		return b[12] == 127 || b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1
	}
	return false
}

func isLocal4(a [4]byte) bool { return a[0] == 127 || a[0] == 0 }

// ParseHost parses a host string as the WHATWG host parser does for special
// schemes: "[v6]" is an IPv6 address; anything else is percent-decoded,
// processed with IDNA (UTS #46, non-transitional), checked for forbidden
// domain code points and, if it ends in a number, parsed as an IPv4 address
// (in any of its forms, e.g. "0x7f.1").
func ParseHost(s string) (Host, error) {
	if len(s) > MaxInputLen {
		return Host{}, &Error{Input: s, Reason: "URL too long"}
	}
	h, reason := parseHost(s)
	if reason != "" {
		return Host{}, &Error{Input: s, Reason: reason}
	}
	return h, nil
}

// ParseHostPort parses "host:port", "[v6]:port" or "host", as found in the
// authority of a URL (used for the tcp/udp APIs which take an address and a
// port). The host is parsed as by ParseHost; the port must be ASCII digits
// and at most 65535. The port is -1 when absent or empty ("host:"). An IPv6
// address must be in brackets.
func ParseHostPort(s string) (Host, int, error) {
	fail := func(reason string) (Host, int, error) {
		return Host{}, 0, &Error{Input: s, Reason: reason}
	}
	if len(s) > MaxInputLen {
		return fail("URL too long")
	}
	hs, ps, hasPort := splitHostPort(s)
	if hs == "" {
		return fail("missing host")
	}
	h, reason := parseHost(hs)
	if reason != "" {
		return fail(reason)
	}
	port := -1
	if hasPort {
		if port, reason = parsePort(ps); reason != "" {
			return fail(reason)
		}
	}
	return h, port, nil
}

// parseHost is the host parser (isOpaque false). It returns a non-empty
// reason on failure.
func parseHost(in string) (Host, string) {
	if in == "" {
		return Host{}, "missing host"
	}
	ip := in
	if strings.IndexByte(in, '%') >= 0 || !isASCII(in) {
		// Chromium decodes escapes and maps the whole host (UTS #46)
		// before it looks for an IPv6 address, so "[%3A%3A1]", "%5B::1]"
		// and "[：：１]" all name [::1] there; the standard refuses them.
		ip = percentDecode(in)
		if !isASCII(ip) && utf8.ValidString(ip) && strings.IndexByte(ip, '%') < 0 && utf16Len(ip) <= maxIDNAHost {
			ip = percentDecode(idnaMapOnly(ip)) // "［％3A％3A1］" too
		}
	}
	if ip != "" && ip[0] == '[' {
		if len(ip) < 2 || ip[len(ip)-1] != ']' {
			return Host{}, "invalid IPv6 address"
		}
		a, ok := parseIPv6(ip[1 : len(ip)-1])
		if !ok {
			return Host{}, "invalid IPv6 address"
		}
		var b [16]byte
		for i, p := range a {
			b[2*i], b[2*i+1] = byte(p>>8), byte(p)
		}
		return Host{Kind: IPv6, Name: serializeIPv6(a), IP: netip.AddrFrom16(b)}, ""
	}
	domain := percentDecode(in)
	if !utf8.ValidString(domain) {
		// UTF-8 decoding would produce U+FFFD, which IDNA rejects.
		return Host{}, "invalid international domain name"
	}
	ascii, reason := domainToASCII(domain)
	if reason != "" {
		return Host{}, reason
	}
	if endsInNumber(ascii) {
		a, ok := parseIPv4(ascii)
		if !ok {
			return Host{}, "invalid IPv4 address"
		}
		ip := netip.AddrFrom4(a)
		return Host{Kind: IPv4, Name: ip.String(), IP: ip}, ""
	}
	return Host{Kind: Domain, Name: ascii}, ""
}

// percentDecode decodes %XX sequences (X an ASCII hex digit) and leaves any
// other '%' alone.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			c = hexVal(s[i+1])<<4 | hexVal(s[i+2])
			i += 2
		}
		b = append(b, c)
	}
	return string(b)
}

// idnaMapper maps (UTS #46, as idnaProfile does) without refusing anything
// on the way, for the IPv6 check above: its errors are ignored.
var idnaMapper = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.CheckHyphens(false),
	idna.StrictDomainName(false), idna.VerifyDNSLength(false))

// idnaMapOnly returns s mapped by UTS #46 (current mappings, see
// uts46Since16), whether or not the result is a valid domain name.
func idnaMapOnly(s string) string {
	m, _ := idnaMapper.ToUnicode(mapSince16(s))
	return m
}

// idnaProfile is UTS #46 ToASCII with the flags the URL Standard's domain
// parser uses when beStrict is false: CheckHyphens=false, CheckBidi=true,
// CheckJoiners=true, UseSTD3ASCIIRules=false, Transitional_Processing=false,
// VerifyDnsLength=false. (Options apply in order: MapForLookup turns on
// hyphen checks and STD3 rules, which the later options turn off again.)
var idnaProfile = idna.New(
	idna.MapForLookup(),
	idna.BidiRule(),
	idna.Transitional(false),
	idna.CheckHyphens(false),
	idna.CheckJoiners(true),
	idna.StrictDomainName(false),
	idna.VerifyDNSLength(false),
)

// Limits Chromium puts on international domain names (measured in Chromium
// 156 with new URL; ASCII hosts have neither): a host that needs IDNA
// processing may be at most maxIDNAHost UTF-16 code units long as written
// (after percent-decoding), and each label that needs Punycode encoding at
// most maxIDNALabel UTF-16 code units once mapped (ICU's encoder refuses
// longer input). A label's mapped length is what counts: U+FB03 "ﬃ" is three
// units once mapped, a soft hyphen none. Both also bound the quadratic cost
// of Punycode encoding.
const (
	maxIDNAHost  = 1265
	maxIDNALabel = 1000
)

// domainToASCII is the URL Standard's domain parser with beStrict false.
func domainToASCII(domain string) (string, string) {
	var result string
	if isASCII(domain) {
		// An ASCII domain is only lower-cased, whatever UTS #46 says about
		// it (e.g. invalid "xn--" labels): the standard's web-compatibility
		// rule, and what browsers do.
		result = strings.ToLower(domain)
	} else {
		if utf16Len(domain) > maxIDNAHost {
			return "", "domain too long"
		}
		if strings.IndexByte(domain, '%') >= 0 {
			// A '%' left after decoding ("é%zz", "é%2541") stays one in
			// Chromium, which re-escapes it before IDNA, and fails there;
			// only escapes that IDNA itself makes are decoded below.
			return "", "forbidden host code point '%'"
		}
		domain = mapSince16(domain)
		// Map and validate first (linear), so that the label limit is
		// checked on mapped labels before any Punycode encoding.
		mapped, err := idnaProfile.ToUnicode(domain)
		if err != nil {
			return "", "invalid international domain name"
		}
		for _, label := range strings.Split(mapped, ".") {
			if !isASCII(label) && utf16Len(label) > maxIDNALabel {
				return "", "domain label too long"
			}
		}
		// ToASCII of the mapped domain, not of the input: x/net/idna
		// applies the Bidi rule (RFC 5893) to labels as written, so
		// "aℵb" passed although U+2135 maps to the Hebrew letter alef and
		// "aאb" fails, as it does in UTS #46 and in Chromium.
		r, err := idnaProfile.ToASCII(mapped)
		if err != nil || hasEmptyACELabel(domain, r) {
			return "", "invalid international domain name"
		}
		if strings.IndexByte(r, '%') >= 0 {
			// Chromium decodes escapes once more in what IDNA made of the
			// name (a full-width '％' maps to '%'): "ｌｏｃａｌ％68ｏｓｔ" is
			// localhost there. An escape that does not decode to ASCII
			// other than '%' fails, as it does there.
			d := percentDecode(r)
			if strings.IndexByte(d, '%') >= 0 {
				return "", "forbidden host code point '%'"
			}
			if !isASCII(d) {
				return "", "invalid international domain name"
			}
			r = strings.ToLower(d)
		}
		result = r
	}
	if result == "" {
		return "", "empty host"
	}
	for i := 0; i < len(result); i++ {
		if c := result[i]; isForbiddenDomain(c) {
			return "", fmt.Sprintf("forbidden host code point %q", rune(c))
		}
	}
	return result, ""
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// hasEmptyACELabel reports whether domain has a label that maps to exactly
// "xn--". UTS #46 (since Unicode 15.1) makes that an error, but x/net/idna
// turns such a label into an empty one without an error. Only the four label
// separators '.', U+3002, U+FF0E and U+FF61 map to '.', so domain can be split
// into the labels UTS #46 sees before processing each alone.
func hasEmptyACELabel(domain, ascii string) bool {
	if ascii != "" && ascii[0] != '.' && ascii[len(ascii)-1] != '.' && !strings.Contains(ascii, "..") {
		return false // no empty label at all
	}
	for _, label := range strings.FieldsFunc(domain, isLabelSep) {
		if r, err := idnaProfile.ToASCII(label); err != nil || r != "" {
			continue
		}
		// label maps to "" (only ignored code points) or to "xn--".
		if r, _ := idnaProfile.ToASCII("a" + label); r != "a" {
			return true
		}
	}
	return false
}

// isLabelSep reports whether r is one of the code points that UTS #46 maps to
// the label separator '.'.
func isLabelSep(r rune) bool {
	return r == '.' || r == '\u3002' || r == '\uFF0E' || r == '\uFF61'
}

// isForbiddenDomain reports whether c is a forbidden domain code point: a C0
// control, space, '#', '%', '/', ':', '<', '>', '?', '@', '[', '\', ']', '^',
// '|' or DEL.
func isForbiddenDomain(c byte) bool {
	if c <= 0x20 || c == 0x7f {
		return true
	}
	switch c {
	case '#', '%', '/', ':', '<', '>', '?', '@', '[', '\\', ']', '^', '|':
		return true
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func hexVal(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

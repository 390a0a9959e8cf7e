package urlhost

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, that what it returns is sane, and
// that parsing the serialization again gives the same URL (idempotence).
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	for _, tc := range hostCases {
		f.Add("https://" + tc.in + "/")
		f.Add("tcp://" + tc.in + ":1")
	}
	f.Fuzz(func(t *testing.T, in string) {
		u, err := Parse(in)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Input != in || e.Reason == "" {
				t.Fatalf("Parse(%q): bad error %#v", in, err)
			}
			return
		}
		checkHost(t, in, u.Host)
		if u.Port < -1 || u.Port > 65535 || u.Port == defaultPort(u.Scheme) && u.Port != -1 {
			t.Fatalf("Parse(%q): port %d", in, u.Port)
		}
		s := u.String()
		if !isASCII(s) || strings.ContainsAny(s, " \t\r\n") {
			t.Fatalf("Parse(%q).String() = %q is not clean ASCII", in, s)
		}
		u2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", in, s, err)
		}
		if u2.Host != u.Host || u2.Port != u.Port {
			t.Fatalf("Parse(%q): host %+v port %d; after round trip through %q: %+v %d", in, u.Host, u.Port, s, u2.Host, u2.Port)
		}
		if s2 := u2.String(); s2 != s {
			t.Fatalf("Parse(%q).String() = %q, but then %q", in, s, s2)
		}
		bare := *u
		bare.Username, bare.Password = "", ""
		if !strings.HasPrefix(bare.String(), u.Origin()) {
			t.Fatalf("Parse(%q): href %q does not start with origin %q", in, bare.String(), u.Origin())
		}
	})
}

// FuzzParseHost checks that ParseHost and ParseHostPort never panic and that
// a parsed host parses again to itself.
func FuzzParseHost(f *testing.F) {
	for _, tc := range hostCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, _, _ = ParseHostPort(in)
		h, err := ParseHost(in)
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Input != in || e.Reason == "" {
				t.Fatalf("ParseHost(%q): bad error %#v", in, err)
			}
			return
		}
		checkHost(t, in, h)
		h2, err := ParseHost(h.String())
		if err != nil || h2 != h {
			t.Fatalf("ParseHost(%q) = %+v, but ParseHost(%q) = %+v, %v", in, h, h.String(), h2, err)
		}
		h3, port, err := ParseHostPort(h.String() + ":8080")
		if err != nil || h3 != h || port != 8080 {
			t.Fatalf("ParseHostPort(%q) = %+v, %d, %v", h.String()+":8080", h3, port, err)
		}
		u, err := Parse("http://" + h.String())
		if err != nil || u.Host != h {
			t.Fatalf("Parse(http://%s) = %+v, %v", h.String(), u, err)
		}
	})
}

// checkHost checks the invariants of a successfully parsed host.
func checkHost(t *testing.T, in string, h Host) {
	t.Helper()
	if h.Name == "" || !utf8.ValidString(h.Name) || !isASCII(h.Name) {
		t.Fatalf("%q: bad host name %q", in, h.Name)
	}
	switch h.Kind {
	case Domain:
		if h.IP.IsValid() || h.Name != strings.ToLower(h.Name) {
			t.Fatalf("%q: bad domain %+v", in, h)
		}
		for i := 0; i < len(h.Name); i++ {
			if isForbiddenDomain(h.Name[i]) {
				t.Fatalf("%q: forbidden byte in domain %q", in, h.Name)
			}
		}
		if endsInNumber(h.Name) {
			t.Fatalf("%q: domain %q ends in a number", in, h.Name)
		}
	case IPv4:
		if !h.IP.Is4() || h.IP.String() != h.Name {
			t.Fatalf("%q: bad IPv4 host %+v", in, h)
		}
	case IPv6:
		if !h.IP.Is6() {
			t.Fatalf("%q: bad IPv6 host %+v", in, h)
		}
	default:
		t.Fatalf("%q: bad kind %v", in, h.Kind)
	}
	_ = h.IsLocal()
	_ = h.Key()
	_ = h.Unmap()
}

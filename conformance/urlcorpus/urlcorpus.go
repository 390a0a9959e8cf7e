// Package urlcorpus generates the URL differential corpus: URLs built from
// the pieces where URL parsers disagree (IPv4 number forms, IPv6 spellings,
// international names, percent-escapes, userinfo, backslashes, controls),
// with the native policy's answers. The same corpus is judged natively, by
// the module under wazero (hostsim's tests), by the module in V8 through the
// JS loader and by Chromium's own `new URL` (extension/test/urls.test.mjs):
// every host must read each URL the same way.
//
// The corpus is a function of its size and seed alone (a PCG stream), so a
// failure reproduces with the same numbers:
//
//	go run ./conformance/urlcorpus/gen -n 240000 -o urls.json
package urlcorpus

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"mpnet/policy/urlhost"
	"mpnet/wasm/serve"
)

// Seed is the default seed of the test corpus.
const Seed = 12

// Config is the configuration every host judges the corpus under: lists that
// some generated hosts hit (and subdomains of which others are), so that
// allowed calls, R2, R3, R4 and C5 all occur.
const Config = `{"appid":"wx0123456789abcdef","domains":{` +
	`"request":["https://api.example.com","https://xn--fa-hia.de","https://xn--bcher-kva.example"],` +
	`"uploadFile":["https://up.example.com"],"downloadFile":["https://cdn.example.com"],` +
	`"socket":["wss://ws.example.com"],"tcp":["tcp://tcp.example.com"],"udp":["udp://udp.example.com"]}}`

// Case is one URL and what the native policy makes of it.
type Case struct {
	API string `json:"api"`
	URL string `json:"url"`
	// Host is urlhost's WHATWG host (IPv6 in brackets); "" when the URL is
	// invalid.
	Host string `json:"host"`
	// Special is true for http, https, ws, wss and ftp URLs: the ones a
	// browser parses with the same (special) host parser as urlhost.
	Special bool `json:"special,omitempty"`
	// Unicode16 is true when the URL holds a code point first assigned in
	// Unicode 16.0 or later (unknown to x/net/idna's 15.0 tables) or U+1806:
	// Chromium, with newer data, may accept what urlhost refuses.
	Unicode16 bool `json:"unicode16,omitempty"`
	// Decision is the first 16 hex digits of the sha256 of the native
	// mpnet_check answer to {"api": API, "url": URL}.
	Decision string `json:"decision"`
}

// Corpus is what gen writes.
type Corpus struct {
	Seed   uint64 `json:"seed"`
	Config string `json:"config"`
	Cases  []Case `json:"cases"`
}

// CheckRequest is the mpnet_check message for a case (the bytes hosts send).
func CheckRequest(api, url string) []byte {
	b, _ := json.Marshal(struct {
		API string `json:"api"`
		URL string `json:"url"`
	}{api, url})
	return b
}

// DecisionHash is the short hash Case.Decision holds.
func DecisionHash(answer []byte) string {
	s := sha256.Sum256(answer)
	return hex.EncodeToString(s[:8])
}

// Build generates n URLs from seed and judges them natively.
func Build(n int, seed uint64) (*Corpus, error) {
	inst := serve.New()
	if res := inst.Configure([]byte(`{"files":[{"name":"mpnet.json","content":` + strconv.Quote(Config) + `}]}`)); !strings.Contains(string(res), `"ok":true`) {
		return nil, fmt.Errorf("the corpus configuration was refused: %s", res)
	}
	c := &Corpus{Seed: seed, Config: Config}
	for _, g := range Generate(n, seed) {
		k := Case{API: g.API, URL: g.URL}
		if u, err := urlhost.Parse(g.URL); err == nil {
			k.Host = u.Host.String()
			switch u.Scheme {
			case "http", "https", "ws", "wss", "ftp":
				k.Special = true
			}
		}
		k.Unicode16 = hasUnicode16(g.URL) || hasUnicode16(unescape(g.URL))
		k.Decision = DecisionHash(inst.Check(CheckRequest(g.API, g.URL)))
		c.Cases = append(c.Cases, k)
	}
	return c, nil
}

func hasUnicode16(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r == 0x1806 || unicode.Is(unicode.Cn, r) })
}

// unescape decodes %XX escapes (the host parser does so before IDNA).
func unescape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(v))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// Generated is one generated call.
type Generated struct{ API, URL string }

// Generate returns n calls built from seed: the same numbers give the same
// calls on every machine.
func Generate(n int, seed uint64) []Generated {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x6d706e6574))}
	out := make([]Generated, 0, n)
	for len(out) < n {
		scheme, api := g.scheme()
		u := g.url(scheme)
		if !utf8.ValidString(u) || len(u) > urlhost.MaxInputLen {
			continue // every host sees the same string only when it is valid UTF-8
		}
		out = append(out, Generated{API: api, URL: u})
	}
	return out
}

type gen struct{ r *rand.Rand }

func (g *gen) n(k int) int             { return g.r.IntN(k) }
func (g *gen) chance(p float64) bool   { return g.r.Float64() < p }
func (g *gen) pick(s ...string) string { return s[g.n(len(s))] }

// scheme picks the URL's scheme as written and the API that makes the call.
func (g *gen) scheme() (string, string) {
	switch g.n(20) {
	case 0:
		return g.pick("http", "HTTP", "Http"), "request"
	case 1:
		return g.pick("wss", "WSS", "ws"), "connectSocket"
	case 2:
		return g.pick("tcp", "udp"), g.pick("tcp", "udp")
	case 3:
		return g.pick("ftp", "file", "mailto", "data", "javascript", "h\ttps", "https+x", "ht-tp"), "request"
	case 4:
		return "https", g.pick("uploadFile", "downloadFile", "resource")
	}
	return g.pick("https", "https", "https", "HTTPS", "hTtPs"), "request"
}

// url assembles scheme, separators, userinfo, host, port and the rest.
func (g *gen) url(scheme string) string {
	var b strings.Builder
	if g.chance(0.05) {
		b.WriteString(g.pick(" ", "\t", "\n", "\x00", "\x1f", "\u00a0", "  \r\n"))
	}
	b.WriteString(scheme)
	b.WriteString(g.sep())
	if g.chance(0.12) {
		b.WriteString(g.userinfo())
	}
	b.WriteString(g.host())
	if g.chance(0.2) {
		b.WriteString(g.port())
	}
	if g.chance(0.6) {
		b.WriteString(g.rest())
	}
	if g.chance(0.05) {
		b.WriteString(g.pick(" ", "\t", "\n", "\x01", "  "))
	}
	return b.String()
}

func (g *gen) sep() string {
	if g.chance(0.85) {
		return "://"
	}
	return g.pick(":", ":/", ":\\\\", ":/\\", ":\\/", ":////", ": //", ":/\t/", ":/\n/")
}

func (g *gen) userinfo() string {
	return g.pick("user", "a:b", ":", "", "good.com", "u%40v", "u@v", "api.example.com", "x:y:z", "日本", "a\\b") + "@"
}

func (g *gen) port() string {
	return ":" + g.pick("", "443", "8080", "0", "65535", "65536", "00080", "99999999999", "-1", "8o", "+80", "１２", "%38%30", "80a", " 80")
}

func (g *gen) rest() string {
	parts := []string{"/", "/x", "/a/../b", "/%2e%2e/", "\\x", "/@evil.com", "?q=1", "?a@b:c", "#f", "#@x", "/p?q#f", "/?", "/#", "/日本", "/ /", "?\\"}
	s := g.pick(parts...)
	if g.chance(0.3) {
		s += g.pick(parts...)
	}
	return s
}

// host builds a host from one family, then perhaps mangles it.
func (g *gen) host() string {
	var h string
	switch g.n(10) {
	case 0, 1, 2:
		h = g.asciiDomain()
	case 3, 4:
		h = g.idn()
	case 5, 6:
		h = g.ipv4()
	case 7:
		h = g.ipv6()
	case 8:
		h = g.local()
	default:
		h = g.junk()
	}
	switch g.n(14) {
	case 0:
		h = g.percentEncode(h)
		if g.chance(0.3) {
			h = strings.ReplaceAll(h, "%", "\uff05") // IDNA maps it back to '%'
		}
	case 1:
		h += g.pick(".", "..", "。", "．", "｡")
	case 2:
		h = g.fullWidth(h)
	case 3:
		i := g.n(len(h) + 1)
		h = h[:i] + g.pick("\t", "\n", "\r", "%", "%2", "%zz", " ", "*", "#", "?", "/", "\\", "@", ":", "^", "|", "<", "[", "]", "\x7f", "\u00ad", "\u200b", "\u200c", "\u200d") + h[i:]
		if !utf8.ValidString(h) {
			h = strings.ToValidUTF8(h, "")
		}
	}
	return h
}

var listed = []string{"api.example.com", "up.example.com", "cdn.example.com", "ws.example.com", "tcp.example.com", "udp.example.com"}

func (g *gen) asciiDomain() string {
	if g.chance(0.3) {
		h := g.pick(listed...)
		if g.chance(0.3) {
			h = g.pick("v2", "a.b", "x-y", "www") + "." + h
		}
		return g.mixCase(h)
	}
	labels := 1 + g.n(4)
	var parts []string
	for range labels {
		n := 1 + g.n(12)
		if g.chance(0.03) {
			n = 60 + g.n(10)
		}
		var b strings.Builder
		for range n {
			b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789-_ABCXYZ"[g.n(44)])
		}
		parts = append(parts, b.String())
	}
	if g.chance(0.1) {
		parts = append(parts, g.pick("xn--", "xn--a", "xn--zca", "xn--fa-hia", "xn--ab-", "XN--BCHER-KVA", "xn--9ca"))
	}
	return strings.Join(parts, ".")
}

// runePool holds the code points where IDNA implementations part ways.
var runePool = []rune{
	'é', 'ü', 'ß', 'ς', 'Σ', 'ẞ', 'İ', 'ı', 'ǅ', 'ﬃ', 'ℵ', 'ℶ', 'א', 'ب', '١', '٠', '۱',
	'日', '本', '中', '文', '한', 'ア', 'ｱ', 'ｶ', '\uff9e', '😀', '🏳', '\u0301', '\u0308', '\u093c', '\u094d',
	'\u00ad', '\u034f', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e', '\u115f', '\u3164', '\uffa0',
	'\u2061', '\u206a', '\u04c0', '\u10a0', '\u10c5', '\u2132', '\u2183', '\u1806', '\u2135',
	'\U0001d173', '\U0002f868', '\U0002f91f', '\u2f00', '\u3002', '\uff0e', '\uff61', '\ufe63', '\u2488', '\u2474',
	'\u00a0', '\u00a8', '\u2100', '\u2025', '\u0080', '\u009f', '\ufffd', '\uffff', '\U000e0001', '\U000f0000',
	'\u0378', '\u08a0', '\u0c5c', '\u1c89', '\ua7cb', '\U00033479', '\u0640', '\u07fa', '\u0e33', '\u0eb3',
	'Ａ', 'Ｚ', 'ａ', '０', '９', '－', '＿', '［', '］', '：', '＠', '％', '／', '＊',
}

func (g *gen) idn() string {
	labels := 1 + g.n(3)
	var parts []string
	for range labels {
		var b strings.Builder
		n := 1 + g.n(8)
		if g.chance(0.02) {
			n = 200 + g.n(1100)
		}
		for range n {
			switch g.n(5) {
			case 0:
				b.WriteByte("abcxyz019-"[g.n(10)])
			case 1:
				b.WriteRune(g.randomRune())
			default:
				b.WriteRune(runePool[g.n(len(runePool))])
			}
		}
		parts = append(parts, b.String())
	}
	if g.chance(0.3) {
		parts = append(parts, g.pick("de", "com", "example", "中国", "рф", "example.com"))
	}
	return strings.Join(parts, g.pick(".", ".", ".", "。", "．"))
}

func (g *gen) randomRune() rune {
	for {
		var r rune
		switch g.n(3) {
		case 0:
			r = rune(0x80 + g.n(0x800-0x80))
		case 1:
			r = rune(0x800 + g.n(0x10000-0x800))
		default:
			r = rune(0x10000 + g.n(0x110000-0x10000))
		}
		if utf8.ValidRune(r) {
			return r
		}
	}
}

func (g *gen) ipv4() string {
	parts := 1 + g.n(5)
	var ps []string
	for range parts {
		var v uint64
		switch g.n(4) {
		case 0:
			v = uint64(g.n(256))
		case 1:
			v = uint64(g.pick2(0, 1, 10, 127, 172, 192, 168, 169, 254, 255, 100))
		case 2:
			v = uint64(g.r.Uint32())
		default:
			v = g.r.Uint64() >> g.n(64)
		}
		switch g.n(6) {
		case 0:
			ps = append(ps, "0x"+strconv.FormatUint(v, 16))
		case 1:
			ps = append(ps, "0X"+strings.ToUpper(strconv.FormatUint(v, 16)))
		case 2:
			ps = append(ps, "0"+strconv.FormatUint(v, 8))
		case 3:
			ps = append(ps, g.pick("", "0x", "08", "09", "0xg", "1e2", "-1", "a"))
		default:
			ps = append(ps, strconv.FormatUint(v, 10))
		}
	}
	if g.chance(0.3) {
		return g.pick("127.0.0.1", "127.1", "0x7f.1", "2130706433", "0177.0.0.1", "0.0.0.0", "10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.169.254", "100.64.0.1", "255.255.255.255", "256.0.0.1", "1.2.3.4.5", "1.2.3.", "1..2", "0x", "4294967296")
	}
	return strings.Join(ps, ".")
}

func (g *gen) pick2(v ...int) int { return v[g.n(len(v))] }

func (g *gen) ipv6() string {
	if g.chance(0.4) {
		return "[" + g.pick("::1", "::", "::ffff:127.0.0.1", "::ffff:7f00:1", "0:0:0:0:0:0:0:1", "::127.0.0.1", "fe80::1", "fe80::1%25eth0",
			"fc00::1", "fd12:3456::1", "2001:db8::1", "::ffff:10.0.0.1", "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "::1.2.3", "::1.2.3.4.5",
			"0000:0000::0001", "::0:0:1", "1:0:0:2:0:0:0:3", "%3A%3A1", "：：１", "::１", "::%31", "[::1]", "::1%", "v1.x", "") + "]"
	}
	n := 1 + g.n(9)
	var ps []string
	for range n {
		switch g.n(6) {
		case 0:
			ps = append(ps, "")
		case 1:
			ps = append(ps, strconv.Itoa(g.n(256))+"."+strconv.Itoa(g.n(256))+"."+strconv.Itoa(g.n(300))+"."+strconv.Itoa(g.n(256)))
		default:
			ps = append(ps, strconv.FormatUint(uint64(g.n(0x10000)), 16))
		}
	}
	s := strings.Join(ps, ":")
	if g.chance(0.3) {
		s = strings.ToUpper(s)
	}
	return "[" + s + "]"
}

func (g *gen) local() string {
	return g.pick("localhost", "LOCALHOST", "localhost.", "localhost..", "a.localhost", "localhost.com", "ｌｏｃａｌｈｏｓｔ",
		"loca%6Chost", "xn--localhost", "127.0.0.1.", "127.0.0.1..", "0", "0x0", "[::]", "[0::0]", "local%68ost", "LocalHost.")
}

func (g *gen) junk() string {
	const alphabet = "abc.-_~!$&'()*+,;=:@[]%\\/ #?^|<>\"`{}0123456789"
	n := g.n(12)
	var b strings.Builder
	for range n {
		if g.chance(0.15) {
			b.WriteRune(runePool[g.n(len(runePool))])
		} else {
			b.WriteByte(alphabet[g.n(len(alphabet))])
		}
	}
	return b.String()
}

// percentEncode escapes some bytes of s (%XX, mixed case).
func (g *gen) percentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if g.chance(0.4) {
			f := "%%%02X"
			if g.chance(0.3) {
				f = "%%%02x"
			}
			fmt.Fprintf(&b, f, s[i])
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// fullWidth turns ASCII letters, digits and some punctuation into their
// full-width forms (U+FF01..U+FF5E), which IDNA maps back.
func (g *gen) fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0x20 && r < 0x7f && g.chance(0.6) {
			b.WriteRune(r - 0x21 + 0xFF01)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (g *gen) mixCase(s string) string {
	if !g.chance(0.3) {
		return s
	}
	b := []byte(s)
	for i := range b {
		if g.chance(0.5) && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

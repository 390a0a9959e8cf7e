package wire

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"mpnet/abi"
	"mpnet/internal/jsonesc"
)

// The strict decoders: every message the module reads, in any JSON, for
// what the fast decoders decline (whitespace, escapes, other field orders,
// duplicates) and for the messages that have no fast path (TLS facts,
// configurations given as objects, events carrying a TLS verdict). They
// take what encoding/json with DisallowUnknownFields takes, into the same
// values, with three deliberate differences: field names must match
// exactly (encoding/json also takes other cases), nothing but whitespace
// may follow the message (its Decoder stopped at the value), and the
// messages are reported in this package's words. Tests compare them with
// encoding/json natively; the module itself does not link encoding/json
// (docs/RATIONALE.md).

// StrictConfigureRequest decodes an abi.ConfigureRequest.
func StrictConfigureRequest(msg []byte, r *abi.ConfigureRequest) error {
	*r = abi.ConfigureRequest{}
	return decodeStrict(msg, func(d *sdec) { d.configureRequest(r) })
}

// StrictCheckRequest decodes an abi.CheckRequest.
func StrictCheckRequest(msg []byte, r *abi.CheckRequest) error {
	*r = abi.CheckRequest{}
	return decodeStrict(msg, func(d *sdec) { d.checkRequest(r) })
}

// StrictEvent decodes an abi.Event.
func StrictEvent(msg []byte, ev *abi.Event) error {
	*ev = abi.Event{}
	return decodeStrict(msg, func(d *sdec) { d.event(ev) })
}

// StrictBodyRequest decodes an abi.BodyRequest (the header of mpnet_body).
func StrictBodyRequest(msg []byte, r *abi.BodyRequest) error {
	*r = abi.BodyRequest{}
	return decodeStrict(msg, func(d *sdec) { d.bodyRequest(r) })
}

// StrictTLSFacts decodes an abi.TLSFacts.
func StrictTLSFacts(msg []byte, f *abi.TLSFacts) error {
	*f = abi.TLSFacts{}
	return decodeStrict(msg, func(d *sdec) { d.tlsFacts(f) })
}

// decodeStrict runs one message's decoder and checks that nothing follows it.
func decodeStrict(msg []byte, top func(*sdec)) error {
	d := &sdec{b: msg}
	top(d)
	if d.err == nil {
		d.ws()
		if d.i < len(d.b) {
			d.fail("extra data after the JSON message")
		}
	}
	return d.err
}

// sdec reads one JSON message; the first error sticks and ends it.
type sdec struct {
	b   []byte
	i   int
	err error
}

func (d *sdec) fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s (JSON, at byte %d)", fmt.Sprintf(format, a...), d.i)
	}
}

// in prefixes an error with the object it is about ("" for the message
// itself).
func in(what string) string {
	if what == "" {
		return ""
	}
	return what + ": "
}

func (d *sdec) ws() { d.i = skipWS(d.b, d.i) }

// next answers the next byte after whitespace, 0 at the end.
func (d *sdec) next() byte {
	d.ws()
	if d.i >= len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// literal consumes true, false or null when the input has it here.
func (d *sdec) literal(s string) bool {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return true
	}
	return false
}

// null consumes a null; a null leaves the field as it was (a slice or a
// pointer is set to nil by its caller), as encoding/json does.
func (d *sdec) null() bool {
	return d.err == nil && d.next() == 'n' && d.literal("null")
}

// kind names the JSON value starting at the next byte, for errors.
func (d *sdec) kind() string {
	switch c := d.next(); {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || '0' <= c && c <= '9':
		return "a number"
	case c == 0:
		return "the end of the message"
	}
	return fmt.Sprintf("the character %q", d.b[d.i])
}

// object reads an object (or null), handing each key to field, which reads
// the value and answers false for a key the message type does not have.
func (d *sdec) object(what string, field func(key string) bool) {
	if d.err != nil || d.null() {
		return
	}
	if d.next() != '{' {
		d.fail("%swant an object, got %s", in(what), d.kind())
		return
	}
	d.i++
	if d.next() == '}' {
		d.i++
		return
	}
	for d.err == nil {
		if d.next() != '"' {
			d.fail("%swant a field name, got %s", in(what), d.kind())
			return
		}
		key, ok := d.string()
		if !ok {
			return
		}
		if d.next() != ':' {
			d.fail("%swant ':' after %q", in(what), key)
			return
		}
		d.i++
		if !field(key) {
			d.fail("%sunknown field %q", in(what), key)
			return
		}
		if d.err != nil {
			return
		}
		switch d.next() {
		case ',':
			d.i++
		case '}':
			d.i++
			return
		default:
			d.fail("%swant ',' or '}' after field %q", in(what), key)
			return
		}
	}
}

// list reads an array into *dst, each element by elem: null gives nil, []
// an empty slice, and a later duplicate key replaces the slice, as
// encoding/json does. (A function: Go methods take no type parameters.)
func list[T any](d *sdec, what string, dst *[]T, elem func(*T)) {
	if d.err != nil {
		return
	}
	if d.null() {
		*dst = nil
		return
	}
	if d.next() != '[' {
		d.fail("%s: want an array, got %s", what, d.kind())
		return
	}
	d.i++
	out := []T{}
	if d.next() == ']' {
		d.i++
		*dst = out
		return
	}
	for d.err == nil {
		var v T
		elem(&v)
		out = append(out, v)
		if d.err != nil {
			return
		}
		switch d.next() {
		case ',':
			d.i++
		case ']':
			d.i++
			*dst = out
			return
		default:
			d.fail("%s: want ',' or ']' in the array", what)
			return
		}
	}
}

// str reads a string field.
func (d *sdec) str(what string, dst *string) {
	if d.err != nil || d.null() {
		return
	}
	if d.next() != '"' {
		d.fail("%s: want a string, got %s", what, d.kind())
		return
	}
	if s, ok := d.string(); ok {
		*dst = s
	}
}

// strs reads an array of strings.
func (d *sdec) strs(what string, dst *[]string) {
	list(d, what, dst, func(v *string) { d.str(what, v) })
}

// boolean reads a boolean field.
func (d *sdec) boolean(what string, dst *bool) {
	if d.err != nil || d.null() {
		return
	}
	switch {
	case d.next() == 't' && d.literal("true"):
		*dst = true
	case d.next() == 'f' && d.literal("false"):
		*dst = false
	default:
		d.fail("%s: want true or false, got %s", what, d.kind())
	}
}

// integer reads an integer field: a JSON number without fraction or
// exponent that fits in 64 bits.
func (d *sdec) integer(what string, dst *int64) {
	if d.err != nil || d.null() {
		return
	}
	c := d.next()
	if c != '-' && (c < '0' || c > '9') {
		d.fail("%s: want an integer, got %s", what, d.kind())
		return
	}
	start := d.i
	lit, ok := d.number()
	if !ok {
		return
	}
	v, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		d.i = start
		d.fail("%s: want an integer, got the number %s", what, lit)
		return
	}
	*dst = v
}

// integerInt is integer for an int field.
func (d *sdec) integerInt(what string, dst *int) {
	v := int64(*dst)
	d.integer(what, &v)
	if d.err == nil {
		*dst = int(v)
		if int64(*dst) != v {
			d.fail("%s: %d does not fit", what, v)
		}
	}
}

// number reads a JSON number's literal (the grammar of RFC 8259).
func (d *sdec) number() (string, bool) {
	b, start := d.b, d.i
	i := d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		d.i = i
		d.fail("malformed number")
		return "", false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.i = i
			d.fail("malformed number")
			return "", false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.i = i
			d.fail("malformed number")
			return "", false
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return string(b[start:i]), true
}

// string reads a JSON string (the next byte is its quote): escapes are
// resolved, invalid UTF-8 and unpaired surrogates become U+FFFD, as
// encoding/json does.
func (d *sdec) string() (string, bool) {
	b := d.b
	d.i++ // the opening quote
	start := d.i
	var out []byte // only when the string needs rewriting
	for d.i < len(b) {
		c := b[d.i]
		switch {
		case c == '"':
			s := b[start:d.i]
			d.i++
			if out == nil {
				return string(s), true
			}
			return string(append(out, s...)), true
		case c == '\\':
			out = append(out, b[start:d.i]...)
			if d.i+1 >= len(b) {
				d.fail("unterminated string")
				return "", false
			}
			e := b[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, n := jsonesc.Unicode(b, d.i-2)
				if n == 0 {
					d.fail("invalid \\u escape (want four hex digits)")
					return "", false
				}
				d.i += n - 2
				out = utf8.AppendRune(out, r)
			default:
				d.i--
				d.fail("invalid escape \\%c in a string", e)
				return "", false
			}
			start = d.i
		case c < 0x20:
			d.fail("control character 0x%02X in a string", c)
			return "", false
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, size := utf8.DecodeRune(b[d.i:])
			if r == utf8.RuneError && size == 1 {
				out = append(append(out, b[start:d.i]...), "\uFFFD"...)
				d.i++
				start = d.i
				continue
			}
			d.i += size
		}
	}
	d.fail("unterminated string")
	return "", false
}

// The message types.

func (d *sdec) checkRequest(r *abi.CheckRequest) {
	d.object("", func(k string) bool {
		switch k {
		case "api":
			d.str(k, &r.API)
		case "url":
			d.str(k, &r.URL)
		case "timeout":
			d.integer(k, &r.Timeout)
		case "headers":
			d.strs(k, &r.Headers)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) event(ev *abi.Event) {
	d.object("", func(k string) bool {
		switch k {
		case "type":
			d.str(k, &ev.Type)
		case "at":
			d.integer(k, &ev.At)
		case "id":
			d.integer(k, &ev.ID)
		case "api":
			d.str(k, &ev.API)
		case "url":
			d.str(k, &ev.URL)
		case "method":
			d.str(k, &ev.Method)
		case "timeout":
			d.integer(k, &ev.Timeout)
		case "headers":
			d.strs(k, &ev.Headers)
		case "status":
			d.integerInt(k, &ev.Status)
		case "transport":
			d.str(k, &ev.Transport)
		case "origin":
			d.str(k, &ev.Origin)
		case "protocols":
			d.strs(k, &ev.Protocols)
		case "accept":
			d.str(k, &ev.Accept)
		case "body":
			d.str(k, &ev.Body)
		case "contentType":
			d.str(k, &ev.ContentType)
		case "responseType":
			d.str(k, &ev.ResponseType)
		case "tls":
			if d.null() {
				ev.TLS = nil
				break
			}
			if ev.TLS == nil {
				ev.TLS = &abi.TLSVerdict{}
			}
			d.tlsVerdict(ev.TLS)
		case "server":
			d.str(k, &ev.Server)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) bodyRequest(r *abi.BodyRequest) {
	d.object("", func(k string) bool {
		switch k {
		case "api":
			d.str(k, &r.API)
		case "contentType":
			d.str(k, &r.ContentType)
		case "url":
			d.str(k, &r.URL)
		case "decoded":
			d.str(k, &r.Decoded)
		case "source":
			d.str(k, &r.Source)
		case "invalid":
			d.integerInt(k, &r.Invalid)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) configureRequest(r *abi.ConfigureRequest) {
	d.object("", func(k string) bool {
		switch k {
		case "files":
			list(d, k, &r.Files, func(f *abi.File) {
				d.object("file", func(k string) bool {
					switch k {
					case "name":
						d.str(k, &f.Name)
					case "content":
						d.str(k, &f.Content)
					default:
						return false
					}
					return true
				})
			})
		case "config":
			if d.null() {
				r.Config = nil
				break
			}
			if r.Config == nil {
				r.Config = &abi.Config{}
			}
			d.config(r.Config)
		case "dryRun":
			d.boolean(k, &r.DryRun)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) config(c *abi.Config) {
	d.object("config", func(k string) bool {
		switch k {
		case "appid":
			d.str(k, &c.AppID)
		case "version":
			d.str(k, &c.Version)
		case "domains":
			d.object(k, func(k string) bool {
				dst := map[string]*[]string{"request": &c.Domains.Request, "uploadFile": &c.Domains.UploadFile,
					"downloadFile": &c.Domains.DownloadFile, "socket": &c.Domains.Socket, "tcp": &c.Domains.TCP, "udp": &c.Domains.UDP}[k]
				if dst == nil {
					return false
				}
				d.strs(k, dst)
				return true
			})
		case "networkTimeout":
			d.object(k, func(k string) bool {
				dst := map[string]*int64{"request": &c.NetworkTimeout.Request, "connectSocket": &c.NetworkTimeout.ConnectSocket,
					"uploadFile": &c.NetworkTimeout.UploadFile, "downloadFile": &c.NetworkTimeout.DownloadFile}[k]
				if dst == nil {
					return false
				}
				d.integer(k, dst)
				return true
			})
		case "urlCheck":
			if d.null() {
				c.URLCheck = nil
				break
			}
			var v bool
			if c.URLCheck != nil {
				v = *c.URLCheck
			}
			d.boolean(k, &v)
			c.URLCheck = &v
		case "mode":
			d.str(k, &c.Mode)
		case "lan":
			d.strs(k, &c.LAN)
		case "concurrency":
			d.str(k, &c.Concurrency)
		case "timeoutFrom":
			d.str(k, &c.TimeoutFrom)
		case "tooling":
			d.strs(k, &c.Tooling)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) tlsVerdict(v *abi.TLSVerdict) {
	d.object("tls", func(k string) bool {
		switch k {
		case "host":
			d.str(k, &v.Host)
		case "port":
			d.integerInt(k, &v.Port)
		case "ok":
			d.boolean(k, &v.OK)
		case "ios":
			d.platform(k, &v.IOS)
		case "android":
			d.platform(k, &v.Android)
		case "findings":
			list(d, k, &v.Findings, func(f *abi.TLSFinding) {
				d.object("finding", func(k string) bool {
					switch k {
					case "rule":
						d.str(k, &f.Rule)
					case "check":
						d.str(k, &f.Check)
					case "severity":
						d.str(k, &f.Severity)
					case "platforms":
						d.strs(k, &f.Platforms)
					case "message":
						d.str(k, &f.Message)
					case "fix":
						d.str(k, &f.Fix)
					default:
						return false
					}
					return true
				})
			})
		case "errMsg":
			d.str(k, &v.ErrMsg)
		case "clients":
			list(d, k, &v.Clients, d.client)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) client(c *abi.ClientResult) {
	d.object("client", func(k string) bool {
		switch k {
		case "name":
			d.str(k, &c.Name)
		case "platform":
			d.str(k, &c.Platform)
		case "ok":
			d.boolean(k, &c.OK)
		case "judged":
			d.boolean(k, &c.Judged)
		case "protocol":
			d.str(k, &c.Protocol)
		case "forwardSecret":
			d.boolean(k, &c.ForwardSecret)
		case "fails":
			d.strs(k, &c.Fails)
		case "note":
			d.str(k, &c.Note)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) platform(what string, p *abi.PlatformResult) {
	d.object(what, func(k string) bool {
		switch k {
		case "ok":
			d.boolean(k, &p.OK)
		case "fails":
			d.strs(k, &p.Fails)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) tlsFacts(f *abi.TLSFacts) {
	d.object("", func(k string) bool {
		switch k {
		case "host":
			d.str(k, &f.Host)
		case "port":
			d.integerInt(k, &f.Port)
		case "now":
			d.integer(k, &f.Now)
		case "error":
			d.str(k, &f.Error)
		case "versions":
			list(d, k, &f.Versions, func(p *abi.TLSVersionProbe) {
				d.object("version", func(k string) bool {
					switch k {
					case "version":
						d.str(k, &p.Version)
					case "supported":
						d.boolean(k, &p.Supported)
					case "error":
						d.str(k, &p.Error)
					case "ciphers":
						d.strs(k, &p.Ciphers)
					case "partial":
						d.boolean(k, &p.Partial)
					default:
						return false
					}
					return true
				})
			})
		case "chain":
			list(d, k, &f.Chain, d.cert)
		case "cipherSuite":
			d.str(k, &f.CipherSuite)
		case "forwardSecret":
			d.boolean(k, &f.ForwardSecret)
		case "hostnameMatch":
			d.boolean(k, &f.HostnameMatch)
		case "hostnameError":
			d.str(k, &f.HostnameError)
		case "trusted":
			d.boolean(k, &f.Trusted)
		case "trustError":
			d.str(k, &f.TrustError)
		case "rootsSource":
			d.str(k, &f.RootsSource)
		case "issuerSent":
			d.boolean(k, &f.IssuerSent)
		case "issuerIsRoot":
			d.boolean(k, &f.IssuerIsRoot)
		case "ocspStapled":
			d.boolean(k, &f.OCSPStapled)
		case "scts":
			d.integerInt(k, &f.SCTs)
		case "trustFault":
			d.str(k, &f.TrustFault)
		case "alpn":
			d.str(k, &f.ALPN)
		case "noSNI":
			if d.null() {
				f.NoSNI = nil
				break
			}
			if f.NoSNI == nil {
				f.NoSNI = &abi.NoSNIFacts{}
			}
			d.noSNI(f.NoSNI)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) noSNI(n *abi.NoSNIFacts) {
	d.object("noSNI", func(k string) bool {
		switch k {
		case "error":
			d.str(k, &n.Error)
		case "sameCert":
			d.boolean(k, &n.SameCert)
		case "hostnameMatch":
			d.boolean(k, &n.HostnameMatch)
		case "subject":
			d.str(k, &n.Subject)
		default:
			return false
		}
		return true
	})
}

func (d *sdec) cert(c *abi.CertFacts) {
	d.object("certificate", func(k string) bool {
		switch k {
		case "subject":
			d.str(k, &c.Subject)
		case "issuer":
			d.str(k, &c.Issuer)
		case "dnsNames":
			d.strs(k, &c.DNSNames)
		case "ips":
			d.strs(k, &c.IPs)
		case "notBefore":
			d.integer(k, &c.NotBefore)
		case "notAfter":
			d.integer(k, &c.NotAfter)
		case "selfSigned":
			d.boolean(k, &c.SelfSigned)
		case "isCA":
			d.boolean(k, &c.IsCA)
		case "signatureAlgorithm":
			d.str(k, &c.SignatureAlgorithm)
		case "keyType":
			d.str(k, &c.KeyType)
		case "keyBits":
			d.integerInt(k, &c.KeyBits)
		case "aiaIssuers":
			d.strs(k, &c.AIAIssuers)
		case "ocspServers":
			d.strs(k, &c.OCSPServers)
		case "scts":
			d.integerInt(k, &c.SCTs)
		case "sha256":
			d.str(k, &c.SHA256)
		case "extKeyUsage":
			d.strs(k, &c.ExtKeyUsage)
		case "noExtKeyUsage":
			d.boolean(k, &c.NoExtKeyUsage)
		default:
			return false
		}
		return true
	})
}

// Package wire is the module's JSON codec for the ABI messages: fast,
// allocation-light paths for the messages of every network call
// (abi.Event and abi.CheckRequest in, abi.StepResult and abi.Decision out),
// and strict decoders and encoders for all the others, so that the module
// does not link encoding/json.
//
// It is not a second definition of the wire format: the encoders produce
// byte for byte what encoding/json's Marshal produces for the same value;
// the fast decoders accept only a canonical subset of JSON (exact field
// names, no duplicates, plain numbers) and report false for anything else,
// so that the caller falls back to the strict decoders (strict.go), which
// take what encoding/json with DisallowUnknownFields takes, into the same
// values. Differential tests against encoding/json and fuzz targets hold
// these promises.
//
// Why it exists: under wazero a strict encoding/json decode of one small
// event cost more than the rest of a decision, and encoding/json was an
// eighth of the module (see docs/RATIONALE.md).
package wire

import (
	"sort"
	"strconv"
	"unicode/utf8"

	"mpnet/abi"
	"mpnet/internal/swar"
)

const hex = "0123456789abcdef"

// safe[b] reports whether ASCII byte b is copied as is by encoding/json with
// HTML escaping on (its htmlSafeSet).
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		switch b {
		case '"', '\\', '<', '>', '&':
		default:
			t[b] = true
		}
	}
	return t
}()

// AppendString appends s as a JSON string exactly as encoding/json does
// (HTML-safe escaping, invalid UTF-8 as U+FFFD, U+2028/U+2029 escaped).
func AppendString(dst []byte, s string) []byte {
	return append(AppendEscaped(append(dst, '"'), s), '"')
}

// AppendEscaped is AppendString without the quotes: s escaped to stand
// inside a JSON string.
func AppendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && safe8(swar.Word(s, i)) {
			i += 8
		}
		if i == len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// obj writes the members of one JSON object, handling commas and omitempty.
type obj struct {
	b     []byte
	first bool
}

func open(dst []byte) obj { return obj{b: append(dst, '{'), first: true} }

func (o *obj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *obj) str(k, v string) { o.key(k); o.b = AppendString(o.b, v) }

func (o *obj) strOmit(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *obj) int(k string, v int64) {
	o.key(k)
	if uint64(v) < 10 { // counters are mostly 0 or 1: one byte, no formatting
		o.b = append(o.b, byte('0'+v))
		return
	}
	o.b = strconv.AppendInt(o.b, v, 10)
}

func (o *obj) intOmit(k string, v int64) {
	if v != 0 {
		o.int(k, v)
	}
}

func (o *obj) bool(k string, v bool) { o.key(k); o.b = strconv.AppendBool(o.b, v) }

func (o *obj) close() []byte { return append(o.b, '}') }

// AppendWarning appends an abi.Warning as encoding/json encodes it.
func AppendWarning(dst []byte, w *abi.Warning) []byte {
	o := open(dst)
	o.str("rule", w.Rule)
	o.str("message", w.Message)
	o.strOmit("fix", w.Fix)
	return o.close()
}

// appendList appends a slice as a JSON array (null when nil, as
// encoding/json), each element by elem.
func appendList[T any](dst []byte, items []T, elem func([]byte, *T) []byte) []byte {
	if items == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = elem(dst, &items[i])
	}
	return append(dst, ']')
}

func appendWarnings(dst []byte, ws []abi.Warning) []byte { return appendList(dst, ws, AppendWarning) }

func appendStringElem(dst []byte, s *string) []byte { return AppendString(dst, *s) }

// AppendDecision appends an abi.Decision as encoding/json encodes it.
func AppendDecision(dst []byte, d *abi.Decision) []byte {
	o := open(dst)
	o.bool("allowed", d.Allowed)
	o.bool("proceed", d.Proceed)
	o.str("errMsg", d.ErrMsg)
	o.str("rule", d.Rule)
	o.strOmit("message", d.Message)
	o.strOmit("console", d.Console)
	o.strOmit("fix", d.Fix)
	o.key("warnings")
	o.b = appendWarnings(o.b, d.Warnings)
	o.int("timeoutMs", d.TimeoutMs)
	o.str("referer", d.Referer)
	o.str("api", d.API)
	o.str("url", d.URL)
	o.strOmit("host", d.Host)
	o.strOmit("list", d.List)
	o.strOmit("entry", d.Entry)
	o.str("mode", d.Mode)
	return o.close()
}

// AppendAction appends an abi.Action as encoding/json encodes it.
func AppendAction(dst []byte, a *abi.Action) []byte {
	o := open(dst)
	o.str("type", a.Type)
	o.intOmit("id", a.ID)
	o.strOmit("api", a.API)
	o.strOmit("rule", a.Rule)
	o.strOmit("errMsg", a.ErrMsg)
	o.strOmit("reason", a.Reason)
	o.intOmit("position", int64(a.Position))
	o.intOmit("timeoutMs", a.TimeoutMs)
	o.intOmit("deadline", a.Deadline)
	if len(a.Headers) > 0 {
		o.key("headers")
		var one [1]string // the usual case, the Referer alone: no allocation, no sort
		keys := one[:0]
		for k := range a.Headers {
			keys = append(keys, k)
		}
		if len(keys) > 1 {
			sort.Strings(keys)
		}
		h := open(o.b)
		for _, k := range keys {
			if !h.first {
				h.b = append(h.b, ',')
			}
			h.first = false
			h.b = AppendString(h.b, k)
			h.b = append(h.b, ':')
			h.b = AppendString(h.b, a.Headers[k])
		}
		o.b = h.close()
	}
	o.int("at", a.At)
	o.strOmit("message", a.Message)
	o.strOmit("console", a.Console)
	o.strOmit("fix", a.Fix)
	o.strOmit("severity", a.Severity)
	o.strOmit("list", a.List)
	o.strOmit("entry", a.Entry)
	o.strOmit("server", a.Server)
	return o.close()
}

// AppendStepResult appends an abi.StepResult as encoding/json encodes it.
func AppendStepResult(dst []byte, r *abi.StepResult) []byte {
	o := open(dst)
	o.key("actions")
	o.b = appendList(o.b, r.Actions, AppendAction)
	o.int("nextWake", r.NextWake)
	o.int("inFlight", int64(r.InFlight))
	o.int("queued", int64(r.Queued))
	o.int("sockets", int64(r.Sockets))
	o.bool("hidden", r.Hidden)
	return o.close()
}

func appendStrings(dst []byte, ss []string) []byte { return appendList(dst, ss, appendStringElem) }

func (o *obj) strsOmit(k string, ss []string) {
	if len(ss) > 0 {
		o.key(k)
		o.b = appendStrings(o.b, ss)
	}
}

// AppendConfig appends an abi.Config as encoding/json encodes it.
func AppendConfig(dst []byte, c *abi.Config) []byte {
	o := open(dst)
	o.strOmit("appid", c.AppID)
	o.strOmit("version", c.Version)
	o.key("domains")
	d := open(o.b)
	d.strsOmit("request", c.Domains.Request)
	d.strsOmit("uploadFile", c.Domains.UploadFile)
	d.strsOmit("downloadFile", c.Domains.DownloadFile)
	d.strsOmit("socket", c.Domains.Socket)
	d.strsOmit("tcp", c.Domains.TCP)
	d.strsOmit("udp", c.Domains.UDP)
	o.b = d.close()
	// networkTimeout is a struct: omitempty never omits it.
	o.key("networkTimeout")
	t := open(o.b)
	t.intOmit("request", c.NetworkTimeout.Request)
	t.intOmit("connectSocket", c.NetworkTimeout.ConnectSocket)
	t.intOmit("uploadFile", c.NetworkTimeout.UploadFile)
	t.intOmit("downloadFile", c.NetworkTimeout.DownloadFile)
	o.b = t.close()
	if c.URLCheck != nil {
		o.bool("urlCheck", *c.URLCheck)
	}
	o.strOmit("mode", c.Mode)
	o.strsOmit("lan", c.LAN)
	o.strOmit("concurrency", c.Concurrency)
	o.strOmit("timeoutFrom", c.TimeoutFrom)
	o.strsOmit("tooling", c.Tooling)
	return o.close()
}

// AppendProblem appends an abi.Problem as encoding/json encodes it.
func AppendProblem(dst []byte, p *abi.Problem) []byte {
	o := open(dst)
	o.strOmit("rule", p.Rule)
	o.str("severity", p.Severity)
	o.strOmit("file", p.File)
	o.intOmit("line", int64(p.Line))
	o.intOmit("col", int64(p.Col))
	o.strOmit("entry", p.Entry)
	o.strOmit("list", p.List)
	o.str("message", p.Message)
	o.strOmit("fix", p.Fix)
	return o.close()
}

func (o *obj) problemsOmit(k string, ps []abi.Problem) {
	if len(ps) == 0 {
		return
	}
	o.key(k)
	o.b = appendList(o.b, ps, AppendProblem)
}

// AppendConfigureResult appends an abi.ConfigureResult as encoding/json
// encodes it.
func AppendConfigureResult(dst []byte, r *abi.ConfigureResult) []byte {
	o := open(dst)
	o.bool("ok", r.OK)
	o.problemsOmit("errors", r.Errors)
	o.problemsOmit("problems", r.Problems)
	if r.Config != nil {
		o.key("config")
		o.b = AppendConfig(o.b, r.Config)
	}
	o.strsOmit("formats", r.Formats)
	o.strOmit("referer", r.Referer)
	return o.close()
}

// AppendBodyResult appends an abi.BodyResult as encoding/json encodes it.
func AppendBodyResult(dst []byte, r *abi.BodyResult) []byte {
	o := open(dst)
	o.str("charset", r.Charset)
	o.str("source", r.Source)
	o.bool("converted", r.Converted)
	o.bool("bomStripped", r.BOMStripped)
	if len(r.Warnings) > 0 {
		o.key("warnings")
		o.b = appendWarnings(o.b, r.Warnings)
	}
	o.strOmit("error", r.Error)
	o.strOmit("decode", r.Decode)
	return o.close()
}

// AppendStatus appends an abi.Status as encoding/json encodes it.
func AppendStatus(dst []byte, s *abi.Status) []byte {
	o := open(dst)
	o.int("abi", int64(s.ABI))
	o.bool("configured", s.Configured)
	o.str("mode", s.Mode)
	o.int("inFlight", int64(s.InFlight))
	o.int("queued", int64(s.Queued))
	o.int("sockets", int64(s.Sockets))
	o.bool("hidden", s.Hidden)
	o.int("now", s.Now)
	return o.close()
}

// AppendErrorResult appends an abi.ErrorResult as encoding/json encodes it.
func AppendErrorResult(dst []byte, r *abi.ErrorResult) []byte {
	o := open(dst)
	o.key("error")
	e := open(o.b)
	e.str("code", r.Error.Code)
	e.str("message", r.Error.Message)
	o.b = e.close()
	return o.close()
}

// AppendTLSVerdict appends an abi.TLSVerdict as encoding/json encodes it.
// A verdict is written once per server, not on a call's path, so its
// fields go through the non-inlined writers below: inlining every key and
// value, as the hot encoders do, cost 13 KB of module here.
func AppendTLSVerdict(dst []byte, v *abi.TLSVerdict) []byte {
	o := open(dst)
	o.coldStr("host", v.Host)
	o.int("port", int64(v.Port))
	o.coldBool("ok", v.OK)
	o.key("ios")
	o.b = appendPlatform(o.b, &v.IOS)
	o.key("android")
	o.b = appendPlatform(o.b, &v.Android)
	o.key("findings")
	o.b = appendList(o.b, v.Findings, appendTLSFinding)
	o.coldStr("errMsg", v.ErrMsg)
	if len(v.Clients) > 0 {
		o.key("clients")
		o.b = appendList(o.b, v.Clients, appendClientResult)
	}
	return o.close()
}

func appendClientResult(dst []byte, c *abi.ClientResult) []byte {
	o := open(dst)
	o.coldStr("name", c.Name)
	o.coldStr("platform", c.Platform)
	o.coldBool("ok", c.OK)
	o.coldBool("judged", c.Judged)
	o.coldStrOmit("protocol", c.Protocol)
	o.coldBool("forwardSecret", c.ForwardSecret)
	o.coldStrs("fails", c.Fails)
	o.coldStrOmit("note", c.Note)
	return o.close()
}

func appendPlatform(dst []byte, p *abi.PlatformResult) []byte {
	o := open(dst)
	o.coldBool("ok", p.OK)
	o.coldStrs("fails", p.Fails)
	return o.close()
}

func appendTLSFinding(dst []byte, f *abi.TLSFinding) []byte {
	o := open(dst)
	o.coldStr("rule", f.Rule)
	o.coldStr("check", f.Check)
	o.coldStr("severity", f.Severity)
	o.coldStrs("platforms", f.Platforms)
	o.coldStr("message", f.Message)
	o.coldStr("fix", f.Fix)
	return o.close()
}

//go:noinline
func (o *obj) coldStr(k, v string) { o.str(k, v) }

//go:noinline
func (o *obj) coldStrOmit(k, v string) { o.strOmit(k, v) }

//go:noinline
func (o *obj) coldBool(k string, v bool) { o.bool(k, v) }

// coldStrs writes a string array (null when nil).
//
//go:noinline
func (o *obj) coldStrs(k string, ss []string) { o.key(k); o.b = appendStrings(o.b, ss) }

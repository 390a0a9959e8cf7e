// Package body applies R10 to a response body: it finds the body's charset
// (Content-Type, else a BOM, else valid UTF-8, else an HTML meta prescan,
// else a GBK guess), has non-UTF-8 bodies converted to UTF-8, reports
// conversions and failures, and removes exactly one leading UTF-8 BOM, as
// the mini-program client does.
//
// The conversion itself is the host's: the module would otherwise carry
// every legacy encoding's tables (about a sixth of its size). Process
// answers Decode for such a body; the host converts it with its platform's
// decoder (the browser's TextDecoder, golang.org/x/text natively) and
// hands the result to Converted. The two encodings that need no table,
// replacement and x-user-defined, are converted here.
package body

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"mpnet/abi"
)

// MaxSize bounds the bodies Process accepts (the host passes larger ones through untouched and says so).
const MaxSize = 64 << 20

var bom = []byte{0xEF, 0xBB, 0xBF}

// Process finds a body's charset and answers the body as the client would
// hand it to the success callback, and what was done to it; or, for a
// charset the host converts, a result whose Decode names it (and no body).
func Process(req abi.BodyRequest, in []byte) (abi.BodyResult, []byte) {
	res := abi.BodyResult{}
	label, declared := declaredCharset(req.ContentType)
	name := ""
	switch {
	case declared:
		name = Lookup(label)
		res.Source = "content-type"
		if name == "" {
			res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10",
				Message: fmt.Sprintf("[R10] Content-Type names charset %q, which no client knows; the body is read as UTF-8", label),
				Fix:     "send Content-Type: ...; charset=utf-8"})
			name, res.Source = "utf-8", "utf-8"
		}
	case bytes.HasPrefix(in, bom):
		name, res.Source = "utf-8", "bom"
	case bytes.HasPrefix(in, []byte{0xFE, 0xFF}):
		name, res.Source = "utf-16be", "bom"
	case bytes.HasPrefix(in, []byte{0xFF, 0xFE}):
		name, res.Source = "utf-16le", "bom"
	case utf8.Valid(in):
		name, res.Source = "utf-8", "utf-8"
	default:
		if n := Prescan(in); n != "" && n != "utf-8" {
			name, res.Source = n, "meta"
		} else {
			name, res.Source = "gbk", "guess"
		}
	}
	res.Charset = name
	switch name {
	case "utf-8":
		if i := invalidUTF8(in); i >= 0 {
			res.Error = fmt.Sprintf("[R10] the body is not valid UTF-8 (first bad byte at offset %d, 0x%02X): the client cannot convert it and the data will be garbled on device", i, in[i])
			res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10", Message: res.Error,
				Fix: "serve valid UTF-8, or declare the real charset in Content-Type"})
		}
		return finish(res, in)
	case "replacement":
		// The standard's decoder for labels such as iso-2022-kr: one
		// U+FFFD for the whole body, i.e. a failed conversion.
		if len(in) == 0 {
			return converted(res, in)
		}
		return failed(res, in, 1)
	case "x-user-defined":
		out := make([]byte, 0, len(in)+len(in)/2)
		for _, c := range in {
			if c < 0x80 {
				out = append(out, c)
			} else {
				out = utf8.AppendRune(out, 0xF780+rune(c)-0x80)
			}
		}
		return converted(res, out)
	}
	res.Decode = name
	return res, nil
}

// Converted finishes R10 for a body the host converted from req.Decoded
// (Process's Decode); in is the converted UTF-8, or the raw body when
// req.Invalid is not 0. It answers an error for a message no host should
// send.
func Converted(req abi.BodyRequest, in []byte) (abi.BodyResult, []byte, error) {
	switch {
	case req.Decoded == "utf-8" || req.Decoded == "replacement" || req.Decoded == "x-user-defined" || !isName(req.Decoded):
		return abi.BodyResult{}, nil, fmt.Errorf("decoded: %q is not a charset the host converts", req.Decoded)
	case !validSource[req.Source]:
		return abi.BodyResult{}, nil, fmt.Errorf("source: %q is none of content-type, bom, meta, guess", req.Source)
	case req.Invalid < -1:
		return abi.BodyResult{}, nil, fmt.Errorf("invalid: %d", req.Invalid)
	case req.Invalid == 0 && !utf8.Valid(in):
		return abi.BodyResult{}, nil, fmt.Errorf("the converted body is not UTF-8")
	}
	res := abi.BodyResult{Charset: req.Decoded, Source: req.Source}
	if req.Invalid == -1 {
		res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10",
			Message: fmt.Sprintf("[R10] the body is %s (%s); this browser has no decoder for it, so mpnet passes it on unconverted. The client converts it, but conversion may fail on device", req.Decoded, how[req.Source]),
			Fix:     "serve UTF-8 (Content-Type: ...; charset=utf-8)"})
		return res, in, nil
	}
	if req.Invalid > 0 {
		r, out := failed(res, in, req.Invalid)
		return r, out, nil
	}
	r, out := converted(res, in)
	return r, out, nil
}

var validSource = map[string]bool{"content-type": true, "bom": true, "meta": true, "guess": true}

// isName reports whether name is an encoding's name as Process answers it
// (every name is also a label of itself, which a test keeps true).
func isName(name string) bool { return name != "" && Lookup(name) == name }

var how = map[string]string{"content-type": "declared in Content-Type", "bom": "from its byte-order mark", "meta": "from its <meta charset>", "guess": "guessed: no charset declared and not UTF-8"}

// converted reports a successful conversion and finishes with the UTF-8.
func converted(res abi.BodyResult, out []byte) (abi.BodyResult, []byte) {
	res.Converted = true
	res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10",
		Message: fmt.Sprintf("[R10] the body is %s (%s) and was converted to UTF-8; the client converts too, but conversion may fail on device", res.Charset, how[res.Source]),
		Fix:     "serve UTF-8 (Content-Type: ...; charset=utf-8)"})
	return finish(res, out)
}

// failed reports a failed conversion (invalid byte sequences); the raw body is delivered.
func failed(res abi.BodyResult, raw []byte, invalid int) (abi.BodyResult, []byte) {
	res.Error = fmt.Sprintf("[R10] the body could not be converted from %s to UTF-8 (%d byte sequences are not valid in that charset): the conversion fails on device too", res.Charset, invalid)
	res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10", Message: res.Error,
		Fix: "serve UTF-8 (Content-Type: ...; charset=utf-8)"})
	return finish(res, raw)
}

// finish removes exactly one leading UTF-8 BOM, as the client does.
func finish(res abi.BodyResult, out []byte) (abi.BodyResult, []byte) {
	if bytes.HasPrefix(out, bom) {
		out = out[len(bom):]
		res.BOMStripped = true
		if bytes.HasPrefix(out, bom) {
			res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10",
				Message: "[R10] the body starts with two UTF-8 BOMs: the client removes only one, so JSON parsing of the data fails on device",
				Fix:     "save the file or template without a BOM"})
		}
	}
	return res, out
}

// declaredCharset extracts the charset parameter of a Content-Type.
func declaredCharset(ct string) (string, bool) {
	if ct == "" {
		return "", false
	}
	if _, params, err := mime.ParseMediaType(ct); err == nil {
		if cs, ok := params["charset"]; ok && strings.TrimSpace(cs) != "" {
			return strings.TrimSpace(cs), true
		}
		return "", false
	}
	// Lenient fallback for malformed Content-Type values browsers still accept.
	lower := strings.ToLower(ct)
	if i := strings.Index(lower, "charset="); i >= 0 {
		v := ct[i+len("charset="):]
		if j := strings.IndexAny(v, "; "); j >= 0 {
			v = v[:j]
		}
		v = strings.Trim(v, `"'`)
		if v != "" {
			return v, true
		}
	}
	return "", false
}

func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

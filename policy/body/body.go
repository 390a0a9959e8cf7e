// Package body applies R10 to a response body: it finds the body's charset
// (Content-Type, else a BOM, else valid UTF-8, else an HTML meta prescan,
// else a GBK guess), converts non-UTF-8 bodies to UTF-8 with
// golang.org/x/net/html/charset, reports conversions and failures, and
// removes exactly one leading UTF-8 BOM, as the mini-program client does.
package body

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"

	"mpnet/abi"
)

// MaxSize bounds the bodies Process accepts (the host passes larger ones through untouched and says so).
const MaxSize = 64 << 20

var bom = []byte{0xEF, 0xBB, 0xBF}

// Process returns the body as the client would hand it to the success
// callback, and what was done to it.
func Process(req abi.BodyRequest, in []byte) (abi.BodyResult, []byte) {
	res := abi.BodyResult{}
	label, declared := declaredCharset(req.ContentType)
	var enc encoding.Encoding
	name := ""
	switch {
	case declared:
		enc, name = charset.Lookup(label)
		res.Source = "content-type"
		if enc == nil {
			res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10",
				Message: fmt.Sprintf("[R10] Content-Type names charset %q, which no client knows; the body is read as UTF-8", label),
				Fix:     "send Content-Type: ...; charset=utf-8"})
			enc, name, res.Source = nil, "utf-8", "utf-8"
		}
	case bytes.HasPrefix(in, bom):
		name, res.Source = "utf-8", "bom"
	case bytes.HasPrefix(in, []byte{0xFE, 0xFF}):
		enc, name = charset.Lookup("utf-16be")
		res.Source = "bom"
	case bytes.HasPrefix(in, []byte{0xFF, 0xFE}):
		enc, name = charset.Lookup("utf-16le")
		res.Source = "bom"
	case utf8.Valid(in):
		name, res.Source = "utf-8", "utf-8"
	default:
		// DetermineEncoding answers "certain" only for a BOM or header; a
		// <meta> found by its prescan comes back uncertain, but differs from
		// its windows-1252 fallback.
		if e, n, _ := charset.DetermineEncoding(in, "text/html"); n != "windows-1252" && n != "utf-8" {
			enc, name, res.Source = e, n, "meta"
		} else {
			enc, name = charset.Lookup("gbk")
			res.Source = "guess"
		}
	}
	res.Charset = name
	out := in
	if name == "utf-8" {
		if i := invalidUTF8(in); i >= 0 {
			res.Error = fmt.Sprintf("[R10] the body is not valid UTF-8 (first bad byte at offset %d, 0x%02X): the client cannot convert it and the data will be garbled on device", i, in[i])
			res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10", Message: res.Error,
				Fix: "serve valid UTF-8, or declare the real charset in Content-Type"})
		}
	} else {
		dec, err := enc.NewDecoder().Bytes(in)
		lossy := err != nil || (bytes.Contains(dec, []byte("\uFFFD")) && !roundTrips(enc, dec, in))
		if lossy {
			res.Error = fmt.Sprintf("[R10] the body could not be converted from %s to UTF-8 (%s): the conversion fails on device too", name, lossReason(err, dec))
			res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10", Message: res.Error,
				Fix: "serve UTF-8 (Content-Type: ...; charset=utf-8)"})
		} else {
			out = dec
			res.Converted = true
			how := map[string]string{"content-type": "declared in Content-Type", "bom": "from its byte-order mark", "meta": "from its <meta charset>", "guess": "guessed: no charset declared and not UTF-8"}[res.Source]
			res.Warnings = append(res.Warnings, abi.Warning{Rule: "R10",
				Message: fmt.Sprintf("[R10] the body is %s (%s) and was converted to UTF-8; the client converts too, but conversion may fail on device", name, how),
				Fix:     "serve UTF-8 (Content-Type: ...; charset=utf-8)"})
		}
	}
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

// roundTrips reports whether encoding dec gives back the input exactly, i.e.
// the U+FFFD in dec were in the input, not produced by failed conversion.
func roundTrips(enc encoding.Encoding, dec, in []byte) bool {
	back, err := enc.NewEncoder().Bytes(dec)
	return err == nil && bytes.Equal(back, in)
}

func lossReason(err error, dec []byte) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%d byte sequences are not valid in that charset", bytes.Count(dec, []byte("\uFFFD")))
}

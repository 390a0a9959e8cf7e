package har

import (
	"bytes"
	"strings"
)

// Bounds on what one token may cost, so that no input, however large, makes
// the reader hold more than about maxValue bytes (variables for tests).
var (
	// maxString is how many bytes of a string's text are kept. A longer
	// string is cut there and cutMarker put in place of the rest: a body
	// (response.content.text) or a stack trace the audit never reads then
	// costs nothing, and a field it does read (request.url, a header)
	// fails with an error that names the entry and the field.
	maxString = 1 << 20
	// maxValue bounds the bytes the decoder holds for one value: an entry
	// (with its long strings cut), or one token of a value skipped token by
	// token; so also a number, or a run of white space.
	maxValue int64 = 64 << 20
)

// cutMarker ends a string that was cut, as JSON text: it decodes to
// markerText, which no field the audit reads may contain.
const (
	cutMarker  = `\u0000mpnet: string cut\u0000`
	markerText = "\x00mpnet: string cut\x00"
)

// cut records a string cut at stream offset off (where cutMarker begins)
// after which dropped input bytes were left out.
type cut struct {
	off     int64
	dropped int64
}

// limitError is a bound that the input exceeded, at stream offset off.
type limitError struct {
	off int64
	msg string
}

func (e *limitError) Error() string { return e.msg }

// scanner follows the JSON text the decoder will see just enough to know
// where strings begin and end: it never judges the
// syntax (the decoder does), and it passes every byte on unchanged except
// the text of strings longer than maxString.
type scanner struct {
	inString bool
	esc      int   // inside a string: 0, 1 after '\\', 2-5 in the hex digits of \u
	n        int   // text bytes of the current string so far
	cutting  bool  // dropping the current string's text
	dropped  int64 // bytes dropped from the current string
}

// scan appends chunk to t.buf, cutting long strings. Bytes are appended in
// runs, between cuts: most chunks are one append.
func (t *tape) scan(chunk []byte) {
	s := &t.scanner
	from := 0 // chunk[from:r] is still to be appended
	for r := 0; r < len(chunk); {
		if !s.inString {
			// Up to and including the next quote, which opens a string:
			// keys and values look alike here, and numbers and white
			// space are bounded by maxValue as a whole.
			j := bytes.IndexByte(chunk[r:], '"')
			if j < 0 {
				break
			}
			r += j + 1
			s.inString, s.n, s.esc = true, 0, 0
			continue
		}
		if s.cutting {
			r = t.drop(chunk, r)
			from = r
			continue
		}
		if s.esc > 0 {
			// Inside an escape: pass it on whole, whatever the count.
			switch c := chunk[r]; {
			case s.esc == 1 && c == 'u':
				s.esc = 2
			case s.esc == 1 || s.esc == 5:
				s.esc = 0
			default:
				s.esc++
			}
			s.n++
			r++
			continue
		}
		// Plain text up to the next quote or backslash.
		seg := chunk[r:]
		j := bytes.IndexByte(seg, '"')
		if j < 0 {
			j = len(seg)
		}
		if k := bytes.IndexByte(seg[:j], '\\'); k >= 0 {
			j = k
		}
		if s.n+j > maxString {
			r += max(0, maxString-s.n) // an escape may have passed the limit
			t.buf = append(t.buf, chunk[from:r]...)
			t.cuts = append(t.cuts, cut{off: t.end()})
			t.buf = append(t.buf, cutMarker...)
			s.cutting, s.dropped = true, 0
			from = r
			continue
		}
		s.n += j
		r += j
		if j == len(seg) {
			break
		}
		if seg[j] == '"' {
			s.inString = false
		} else {
			s.esc = 1
			s.n++
		}
		r++
	}
	t.buf = append(t.buf, chunk[from:]...)
}

// drop discards the text of a string being cut, from chunk[r], up to its
// closing quote, which it passes on; it returns where it stopped. Escapes
// are followed so that an escaped quote does not end the string. A raw
// control character or a malformed escape ends the cut: from there on the
// string is passed on, so that the decoder reports the error as it would
// have without the cut.
func (t *tape) drop(chunk []byte, r int) int {
	s := &t.scanner
	start := r
	end := func(bad string) int {
		s.dropped += int64(r - start)
		t.cuts[len(t.cuts)-1].dropped = s.dropped - int64(len(bad))
		s.cutting = false
		if bad != "" {
			t.buf = append(t.buf, bad...) // the escape's start, for the decoder to refuse
			s.esc = 0
			s.n = -1 << 40 // no second cut in this string
		}
		return r
	}
	for r < len(chunk) {
		c := chunk[r]
		switch {
		case s.esc == 1:
			switch {
			case c == 'u':
				s.esc = 2
			case strings.IndexByte(`"\/bfnrt`, c) >= 0:
				s.esc = 0
			default:
				return end(`\`)
			}
		case s.esc >= 2:
			if !isHex(c) {
				return end(`\u`)
			}
			if s.esc++; s.esc == 6 {
				s.esc = 0
			}
		case c == '\\':
			s.esc = 1
		case c == '"':
			end("")
			s.inString = false
			t.buf = append(t.buf, c)
			return r + 1
		case c < 0x20:
			s.n = -1 << 40 // no second cut in this string
			return end("")
		}
		r++
	}
	s.dropped += int64(r - start)
	t.cuts[len(t.cuts)-1].dropped = s.dropped
	return r
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

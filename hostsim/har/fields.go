package har

import (
	"bytes"
	json "github.com/goccy/go-json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds hand-written decoders for the parts of an entry that are
// hot (header lists: dozens of short strings per entry) or irregular
// (_initiator). The JSON decoder has already checked the bytes they receive,
// so they only need to find their way through valid JSON; they still never
// index out of range on anything else.

// headerList decodes a HAR header array with one allocation for the slice
// and one for all names and values together, instead of one per string.
//
// A value of the wrong kind is recorded in err rather than returned, so
// that the caller can name the field itself whatever encoding/json does
// with errors from Unmarshalers.
type headerList struct {
	list []Header
	err  *kindError
}

// kindError says that the JSON value at path (relative to some field) is
// of the wrong kind.
type kindError struct {
	path      string // "" for the field itself, else e.g. "3.value"
	got, want string // e.g. "a number", "a string"
}

// in returns the error message for the field named field.
func (e *kindError) in(field string) string {
	if e.path != "" {
		field += "." + e.path
	}
	return field + " is " + e.got + ", want " + e.want
}

// UnmarshalJSON implements json.Unmarshaler.
func (h *headerList) UnmarshalJSON(b []byte) error {
	*h = headerList{}
	if len(b) == 0 || b[0] == 'n' {
		return nil
	}
	if b[0] != '[' {
		h.err = &kindError{got: valueKind(jsonKind(b)), want: "an array"}
		return nil
	}
	// Collect all names and values into one string, remembering where each
	// ends, then slice it.
	var sb strings.Builder
	sb.Grow(len(b))
	var endsBuf [64]int
	ends := endsBuf[:0]
	i := skipSpace(b, 1)
	for n := 0; i < len(b) && b[i] != ']'; n++ {
		var name, value []byte
		if name, value, i, h.err = header(b, i, n); h.err != nil {
			return nil
		}
		appendText(&sb, name)
		ends = append(ends, sb.Len())
		appendText(&sb, value)
		ends = append(ends, sb.Len())
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	all := sb.String()
	out := make([]Header, len(ends)/2)
	start := 0
	for k := range out {
		out[k].Name = all[start:ends[2*k]]
		out[k].Value = all[ends[2*k]:ends[2*k+1]]
		start = ends[2*k+1]
	}
	h.list = out
	return nil
}

// header parses element n of a header array, which starts at b[i]. It
// returns the raw (quoted) name and value, nil when missing, and
// the index of the first non-space byte after the element.
func header(b []byte, i, n int) (name, value []byte, next int, err *kindError) {
	if b[i] == 'n' { // null: an empty header, as with encoding/json
		return nil, nil, skipSpace(b, skipValue(b, i)), nil
	}
	if b[i] != '{' {
		end := skipValue(b, i)
		return nil, nil, end, &kindError{path: strconv.Itoa(n), got: valueKind(jsonKind(b[i:end])), want: "an object"}
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		kEnd := skipString(b, i)
		key := b[i:kEnd]
		vStart := skipSpace(b, skipSpace(b, kEnd)+1) // past ':'
		vEnd := skipValue(b, vStart)
		v := b[vStart:vEnd]
		var dst *[]byte
		switch string(key) { // the common case, before keyIs's slower checks
		case `"name"`:
			dst = &name
		case `"value"`:
			dst = &value
		default:
			switch {
			case keyIs(key, "name"):
				dst = &name
			case keyIs(key, "value"):
				dst = &value
			}
		}
		if dst != nil && len(v) > 0 {
			switch v[0] {
			case '"':
				*dst = v
			case 'n':
				// null leaves the field as it is, as with encoding/json
			default:
				return nil, nil, vEnd, &kindError{path: strconv.Itoa(n) + "." + unquoteKey(key), got: valueKind(jsonKind(v)), want: "a string"}
			}
		}
		i = skipSpace(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return name, value, skipSpace(b, i+1), nil // past '}'
}

// appendText appends the text of the JSON string literal q (with quotes;
// nil for none) to sb, decoding escapes and replacing invalid UTF-8 the
// way encoding/json does.
func appendText(sb *strings.Builder, q []byte) {
	if len(q) < 2 {
		return
	}
	s := q[1 : len(q)-1]
	if bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		sb.Write(s)
		return
	}
	var t string
	if json.Unmarshal(q, &t) == nil {
		sb.WriteString(t)
	}
}

// keyIs reports whether the quoted JSON key q names key, matching the way
// encoding/json matches struct fields: exactly, or else case-insensitively
// (keys with escapes are decoded first). key must be ASCII.
func keyIs(q []byte, key string) bool {
	if len(q) < 2 {
		return false
	}
	s := q[1 : len(q)-1]
	if string(s) == key {
		return true
	}
	if bytes.IndexByte(s, '\\') >= 0 {
		return strings.EqualFold(unquoteKey(q), key)
	}
	// Unicode folding can match a 3-byte sign (K for Kelvin) to 'k', and
	// 2-byte 'ſ' to 's', so a different length does not rule out a match.
	return len(s) >= len(key) && len(s) <= 3*len(key) && bytes.EqualFold(s, []byte(key))
}

// unquoteKey decodes the quoted JSON string q.
func unquoteKey(q []byte) string {
	var s string
	if json.Unmarshal(q, &s) != nil && len(q) >= 2 {
		return string(q[1 : len(q)-1])
	}
	return s
}

// initiator decodes "_initiator" leniently: Chromium writes an object
// {"type": "script", "stack": {...}}, WebPageTest writes a URL string.
// Only an object's string "type" is kept; anything else yields "".
type initiator struct{ typ string }

// initiatorTypes are the values Chromium writes for _initiator.type.
var initiatorTypes = map[string]string{
	"other": "other", "parser": "parser", "script": "script",
	"preload": "preload", "preflight": "preflight", "SignedExchange": "SignedExchange",
}

// UnmarshalJSON implements json.Unmarshaler.
func (in *initiator) UnmarshalJSON(b []byte) error {
	in.typ = ""
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	i := skipSpace(b, 1)
	for i < len(b) && b[i] == '"' {
		kEnd := skipString(b, i)
		vStart := skipSpace(b, skipSpace(b, kEnd)+1)
		vEnd := skipValue(b, vStart)
		if keyIs(b[i:kEnd], "type") && vStart < vEnd-1 && b[vStart] == '"' {
			// The last "type" wins, as with encoding/json.
			if s, ok := initiatorTypes[string(b[vStart+1:vEnd-1])]; ok {
				in.typ = s // no allocation for the usual values
			} else {
				var sb strings.Builder
				appendText(&sb, b[vStart:vEnd])
				in.typ = sb.String()
			}
		}
		i = skipSpace(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return nil
}

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the string literal starting at
// b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		i += j
		// The quote ends the string unless an odd number of backslashes
		// escapes it.
		k := i
		for k > 0 && b[k-1] == '\\' {
			k--
		}
		i++
		if (i-1-k)%2 == 0 {
			return i
		}
	}
	return len(b)
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	// A number or literal.
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	return i
}

// jsonKind names the kind of a JSON value as json.UnmarshalTypeError.Value
// does.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

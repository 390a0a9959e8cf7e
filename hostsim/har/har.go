// Package har is a streaming reader for HAR 1.2 (HTTP Archive) files as
// saved by browser DevTools (Chromium's "Save all as HAR", Firefox's
// "Save All As HAR") and by mpnet's own exporter.
//
// Read and ReadWithInfo never hold the whole file or all entries in memory:
// they walk the JSON document with a streaming JSON Decoder, decode one
// element of log.entries at a time into a small struct that names only the
// fields an audit needs, and hand it to a callback. Everything else —
// response bodies (response.content.text), timings, cookies, WebSocket
// message logs, initiator stacks, pages — is skipped by the decoder without
// being stored. Memory use is therefore bounded by the size of the largest
// single entry (the decoder buffers one whole entry, body included, while
// it reads it), not by the size of the file.
//
// The decoder is goccy/go-json's (encoding/json's API, measured faster on
// these files: docs/RATIONALE.md), which looks at every byte of an entry
// twice; to spare it the indentation DevTools write (about half of such a
// file), the reader drops spaces and tabs that follow a newline before the
// decoder sees them, which never changes the meaning of valid JSON nor
// where an error is reported.
//
// Errors say what is wrong and where: "entry 12: missing request.url",
// "line 3, column 5: invalid character ..." for malformed JSON (columns
// count bytes), and "not a HAR file: ..." when the input is not JSON or
// lacks the log / log.entries structure.
package har

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"mpnet/internal/bytesize"

	json "github.com/goccy/go-json"
)

// Header is one HTTP header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Entry is the part of a HAR entry the audit needs.
//
// Each Entry passed to the callback is freshly allocated and owned by the
// callback; it may be retained.
type Entry struct {
	Index           int     // 0-based position in log.entries
	StartedDateTime string  // entry.startedDateTime, verbatim (ISO 8601)
	Time            float64 // entry.time: total elapsed time in ms
	Method          string  // request.method
	URL             string  // request.url
	RequestHeaders  []Header
	Status          int // response.status (0 when the request failed / was blocked)
	StatusText      string
	ResponseHeaders []Header
	MimeType        string          // response.content.mimeType
	ResourceType    string          // Chromium's "_resourceType" (xhr, fetch, websocket, image, media, document, script, ...), "" when absent
	Initiator       string          // "_initiator.type" when present
	Annotation      json.RawMessage // the entry's "_mpnet" object when present (written by mpnet's own exporter), else nil; its indentation may be removed
}

// Info is the creator/version information of a HAR file.
type Info struct {
	Version        string // log.version, e.g. "1.2"
	CreatorName    string // log.creator.name, e.g. "WebInspector" or "Firefox"
	CreatorVersion string // log.creator.version
}

// Read streams the entries of the HAR in r to fn, in order. It stops at
// the first error fn returns and returns it.
//
// The whole document is checked: after the last entry Read keeps reading
// to the end of the input, so a truncated or malformed file is reported
// even when all its entries could be decoded. A UTF-8 byte-order mark at
// the start of the input is ignored.
func Read(r io.Reader, fn func(*Entry) error) error {
	_, err := ReadWithInfo(r, fn)
	return err
}

// ReadWithInfo is Read that also reports log.version and log.creator when
// they appear before log.entries in the file (as Chromium and Firefox write
// them). When they come after log.entries, or are missing or not strings,
// the corresponding Info fields are empty. On error the Info gathered so
// far is returned.
func ReadWithInfo(r io.Reader, fn func(*Entry) error) (Info, error) {
	return read(r, fn, false)
}

// read is ReadWithInfo; keepIndent turns off the tape's dropping of
// indentation, for tests.
func read(r io.Reader, fn func(*Entry) error, keepIndent bool) (Info, error) {
	t := &tape{r: r, keepIndent: keepIndent}
	p := &parser{t: t, dec: json.NewDecoder(t), fn: fn}
	err := p.document()
	return p.info, err
}

// parser walks one HAR document.
type parser struct {
	t   *tape
	dec *json.Decoder
	fn  func(*Entry) error

	info       Info
	sawEntries bool
	n          int      // entries decoded so far
	raw        rawEntry // decode target, reused
}

// rawEntry mirrors the JSON of one entry, restricted to the fields Entry
// needs; the decoder skips all other keys without storing them.
type rawEntry struct {
	StartedDateTime string  `json:"startedDateTime"`
	Time            float64 `json:"time"`
	Request         struct {
		Method  string     `json:"method"`
		URL     *string    `json:"url"` // pointer: tells "missing" from ""
		Headers headerList `json:"headers"`
	} `json:"request"`
	Response struct {
		Status     int        `json:"status"`
		StatusText string     `json:"statusText"`
		Headers    headerList `json:"headers"`
		Content    struct {
			MimeType string `json:"mimeType"`
		} `json:"content"`
	} `json:"response"`
	ResourceType string          `json:"_resourceType"`
	Initiator    initiator       `json:"_initiator"`
	Mpnet        json.RawMessage `json:"_mpnet"`
}

var rawEntryType = reflect.TypeFor[rawEntry]()

// document parses the top-level object.
func (p *parser) document() error {
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			return errors.New("not a HAR file: empty input")
		}
		return p.notHAR(err)
	}
	p.t.release(p.dec.InputOffset())
	if tok != json.Delim('{') {
		return fmt.Errorf("not a HAR file: top-level value is %s, want an object", tokenKind(tok))
	}
	sawLog := false
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		if key != "log" {
			if err := p.skip(); err != nil {
				return err
			}
			continue
		}
		if sawLog {
			return errors.New(`not a HAR file: duplicate "log" key`)
		}
		sawLog = true
		if err := p.log(); err != nil {
			return err
		}
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return err
	}
	if !sawLog {
		return errors.New(`not a HAR file: no "log" object`)
	}
	return p.end()
}

// end checks that nothing but white space follows the top-level object.
func (p *parser) end() error {
	off := p.dec.InputOffset()
	_, err := p.dec.Token()
	switch {
	case err == io.EOF:
		return nil
	case err != nil:
		return p.syntax(err)
	}
	return p.at(p.t.skipSpace(off), "unexpected data after the top-level object")
}

// log parses the value of the top-level "log" key.
func (p *parser) log() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return fmt.Errorf(`not a HAR file: "log" is %s, want an object`, tokenKind(tok))
	}
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		switch key {
		case "version":
			v, err := p.optString("log.version")
			if err != nil {
				return err
			}
			if !p.sawEntries {
				p.info.Version = v
			}
		case "creator":
			if err := p.creator(); err != nil {
				return err
			}
		case "entries":
			if p.sawEntries {
				return errors.New(`not a HAR file: duplicate "log.entries" key`)
			}
			p.sawEntries = true
			if err := p.entries(); err != nil {
				return err
			}
		default:
			if err := p.skip(); err != nil {
				return err
			}
		}
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return err
	}
	if !p.sawEntries {
		return errors.New(`not a HAR file: no "log.entries" array`)
	}
	return nil
}

// creator parses log.creator, recording name and version when they come
// before log.entries.
func (p *parser) creator() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return p.skipRest(tok)
	}
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return err
		}
		var dst *string
		switch key {
		case "name":
			dst = &p.info.CreatorName
		case "version":
			dst = &p.info.CreatorVersion
		default:
			if err := p.skip(); err != nil {
				return err
			}
			continue
		}
		v, err := p.optString("log.creator." + key)
		if err != nil {
			return err
		}
		if !p.sawEntries {
			*dst = v
		}
	}
	_, err = p.token() // the closing '}'
	return err
}

// entries streams the log.entries array to p.fn.
func (p *parser) entries() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return fmt.Errorf(`not a HAR file: "log.entries" is %s, want an array`, tokenKind(tok))
	}
	for p.dec.More() {
		p.raw = rawEntry{}
		if err := p.dec.Decode(&p.raw); err != nil {
			return p.entryError(err)
		}
		p.t.release(p.dec.InputOffset())
		e, err := p.raw.entry(p.n)
		if err != nil {
			return err
		}
		if err := p.fn(e); err != nil {
			return err
		}
		p.n++
	}
	if _, err := p.token(); err != nil { // the closing ']'
		return fmt.Errorf("entry %d: %w", p.n, err)
	}
	return nil
}

// entry converts a decoded entry; i is its index.
func (r *rawEntry) entry(i int) (*Entry, error) {
	if e := r.Request.Headers.err; e != nil {
		return nil, fmt.Errorf("entry %d: %s", i, e.in("request.headers"))
	}
	if e := r.Response.Headers.err; e != nil {
		return nil, fmt.Errorf("entry %d: %s", i, e.in("response.headers"))
	}
	if r.Request.URL == nil {
		return nil, fmt.Errorf("entry %d: missing request.url", i)
	}
	if field := r.cutField(); field != "" {
		return nil, fmt.Errorf("entry %d: %s is longer than %s, more than a HAR field the audit reads may be", i, field, size(maxString))
	}
	e := &Entry{
		Index:           i,
		StartedDateTime: r.StartedDateTime,
		Time:            r.Time,
		Method:          r.Request.Method,
		URL:             *r.Request.URL,
		RequestHeaders:  r.Request.Headers.list,
		Status:          r.Response.Status,
		StatusText:      r.Response.StatusText,
		ResponseHeaders: r.Response.Headers.list,
		MimeType:        r.Response.Content.MimeType,
		ResourceType:    r.ResourceType,
		Initiator:       r.Initiator.typ,
	}
	if m := r.Mpnet; len(m) > 0 && string(m) != "null" {
		if m[0] != '{' {
			return nil, fmt.Errorf("entry %d: _mpnet is %s, want an object", i, rawKind(m))
		}
		e.Annotation = m
	}
	return e, nil
}

// cutField names the first field the audit reads whose string the tape cut
// (longer than maxString), or "".
func (r *rawEntry) cutField() string {
	cut := func(s string) bool { return strings.Contains(s, markerText) }
	switch {
	case cut(r.StartedDateTime):
		return "startedDateTime"
	case cut(r.Request.Method):
		return "request.method"
	case cut(*r.Request.URL):
		return "request.url"
	case cut(r.Response.StatusText):
		return "response.statusText"
	case cut(r.Response.Content.MimeType):
		return "response.content.mimeType"
	case cut(r.ResourceType):
		return "_resourceType"
	case cut(r.Initiator.typ):
		return "_initiator.type"
	case bytes.Contains(r.Mpnet, []byte(cutMarker)):
		return "_mpnet"
	}
	for _, hs := range []struct {
		field string
		list  []Header
	}{{"request.headers", r.Request.Headers.list}, {"response.headers", r.Response.Headers.list}} {
		for k, h := range hs.list {
			if cut(h.Name) {
				return fmt.Sprintf("%s.%d.name", hs.field, k)
			}
			if cut(h.Value) {
				return fmt.Sprintf("%s.%d.value", hs.field, k)
			}
		}
	}
	return ""
}

// size writes a byte count the way the limits are stated.
func size(n int) string { return bytesize.String(int64(n)) }

// entryError turns an error from decoding entry p.n into a message.
func (p *parser) entryError(err error) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("entry %d: %w", p.n, p.syntaxIn(err, true))
	}
	if te.Field == "" && te.Type == rawEntryType {
		return fmt.Errorf("entry %d: missing request.url (entry is %s, not an object)", p.n, valueKind(te.Value))
	}
	field := te.Field
	if field == "" {
		field = "value"
	}
	return fmt.Errorf("entry %d: %s is %s, want %s", p.n, field, valueKind(te.Value), typeKind(te.Type))
}

// token reads the next token, turning errors into positioned messages.
func (p *parser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntax(err)
	}
	p.t.release(p.dec.InputOffset())
	return tok, nil
}

// key reads an object key. The decoder guarantees that a token read
// where a key is expected is a string.
func (p *parser) key() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, _ := tok.(string)
	return s, nil
}

// optString reads a value, returning it if it is a string and "" (after
// skipping it) otherwise; field names it in errors.
func (p *parser) optString(field string) (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	if s, ok := tok.(string); ok {
		if strings.Contains(s, markerText) {
			return "", fmt.Errorf("%s is longer than %s", field, size(maxString))
		}
		return s, nil
	}
	return "", p.skipRest(tok)
}

// skip reads and discards one value, token by token, so that even a huge
// skipped value costs no more memory than its largest token.
func (p *parser) skip() error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	return p.skipRest(tok)
}

// skipRest discards the rest of a value whose first token was tok.
func (p *parser) skipRest(tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = p.token(); err != nil {
			return err
		}
	}
}

// notHAR reports a failure to read the very first token.
func (p *parser) notHAR(err error) error {
	e := p.syntax(err)
	var pe *posError
	if errors.As(e, &pe) {
		return fmt.Errorf("not a HAR file: %w", e)
	}
	return e
}

// posError is a JSON syntax error with its position.
type posError struct {
	line, col int64
	msg       string
	err       error // the decoder's error, if any
}

func (e *posError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.line, e.col, e.msg)
}

func (e *posError) Unwrap() error { return e.err }

// at returns a posError for stream offset off.
func (p *parser) at(off int64, msg string) error {
	line, col := p.t.position(off)
	return &posError{line: line, col: col, msg: msg}
}

// syntax turns an error from the decoder into a positioned message.
// Errors that are not about the JSON text (a failing reader) are wrapped.
func (p *parser) syntax(err error) error { return p.syntaxIn(err, false) }

// syntaxIn is syntax; inValue says that err comes from Decode reading a
// whole value rather than from Token.
func (p *parser) syntaxIn(err error, inValue bool) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return p.at(p.t.end(), "unexpected end of input")
	}
	var le *limitError
	if errors.As(err, &le) {
		return p.at(le.off, le.msg)
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return fmt.Errorf("reading HAR: %w", err)
	}
	e := p.at(p.syntaxOffset(se, inValue), se.Error()).(*posError)
	e.err = err
	return e
}

// syntaxOffset returns the stream offset of the byte a syntax error is
// about.
//
// The decoder reports errors it finds between tokens ("invalid character
// ',' after object key", "expected comma after array element") at its
// InputOffset, which is exact. Errors found while scanning a value — an
// entry, or a string, number or literal token — carry an Offset that counts
// only the bytes the decoder has scanned value-wise, which is not a stream
// offset once Token has been used. Such a value starts at InputOffset (the
// decoder does not advance past a value it failed to read), and the bytes
// from there on are still held by the tape, so the value is scanned again
// on its own; that reproduces the error with an Offset relative to the
// value's start.
func (p *parser) syntaxOffset(se *json.SyntaxError, inValue bool) int64 {
	start := p.dec.InputOffset()
	msg := se.Error()
	data := p.t.from(start)
	i := 0
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	if strings.HasPrefix(msg, "expected ") {
		return start + int64(i) // from between tokens
	}
	// Token only scans a value if it begins with a scalar's first byte;
	// anything else it rejects where it stands.
	if !inValue && (i == len(data) || !strings.ContainsRune(`"-0123456789tfn`, rune(data[i]))) {
		return start + int64(i)
	}
	d := json.NewDecoder(bytes.NewReader(data[i:]))
	var v discard
	var se2 *json.SyntaxError
	if err := d.Decode(&v); errors.As(err, &se2) && se2.Error() == msg && se2.Offset > 0 {
		return start + int64(i) + se2.Offset - 1
	}
	return start + int64(i)
}

// discard is a decode target that keeps nothing.
type discard struct{}

// UnmarshalJSON implements json.Unmarshaler.
func (*discard) UnmarshalJSON([]byte) error { return nil }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// tokenKind names the JSON kind of a token, with an article.
func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return "an object"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// rawKind names the JSON kind of a valid, non-empty JSON value.
func rawKind(b []byte) string {
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// valueKind describes json.UnmarshalTypeError.Value ("string", "number",
// "number 1.5", "bool", "array", "object").
func valueKind(v string) string {
	switch {
	case v == "bool":
		return "a boolean"
	case v == "array", v == "object":
		return "an " + v
	case v == "null":
		return v
	case strings.HasPrefix(v, "number "):
		return strings.TrimPrefix(v, "number ")
	case v == "":
		return "a value of the wrong type"
	}
	return "a " + v
}

// typeKind names the JSON kind a Go type is decoded from.
func typeKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

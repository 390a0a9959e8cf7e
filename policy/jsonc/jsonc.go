// Package jsonc parses JSON configuration files while remembering where every
// value and object key appeared, so that errors about a configuration file
// can point at file:line:col.
//
// The accepted language is strict JSON (RFC 8259) plus the extensions found
// in real mini-program project files:
//
//   - // line comments and /* */ block comments wherever whitespace is allowed
//     (block comments do not nest);
//   - a leading UTF-8 byte order mark;
//   - a trailing comma after the last element of an array or the last member
//     of an object.
//
// Everything else is strict: strings must be double-quoted and valid UTF-8,
// all JSON escapes (including UTF-16 surrogate pairs) are decoded, numbers
// follow the JSON grammar, and the only literals are true, false and null.
//
// The parser is meant to run on untrusted input: it never panics, runs in
// time linear in the size of the input, rejects inputs larger than [MaxSize]
// bytes and rejects arrays and objects nested deeper than [MaxDepth] levels.
// It uses only the standard library and builds for GOOS=wasip1 GOARCH=wasm.
package jsonc

import (
	"strconv"
	"unicode/utf8"

	"mpnet/internal/jsonesc"
)

// MaxSize is the largest input, in bytes, that [Parse] accepts. Larger inputs
// are rejected with the error "file too large".
const MaxSize = 4 << 20 // abi.MaxConfigFileSize; policy/config's tests keep them equal

// MaxDepth is the deepest nesting of arrays and objects that [Parse] accepts.
// A document whose top-level value is an array has depth 1. Deeper documents
// are rejected with the error "nesting too deep".
const MaxDepth = 256

// Pos is a position in the parsed input.
type Pos struct {
	// Offset is the 0-based byte offset in the input, counting a leading
	// byte order mark if there was one.
	Offset int
	// Line is the 1-based line number. "\n", "\r\n" and a lone "\r" each
	// end a line.
	Line int
	// Col is the 1-based column, counted in Unicode code points (runes)
	// from the start of the line, so a multi-byte character or a tab counts
	// as one column. A leading byte order mark is not counted.
	Col int
}

// String formats p as "line:col".
func (p Pos) String() string {
	return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// Kind is the type of a JSON value.
type Kind uint8

// The kinds of JSON values.
const (
	Null   Kind = iota // the literal null
	Bool               // true or false
	Number             // a number
	String             // a string
	Array              // an array
	Object             // an object
)

// String returns the JSON name of the kind: "null", "boolean", "number",
// "string", "array" or "object".
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is a parsed JSON value together with its position.
type Value struct {
	// Kind says which of the remaining fields is meaningful.
	Kind Kind
	// Pos is the position of the first character of the value: the
	// opening quote, bracket or brace, the sign or first digit of a number,
	// or the first letter of a literal.
	Pos Pos
	// Bool is the value of a Bool.
	Bool bool
	// Num is the value of a Number as the nearest float64. Numbers too
	// large for a float64 become +Inf or -Inf and numbers too small
	// become zero; Text always keeps the exact literal.
	Num float64
	// Text is the literal text of a Number, exactly as written, or the
	// decoded contents of a String.
	Text string
	// Elems holds the elements of an Array. It is nil for an empty array.
	Elems []*Value
	// Members holds the members of an Object in document order, including
	// members whose key repeats an earlier one. It is nil for an empty
	// object.
	Members []Member
}

// Member is one key/value pair of an object.
type Member struct {
	// Key is the decoded key.
	Key string
	// KeyPos is the position of the opening quote of the key.
	KeyPos Pos
	// Value is the member's value.
	Value *Value
}

// Get returns the value of the last member of the object v named key, or nil
// if v is nil, is not an object, or has no such member. Using the last
// member matches what encoding/json does with repeated keys.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := len(v.Members) - 1; i >= 0; i-- {
		if v.Members[i].Key == key {
			return v.Members[i].Value
		}
	}
	return nil
}

// Duplicates returns, in document order, every member of every object in the
// tree rooted at v (v itself and all objects nested in it) whose key already
// appeared earlier in the same object. Such members override the earlier
// ones, which is usually a mistake worth a lint warning. It returns nil if
// there are none.
func (v *Value) Duplicates() []Member {
	var out []Member
	var seen map[string]struct{}
	var walk func(v *Value)
	walk = func(v *Value) {
		if v == nil {
			return
		}
		switch v.Kind {
		case Array:
			for _, e := range v.Elems {
				walk(e)
			}
		case Object:
			ms := v.Members
			if len(ms) <= 16 {
				for i := 1; i < len(ms); i++ {
					for j := 0; j < i; j++ {
						if ms[j].Key == ms[i].Key {
							out = append(out, ms[i])
							break
						}
					}
				}
			} else {
				if seen == nil {
					seen = make(map[string]struct{}, len(ms))
				} else {
					clear(seen)
				}
				for _, m := range ms {
					if _, dup := seen[m.Key]; dup {
						out = append(out, m)
					} else {
						seen[m.Key] = struct{}{}
					}
				}
			}
			for _, m := range ms {
				walk(m.Value)
			}
		}
	}
	walk(v)
	return out
}

// SyntaxError reports where and why parsing failed.
type SyntaxError struct {
	// Pos is where the problem was found. It is the zero Pos for errors
	// that concern the whole input, such as "file too large".
	Pos Pos
	// Msg describes the problem.
	Msg string
}

// Error formats the error as "line:col: msg", or just msg if e.Pos is the
// zero Pos.
func (e *SyntaxError) Error() string {
	if e.Pos.Line == 0 {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// Parse parses data as a single JSON value, allowing comments, a leading
// byte order mark and trailing commas as described in the package
// documentation. On failure it returns a nil *Value and a *SyntaxError.
//
// Strings and number texts in the result may share memory with one private
// copy of data, so data may be modified after Parse returns.
func Parse(data []byte) (*Value, error) {
	if len(data) > MaxSize {
		return nil, &SyntaxError{Msg: "file too large"}
	}
	p := &parser{s: string(data), line: 1, col: 1}
	if len(p.s) >= 3 && p.s[:3] == "\uFEFF" {
		p.i, p.lineStart, p.colOff = 3, 3, 3
	}
	if !p.skipSpace() {
		return nil, p.err
	}
	if p.i >= len(p.s) {
		return nil, &SyntaxError{Pos: Pos{Offset: 0, Line: 1, Col: 1}, Msg: "empty file"}
	}
	v := p.value("expected a value")
	if v == nil {
		return nil, p.err
	}
	if !p.skipSpace() {
		return nil, p.err
	}
	if p.i < len(p.s) {
		return nil, p.errorAt(p.i, "extra data after the top-level value")
	}
	return v, nil
}

// parser holds the state of one Parse call.
type parser struct {
	s string // the input
	i int    // offset of the next unread byte

	// Line tracking. Newlines only occur in whitespace and comments, where
	// they are counted eagerly; columns are computed lazily by counting
	// runes from the last computed position (colOff, col) on the current
	// line, which keeps the total work linear.
	line      int // current line number
	lineStart int // offset of the first byte of the current line
	colOff    int // an offset on the current line ...
	col       int // ... and its column

	depth int
	err   *SyntaxError

	// Arenas: values, element and member slices are carved out of larger
	// chunks to keep the number of allocations small.
	values  []Value
	elemBuf []*Value
	membBuf []Member
	// Stacks of elements and members of the arrays and objects being
	// parsed, shared between all nesting levels.
	elems []*Value
	membs []Member
	buf   []byte // scratch space for decoding strings with escapes
}

// pos returns the position of offset off, which must not be beyond p.i.
func (p *parser) pos(off int) Pos {
	if off < p.lineStart {
		return slowPos(p.s, off) // not expected to happen
	}
	if off < p.colOff {
		p.colOff, p.col = p.lineStart, 1
	}
	p.col += utf8.RuneCountInString(p.s[p.colOff:off])
	p.colOff = off
	return Pos{Offset: off, Line: p.line, Col: p.col}
}

// slowPos computes the position of off by scanning s from the start.
func slowPos(s string, off int) Pos {
	if off > len(s) {
		off = len(s)
	}
	line, start := 1, 0
	if len(s) >= 3 && s[:3] == "\uFEFF" && off >= 3 {
		start = 3
	}
	for i := start; i < off; i++ {
		switch s[i] {
		case '\n':
			line, start = line+1, i+1
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				if i+1 == off {
					break
				}
				i++
			}
			line, start = line+1, i+1
		}
	}
	return Pos{Offset: off, Line: line, Col: 1 + utf8.RuneCountInString(s[start:off])}
}

func (p *parser) newline() {
	p.line++
	p.lineStart, p.colOff, p.col = p.i, p.i, 1
}

// errorAt records and returns a syntax error at offset off.
func (p *parser) errorAt(off int, msg string) *SyntaxError {
	p.err = &SyntaxError{Pos: p.pos(off), Msg: msg}
	return p.err
}

// fail records a syntax error at offset off and returns nil.
func (p *parser) fail(off int, msg string) *Value {
	p.errorAt(off, msg)
	return nil
}

// skipSpace skips whitespace and comments. It reports false after recording
// an error (an unterminated block comment or a stray '/').
func (p *parser) skipSpace() bool {
	s := p.s
	for p.i < len(s) {
		switch s[p.i] {
		case ' ', '\t':
			p.i++
		case '\n':
			p.i++
			p.newline()
		case '\r':
			p.i++
			if p.i < len(s) && s[p.i] == '\n' {
				p.i++
			}
			p.newline()
		case '/':
			if p.i+1 < len(s) && s[p.i+1] == '/' {
				i := p.i + 2
				for i < len(s) && s[i] != '\n' && s[i] != '\r' {
					i++
				}
				p.i = i
			} else if p.i+1 < len(s) && s[p.i+1] == '*' {
				if !p.blockComment() {
					return false
				}
			} else {
				p.errorAt(p.i, "unexpected '/' (comments start with // or /*)")
				return false
			}
		default:
			return true
		}
	}
	return true
}

// blockComment skips the block comment starting at p.i.
func (p *parser) blockComment() bool {
	s := p.s
	start := p.pos(p.i)
	p.i += 2
	for p.i < len(s) {
		c := s[p.i]
		p.i++
		switch c {
		case '*':
			if p.i < len(s) && s[p.i] == '/' {
				p.i++
				return true
			}
		case '\n':
			p.newline()
		case '\r':
			if p.i < len(s) && s[p.i] == '\n' {
				p.i++
			}
			p.newline()
		}
	}
	p.err = &SyntaxError{Pos: start, Msg: "unterminated block comment"}
	return false
}

// describe names what is at offset off for an "unexpected ..." message.
func (p *parser) describe(off int) string {
	s := p.s
	if off >= len(s) {
		return "end of file"
	}
	if isWordByte(s[off]) && !isDigit(s[off]) {
		end := off
		for end < len(s) && end-off < 32 && isWordByte(s[end]) {
			end++
		}
		return strconv.Quote(s[off:end])
	}
	r, size := utf8.DecodeRuneInString(s[off:])
	if r == utf8.RuneError && size == 1 {
		return "invalid UTF-8 byte 0x" + strconv.FormatUint(uint64(s[off]), 16)
	}
	return strconv.QuoteRune(r)
}

// unexpected records an "unexpected X (expected ...)" error at off.
func (p *parser) unexpected(off int, expected string) *Value {
	msg := "unexpected " + p.describe(off) + " (" + expected
	if off < len(p.s) {
		switch c := p.s[off]; {
		case c == '\'':
			msg += "; strings must use double quotes"
		case isWordByte(c) && !isDigit(c):
			msg += "; strings must be in double quotes"
		}
	}
	return p.fail(off, msg+")")
}

// eof records an error for input that ends inside the array or object
// opened at open.
func (p *parser) eof(kind Kind, open Pos) *Value {
	return p.fail(p.i, "unexpected end of file ("+kind.String()+" opened at "+open.String()+" is not closed)")
}

func (p *parser) newValue(k Kind, off int) *Value {
	if len(p.values) == cap(p.values) {
		n := 2 * cap(p.values)
		n = min(max(n, 16), 1024)
		p.values = make([]Value, 0, n)
	}
	// The chunk is freshly allocated and zeroed, so only Kind and Pos
	// need setting.
	n := len(p.values)
	p.values = p.values[:n+1]
	v := &p.values[n]
	v.Kind, v.Pos = k, p.pos(off)
	return v
}

// carve copies items into a chunk of *arena and returns the copy, whose
// capacity equals its length so that appending to it never overwrites a
// neighbour.
func carve[T any](arena *[]T, items []T) []T {
	n := len(items)
	if n == 0 {
		return nil
	}
	a := *arena
	if cap(a)-len(a) < n {
		size := min(max(2*cap(a), 64), 4096)
		a = make([]T, 0, max(size, n))
	}
	start := len(a)
	a = append(a, items...)
	*arena = a
	return a[start:len(a):len(a)]
}

// value parses a value starting at p.i, which must be at a non-space byte
// or at the end of the input. expected is used in the error message if
// there is no value there.
func (p *parser) value(expected string) *Value {
	if p.i >= len(p.s) {
		return p.fail(p.i, "unexpected end of file (expected a value)")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		v := p.newValue(String, p.i)
		text, ok := p.str()
		if !ok {
			return nil
		}
		v.Text = text
		return v
	case c == '-' || isDigit(c):
		return p.number()
	case (c == '+' || c == '.') && p.i+1 < len(p.s) && isDigit(p.s[p.i+1]):
		return p.badNumber(p.i, p.i+1, "")
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return p.literal(expected)
	}
	return p.unexpected(p.i, expected)
}

func (p *parser) literal(expected string) *Value {
	start := p.i
	end := start
	for end < len(p.s) && isWordByte(p.s[end]) {
		end++
	}
	var v *Value
	switch word := p.s[start:end]; word {
	case "null":
		v = p.newValue(Null, start)
	case "true":
		v = p.newValue(Bool, start)
		v.Bool = true
	case "false":
		v = p.newValue(Bool, start)
	default:
		for _, lit := range [...]string{"null", "true", "false"} {
			if equalFold(word, lit) {
				return p.fail(start, "invalid literal "+strconv.Quote(word)+" (did you mean "+lit+"?)")
			}
		}
		return p.unexpected(start, expected)
	}
	p.i = end
	return v
}

// equalFold reports whether the ASCII strings a and b are equal ignoring case.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i]|0x20 != b[i]|0x20 {
			return false
		}
	}
	return true
}

func (p *parser) number() *Value {
	s := p.s
	start := p.i
	i := start
	if s[i] == '-' {
		i++
	}
	switch {
	case i >= len(s) || !isDigit(s[i]):
		return p.badNumber(start, i, "")
	case s[i] == '0':
		i++
		if i < len(s) && isDigit(s[i]) {
			return p.badNumber(start, i, " (leading zeros are not allowed)")
		}
	default:
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return p.badNumber(start, i, " (expected a digit after '.')")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return p.badNumber(start, i, " (expected a digit in the exponent)")
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && isNumberByte(s[i]) {
		return p.badNumber(start, i, "")
	}
	v := p.newValue(Number, start)
	v.Text = s[start:i]
	// The text matches the JSON grammar, so the only possible error is
	// ErrRange, for which ParseFloat returns ±Inf as documented on Num.
	v.Num, _ = strconv.ParseFloat(v.Text, 64)
	p.i = i
	return v
}

// badNumber reports an invalid number starting at start; the problem was
// noticed at offset i.
func (p *parser) badNumber(start, i int, why string) *Value {
	end := i
	for end < len(p.s) && end-start < 40 && isNumberByte(p.s[end]) {
		end++
	}
	return p.fail(start, "invalid number "+strconv.Quote(p.s[start:end])+why)
}

// str parses a string whose opening quote is at p.i and returns its decoded
// contents.
func (p *parser) str() (string, bool) {
	s := p.s
	start := p.i
	i := start + 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return s[start+1 : i], true
		case c == '\\':
			return p.strEscaped(start, i)
		case c < 0x20:
			return "", p.strControl(start, i)
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				p.errorAt(i, "invalid UTF-8 in string")
				return "", false
			}
			i += size
		}
	}
	p.errorAt(start, "unterminated string")
	return "", false
}

// strControl reports a raw control character at offset i in the string
// starting at start.
func (p *parser) strControl(start, i int) bool {
	c := p.s[i]
	if c == '\n' || c == '\r' {
		p.errorAt(start, "unterminated string (line break before the closing quote)")
		return false
	}
	p.errorAt(i, "control character "+hexRune(rune(c))+" in string must be escaped")
	return false
}

func hexRune(r rune) string {
	h := strconv.FormatUint(uint64(r), 16)
	for len(h) < 4 {
		h = "0" + h
	}
	return "U+" + toUpperHex(h)
}

func toUpperHex(h string) string {
	b := []byte(h)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// strEscaped continues parsing the string starting at start, whose first
// backslash is at offset i, decoding escapes into p.buf.
func (p *parser) strEscaped(start, i int) (string, bool) {
	s := p.s
	b := append(p.buf[:0], s[start+1:i]...)
	defer func() { p.buf = b[:0] }()
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return string(b), true
		case c == '\\':
			if i+1 >= len(s) {
				p.errorAt(start, "unterminated string")
				return "", false
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				// As encoding/json: a surrogate pair is one rune, any
				// other surrogate U+FFFD.
				r, n := jsonesc.Unicode(s, i)
				if n == 0 {
					p.errorAt(i, `invalid escape '\u' (expected 4 hex digits)`)
					return "", false
				}
				i += n
				b = utf8.AppendRune(b, r)
				continue
			default:
				r, size := utf8.DecodeRuneInString(s[i+1:])
				switch {
				case r == utf8.RuneError && size == 1:
					p.errorAt(i+1, "invalid UTF-8 in string")
				case r < 0x20:
					p.errorAt(i, `invalid escape: '\' followed by `+hexRune(r))
				default:
					p.errorAt(i, `invalid escape '\`+string(r)+`'`)
				}
				return "", false
			}
			i += 2
		case c < 0x20:
			return "", p.strControl(start, i)
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				p.errorAt(i, "invalid UTF-8 in string")
				return "", false
			}
			b = append(b, s[i:i+size]...)
			i += size
		}
	}
	p.errorAt(start, "unterminated string")
	return "", false
}

func (p *parser) enter(off int) bool {
	if p.depth >= MaxDepth {
		p.errorAt(off, "nesting too deep")
		return false
	}
	p.depth++
	return true
}

func (p *parser) array() *Value {
	open := p.i
	if !p.enter(open) {
		return nil
	}
	v := p.newValue(Array, open)
	p.i++
	base := len(p.elems)
	for {
		if !p.skipSpace() {
			return nil
		}
		if p.i >= len(p.s) {
			return p.eof(Array, v.Pos)
		}
		if p.s[p.i] == ']' {
			p.i++
			break
		}
		e := p.value("expected a value or ']'")
		if e == nil {
			return nil
		}
		p.elems = append(p.elems, e)
		if !p.skipSpace() {
			return nil
		}
		if p.i >= len(p.s) {
			return p.eof(Array, v.Pos)
		}
		c := p.s[p.i]
		if c == ']' {
			p.i++
			break
		}
		if c != ',' {
			return p.fail(p.i, "expected ',' or ']' after array element")
		}
		p.i++
	}
	v.Elems = carve(&p.elemBuf, p.elems[base:])
	clear(p.elems[base:])
	p.elems = p.elems[:base]
	p.depth--
	return v
}

func (p *parser) object() *Value {
	open := p.i
	if !p.enter(open) {
		return nil
	}
	v := p.newValue(Object, open)
	p.i++
	base := len(p.membs)
	for {
		if !p.skipSpace() {
			return nil
		}
		if p.i >= len(p.s) {
			return p.eof(Object, v.Pos)
		}
		c := p.s[p.i]
		if c == '}' {
			p.i++
			break
		}
		if c != '"' {
			return p.unexpected(p.i, "expected a string key or '}'")
		}
		keyPos := p.pos(p.i)
		key, ok := p.str()
		if !ok {
			return nil
		}
		if !p.skipSpace() {
			return nil
		}
		if p.i >= len(p.s) {
			return p.eof(Object, v.Pos)
		}
		if p.s[p.i] != ':' {
			return p.fail(p.i, "expected ':' after object key")
		}
		p.i++
		if !p.skipSpace() {
			return nil
		}
		e := p.value("expected a value")
		if e == nil {
			return nil
		}
		p.membs = append(p.membs, Member{Key: key, KeyPos: keyPos, Value: e})
		if !p.skipSpace() {
			return nil
		}
		if p.i >= len(p.s) {
			return p.eof(Object, v.Pos)
		}
		c = p.s[p.i]
		if c == '}' {
			p.i++
			break
		}
		if c != ',' {
			return p.fail(p.i, "expected ',' or '}' after object member")
		}
		p.i++
	}
	v.Members = carve(&p.membBuf, p.membs[base:])
	clear(p.membs[base:])
	p.membs = p.membs[:base]
	p.depth--
	return v
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWordByte reports whether c can be part of a bare word such as a literal.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '$'
}

// isNumberByte reports whether c can continue something that looks like a
// number, so that "01", "1.2.3" or "0x1F" are reported as one bad number.
func isNumberByte(c byte) bool {
	return isWordByte(c) || c == '.' || c == '+' || c == '-'
}

package jsonc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// at follows a path of object keys (string) and array indexes (int).
func at(t *testing.T, v *Value, path ...any) *Value {
	t.Helper()
	for _, step := range path {
		switch s := step.(type) {
		case string:
			next := v.Get(s)
			if next == nil {
				t.Fatalf("no member %q in %v at %v", s, v.Kind, v.Pos)
			}
			v = next
		case int:
			if v.Kind != Array || s >= len(v.Elems) {
				t.Fatalf("no element %d in %v at %v", s, v.Kind, v.Pos)
			}
			v = v.Elems[s]
		}
	}
	return v
}

// keyPos returns the position of the last key named key in object v.
func keyPos(t *testing.T, v *Value, key string) Pos {
	t.Helper()
	for i := len(v.Members) - 1; i >= 0; i-- {
		if v.Members[i].Key == key {
			return v.Members[i].KeyPos
		}
	}
	t.Fatalf("no key %q", key)
	return Pos{}
}

// refPos computes the position of off independently of the parser.
func refPos(data []byte, off int) Pos {
	line, start := 1, 0
	if bytes.HasPrefix(data, []byte("\uFEFF")) && off >= 3 {
		start = 3
	}
	for i := start; i < off; i++ {
		if data[i] == '\n' || data[i] == '\r' && (i+1 >= len(data) || data[i+1] != '\n') {
			line, start = line+1, i+1
		}
	}
	return Pos{Offset: off, Line: line, Col: 1 + utf8.RuneCount(data[start:off])}
}

func mustParse(t *testing.T, src string) *Value {
	t.Helper()
	v, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return v
}

func TestPositions(t *testing.T) {
	const src = `{
  "名前": "日本語",  "x": [1, {"ü": true}],
	"emoji": "😀", "n": null,
  "arr": [
    [], {},
    -1.5e3
  ]
}`
	type want struct {
		path      []any
		line, col int
		first     byte
	}
	values := []want{
		{nil, 1, 1, '{'},
		{[]any{"名前"}, 2, 9, '"'},
		{[]any{"x"}, 2, 22, '['},
		{[]any{"x", 0}, 2, 23, '1'},
		{[]any{"x", 1}, 2, 26, '{'},
		{[]any{"x", 1, "ü"}, 2, 32, 't'},
		{[]any{"emoji"}, 3, 11, '"'},
		{[]any{"n"}, 3, 21, 'n'},
		{[]any{"arr", 0}, 5, 5, '['},
		{[]any{"arr", 1}, 5, 9, '{'},
		{[]any{"arr", 2}, 6, 5, '-'},
	}
	keys := []struct {
		path      []any
		key       string
		line, col int
	}{
		{nil, "名前", 2, 3},
		{nil, "x", 2, 17},
		{[]any{"x", 1}, "ü", 2, 27},
		{nil, "emoji", 3, 2},
		{nil, "n", 3, 16},
		{nil, "arr", 4, 3},
	}
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		data := []byte(strings.ReplaceAll(src, "\n", eol))
		for _, bom := range []bool{false, true} {
			in := data
			if bom {
				in = append([]byte("\uFEFF"), data...)
			}
			name := fmt.Sprintf("eol=%q,bom=%v", eol, bom)
			t.Run(name, func(t *testing.T) {
				root, err := Parse(in)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range values {
					v := at(t, root, w.path...)
					if v.Pos.Line != w.line || v.Pos.Col != w.col {
						t.Errorf("value %v at %v, want %d:%d", w.path, v.Pos, w.line, w.col)
					}
					if got := in[v.Pos.Offset]; got != w.first {
						t.Errorf("value %v: byte at offset %d is %q, want %q", w.path, v.Pos.Offset, got, w.first)
					}
					if r := refPos(in, v.Pos.Offset); r != v.Pos {
						t.Errorf("value %v: Pos %+v, reference %+v", w.path, v.Pos, r)
					}
				}
				for _, k := range keys {
					p := keyPos(t, at(t, root, k.path...), k.key)
					if p.Line != k.line || p.Col != k.col {
						t.Errorf("key %q at %v, want %d:%d", k.key, p, k.line, k.col)
					}
					if in[p.Offset] != '"' {
						t.Errorf("key %q: offset %d is not a quote", k.key, p.Offset)
					}
					if r := refPos(in, p.Offset); r != p {
						t.Errorf("key %q: Pos %+v, reference %+v", k.key, p, r)
					}
				}
			})
		}
	}
}

func TestPosAfterLongLine(t *testing.T) {
	// Many values on one line with multi-byte characters in between: the
	// column cache must keep counting runes correctly.
	var b strings.Builder
	b.WriteString("[")
	for i := range 200 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `"é%d€"`, i)
	}
	b.WriteString("]")
	data := []byte(b.String())
	v, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range v.Elems {
		if r := refPos(data, e.Pos.Offset); r != e.Pos {
			t.Fatalf("element %d: Pos %+v, reference %+v", i, e.Pos, r)
		}
		if want := fmt.Sprintf("é%d€", i); e.Text != want {
			t.Fatalf("element %d = %q, want %q", i, e.Text, want)
		}
	}
}

func TestComments(t *testing.T) {
	tests := []struct {
		name, src string
		want      any // encoding/json-style tree
	}{
		{"before value", "// hi\n/* there */ 1", json.Number("1")},
		{"after value", "1 // bye", json.Number("1")},
		{"after value block", "1 /* bye */", json.Number("1")},
		{"line comment at EOF no newline", "[1]//", []any{json.Number("1")}},
		{"empty line comment", "//\n[]", []any{}},
		{"empty block comment", "/**/[]", []any{}},
		{"stars", "/*** a * b **/[]", []any{}},
		{"inside empty array", "[ /* x */ ]", []any{}},
		{"inside empty object", "{ // x\n}", map[string]any{}},
		{"before key", `{/*c*/"a":1}`, map[string]any{"a": json.Number("1")}},
		{"between key and colon", `{"a"/*c*/:1}`, map[string]any{"a": json.Number("1")}},
		{"after colon", "{\"a\": // c\n 1}", map[string]any{"a": json.Number("1")}},
		{"before comma", `{"a":1/*c*/,"b":2}`, map[string]any{"a": json.Number("1"), "b": json.Number("2")}},
		{"after comma", "[1, // c\n 2]", []any{json.Number("1"), json.Number("2")}},
		{"before close", "[1 /* c */]", []any{json.Number("1")}},
		{"after trailing comma", "[1, /* c */ ]", []any{json.Number("1")}},
		{"adjacent comments", "/*a*//*b*/// c\n//d\r\n[]", []any{}},
		{"comment markers in strings", `["// not a comment", "/* nor */"]`, []any{"// not a comment", "/* nor */"}},
		{"quote in comment", `/* " */ "x" // "`, "x"},
		{"uni-app manifest", "{\n  \"name\" : \"demo\",\n  /* 5+App特有相关 */\n  \"app-plus\" : {\n    // 模块配置\n    \"modules\" : {}\n  }\n}", map[string]any{"name": "demo", "app-plus": map[string]any{"modules": map[string]any{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustParse(t, tt.src)
			if got := toAny(v); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
	// A block comment spanning lines moves the following positions.
	v := mustParse(t, "/* a\n b\r\n c */ [\n/* é */ 7]")
	if got := v.Pos.String(); got != "3:7" {
		t.Errorf("array at %s, want 3:7", got)
	}
	if got := v.Elems[0].Pos.String(); got != "4:9" {
		t.Errorf("element at %s, want 4:9", got)
	}
}

func TestBOM(t *testing.T) {
	data := []byte("\uFEFF{\"a\": 1}")
	v, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if v.Pos != (Pos{Offset: 3, Line: 1, Col: 1}) {
		t.Errorf("object at %+v", v.Pos)
	}
	if p := v.Members[0].KeyPos; p != (Pos{Offset: 4, Line: 1, Col: 2}) {
		t.Errorf("key at %+v", p)
	}
	if p := v.Get("a").Pos; p != (Pos{Offset: 9, Line: 1, Col: 7}) {
		t.Errorf("value at %+v", p)
	}
}

func TestTrailingCommas(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		{"[1,]", []any{json.Number("1")}},
		{"[1, 2 ,\n]", []any{json.Number("1"), json.Number("2")}},
		{`{"a":1,}`, map[string]any{"a": json.Number("1")}},
		{`{"a":[true,],"b":{"c":null,},}`, map[string]any{"a": []any{true}, "b": map[string]any{"c": nil}}},
	}
	for _, tt := range tests {
		if got := toAny(mustParse(t, tt.src)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %#v, want %#v", tt.src, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		// Empty input.
		{"", "1:1: empty file"},
		{"  \n\t ", "1:1: empty file"},
		{"// only a comment\n/* and another */", "1:1: empty file"},
		{"\uFEFF", "1:1: empty file"},
		// Unexpected characters where a value belongs.
		{"{\n  \"a\": 1,\n  \"b\": }", "3:8: unexpected '}' (expected a value)"},
		{"{\n  \"a\":\n    }", "3:5: unexpected '}' (expected a value)"},
		{"[1, }", "1:5: unexpected '}' (expected a value or ']')"},
		{"[,]", "1:2: unexpected ',' (expected a value or ']')"},
		{"[1,,2]", "1:4: unexpected ',' (expected a value or ']')"},
		{`{"a":,}`, "1:6: unexpected ',' (expected a value)"},
		{"]", "1:1: unexpected ']' (expected a value)"},
		{"'x'", `1:1: unexpected '\'' (expected a value; strings must use double quotes)`},
		{"[abc]", `1:2: unexpected "abc" (expected a value or ']'; strings must be in double quotes)`},
		{"NaN", `1:1: unexpected "NaN" (expected a value; strings must be in double quotes)`},
		{"True", `1:1: invalid literal "True" (did you mean true?)`},
		{"[nul]", `1:2: unexpected "nul" (expected a value or ']'; strings must be in double quotes)`},
		{"nullx", `1:1: unexpected "nullx" (expected a value; strings must be in double quotes)`},
		{"\u00e9", `1:1: unexpected 'é' (expected a value)`},
		{"\x01", `1:1: unexpected '\x01' (expected a value)`},
		{"\xff", `1:1: unexpected invalid UTF-8 byte 0xff (expected a value)`},
		{"[1,\n\uFEFF2]", `2:1: unexpected '\ufeff' (expected a value or ']')`},
		{"[\n", "2:1: unexpected end of file (array opened at 1:1 is not closed)"},
		{"[1", "1:3: unexpected end of file (array opened at 1:1 is not closed)"},
		{"[1,", "1:4: unexpected end of file (array opened at 1:1 is not closed)"},
		{"x [", "1:1: unexpected \"x\" (expected a value; strings must be in double quotes)"},
		// Objects.
		{"{\n  \"a\": 1 \"b\": 2}", "2:10: expected ',' or '}' after object member"},
		{"{\"a\" 1}", "1:6: expected ':' after object key"},
		{"{\"a\"=1}", "1:5: expected ':' after object key"},
		{"{a: 1}", `1:2: unexpected "a" (expected a string key or '}'; strings must be in double quotes)`},
		{"{'a': 1}", `1:2: unexpected '\'' (expected a string key or '}'; strings must use double quotes)`},
		{"{,}", "1:2: unexpected ',' (expected a string key or '}')"},
		{"{1:2}", "1:2: unexpected '1' (expected a string key or '}')"},
		{`{"a":1,,}`, "1:8: unexpected ',' (expected a string key or '}')"},
		{`{"a":1]`, "1:7: expected ',' or '}' after object member"},
		{"\n\n  {\"a\":", "3:8: unexpected end of file (expected a value)"},
		{"{\"a\":1", "1:7: unexpected end of file (object opened at 1:1 is not closed)"},
		{"{\"a\"", "1:5: unexpected end of file (object opened at 1:1 is not closed)"},
		{"{ // c\n", "2:1: unexpected end of file (object opened at 1:1 is not closed)"},
		// Arrays.
		{"[1 2]", "1:4: expected ',' or ']' after array element"},
		{"[1}", "1:3: expected ',' or ']' after array element"},
		{"[true false]", "1:7: expected ',' or ']' after array element"},
		// Strings.
		{"\n\n\n\n\n\n\"abc", "7:1: unterminated string"},
		{`"abc\`, "1:1: unterminated string"},
		{`"ab\"`, "1:1: unterminated string"},
		{"[\"é\\u00e9", "1:2: unterminated string"},
		{"{\"a\": \"b\n\"}", "1:7: unterminated string (line break before the closing quote)"},
		{"\"a\\\r\n\"", `1:3: invalid escape: '\' followed by U+000D`},
		{"\"a\tb\"", "1:3: control character U+0009 in string must be escaped"},
		{"\"\x00\"", "1:2: control character U+0000 in string must be escaped"},
		{"[\n\n\n \"\\q\"]", `4:3: invalid escape '\q'`},
		{`"\x41"`, `1:2: invalid escape '\x'`},
		{`"é\é"`, `1:3: invalid escape '\é'`},
		{`"\'"`, `1:2: invalid escape '\''`},
		{`"\u12G4"`, `1:2: invalid escape '\u' (expected 4 hex digits)`},
		{`"\u12"`, `1:2: invalid escape '\u' (expected 4 hex digits)`},
		{`"\u"`, `1:2: invalid escape '\u' (expected 4 hex digits)`},
		{"\"a\xffb\"", "1:3: invalid UTF-8 in string"},
		{"\"a\\n\xc3\"", "1:5: invalid UTF-8 in string"},
		{"\"\\\xff\"", "1:3: invalid UTF-8 in string"},
		{"\"\xed\xa0\x80\"", "1:2: invalid UTF-8 in string"}, // UTF-8-encoded surrogate
		{"\"\xc0\x80\"", "1:2: invalid UTF-8 in string"},     // overlong
		// Numbers.
		{"01", `1:1: invalid number "01" (leading zeros are not allowed)`},
		{"[-01]", `1:2: invalid number "-01" (leading zeros are not allowed)`},
		{"1.", `1:1: invalid number "1." (expected a digit after '.')`},
		{"[1.e5]", `1:2: invalid number "1.e5" (expected a digit after '.')`},
		{"1e", `1:1: invalid number "1e" (expected a digit in the exponent)`},
		{"1e+", `1:1: invalid number "1e+" (expected a digit in the exponent)`},
		{"-", `1:1: invalid number "-"`},
		{"-Infinity", `1:1: invalid number "-Infinity"`},
		{"[- 1]", `1:2: invalid number "-"`},
		{"+1", `1:1: invalid number "+1"`},
		{".5", `1:1: invalid number ".5"`},
		{"0x1F", `1:1: invalid number "0x1F"`},
		{"1.2.3", `1:1: invalid number "1.2.3"`},
		{"[1-2]", `1:2: invalid number "1-2"`},
		{"12abc", `1:1: invalid number "12abc"`},
		// Comments.
		{"[1,\n\n\n\n /* never closed\n", "5:2: unterminated block comment"},
		{"/*", "1:1: unterminated block comment"},
		{"/* */ */", "1:7: unexpected '*' (expected a value)"},
		{"1 /", "1:3: unexpected '/' (comments start with // or /*)"},
		{"# comment\n1", "1:1: unexpected '#' (expected a value)"},
		// Trailing data.
		{"{} {}", "1:4: extra data after the top-level value"},
		{"1\n// c\n2", "3:1: extra data after the top-level value"},
		{"[1]]", "1:4: extra data after the top-level value"},
		{"\"a\" \"b\"", "1:5: extra data after the top-level value"},
		{"[1],", "1:4: extra data after the top-level value"},
	}
	for _, tt := range tests {
		v, err := Parse([]byte(tt.src))
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error %q", tt.src, toAny(v), tt.want)
			continue
		}
		if v != nil {
			t.Errorf("Parse(%q) returned a value with its error", tt.src)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got  %s\n want %s", tt.src, err, tt.want)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error is %T, want *SyntaxError", tt.src, err)
			continue
		}
		if r := refPos([]byte(tt.src), se.Pos.Offset); r != se.Pos {
			t.Errorf("Parse(%q): error Pos %+v, reference %+v", tt.src, se.Pos, r)
		}
	}
}

func TestLimits(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	if _, err := Parse(nest(MaxDepth)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
	_, err := Parse(nest(MaxDepth + 1))
	if want := fmt.Sprintf("1:%d: nesting too deep", MaxDepth+1); err == nil || err.Error() != want {
		t.Errorf("depth %d: got %v, want %s", MaxDepth+1, err, want)
	}
	// Mixed objects and arrays, and an unclosed very deep input.
	deep := []byte(strings.Repeat(`{"a":[`, MaxDepth))
	if _, err := Parse(deep); err == nil || !strings.HasSuffix(err.Error(), "nesting too deep") {
		t.Errorf("deep mixed: got %v", err)
	}
	if _, err := Parse(bytes.Repeat([]byte("["), 1<<20)); err == nil || err.Error() != "1:257: nesting too deep" {
		t.Errorf("1M brackets: got %v", err)
	}

	big := bytes.Repeat([]byte(" "), MaxSize)
	big[len(big)-1] = '1'
	if v, err := Parse(big); err != nil || v.Num != 1 {
		t.Errorf("input of exactly MaxSize: %v", err)
	}
	big = append(big, ' ')
	_, err = Parse(big)
	var se *SyntaxError
	if !errors.As(err, &se) || err.Error() != "file too large" || se.Pos != (Pos{}) {
		t.Errorf("input of MaxSize+1: got %v", err)
	}
}

func TestLargeInputLinear(t *testing.T) {
	// A single 4 MiB line full of values and multi-byte characters.
	var b bytes.Buffer
	b.WriteString("[")
	for b.Len() < MaxSize-64 {
		b.WriteString(`"ü",1.5,{"€":[null]},`)
	}
	b.WriteString("true]")
	data := b.Bytes()
	v, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	last := v.Elems[len(v.Elems)-1]
	if r := refPos(data, last.Pos.Offset); r != last.Pos {
		t.Errorf("last element Pos %+v, reference %+v", last.Pos, r)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ src, want string }{
		{`""`, ""},
		{`"plain"`, "plain"},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\u0041\u00e9\u20AC\u0000"`, "Aé€\x00"},
		{`"日本語 😀"`, "日本語 😀"},
		{`"\uD83D\uDE00"`, "😀"},
		{`"\ud83d\ude00x"`, "😀x"},
		{`"\uDBFF\uDFFF"`, "\U0010FFFF"},
		{`"\uD800\uDC00"`, "\U00010000"},
		// Lone and misordered surrogates become U+FFFD, as in encoding/json.
		{`"\uD83D"`, "\uFFFD"},
		{`"\uD83Dx"`, "\uFFFDx"},
		{`"\uDE00"`, "\uFFFD"},
		{`"\uDE00\uD83D"`, "\uFFFD\uFFFD"},
		{`"\uD83D\uD83D\uDE00"`, "\uFFFD😀"},
		{`"\uD83D\n"`, "\uFFFD\n"},
		{`"\uD83D\u0041"`, "\uFFFDA"},
		{`"\uD83D\\uDE00"`, "\uFFFD\\uDE00"},
		{"\"\u2028\u2029\"", "\u2028\u2029"},
		{`"\u007f"`, "\x7f"},
		{"\"\x7f\"", "\x7f"},
	}
	for _, tt := range tests {
		v := mustParse(t, tt.src)
		if v.Kind != String || v.Text != tt.want {
			t.Errorf("Parse(%s) = %v %q, want %q", tt.src, v.Kind, v.Text, tt.want)
		}
		var std string
		if err := json.Unmarshal([]byte(tt.src), &std); err != nil {
			t.Errorf("encoding/json rejects %s: %v", tt.src, err)
		} else if std != v.Text {
			t.Errorf("%s: encoding/json says %q, we say %q", tt.src, std, v.Text)
		}
	}
	// Keys are decoded the same way.
	v := mustParse(t, `{"\uD83D\uDE00\n": 1}`)
	if v.Members[0].Key != "😀\n" || v.Get("😀\n") == nil {
		t.Errorf("key = %q", v.Members[0].Key)
	}
}

func TestNumbers(t *testing.T) {
	tests := []struct {
		src string
		num float64
	}{
		{"0", 0},
		{"-0", math.Copysign(0, -1)},
		{"1", 1},
		{"-12.5e-1", -1.25},
		{"1E2", 100},
		{"1e+2", 100},
		{"0.000001", 1e-6},
		{"9007199254740993", 9007199254740992},
		{"123456789012345678901234567890", 1.2345678901234568e29},
		{"1.7976931348623157e308", math.MaxFloat64},
		{"4.9e-324", 5e-324},
		{"1e-400", 0},
		{"-1e-400", math.Copysign(0, -1)},
		{"1e400", math.Inf(1)},
		{"-1e400", math.Inf(-1)},
		{"1" + strings.Repeat("0", 400), math.Inf(1)},
		{"0." + strings.Repeat("0", 400) + "1", 0},
		{"0.1", 0.1},
	}
	for _, tt := range tests {
		v := mustParse(t, "[ "+tt.src+" ]").Elems[0]
		if v.Kind != Number || v.Text != tt.src {
			t.Errorf("%s: kind %v text %q", tt.src, v.Kind, v.Text)
		}
		if v.Num != tt.num || math.Signbit(v.Num) != math.Signbit(tt.num) {
			t.Errorf("%s: Num = %v, want %v", tt.src, v.Num, tt.num)
		}
		if v.Pos.Col != 3 {
			t.Errorf("%s: Col = %d", tt.src, v.Pos.Col)
		}
	}
}

func TestLiterals(t *testing.T) {
	v := mustParse(t, "[true,false,null]")
	if e := v.Elems; e[0].Kind != Bool || !e[0].Bool || e[1].Kind != Bool || e[1].Bool || e[2].Kind != Null {
		t.Errorf("got %#v", toAny(v))
	}
}

func TestGetAndDuplicates(t *testing.T) {
	src := `{
  "a": 1,
  "b": {"x": 1, "y": 2, "x": 3},
  "a": 2,
  "c": [{"k": 1, "k": 2, "k": 3}],
  "a": 4
}`
	v := mustParse(t, src)
	if got := v.Get("a"); got == nil || got.Text != "4" {
		t.Errorf("Get(a) = %v", got)
	}
	if got := v.Get("b").Get("x"); got == nil || got.Text != "3" {
		t.Errorf("Get(b).Get(x) = %v", got)
	}
	if v.Get("missing") != nil || v.Get("b").Get("missing") != nil {
		t.Error("Get of a missing key is not nil")
	}
	var nilValue *Value
	if nilValue.Get("a") != nil || v.Get("c").Get("k") != nil || v.Get("a").Get("a") != nil {
		t.Error("Get on nil or non-object is not nil")
	}
	if len(v.Members) != 5 {
		t.Errorf("Members has %d entries, want all 5 including duplicates", len(v.Members))
	}
	var got []string
	for _, m := range v.Duplicates() {
		got = append(got, fmt.Sprintf("%s@%v=%s", m.Key, m.KeyPos, m.Value.Text))
	}
	want := []string{"a@4:3=2", "a@6:3=4", "x@3:25=3", "k@5:18=2", "k@5:26=3"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Duplicates = %v, want %v", got, want)
	}
	if d := mustParse(t, `{"a":{"a":1},"b":[{"a":1}]}`).Duplicates(); d != nil {
		t.Errorf("Duplicates = %v, want none", d)
	}

	// Objects big enough to use the map-based check.
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&b, `"k%d":%d,`, i%30, i)
	}
	b.WriteString(`"sub":{"k1":0,"k1":1}}`)
	dups := mustParse(t, b.String()).Duplicates()
	if len(dups) != 11 || dups[0].Key != "k0" || dups[0].Value.Text != "30" || dups[10].Key != "k1" || dups[10].Value.Text != "1" {
		t.Errorf("big object: %d duplicates: %v", len(dups), dups)
	}
}

func TestStrings_KindAndPos(t *testing.T) {
	names := map[Kind]string{Null: "null", Bool: "boolean", Number: "number", String: "string", Array: "array", Object: "object", 42: "Kind(42)"}
	for k, want := range names {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), want)
		}
	}
	if s := (Pos{Offset: 99, Line: 12, Col: 7}).String(); s != "12:7" {
		t.Errorf("Pos.String() = %q", s)
	}
	e := &SyntaxError{Pos: Pos{Line: 3, Col: 5}, Msg: "oops"}
	if e.Error() != "3:5: oops" {
		t.Errorf("Error() = %q", e.Error())
	}
}

// toAny converts v to the form encoding/json produces when decoding into an
// interface{} with UseNumber.
func toAny(v *Value) any {
	switch v.Kind {
	case Null:
		return nil
	case Bool:
		return v.Bool
	case Number:
		return json.Number(v.Text)
	case String:
		return v.Text
	case Array:
		out := make([]any, 0, len(v.Elems))
		for _, e := range v.Elems {
			out = append(out, toAny(e))
		}
		return out
	case Object:
		out := make(map[string]any, len(v.Members))
		for _, m := range v.Members {
			out[m.Key] = toAny(m.Value)
		}
		return out
	}
	panic("bad kind " + v.Kind.String())
}

func stdDecode(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return nil, err
	}
	return x, nil
}

// checkNums verifies Num against Text for every number in the tree.
func checkNums(v *Value) error {
	switch v.Kind {
	case Number:
		f, _ := strconv.ParseFloat(v.Text, 64)
		if f != v.Num {
			return fmt.Errorf("number %s: Num = %v, want %v", v.Text, v.Num, f)
		}
	case Array:
		for _, e := range v.Elems {
			if err := checkNums(e); err != nil {
				return err
			}
		}
	case Object:
		for _, m := range v.Members {
			if err := checkNums(m.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkPositions verifies every position in the tree against refPos and
// against the byte found there.
func checkPositions(data []byte, v *Value) error {
	p := v.Pos
	if p.Offset < 0 || p.Offset >= len(data) {
		return fmt.Errorf("%v value: offset %d out of range", v.Kind, p.Offset)
	}
	if r := refPos(data, p.Offset); r != p {
		return fmt.Errorf("%v value: Pos %+v, reference %+v", v.Kind, p, r)
	}
	c := data[p.Offset]
	ok := false
	switch v.Kind {
	case Null:
		ok = c == 'n'
	case Bool:
		ok = c == 't' && v.Bool || c == 'f' && !v.Bool
	case Number:
		ok = c == '-' || c >= '0' && c <= '9'
		ok = ok && bytes.HasPrefix(data[p.Offset:], []byte(v.Text))
	case String:
		ok = c == '"'
	case Array:
		ok = c == '['
		for _, e := range v.Elems {
			if err := checkPositions(data, e); err != nil {
				return err
			}
		}
	case Object:
		ok = c == '{'
		for _, m := range v.Members {
			if m.KeyPos.Offset >= len(data) || data[m.KeyPos.Offset] != '"' {
				return fmt.Errorf("key %q: offset %d is not a quote", m.Key, m.KeyPos.Offset)
			}
			if r := refPos(data, m.KeyPos.Offset); r != m.KeyPos {
				return fmt.Errorf("key %q: Pos %+v, reference %+v", m.Key, m.KeyPos, r)
			}
			if err := checkPositions(data, m.Value); err != nil {
				return err
			}
		}
	}
	if !ok {
		return fmt.Errorf("%v value at %+v starts with %q", v.Kind, p, c)
	}
	return nil
}

var strictInputs = []string{
	`null`, `true`, `false`, `0`, `-0`, `-0.0e-0`, `1.5E+10`, `123456789012345678901234567890`,
	`1e400`, `1e-400`, `""`, `"a\u0000b"`, `"\uD83D\uDE00\uD83D"`, `"\uDE00"`, `"日本"`,
	`"\"\\\/\b\f\n\r\t"`, `[]`, `{}`, ` [ 1 , 2 , [ 3 , { } ] ] `,
	"\t\r\n{\"a\" : {\"b\" : [true, false, null]}, \"c\" : \"d\"}\r\n",
	`{"a":1,"a":2,"b":{"a":3}}`, `{"":""}`, `[[[[[[[[[[]]]]]]]]]]`,
	`{"name":"demo","pages":["pages/index/index","pages/logs/logs"],"window":{"navigationBarTitleText":"Demo","enablePullDownRefresh":false},"tabBar":{"list":[{"pagePath":"pages/index/index","text":"首页"}]},"networkTimeout":{"request":10000}}`,
}

func TestAgreesWithEncodingJSON(t *testing.T) {
	for _, src := range strictInputs {
		data := []byte(src)
		if !json.Valid(data) {
			t.Fatalf("test input %q is not valid JSON", src)
		}
		want, err := stdDecode(data)
		if err != nil {
			t.Fatal(err)
		}
		v, err := Parse(data)
		if err != nil {
			t.Errorf("Parse(%q): %v", src, err)
			continue
		}
		if got := toAny(v); !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q):\n got  %#v\n want %#v", src, got, want)
		}
		if err := checkNums(v); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
		if err := checkPositions(data, v); err != nil {
			t.Errorf("Parse(%q): %v", src, err)
		}
	}
}

func TestAllocations(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := range 1000 {
		fmt.Fprintf(&b, `{"id": %d, "name": "item", "tags": ["a", "b"], "ok": true},`, i)
	}
	b.WriteString("null]")
	data := []byte(b.String())
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := Parse(data); err != nil {
			t.Fatal(err)
		}
	})
	// 1000 objects, 1000 arrays and 6000 scalars: the arenas should keep
	// the allocation count far below the number of values.
	if allocs > 100 {
		t.Errorf("Parse made %v allocations for 8000 values", allocs)
	}
}

// trailingComma matches anything that might be a trailing comma (it may
// also match inside a string).
var trailingComma = regexp.MustCompile(`,[ \t\r\n]*[\]}]`)

func FuzzParse(f *testing.F) {
	for _, s := range strictInputs {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		"\uFEFF{\"a\": [1, 2,], // c\n \"b\": /* x */ null,}",
		"/* a\r\n b */ [\"é\", 1e5, {\"ü\": -0.5}]",
		"{\"a\" 1}", "[1,,]", "\"\\uD83D\\u", "\"\xff\"", "[01]", "/*", "[\n\r\n\r1",
		"{\"a\":\"\\q\"}", "tru", "[1 // c", strings.Repeat("[", 300),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			if v != nil {
				t.Fatal("value returned with error")
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Msg == "" {
				t.Fatal("empty error message")
			}
			if se.Pos.Offset > len(data) {
				t.Fatalf("error offset %d beyond input of %d bytes", se.Pos.Offset, len(data))
			}
			if r := refPos(data, se.Pos.Offset); r != se.Pos && se.Msg != "empty file" {
				t.Fatalf("%v: error Pos %+v, reference %+v", err, se.Pos, r)
			}
		} else {
			if err := checkPositions(data, v); err != nil {
				t.Fatal(err)
			}
			if err := checkNums(v); err != nil {
				t.Fatal(err)
			}
			// Without comments, a BOM or anything that might be a
			// trailing comma, Parse must accept only strict JSON.
			if !bytes.ContainsAny(data, "/\uFEFF") && !trailingComma.Match(data) && !json.Valid(data) {
				t.Fatalf("Parse accepts invalid JSON %q", data)
			}
		}
		if !json.Valid(data) || !utf8.Valid(data) {
			return
		}
		if err != nil {
			if strings.HasSuffix(err.Error(), "nesting too deep") {
				return
			}
			t.Fatalf("Parse rejects valid JSON %q: %v", data, err)
		}
		want, err := stdDecode(data)
		if err != nil {
			return // e.g. a number encoding/json cannot represent as float64; UseNumber avoids that
		}
		if got := toAny(v); !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q):\n got  %#v\n want %#v", data, got, want)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("{\n")
	for i := range 2000 {
		fmt.Fprintf(&sb, "  // entry %d\n  \"key%d\": {\"id\": %d, \"name\": \"名前 %d\", \"tags\": [\"a\", \"b\\n\"], \"ok\": true},\n", i, i, i, i)
	}
	sb.WriteString("}\n")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

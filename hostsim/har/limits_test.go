package har

import (
	"bytes"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// withLimits runs f with small limits, so that the tests need no big inputs.
func withLimits(t *testing.T, str int, value int64, f func()) {
	t.Helper()
	defer func(s int, v int64) { maxString, maxValue = s, v }(maxString, maxValue)
	maxString, maxValue = str, value
	f()
}

func oneEntry(fields string) []byte {
	return []byte(`{"log":{"version":"1.2","entries":[{"startedDateTime":"2025-03-14T09:26:53.589Z","time":12,` + fields + `}]}}`)
}

const okReq = `"request":{"method":"GET","url":"https://api.example.com/x","headers":[{"name":"a","value":"b"}]}`

// A long string the audit never reads (a body, a stack) is cut, not held:
// the entry reads the same, and memory stays near the limit (the issue's
// 512 MB string cost 3.2 GB; here 8 MiB against a 4 KiB limit).
func TestLongUnreadStringsAreCut(t *testing.T) {
	body := strings.Repeat(`0123456789abcdef\"\\\u00e9`, (8<<20)/26)
	data := oneEntry(okReq + `,"response":{"status":200,"headers":[],"content":{"mimeType":"text/plain","text":"` + body + `"}},"_initiator":{"type":"script","stack":"` + body[:100000] + `"}`)
	var want, got []*Entry
	var err error
	if want, _, err = readAll(t, data, nil); err != nil {
		t.Fatal(err)
	}
	withLimits(t, 4<<10, 1<<20, func() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		got, _, err = readAll(t, data, func(r io.Reader) io.Reader { return chunkReader{r, 64 << 10} })
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
			t.Errorf("reading an entry with an 8 MiB body allocated %d KiB; the tape should keep 4 KiB of it", alloc>>10)
		}
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the entry read differently with the body cut:\n%+v\n%+v", got[0], want[0])
	}
}

// A long string in a field the audit reads is an error that names the
// entry and the field; so is a value too large even with its strings cut
// (an entry, a number, a run of white space).
func TestLongFieldsAreErrors(t *testing.T) {
	long := strings.Repeat("x", 5000)
	withLimits(t, 4<<10, 64<<10, func() {
		for _, tc := range []struct{ data, want string }{
			{`{"log":{"entries":[{` + okReq + `},{"request":{"method":"GET","url":"https://a.com/` + long + `"}}]}}`, "entry 1: request.url is longer than 4 KiB"},
			{string(oneEntry(`"request":{"method":"GET","url":"https://a.com/","headers":[{"name":"a","value":"b"},{"name":"x","value":"` + long + `"}]}`)), "entry 0: request.headers.1.value is longer than 4 KiB"},
			{string(oneEntry(`"request":{"method":"` + long + `","url":"https://a.com/"}`)), "entry 0: request.method is longer than 4 KiB"},
			{string(oneEntry(okReq + `,"response":{"status":200,"headers":[{"name":"` + long + `","value":"v"}]}`)), "entry 0: response.headers.0.name is longer than 4 KiB"},
			{string(oneEntry(okReq + `,"_mpnet":{"api":"` + long + `"}`)), "entry 0: _mpnet is longer than 4 KiB"},
			{`{"log":{"version":"` + long + `","entries":[]}}`, "log.version is longer than 4 KiB"},
			{string(oneEntry(okReq + `,"time":1` + strings.Repeat("0", 100<<10))), "entry 0: line 1, column 36: a value larger than 64 KiB"},
			{`{"log":{"pages":[1` + strings.Repeat("0", 100<<10) + `],"entries":[]}}`, "a value larger than 64 KiB"},
			{`{"log":{"entries":[{` + okReq + `}` + strings.Repeat(" ", 100<<10) + `]}}`, "entry 1: line 1, column"},
			{string(oneEntry(okReq + `,"cache":[` + strings.Repeat(`"abc",`, 20000) + `0]`)), "entry 0: line 1, column 36: a value larger than 64 KiB"},
		} {
			_, _, err := readAll(t, []byte(tc.data), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant an error with %q", err, tc.want)
			}
		}
	})
}

// Cutting keeps the decoder's view of the syntax: an escaped quote does not
// end a cut string, a bad escape or a raw control character in the cut part
// is still an error at its own line and column, and positions after a cut
// string on the same line are still those of the input.
func TestCutKeepsSyntax(t *testing.T) {
	withLimits(t, 16, 1<<20, func() {
		pre := `{"log":{"entries":[{"request":{"url":"https://a.com/"},"x":"`
		for _, tc := range []struct{ text, rest, want string }{
			{strings.Repeat("a", 40) + `\"still inside\"` + strings.Repeat("b", 30), `","y":1}]}}`, ""},
			{strings.Repeat("a", 40) + `\q`, `"}]}}`, "invalid character 'q' in string escape code"},
			{strings.Repeat("a", 40) + `\u12x4`, `"}]}}`, "invalid character 'x' in \\u hexadecimal character escape"},
			{strings.Repeat("a", 40) + "\n", `"}]}}`, "invalid character '\\n' in string literal"},
			{strings.Repeat("a", 40), `", "y": tru}]}}`, "invalid character '}' in literal true"},
		} {
			in := pre + tc.text + tc.rest
			_, _, err := readAll(t, []byte(in), nil)
			if tc.want == "" {
				if err != nil {
					t.Errorf("%q: %v", in, err)
				}
				continue
			}
			// The position must be the one encoding/json finds in the
			// uncut input: read it again with no limit.
			maxString = 1 << 20
			_, _, full := readAll(t, []byte(in), nil)
			maxString = 16
			if err == nil || full == nil || err.Error() != full.Error() || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q:\n cut: %v\nfull: %v\nwant %q", in, err, full, tc.want)
			}
		}
	})
}

// The tape never grows past about one chunk plus the limits, whatever the
// input: a 16 MiB string read one byte at a time.
func TestTapeStaysSmall(t *testing.T) {
	withLimits(t, 1<<10, 1<<20, func() {
		in := io.MultiReader(strings.NewReader(`{"log":{"entries":[{"request":{"url":"https://a.com/"},"response":{"content":{"text":"`),
			io.LimitReader(repeatReader('z'), 16<<20), strings.NewReader(`"}}}]}}`))
		tp := &tape{r: in}
		var got bytes.Buffer
		big := 0
		p := make([]byte, 4096)
		for {
			n, err := tp.Read(p)
			got.Write(p[:n])
			tp.release(tp.base + int64(tp.fed))
			big = max(big, cap(tp.buf))
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if big > 512<<10 {
			t.Errorf("the tape held %d KiB", big>>10)
		}
		if !bytes.Contains(got.Bytes(), []byte(strings.Repeat("z", 1<<10)+cutMarker+`"}}}]}}`)) {
			t.Errorf("the cut string does not end in the marker: ...%q", got.Bytes()[max(0, got.Len()-80):])
		}
	})
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

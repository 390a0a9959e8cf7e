package har

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	gojson "github.com/goccy/go-json"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// readAll reads every entry of data, through wrap(reader) if wrap is not
// nil.
func readAll(t testing.TB, data []byte, wrap func(io.Reader) io.Reader) ([]*Entry, Info, error) {
	return readAllIndent(t, data, wrap, false)
}

// readAllIndent is readAll; keepIndent turns off dropping indentation.
func readAllIndent(t testing.TB, data []byte, wrap func(io.Reader) io.Reader, keepIndent bool) ([]*Entry, Info, error) {
	t.Helper()
	var got []*Entry
	var r io.Reader = bytes.NewReader(data)
	if wrap != nil {
		r = wrap(r)
	}
	info, err := read(r, func(e *Entry) error {
		if e.Index != len(got) {
			t.Fatalf("entry %d has Index %d", len(got), e.Index)
		}
		got = append(got, e)
		return nil
	}, keepIndent)
	return got, info, err
}

func compact(t *testing.T, raw []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("compact %q: %v", raw, err)
	}
	return b.String()
}

func hs(kv ...string) []Header {
	h := []Header{}
	for i := 0; i < len(kv); i += 2 {
		h = append(h, Header{kv[i], kv[i+1]})
	}
	return h
}

var chromiumEntries = []Entry{
	{
		Index:           0,
		StartedDateTime: "2025-03-14T09:26:53.588Z",
		Time:            187.52400000346825,
		Method:          "GET",
		URL:             "https://app.example.test/dashboard",
		RequestHeaders: hs(
			":authority", "app.example.test",
			":method", "GET",
			":path", "/dashboard",
			"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
			"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
		),
		Status:          200,
		StatusText:      "",
		ResponseHeaders: hs("content-type", "text/html; charset=utf-8", "cache-control", "no-store"),
		MimeType:        "text/html",
		ResourceType:    "document",
		Initiator:       "other",
	},
	{
		Index:           1,
		StartedDateTime: "2025-03-14T09:26:54.011Z",
		Time:            73.25,
		Method:          "POST",
		URL:             "https://api.example.test/v1/session",
		RequestHeaders:  hs("content-type", "application/json", "x-requested-with", "XMLHttpRequest"),
		Status:          201,
		StatusText:      "Created",
		ResponseHeaders: hs("content-type", "application/json; charset=utf-8", "set-cookie", "sid=f00d; Path=/; Secure; HttpOnly"),
		MimeType:        "application/json",
		ResourceType:    "xhr",
		Initiator:       "script",
	},
	{
		Index:           2,
		StartedDateTime: "2025-03-14T09:26:54.102Z",
		Time:            412.5,
		Method:          "GET",
		URL:             "https://api.example.test/v1/feed?page=2&lang=en",
		RequestHeaders:  hs("accept", "application/json"),
		Status:          200,
		StatusText:      "OK",
		ResponseHeaders: hs("content-type", "application/json", "content-encoding", "br"),
		MimeType:        "application/json",
		ResourceType:    "fetch",
		Initiator:       "script",
	},
	{
		Index:           3,
		StartedDateTime: "2025-03-14T09:26:54.690Z",
		Time:            85.125,
		Method:          "GET",
		URL:             "wss://live.example.test/socket?v=3",
		RequestHeaders: hs(
			"Upgrade", "websocket",
			"Connection", "Upgrade",
			"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==",
			"Sec-WebSocket-Version", "13",
		),
		Status:     101,
		StatusText: "Switching Protocols",
		ResponseHeaders: hs(
			"Upgrade", "websocket",
			"Connection", "Upgrade",
			"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		),
		MimeType:     "x-unknown",
		ResourceType: "websocket",
		Initiator:    "script",
	},
	{
		Index:           4,
		StartedDateTime: "2025-03-14T09:26:54.701Z",
		Time:            21.06,
		Method:          "GET",
		URL:             "https://cdn.example.test/img/logo.png",
		RequestHeaders: hs(
			"accept", "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
			"referer", "https://app.example.test/",
		),
		Status:     200,
		StatusText: "",
		ResponseHeaders: hs(
			"content-type", "image/png",
			"content-length", "68",
			"cache-control", "public, max-age=31536000, immutable",
		),
		MimeType:     "image/png",
		ResourceType: "image",
		Initiator:    "parser",
	},
	{
		Index:           5,
		StartedDateTime: "2025-03-14T09:26:54.733Z",
		Time:            0.817,
		Method:          "GET",
		URL:             "https://tracker.example.test/pixel.gif?e=view&id=42",
		RequestHeaders:  hs("Referer", "https://app.example.test/"),
		Status:          0,
		StatusText:      "",
		ResponseHeaders: hs(),
		MimeType:        "x-unknown",
		ResourceType:    "ping",
		Initiator:       "script",
	},
	{
		Index:           6,
		StartedDateTime: "2025-03-14T09:26:55.002Z",
		Time:            1630.4,
		Method:          "GET",
		URL:             "https://media.example.test/v/intro.mp4",
		RequestHeaders:  hs("range", "bytes=0-"),
		Status:          206,
		StatusText:      "Partial Content",
		ResponseHeaders: hs("content-type", "video/mp4", "content-range", "bytes 0-1048575/7340032"),
		MimeType:        "video/mp4",
		ResourceType:    "media",
		Initiator:       "other",
		Annotation:      json.RawMessage(`{"scenario":"3g-lossy","lossPct":2.5,"rttMs":[150,400],"note":"shaped by mpnet \u2014 see \"scenario\""}`),
	},
}

func TestChromiumHAR(t *testing.T) {
	data, err := os.ReadFile("testdata/chromium.har")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 128<<10 {
		t.Fatalf("testdata/chromium.har is %d bytes; want its large content.text (>128 KiB)", len(data))
	}
	bom := append([]byte{0xEF, 0xBB, 0xBF}, data...)
	for _, tc := range []struct {
		name       string
		data       []byte
		wrap       func(io.Reader) io.Reader
		keepIndent bool
	}{
		{"plain", data, nil, false},
		{"one byte reads", data, iotest.OneByteReader, false},
		{"half reads", data, iotest.HalfReader, false},
		{"777 byte reads", data, func(r io.Reader) io.Reader { return chunkReader{r, 777} }, false},
		{"BOM", bom, nil, false},
		{"BOM one byte reads", bom, iotest.OneByteReader, false},
		{"indentation kept", data, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, info, err := readAllIndent(t, tc.data, tc.wrap, tc.keepIndent)
			if err != nil {
				t.Fatal(err)
			}
			wantInfo := Info{Version: "1.2", CreatorName: "WebInspector", CreatorVersion: "537.36"}
			if info != wantInfo {
				t.Errorf("info = %+v, want %+v", info, wantInfo)
			}
			if len(got) != len(chromiumEntries) {
				t.Fatalf("got %d entries, want %d", len(got), len(chromiumEntries))
			}
			for i, g := range got {
				w := chromiumEntries[i]
				gc := *g
				if gc.Annotation != nil {
					gc.Annotation = json.RawMessage(compact(t, gc.Annotation))
				}
				if !reflect.DeepEqual(gc, w) {
					t.Errorf("entry %d:\n got %+v\nwant %+v", i, gc, w)
				}
			}
		})
	}
}

// TestEntriesOwned checks that entries handed to fn may be retained: a
// later entry does not overwrite an earlier one.
func TestEntriesOwned(t *testing.T) {
	in := `{"log":{"entries":[
	  {"request":{"url":"a","headers":[{"name":"x","value":"1"},{"name":"y","value":"2"}]},"_mpnet":{"k":1}},
	  {"request":{"url":"b","headers":[{"name":"z","value":"3"}]},"response":{"status":404}}
	]}}`
	got, _, err := readAll(t, []byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Index: 0, URL: "a", RequestHeaders: hs("x", "1", "y", "2"), Annotation: json.RawMessage(`{"k":1}`)},
		{Index: 1, URL: "b", RequestHeaders: hs("z", "3"), Status: 404},
	}
	for i := range want {
		if !reflect.DeepEqual(*got[i], want[i]) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, *got[i], want[i])
		}
	}
}

func TestKeyOrderAndLeniency(t *testing.T) {
	// log.entries before log.creator, "log" after other top-level keys,
	// unknown keys everywhere, WebPageTest-style string _initiator, null
	// _mpnet and null fields, Firefox-style entry without _resourceType.
	in := `{
  "comment": {"nested": [1, 2, {"log": "not this one"}]},
  "log": {
    "pages": [],
    "entries": [
      {"_initiator": "https://example.test/app.js", "_mpnet": null,
       "request": {"url": "https://example.test/x", "method": "GET", "headers": null},
       "response": {"status": 200, "content": null}},
      {"request": {"url": ""}, "time": 1e3, "_initiator": {"type": 7, "stack": {}}},
      {"request": {"url": "u"}, "_initiator": {"stack": {"callFrames": [{"type": "x"}]}, "type": "preload"}}
    ],
    "version": "1.2",
    "creator": {"name": "Firefox", "version": "136.0"},
    "browser": {"name": "Firefox", "version": "136.0"}
  },
  "trailer": true
}`
	got, info, err := readAll(t, []byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if info != (Info{}) {
		t.Errorf("info = %+v, want zero (creator comes after entries)", info)
	}
	want := []Entry{
		{Index: 0, Method: "GET", URL: "https://example.test/x", Status: 200},
		{Index: 1, URL: "", Time: 1000},
		{Index: 2, URL: "u", Initiator: "preload"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(*got[i], want[i]) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, *got[i], want[i])
		}
	}

	// Info fields that are not strings are left empty; the rest is kept.
	_, info, err = readAll(t, []byte(`{"log":{"version":1.2,"creator":{"name":"x","version":{"a":[1]}},"entries":[]}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Info{CreatorName: "x"}); info != want {
		t.Errorf("info = %+v, want %+v", info, want)
	}
	_, info, err = readAll(t, []byte(`{"log":{"creator":"x","entries":[]}}`), nil)
	if err != nil || info != (Info{}) {
		t.Errorf("string creator: info %+v, err %v", info, err)
	}
}

func TestEmptyEntries(t *testing.T) {
	for _, in := range []string{
		`{"log":{"entries":[]}}`,
		"\uFEFF{\"log\":{\"version\":\"1.2\",\"entries\":[\n]}}\n",
	} {
		err := Read(strings.NewReader(in), func(*Entry) error {
			t.Fatalf("fn called for %q", in)
			return nil
		})
		if err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestErrors(t *testing.T) {
	const e0 = `{"log":{"entries":[`
	entry := func(s string) string { return e0 + s + `]}}` }
	for _, tc := range []struct {
		in, want string
	}{
		// Not JSON / not a HAR.
		{"", "not a HAR file: empty input"},
		{" \r\n\t", "not a HAR file: empty input"},
		{"\uFEFF", "not a HAR file: empty input"},
		{"<!doctype html>", "not a HAR file: line 1, column 1: invalid character '<' looking for beginning of value"},
		{"\n\n  nope", "not a HAR file: line 3, column 4: invalid character 'o' in literal null (expecting 'u')"},
		{"\uFEFF\nGET / HTTP/1.1", "not a HAR file: line 2, column 1: invalid character 'G' looking for beginning of value"},
		{"\xEF\xBB{}", "not a HAR file: line 1, column 1: invalid character 'ï' looking for beginning of value"},
		{`[{"log":{}}]`, "not a HAR file: top-level value is an array, want an object"},
		{`"log"`, "not a HAR file: top-level value is a string, want an object"},
		{`4`, "not a HAR file: top-level value is a number, want an object"},
		{`true`, "not a HAR file: top-level value is a boolean, want an object"},
		{`null`, "not a HAR file: top-level value is null, want an object"},
		{`{}`, `not a HAR file: no "log" object`},
		{`{"Log":{"entries":[]}}`, `not a HAR file: no "log" object`},
		{`{"log":[]}`, `not a HAR file: "log" is an array, want an object`},
		{`{"log":"1.2"}`, `not a HAR file: "log" is a string, want an object`},
		{`{"log":null}`, `not a HAR file: "log" is null, want an object`},
		{`{"log":{"version":"1.2","pages":[]}}`, `not a HAR file: no "log.entries" array`},
		{`{"log":{"entries":{}}}`, `not a HAR file: "log.entries" is an object, want an array`},
		{`{"log":{"entries":"none"}}`, `not a HAR file: "log.entries" is a string, want an array`},
		{`{"log":{"entries":null}}`, `not a HAR file: "log.entries" is null, want an array`},
		{`{"log":{"entries":[],"entries":[]}}`, `not a HAR file: duplicate "log.entries" key`},
		{`{"log":{"entries":[]},"log":{"entries":[]}}`, `not a HAR file: duplicate "log" key`},

		// Bad entries.
		{entry(`{"request":{"url":"a"}}, 7`), "entry 1: missing request.url (entry is a number, not an object)"},
		{entry(`"GET /"`), "entry 0: missing request.url (entry is a string, not an object)"},
		{entry(`[]`), "entry 0: missing request.url (entry is an array, not an object)"},
		{entry(`false`), "entry 0: missing request.url (entry is a boolean, not an object)"},
		{entry(`null`), "entry 0: missing request.url"},
		{entry(`{}`), "entry 0: missing request.url"},
		{entry(`{"request":{"method":"GET"}}`), "entry 0: missing request.url"},
		{entry(`{"request":{"url":null}}`), "entry 0: missing request.url"},
		{entry(`{"request":{"url":"a"}},{"request":{"url":"b"}},{"request":{"URI":"c"}}`), "entry 2: missing request.url"},
		{entry(`{"request":{"url":12}}`), "entry 0: request.url is a number, want a string"},
		{entry(`{"request":{"url":["a"]}}`), "entry 0: request.url is an array, want a string"},
		{entry(`{"request":"GET a"}`), "entry 0: request is a string, want an object"},
		{entry(`{"request":{"url":"a","headers":{}}}`), "entry 0: request.headers is an object, want an array"},
		{entry(`{"request":{"url":"a","headers":[{"name":"n","value":1}]}}`), "entry 0: request.headers.0.value is a number, want a string"},
		{entry(`{"request":{"url":"a"},"response":{"headers":[{"name":"a","value":"b"},"c: d"]}}`), "entry 0: response.headers.1 is a string, want an object"},
		{entry(`{"request":{"url":"a"},"response":{"headers":[{"name":"a","value":"b"},{"name":true}]}}`), "entry 0: response.headers.1.name is a boolean, want a string"},
		{entry(`{"request":{"url":"a"},"response":{"status":"200"}}`), "entry 0: response.status is a string, want an integer"},
		{entry(`{"request":{"url":"a"},"response":{"status":200.5}}`), "entry 0: response.status is 200.5, want an integer"},
		{entry(`{"request":{"url":"a"},"time":"12"}`), "entry 0: time is a string, want a number"},
		{entry(`{"request":{"url":"a"},"_resourceType":3}`), "entry 0: _resourceType is a number, want a string"},
		{entry(`{"request":{"url":"a"},"_mpnet":"3g"}`), "entry 0: _mpnet is a string, want an object"},
		{entry(`{"request":{"url":"a"},"_mpnet":[1]}`), "entry 0: _mpnet is an array, want an object"},

		// JSON syntax errors, with positions.
		{"{\"log\":{\"entries\":[\n{\"request\":{\"url\":\"a\"}},\n{\"request\":{\"url\":\"b\",}}]}}",
			"entry 1: line 3, column 23: invalid character '}' looking for beginning of object key string"},
		{"{\"log\":{\"entries\":[\n  {\"request\":{\"url\":\"a\tb\"}}]}}",
			"entry 0: line 2, column 23: invalid character '\\t' in string literal"},
		{entry(`{"request":{"url":"a"}} {"request":{"url":"b"}}`),
			"entry 1: line 1, column 44: expected comma after array element"},
		{entry(`{"request":{"url":"a"}},]`),
			"entry 1: line 1, column 44: invalid character ']' looking for beginning of value"},
		{e0 + `{"request":{"url":"a"}}`,
			"entry 1: line 1, column 43: unexpected end of input"},
		{e0 + `{"request":{"url":"a"}},`,
			"entry 1: line 1, column 44: unexpected end of input"},
		{e0 + "\n{\"request\":{\"url\":\"a",
			"entry 0: line 2, column 21: unexpected end of input"},
		{`{"log":{"entries":[]`, "line 1, column 21: unexpected end of input"},
		{`{"log":{"entries":[]},`, "line 1, column 23: unexpected end of input"},
		{"{\"log\":{\"pages\":[{\"id\":\n  x}],\"entries\":[]}}",
			"line 2, column 3: invalid character 'x' looking for beginning of value"},
		{"{\"log\":{\"comment\":\"a\tb\",\"entries\":[]}}",
			"line 1, column 21: invalid character '\\t' in string literal"},
		{"{\"log\":{\"entries\":[]}\n  \"x\": 1}",
			"line 2, column 3: invalid character '\"' after object key:value pair"},
		{`{"log" {"entries":[]}}`, `line 1, column 8: invalid character '{' after object key`},
		{`{"log":{"entries":[]}} x`, "line 1, column 24: invalid character 'x' looking for beginning of value"},
		{"{\"log\":{\"entries\":[]}}\n\n{}", "line 3, column 1: unexpected data after the top-level object"},
		{`{"log":{"entries":[]}}}`, `line 1, column 23: invalid character '}' looking for beginning of value`},
		{"{\"log\":{\"entries\":[]}, \"n\": 1.2.3}", "line 1, column 32: invalid character '.' after object key:value pair"},

		// Indented input, as DevTools write it (columns count the
		// indentation, which the reader drops before decoding).
		{"{\n  \"log\": {\n    \"entries\": [\n      {\n        \"request\": {\n          \"url\": \"a\"\n        }\n      },\n      {\n        \"request\": {\n          \"url\": tru\n",
			"entry 1: line 11, column 21: invalid character '\\n' in literal true (expecting 'e')"},
		{"{\n\t\"log\": {\n\t\t\"entries\": [\n\t\t\t{\"request\": {\"url\": \"a\"}}\n\t\t\t{\"request\": {\"url\": \"b\"}}\n\t\t]\n\t}\n}\n",
			"entry 1: line 5, column 4: expected comma after array element"},
		{"{\n  \"log\": {\n    \"entries\": []\n  }\n}\n    x",
			"line 6, column 5: invalid character 'x' looking for beginning of value"},
		{"{\n  \"log\": {\n    \"entries\": [\n    \n     ",
			"entry 0: line 5, column 6: unexpected end of input"},
		{"{\n  \"log\": {\n    \"entries\": [\n      {\"request\": {\"url\": \"a\n   b\"}}]}}",
			"entry 0: line 4, column 29: invalid character '\\n' in string literal"},
		{"{\n  \"log\": {\n    \"entries\": [\n  \t  \t  ]\n  }\n}\n  \t ]",
			"line 7, column 5: invalid character ']' looking for beginning of value"},
		{"{\r\n  \"log\": {\r\n    \"entries\": [\r\n      {\"request\": {\"url\": 1}}\r\n    ]\r\n  }\r\n}\r\n",
			"entry 0: request.url is a number, want a string"},
		{"{\r\n  \"log\": {\r\n    \"entries\": [\r\n      {\"request\": {\"url\": \"a\"}},\r\n   \t ?\r\n    ]\r\n  }\r\n}\r\n",
			"entry 1: line 5, column 6: invalid character '?' looking for beginning of value"},
	} {
		for i, wrap := range []func(io.Reader) io.Reader{nil, iotest.OneByteReader, nil} {
			calls := 0
			_, err := read(wrapReader(strings.NewReader(tc.in), wrap), func(*Entry) error {
				calls++
				return nil
			}, i == 2)
			if err == nil {
				t.Errorf("%q: no error, want %q", tc.in, tc.want)
				continue
			}
			if err.Error() != tc.want {
				t.Errorf("%q:\n got %q\nwant %q", tc.in, err.Error(), tc.want)
			}
			if n := entryNumber(tc.want); n >= 0 && calls != n {
				t.Errorf("%q: fn called %d times before the error, want %d", tc.in, calls, n)
			}
		}
	}
}

func wrapReader(r io.Reader, wrap func(io.Reader) io.Reader) io.Reader {
	if wrap == nil {
		return r
	}
	return wrap(r)
}

// entryNumber returns N from an "entry N: ..." message, or -1.
func entryNumber(msg string) int {
	s, ok := strings.CutPrefix(msg, "entry ")
	if !ok {
		return -1
	}
	s, _, _ = strings.Cut(s, ":")
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func TestSyntaxErrorUnwraps(t *testing.T) {
	err := Read(strings.NewReader(`{"log":{"entries":[{"request":{"url":"a"}}}]}}`), func(*Entry) error { return nil })
	var se *gojson.SyntaxError // the reader's decoder's (goccy/go-json's)
	if !errors.As(err, &se) {
		t.Fatalf("%v does not wrap the decoder's *SyntaxError", err)
	}
}

func TestFnErrorStops(t *testing.T) {
	stop := errors.New("stop here")
	calls := 0
	f, err := os.Open("testdata/chromium.har")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	err = Read(f, func(e *Entry) error {
		calls++
		if e.Index == 3 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("err = %v, want the error fn returned, unwrapped", err)
	}
	if calls != 4 {
		t.Errorf("fn called %d times, want 4", calls)
	}
}

func TestReaderError(t *testing.T) {
	boom := errors.New("disk on fire")
	data, err := os.ReadFile("testdata/chromium.har")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 2, 100, 2000, len(data) - 10} {
		r := io.MultiReader(bytes.NewReader(data[:n]), iotest.ErrReader(boom))
		calls := 0
		err := Read(r, func(*Entry) error { calls++; return nil })
		if !errors.Is(err, boom) {
			t.Errorf("cut at %d: err = %v, want it to wrap %v", n, err, boom)
		} else if !strings.Contains(err.Error(), "reading HAR: disk on fire") {
			t.Errorf("cut at %d: err = %q", n, err)
		}
		if n < 2000 && calls != 0 {
			t.Errorf("cut at %d: fn called %d times", n, calls)
		}
	}
}

// --- Generated HARs ---------------------------------------------------

var resourceTypes = []string{"xhr", "fetch", "script", "image", "document", "stylesheet", "font", "websocket", "media", "other"}

// writeSyntheticHAR writes a Chromium-style HAR with n entries, each with
// 8 request and 8 response headers, timings and an initiator, and a
// response.content.text of textLen bytes (none when textLen is 0). With
// indent, it is indented with two spaces per level, as DevTools write it;
// else each entry is on one line.
func writeSyntheticHAR(w io.Writer, n, textLen int, indent bool) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	head := `{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},` +
		`"pages":[{"startedDateTime":"2025-03-14T09:26:53.589Z","id":"page_1","title":"synthetic","pageTimings":{"onContentLoad":412.3,"onLoad":903.1}}],` +
		`"entries":[]}}`
	var hb bytes.Buffer
	if indent {
		json.Indent(&hb, []byte(head), "", "  ")
	} else {
		hb.WriteString(head)
	}
	// Split the head around the empty entries array.
	headText := hb.String()
	cut := strings.LastIndex(headText, "[]")
	bw.WriteString(headText[:cut+1] + "\n")
	var ib bytes.Buffer
	var text string
	if textLen > 0 {
		chunk := `eyJpZCI6MTIzLCJuYW1lIjoiXHUwMGU5In0=\n\"quoted\" `
		text = strings.Repeat(chunk, textLen/len(chunk)+1)[:textLen]
		text = strings.TrimRight(text, `\`) // don't cut an escape in half
		text = `,"text":"` + text + `"`
	}
	base := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	var b []byte
	for i := range n {
		b = b[:0]
		rt := resourceTypes[i%len(resourceTypes)]
		status := 200
		switch {
		case i%97 == 0:
			status = 0
		case i%31 == 0:
			status = 404
		}
		b = fmt.Appendf(b, `{"_initiator":{"type":"script","stack":{"callFrames":[{"functionName":"load","scriptId":"17","url":"https://app.example.test/app.js","lineNumber":%d,"columnNumber":14}]}},`, i%500)
		b = fmt.Appendf(b, `"_priority":"High","_resourceType":%q,"cache":{},"connection":"443","pageref":"page_1",`, rt)
		b = fmt.Appendf(b, `"request":{"method":"GET","url":"https://api.example.test/v1/items/%d?lang=en&page=%d","httpVersion":"http/2.0","headers":[`, i, i%50)
		b = fmt.Appendf(b, `{"name":":authority","value":"api.example.test"},{"name":":method","value":"GET"},{"name":":path","value":"/v1/items/%d?lang=en&page=%d"},{"name":":scheme","value":"https"},`, i, i%50)
		b = append(b, `{"name":"accept","value":"application/json, text/plain, */*"},{"name":"accept-language","value":"en-US,en;q=0.9"},`...)
		b = append(b, `{"name":"cookie","value":"sid=0123456789abcdef0123456789abcdef; theme=dark; consent=1"},{"name":"user-agent","value":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36"}],`...)
		b = fmt.Appendf(b, `"queryString":[{"name":"lang","value":"en"},{"name":"page","value":"%d"}],"cookies":[],"headersSize":-1,"bodySize":0},`, i%50)
		b = fmt.Appendf(b, `"response":{"status":%d,"statusText":"","httpVersion":"http/2.0","headers":[`, status)
		b = append(b, `{"name":"content-type","value":"application/json; charset=utf-8"},{"name":"cache-control","value":"private, max-age=0, must-revalidate"},`...)
		b = fmt.Appendf(b, `{"name":"content-length","value":"%d"},{"name":"date","value":"Fri, 14 Mar 2025 09:26:54 GMT"},{"name":"etag","value":"W/\"%x\""},`, textLen, i)
		b = append(b, `{"name":"server","value":"envoy"},{"name":"vary","value":"Accept-Encoding, Origin"},{"name":"x-request-id","value":"6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b"}],`...)
		b = fmt.Appendf(b, `"cookies":[],"content":{"size":%d,"mimeType":"application/json"%s},"redirectURL":"","headersSize":-1,"bodySize":-1,"_transferSize":%d,"_error":null},`, textLen, text, textLen+300)
		b = fmt.Appendf(b, `"serverIPAddress":"192.0.2.20","startedDateTime":%q,"time":%d.25,`, base.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000Z"), i%400)
		b = append(b, `"timings":{"blocked":0.9,"dns":-1,"ssl":-1,"connect":-1,"send":0.15,"wait":70.1,"receive":2.1,"_blocked_queueing":0.4}}`...)
		if i > 0 {
			bw.WriteString(",\n")
		}
		out := b
		if indent {
			ib.Reset()
			if err := json.Indent(&ib, b, "      ", "  "); err != nil {
				return err
			}
			bw.WriteString("      ")
			out = ib.Bytes()
		}
		if _, err := bw.Write(out); err != nil {
			return err
		}
	}
	bw.WriteString("\n" + headText[cut+1:] + "\n")
	return bw.Flush()
}

// createSyntheticHAR writes a synthetic HAR to path.
func createSyntheticHAR(tb testing.TB, path string, n, textLen int, indent bool) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := writeSyntheticHAR(f, n, textLen, indent); err != nil {
		tb.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

const bigN = 100_000

var (
	bigDirOnce sync.Once
	bigDir     string // removed by TestMain
	bigHARs    [2]struct {
		once sync.Once
		path string
		size int64
	}
)

// big100k returns the path and size of a generated 100,000-entry HAR,
// compact or indented, shared by Test100k and BenchmarkRead100k.
func big100k(tb testing.TB, indent bool) (string, int64) {
	tb.Helper()
	bigDirOnce.Do(func() {
		dir, err := os.MkdirTemp("", "har-test-")
		if err != nil {
			tb.Fatal(err)
		}
		bigDir = dir
	})
	h := &bigHARs[0]
	name := "100k.har"
	if indent {
		h = &bigHARs[1]
		name = "100k-indented.har"
	}
	h.once.Do(func() {
		if bigDir == "" {
			return
		}
		p := filepath.Join(bigDir, name)
		h.size = createSyntheticHAR(tb, p, bigN, 0, indent)
		h.path = p
	})
	if h.path == "" {
		tb.Fatal("generating the 100k HAR failed earlier")
	}
	return h.path, h.size
}

func Test100k(t *testing.T) {
	path, size := big100k(t, false)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start, cpu0 := time.Now(), cpuTime()
	n := 0
	info, err := ReadWithInfo(f, func(e *Entry) error {
		if e.Index != n {
			return fmt.Errorf("entry %d has Index %d", n, e.Index)
		}
		if want := "https://api.example.test/v1/items/" + strconv.Itoa(n) + "?lang=en&page=" + strconv.Itoa(n%50); e.URL != want {
			return fmt.Errorf("entry %d: URL %q, want %q", n, e.URL, want)
		}
		if len(e.RequestHeaders) != 8 || len(e.ResponseHeaders) != 8 {
			return fmt.Errorf("entry %d: %d request and %d response headers, want 8 and 8", n, len(e.RequestHeaders), len(e.ResponseHeaders))
		}
		if e.ResourceType != resourceTypes[n%len(resourceTypes)] || e.Initiator != "script" || e.Method != "GET" {
			return fmt.Errorf("entry %d: %+v", n, e)
		}
		n++
		return nil
	})
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	if err != nil {
		t.Fatal(err)
	}
	if n != bigN {
		t.Fatalf("read %d entries, want %d", n, bigN)
	}
	if info.CreatorName != "WebInspector" {
		t.Errorf("info = %+v", info)
	}
	t.Logf("%d entries, %.1f MB in %v: %.0f entries/s, %.0f MB/s",
		n, float64(size)/1e6, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(size)/1e6/elapsed.Seconds())
	if cpu > 0 {
		t.Logf("CPU time %v: %.0f entries per CPU-second", cpu.Round(time.Millisecond), float64(n)/cpu.Seconds())
	}
}

// BenchmarkRead100k reads a 100,000-entry HAR, with each entry on one line
// (as a compact exporter writes it) and indented (as DevTools write it).
func BenchmarkRead100k(b *testing.B) {
	for _, indent := range []bool{false, true} {
		name := "compact"
		if indent {
			name = "indented"
		}
		b.Run(name, func(b *testing.B) {
			path, size := big100k(b, indent)
			b.SetBytes(size)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				err = Read(f, func(*Entry) error { n++; return nil })
				f.Close()
				if err != nil {
					b.Fatal(err)
				}
				if n != bigN {
					b.Fatalf("read %d entries, want %d", n, bigN)
				}
			}
			b.ReportMetric(float64(bigN)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
			if cpu := cpuTime() - cpu0; cpu0 > 0 {
				// Wall-clock figures suffer when the machine is busy; CPU
				// time does not (much).
				b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(bigN)*float64(b.N)/cpu.Seconds(), "entries/cpu-s")
			}
		})
	}
}

// TestBoundedMemory reads a ~100 MB HAR (20,000 entries with 5 KB bodies)
// and checks that the heap stays small throughout.
func TestBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 100 MB file")
	}
	const (
		n       = 20_000
		textLen = 5 << 10
		limit   = 32 << 20
	)
	path := filepath.Join(t.TempDir(), "bodies.har")
	size := createSyntheticHAR(t, path, n, textLen, false)
	if size < n*textLen {
		t.Fatalf("file is only %d bytes", size)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	runtime.GC()
	start, cpu0 := time.Now(), cpuTime()
	var ms runtime.MemStats
	var peak uint64
	sample := func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	var afterGC uint64
	count := 0
	err = Read(f, func(e *Entry) error {
		count++
		switch {
		case e.Index == n/2:
			runtime.GC()
			sample()
			afterGC = ms.HeapInuse
		case e.Index%250 == 0:
			sample()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Fatalf("read %d entries, want %d", count, n)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	t.Logf("file %.1f MB read in %v (CPU %v); HeapInuse after GC at entry %d: %.2f MiB; peak sampled: %.2f MiB",
		float64(size)/1e6, elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond), n/2, float64(afterGC)/(1<<20), float64(peak)/(1<<20))
	if afterGC > limit || peak > limit {
		t.Errorf("HeapInuse after GC %d, peak %d; want both under %d", afterGC, peak, limit)
	}
}

// --- Fuzzing ------------------------------------------------------------

func FuzzRead(f *testing.F) {
	seeds := []string{
		``,
		`{}`,
		`{"log":{"entries":[]}}`,
		"\uFEFF{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"WebInspector\",\"version\":\"537.36\"},\"entries\":[{\"request\":{\"url\":\"a\"}}]}}",
		`{"log":{"entries":[{"request":{"method":"GET","url":"https://x.test/","headers":[{"name":"a","value":"b"}]},"response":{"status":200,"statusText":"OK","headers":[],"content":{"mimeType":"text/html","text":"<p>\u00e9</p>"}},"_resourceType":"document","_initiator":{"type":"other"},"_mpnet":{"k":[1,2]}}]}}`,
		`{"log":{"entries":[{"request":{"url":1}}]}}`,
		`{"log":{"entries":[7, null, "x"]}}`,
		`{"log":{"entries":[{"request":{"url":"a"},"_initiator":"https://x.test/","_webSocketMessages":[{"type":"send","opcode":1,"data":"hi"}]}],"pages":[{"id":"page_1"}]}}`,
		"{\"log\":{\"entries\":[\n{\"request\":{\"url\":\"a\"}}\n{\"request\":{\"url\":\"b\"}}]}}",
		`{"log":{"entries":[{"request":{"url":"a"},"response":{"status":200.5}}]}}`,
		"{\n  \"log\": {\n    \"entries\": [\n      {\n        \"request\": {\"url\": \"a\"}\n      }\n    ]\n  }\n}\n",
		"{\r\n\t\"log\": {\r\n\t\t\"entries\": [\r\n\t\t\t{\"request\": {\"url\": \"a\n \"}}\r\n\t\t]}}",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n1, err1 := fuzzRead(t, bytes.NewReader(data), false)
		n2, err2 := fuzzRead(t, iotest.OneByteReader(bytes.NewReader(data)), false)
		if n1 != n2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Fatalf("reads in one go and byte by byte differ:\n%d, %v\n%d, %v", n1, err1, n2, err2)
		}
		n3, err3 := fuzzRead(t, bytes.NewReader(data), true)
		if n1 != n3 || fmt.Sprint(err1) != fmt.Sprint(err3) {
			t.Fatalf("reads with and without dropping indentation differ:\n%d, %v\n%d, %v", n1, err1, n3, err3)
		}
		if err1 != nil && err1.Error() == "" {
			t.Fatal("empty error message")
		}
		var pe *posError
		if errors.As(err1, &pe) && (pe.line < 1 || pe.col < 1 || pe.line > int64(len(data))+1 || pe.col > int64(len(data))+1) {
			t.Fatalf("bad position in %v", err1)
		}
		valid := json.Valid(bytes.TrimPrefix(data, []byte("\uFEFF")))
		if err1 == nil && !valid {
			t.Fatalf("accepted invalid JSON")
		}
		if valid && pe != nil {
			t.Fatalf("syntax error %v for valid JSON", err1)
		}
		if err1 == nil {
			// Cross-check the entry count with a plain decode.
			var top map[string]json.RawMessage
			var log map[string]json.RawMessage
			var entries []json.RawMessage
			if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\uFEFF")), &top); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(top["log"], &log); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(log["entries"], &entries); err != nil {
				t.Fatal(err)
			}
			if len(entries) != n1 {
				t.Fatalf("read %d entries, json.Unmarshal finds %d", n1, len(entries))
			}
		}
	})
}

func fuzzRead(t *testing.T, r io.Reader, keepIndent bool) (int, error) {
	n := 0
	_, err := read(r, func(e *Entry) error {
		if e.Index != n {
			t.Fatalf("entry %d has Index %d", n, e.Index)
		}
		if e.Annotation != nil && (len(e.Annotation) == 0 || e.Annotation[0] != '{') {
			t.Fatalf("annotation %q", e.Annotation)
		}
		n++
		return nil
	}, keepIndent)
	return n, err
}

// --- Hand-written field decoders, checked against encoding/json -----------

// checkHeaderList decodes b both as headerList and, with encoding/json, as
// []Header, and reports any difference.
func checkHeaderList(t *testing.T, b []byte) {
	t.Helper()
	var want []Header
	errW := json.Unmarshal(b, &want)
	var got headerList
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	if (errW == nil) != (got.err == nil) {
		t.Fatalf("%q: headerList error %v, encoding/json error %v", b, got.err, errW)
	}
	if errW == nil && !reflect.DeepEqual(got.list, want) {
		t.Fatalf("%q:\nheaderList    %#v\nencoding/json %#v", b, got.list, want)
	}
}

// checkInitiator decodes b as initiator and compares the result with
// encoding/json's view of the object's "type" field.
func checkInitiator(t *testing.T, b []byte) {
	t.Helper()
	// encoding/json into a string field, ignoring type errors (it goes on
	// after one), is what initiator implements.
	var want struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(b, &want)
	w := want.Type
	var got initiator
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	if got.typ != w {
		t.Fatalf("%q: initiator %q, encoding/json %q", b, got.typ, w)
	}
}

var fieldSeeds = []string{
	`[]`,
	`null`,
	`[null]`,
	`{}`,
	`"x"`,
	`[{"name":"a","value":"b"},{"name":"c","value":"d","comment":"e"}]`,
	`[ { "value" : "v" , "name" : "n" } , { } ]`,
	`[{"name":"a\u00e9\n\"q\"","value":"\ud83d\ude00 \ud800 x"}]`,
	"[{\"name\":\"\xff\xfe\",\"value\":\"ok\xc3\"}]",
	`[{"Name":"a","VALUE":"b","n\u0061me":"c"}]`,
	"[{\"nam\u212a\":\"kelvin\",\"name\":\"x\"}]",
	`[{"name":"a","name":null,"value":"v","value":"w"}]`,
	`[{"name":1}]`,
	`[{"name":"a","value":["b"]}]`,
	`[{"name":"a"},"b"]`,
	`[{"name":{"x":["]",{"y":"\"}"}]},"value":"v"}]`,
	`[{"name":"a\\","value":"b\\\\\""}]`,
	`{"type":"script","stack":{"callFrames":[{"type":"x"}]}}`,
	`{"stack":{},"TYPE":"parser"}`,
	`{"t\u0079pe":"preload"}`,
	`{"type":7}`,
	`{"type":"\u0073cript"}`,
	`{"type":"a","type":null}`,
	`"https://example.test/app.js"`,
}

func TestHandDecoders(t *testing.T) {
	for _, s := range fieldSeeds {
		checkHeaderList(t, []byte(s))
		checkInitiator(t, []byte(s))
	}
	// Two allocations per list: the slice, and one string that all names
	// and values share.
	in := []byte(`[{"name":"a","value":"bc"},{"name":"d","value":""},{"name":"user-agent","value":"Mozilla/5.0"}]`)
	var h headerList
	allocs := testing.AllocsPerRun(100, func() { h.UnmarshalJSON(in) })
	if want := hs("a", "bc", "d", "", "user-agent", "Mozilla/5.0"); !reflect.DeepEqual(h.list, want) {
		t.Errorf("got %#v, want %#v", h.list, want)
	}
	if allocs > 2 {
		t.Errorf("%v allocations per header list, want 2", allocs)
	}
}

func FuzzHandDecoders(f *testing.F) {
	for _, s := range fieldSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return // encoding/json checks the input before they see it
		}
		checkHeaderList(t, b)
		checkInitiator(t, b)
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// TestTape checks the tape on its own: it hands on the input without BOM
// and indentation, and maps every offset it still holds back to the right
// line and column of the input, across chunk boundaries and compactions.
func TestTape(t *testing.T) {
	defer func(old int64) { releaseMin = old }(releaseMin)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab{}\" \t\n\n\r")
	for iter := range 300 {
		in := make([]byte, rng.IntN(400))
		for i := range in {
			in[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if iter%3 == 0 {
			in = append([]byte("\uFEFF"), in...)
		}
		if iter%7 == 0 { // indentation longer than maxIndent
			in = append(in, "\n"+strings.Repeat(" \t", maxIndent/2+rng.IntN(20))+"x\n"+strings.Repeat(" ", 2*maxIndent+1)...)
		}
		releaseMin = int64(rng.IntN(40))
		keep := iter%5 == 4

		// The reference: what the decoder should see, and where each of
		// its bytes was in the input (without the BOM).
		src := bytes.TrimPrefix(in, []byte("\uFEFF"))
		var want []byte
		var orig []int
		for i := 0; i < len(src); i++ {
			want = append(want, src[i])
			orig = append(orig, i)
			if src[i] == '\n' && !keep {
				for k := 0; k < maxIndent && i+1 < len(src) && (src[i+1] == ' ' || src[i+1] == '\t'); k++ {
					i++
				}
			}
		}
		orig = append(orig, len(src)) // the end
		wantPos := func(off int64) (int64, int64) {
			o := orig[off]
			before := src[:o]
			return int64(bytes.Count(before, []byte{'\n'})) + 1, int64(o - (bytes.LastIndexByte(before, '\n') + 1) + 1)
		}

		tp := &tape{r: chunkReader{bytes.NewReader(in), 1 + rng.IntN(9)}, keepIndent: keep}
		var got []byte
		for {
			p := make([]byte, 1+rng.IntN(13))
			n, err := tp.Read(p)
			got = append(got, p[:n]...)
			if !keep && len(tp.indents) != bytes.Count(tp.buf, []byte{'\n'}) {
				t.Fatalf("%q: %d indents for %d newlines", in, len(tp.indents), bytes.Count(tp.buf, []byte{'\n'}))
			}
			if fed := tp.base + int64(tp.fed); fed > tp.base {
				tp.release(tp.base + rng.Int64N(fed-tp.base+1))
			}
			// Offsets of bytes handed on, and at the end of the input the
			// offset just past it. (Until then, the column just past the
			// last byte read is not known: more indentation may follow.)
			last := tp.base + int64(tp.fed) - 1
			if err == io.EOF {
				last++
			}
			for off := tp.base; off <= last; off++ {
				l, c := tp.position(off)
				if wl, wc := wantPos(off); l != wl || c != wc {
					t.Fatalf("%q (keep %v): offset %d at line %d, column %d; want line %d, column %d", in, keep, off, l, c, wl, wc)
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%q (keep %v):\n got %q\nwant %q", in, keep, got, want)
		}
	}
}

// TestDeepErrorPosition breaks a byte deep inside a large indented HAR
// (after many compactions of the tape) and checks the reported position
// against a count over the whole input.
func TestDeepErrorPosition(t *testing.T) {
	var buf bytes.Buffer
	if err := writeSyntheticHAR(&buf, 3000, 300, true); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for _, tc := range []struct {
		entry  int
		marker string
		offset int // of the byte to break, from the marker
		msg    string
	}{
		{2500, `"status": `, len(`"status": `), "invalid character 'x' looking for beginning of value"},
		{2999, `"wait": `, len(`"wait": `) + 3, "invalid character 'x' after decimal point in numeric literal"},
		{1234, `"_priority"`, len(`"_priority"`), "invalid character 'x' after object key"},
	} {
		// Find the marker in the given entry.
		pos := 0
		for range tc.entry + 1 {
			i := bytes.Index(data[pos:], []byte(`"_initiator"`))
			if i < 0 {
				t.Fatal("entry not found")
			}
			pos += i + 1
		}
		i := bytes.Index(data[pos:], []byte(tc.marker))
		if i < 0 {
			t.Fatal("marker not found")
		}
		pos += i + tc.offset
		bad := bytes.Clone(data)
		bad[pos] = 'x'
		line := bytes.Count(bad[:pos], []byte{'\n'}) + 1
		col := pos - bytes.LastIndexByte(bad[:pos], '\n')
		want := fmt.Sprintf("entry %d: line %d, column %d: %s", tc.entry, line, col, tc.msg)
		for _, r := range []io.Reader{bytes.NewReader(bad), chunkReader{bytes.NewReader(bad), 1000}} {
			err := Read(r, func(*Entry) error { return nil })
			if err == nil || err.Error() != want {
				t.Errorf("got %v\nwant %s", err, want)
			}
		}
	}
}

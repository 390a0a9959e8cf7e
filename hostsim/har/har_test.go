package har

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// readAll reads every entry of data, with r wrapping the input reader.
func readAll(t testing.TB, data []byte, wrap func(io.Reader) io.Reader) ([]*Entry, Info, error) {
	t.Helper()
	var got []*Entry
	var r io.Reader = bytes.NewReader(data)
	if wrap != nil {
		r = wrap(r)
	}
	info, err := ReadWithInfo(r, func(e *Entry) error {
		if e.Index != len(got) {
			t.Fatalf("entry %d has Index %d", len(got), e.Index)
		}
		got = append(got, e)
		return nil
	})
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
		name string
		data []byte
		wrap func(io.Reader) io.Reader
	}{
		{"plain", data, nil},
		{"one byte reads", data, iotest.OneByteReader},
		{"half reads", data, iotest.HalfReader},
		{"BOM", bom, nil},
		{"BOM one byte reads", bom, iotest.OneByteReader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, info, err := readAll(t, tc.data, tc.wrap)
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
	} {
		for _, wrap := range []func(io.Reader) io.Reader{nil, iotest.OneByteReader} {
			calls := 0
			err := Read(wrapReader(strings.NewReader(tc.in), wrap), func(*Entry) error {
				calls++
				return nil
			})
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
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("%v does not wrap a *json.SyntaxError", err)
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
// response.content.text of textLen bytes (none when textLen is 0).
func writeSyntheticHAR(w io.Writer, n, textLen int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},` +
		`"pages":[{"startedDateTime":"2025-03-14T09:26:53.589Z","id":"page_1","title":"synthetic","pageTimings":{"onContentLoad":412.3,"onLoad":903.1}}],` +
		"\n" + `"entries":[` + "\n")
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
		if i > 0 {
			b = append(b, ",\n"...)
		}
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
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	bw.WriteString("\n]}}\n")
	return bw.Flush()
}

// createSyntheticHAR writes a synthetic HAR to path.
func createSyntheticHAR(tb testing.TB, path string, n, textLen int) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := writeSyntheticHAR(f, n, textLen); err != nil {
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
	bigOnce sync.Once
	bigDir  string // removed by TestMain
	bigPath string
	bigSize int64
)

// big100k returns the path of a generated 100,000-entry HAR, shared by
// Test100k and BenchmarkRead100k.
func big100k(tb testing.TB) (string, int64) {
	tb.Helper()
	bigOnce.Do(func() {
		dir, err := os.MkdirTemp("", "har-test-")
		if err != nil {
			tb.Fatal(err)
		}
		bigDir = dir
		p := filepath.Join(dir, "100k.har")
		bigSize = createSyntheticHAR(tb, p, bigN, 0)
		bigPath = p
	})
	if bigPath == "" {
		tb.Fatal("generating the 100k HAR failed earlier")
	}
	return bigPath, bigSize
}

func Test100k(t *testing.T) {
	path, size := big100k(t)
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

func BenchmarkRead100k(b *testing.B) {
	path, size := big100k(b)
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
		// Wall-clock figures above suffer when the machine is busy; CPU
		// time does not (much).
		b.ReportMetric(cpu.Seconds()*1e3/float64(b.N), "cpu-ms/op")
		b.ReportMetric(float64(bigN)*float64(b.N)/cpu.Seconds(), "entries/cpu-s")
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
	size := createSyntheticHAR(t, path, n, textLen)
	if size < n*textLen {
		t.Fatalf("file is only %d bytes", size)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	runtime.GC()
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
	t.Logf("file %.1f MB; HeapInuse after GC at entry %d: %.2f MiB; peak sampled: %.2f MiB",
		float64(size)/1e6, n/2, float64(afterGC)/(1<<20), float64(peak)/(1<<20))
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
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n1, err1 := fuzzRead(t, bytes.NewReader(data))
		n2, err2 := fuzzRead(t, iotest.OneByteReader(bytes.NewReader(data)))
		if n1 != n2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Fatalf("reads in one go and byte by byte differ:\n%d, %v\n%d, %v", n1, err1, n2, err2)
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

func fuzzRead(t *testing.T, r io.Reader) (int, error) {
	n := 0
	err := Read(r, func(e *Entry) error {
		if e.Index != n {
			t.Fatalf("entry %d has Index %d", n, e.Index)
		}
		if e.Annotation != nil && (len(e.Annotation) == 0 || e.Annotation[0] != '{') {
			t.Fatalf("annotation %q", e.Annotation)
		}
		n++
		return nil
	})
	return n, err
}

package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"reflect"
	"testing"

	"mpnet/abi"
)

// strict is how the module decodes messages the fast path declines.
func strict(msg []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errExtra
	}
	return nil
}

var errExtra = errors.New("extra data after the JSON message")

// nasty strings: escapes, HTML, invalid UTF-8, separators, CJK.
var nasty = []string{"", "a", `"quoted" \back\slash/`, "<script>&amp;</script>", "\x00\x01\x1f\x7f", "\b\f\n\r\t",
	"\xff\xfe bad utf8 \xc3", "line\u2028para\u2029", "不在以下 request 合法域名列表中", "emoji 😀", "https://例子.测试/路径?q=1#f",
	"\u00e9\u0301", "\ud7ff\ue000\U0010ffff"}

func rstr(r *rand.Rand) string {
	if r.Intn(3) == 0 {
		return nasty[r.Intn(len(nasty))]
	}
	n := r.Intn(12)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Intn(256))
		if r.Intn(2) == 0 {
			b[i] = byte('a' + r.Intn(26))
		}
	}
	return string(b)
}

func rint(r *rand.Rand) int64 {
	switch r.Intn(4) {
	case 0:
		return 0
	case 1:
		return -r.Int63()
	}
	return r.Int63n(1 << uint(r.Intn(62)+1))
}

// raction is a random Action (no headers) with strings from str.
func raction(r *rand.Rand, str func(*rand.Rand) string) abi.Action {
	return abi.Action{Type: str(r), ID: rint(r), API: str(r), Rule: str(r), ErrMsg: str(r), Reason: str(r),
		Position: int(rint(r)), TimeoutMs: rint(r), Deadline: rint(r), At: rint(r), Message: str(r), Console: str(r),
		Fix: str(r), Severity: str(r), List: str(r), Entry: str(r), Server: str(r)}
}

func rwarnings(r *rand.Rand) []abi.Warning {
	switch r.Intn(3) {
	case 0:
		return nil
	case 1:
		return []abi.Warning{}
	}
	ws := make([]abi.Warning, r.Intn(3)+1)
	for i := range ws {
		ws[i] = abi.Warning{Rule: rstr(r), Message: rstr(r), Fix: rstr(r)}
	}
	return ws
}

func TestEncodersMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		d := abi.Decision{Allowed: r.Intn(2) == 0, Proceed: r.Intn(2) == 0, ErrMsg: rstr(r), Rule: rstr(r), Message: rstr(r),
			Console: rstr(r), Fix: rstr(r), Warnings: rwarnings(r), TimeoutMs: rint(r), Referer: rstr(r), API: rstr(r), URL: rstr(r),
			Host: rstr(r), List: rstr(r), Entry: rstr(r), Mode: rstr(r)}
		same(t, AppendDecision(nil, &d), d)

		var res abi.StepResult
		if r.Intn(4) > 0 {
			res.Actions = []abi.Action{}
			for j := r.Intn(4); j > 0; j-- {
				a := raction(r, rstr)
				if r.Intn(2) == 0 {
					a.Headers = map[string]string{}
					for k := r.Intn(3); k > 0; k-- {
						a.Headers[rstr(r)] = rstr(r)
					}
				}
				res.Actions = append(res.Actions, a)
			}
		}
		res.NextWake, res.InFlight, res.Queued, res.Sockets, res.Hidden = rint(r), int(rint(r)), int(rint(r)), int(rint(r)), r.Intn(2) == 0
		same(t, AppendStepResult(nil, &res), res)

		ev := abi.Event{Type: rstr(r), At: rint(r), ID: rint(r), API: rstr(r), URL: rstr(r), Method: rstr(r), Timeout: rint(r), Status: int(rint(r)), Server: rstr(r)}
		if r.Intn(2) == 0 {
			ev.Headers = []string{rstr(r), rstr(r)}
		}
		if r.Intn(2) == 0 {
			ev.Transport, ev.Origin, ev.Protocols, ev.Accept = rstr(r), rstr(r), rstrs(r), rstr(r)
			ev.Body, ev.ContentType, ev.ResponseType = rstr(r), rstr(r), rstr(r)
		}
		b, ok := AppendEvent(nil, &ev)
		if !ok {
			t.Fatal("AppendEvent declined an event without TLS")
		}
		same(t, b, ev)
	}
}

func rstrs(r *rand.Rand) []string {
	switch r.Intn(3) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	return []string{rstr(r), rstr(r)}
}

func TestConfigureResultMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 2000; i++ {
		res := abi.ConfigureResult{OK: r.Intn(2) == 0, Formats: rstrs(r), Referer: rstr(r)}
		for j := r.Intn(3); j > 0; j-- {
			p := abi.Problem{Rule: rstr(r), Severity: rstr(r), File: rstr(r), Line: int(rint(r)), Col: int(rint(r)), Entry: rstr(r), List: rstr(r), Message: rstr(r), Fix: rstr(r)}
			if r.Intn(2) == 0 {
				res.Errors = append(res.Errors, p)
			} else {
				res.Problems = append(res.Problems, p)
			}
		}
		if r.Intn(4) > 0 {
			c := abi.Config{AppID: rstr(r), Version: rstr(r), Mode: rstr(r), LAN: rstrs(r), Concurrency: rstr(r), TimeoutFrom: rstr(r), Tooling: rstrs(r),
				Domains:        abi.Domains{Request: rstrs(r), UploadFile: rstrs(r), DownloadFile: rstrs(r), Socket: rstrs(r), TCP: rstrs(r), UDP: rstrs(r)},
				NetworkTimeout: abi.Timeouts{Request: rint(r), ConnectSocket: rint(r), UploadFile: rint(r), DownloadFile: rint(r)}}
			if r.Intn(2) == 0 {
				b := r.Intn(2) == 0
				c.URLCheck = &b
			}
			res.Config = &c
		}
		same(t, AppendConfigureResult(nil, &res), res)
	}
}

func TestBodyCodecs(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for i := 0; i < 2000; i++ {
		res := abi.BodyResult{Charset: rstr(r), Source: rstr(r), Converted: r.Intn(2) == 0, BOMStripped: r.Intn(2) == 0, Warnings: rwarnings(r), Error: rstr(r), Decode: rstr(r)}
		same(t, AppendBodyResult(nil, &res), res)
	}
	for _, m := range []string{`{"api":"request","contentType":"text/html; charset=gbk","url":"https://a.com/"}`, `{}`, `{"contentType":""}`,
		`{"api":"request","contentType":"text/plain; charset=gbk","decoded":"gbk","source":"content-type","invalid":0}`,
		`{"api":"downloadFile","decoded":"shift_jis","source":"guess","invalid":-1}`, `{"decoded":"big5","invalid":12}`} {
		var got, want abi.BodyRequest
		if !DecodeBodyRequest([]byte(m), &got) {
			t.Errorf("fast path declined %s", m)
		} else if err := strict([]byte(m), &want); err != nil || got != want {
			t.Errorf("%s: fast %#v, encoding/json %#v %v", m, got, want, err)
		}
	}
	var br abi.BodyRequest
	if DecodeBodyRequest([]byte(`{"api":"request","charset":"x"}`), &br) {
		t.Error("fast path took an unknown field")
	}
}

func TestDecodeConfigureRequest(t *testing.T) {
	take := []string{
		`{"files":[{"name":"mpnet.json","content":"{\"domains\":{\"request\":[\"https://a.com\"]}}\n"},{"name":"app.json","content":""}]}`,
		`{"files":[],"dryRun":true}`,
		`{"dryRun":false,"files":[{"content":"x","name":"y"}]}`,
	}
	for _, m := range take {
		var got, want abi.ConfigureRequest
		if !DecodeConfigureRequest([]byte(m), &got) {
			t.Errorf("fast path declined %s", m)
			continue
		}
		if err := strict([]byte(m), &want); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: fast %#v, encoding/json %#v %v", m, got, want, err)
		}
	}
	for _, m := range []string{`{"config":{"domains":{}}}`, `{"files":[{"name":"a","name":"b"}]}`, `{"files":[{"name":"a","extra":1}]}`, `{"files":null}`} {
		var got abi.ConfigureRequest
		if DecodeConfigureRequest([]byte(m), &got) {
			t.Errorf("fast path took %s", m)
		}
	}
}

func same(t *testing.T, got []byte, v any) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding differs from encoding/json\n got %s\nwant %s", got, want)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	plain := func(r *rand.Rand) string {
		if r.Intn(4) == 0 {
			return rstr(r)
		}
		const chars = "abcdefghijklmnopqrstuvwxyz0123456789:/?=.-_ \"\\"
		b := make([]byte, r.Intn(40))
		for i := range b {
			b[i] = chars[r.Intn(len(chars))]
		}
		return string(b)
	}
	fast, fastResults := 0, 0
	for i := 0; i < 3000; i++ {
		ev := abi.Event{Type: plain(r), At: rint(r), ID: rint(r), API: plain(r), URL: plain(r), Method: plain(r), Timeout: rint(r), Status: int(rint(r))}
		if r.Intn(2) == 0 {
			ev.Headers = []string{plain(r), "Referer"}
		}
		if r.Intn(2) == 0 {
			ev.Transport, ev.Origin, ev.Protocols, ev.Accept = "xhr", "http://localhost:5173", []string{"a", "vite-hmr"}, "text/x-vite-ping"
			ev.Body, ev.ContentType, ev.ResponseType = "formdata", "multipart/form-data; boundary=x", "blob"
		}
		b, _ := AppendEvent(nil, &ev)
		if checkEvent(t, b) {
			fast++
		}
		res := abi.StepResult{NextWake: rint(r), InFlight: int(rint(r)), Queued: int(rint(r)), Sockets: int(rint(r)), Hidden: r.Intn(2) == 0}
		if r.Intn(5) > 0 {
			res.Actions = []abi.Action{}
			for j := r.Intn(3); j > 0; j-- {
				a := raction(r, plain)
				if r.Intn(2) == 0 {
					a.Headers = map[string]string{"Referer": plain(r), "x": plain(r)}
				}
				res.Actions = append(res.Actions, a)
			}
		}
		b = AppendStepResult(nil, &res)
		if checkResult(t, b) {
			fastResults++
		}
		cr := abi.CheckRequest{API: plain(r), URL: plain(r), Timeout: rint(r), Headers: ev.Headers}
		b, _ = json.Marshal(cr)
		checkCheck(t, b)
	}
	// Strings with \u escapes or invalid UTF-8 go to encoding/json; most do not.
	if fast < 1000 || fastResults < 500 {
		t.Fatalf("only %d of 3000 canonical events and %d of 3000 results took the fast path", fast, fastResults)
	}
}

// The fast path must take what hosts really send, and decline the rest.
func TestDecodeTakesAndDeclines(t *testing.T) {
	take := []string{
		`{"type":"open","at":12,"id":3,"api":"request","url":"https://a.com/x?y=1","method":"GET","timeout":500,"headers":["Referer","x-a"]}`,
		` { "type" : "finish" , "at" : 0 , "id" : -1 } `,
		`{"type":"response","at":5,"id":1,"status":404}`,
		`{"type":"open","at":1,"id":1,"api":"request","url":"https://a.com/\"q\"\\\/\n"}`,
		`{"type":"open","at":1,"id":1,"api":"request","url":"https://例子.测试/"}`,
		`{"type":"tick","at":9223372036854775807}`,
		`{}`,
	}
	for _, m := range take {
		if !checkEvent(t, []byte(m)) {
			t.Errorf("fast path declined %s", m)
		}
	}
	decline := []string{
		`{"Type":"open","at":1}`,                 // case-insensitive match: encoding/json's business
		`{"type":"open","type":"finish","at":1}`, // duplicate
		`{"type":"open","at":1.0}`,
		`{"type":"open","at":1e3}`,
		`{"type":"open","at":01}`,
		`{"type":"open","at":9223372036854775808}`,
		`{"type":"open","at":"1"}`,
		`{"type":"open","at":null}`,
		`{"type":"open","url":"\u0041"}`,
		`{"type":"open","url":"a` + "\x01" + `"}`,
		`{"type":"open","url":"` + "\xff" + `"}`,
		`{"type":"open","headers":null}`,
		`{"type":"open","headers":[1]}`,
		`{"type":"open","nope":1}`,
		`{"type":"tls","at":1,"tls":{"host":"a.com"}}`,
		`{"type":"open"} {}`,
		`{"type":"open",}`,
		`{"type":"open"`,
		`[]`,
		``,
	}
	for _, m := range decline {
		var ev abi.Event
		if DecodeEvent([]byte(m), &ev) {
			t.Errorf("fast path took %q", m)
		}
	}
	if !checkCheck(t, []byte(`{"api":"request","url":"https://a.com","timeout":3,"headers":[]}`)) {
		t.Error("fast path declined a canonical check request")
	}
	if checkCheck(t, []byte(`{"api":"request","URL":"https://a.com"}`)) {
		t.Error("fast path took a non-canonical key")
	}
}

// agrees asserts a fast decoder's promise on msg and says whether it took
// msg: when it does, the reference decoder (strict for what the module
// reads, plain encoding/json for what hosts read) gives the same value.
func agrees[T any](t testing.TB, msg []byte, fast func([]byte, *T) bool, reference func([]byte, any) error) bool {
	t.Helper()
	var got, want T
	if !fast(msg, &got) {
		return false
	}
	if err := reference(msg, &want); err != nil {
		t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", msg, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q decodes differently\n fast %#v\n json %#v", msg, got, want)
	}
	return true
}

func checkEvent(t testing.TB, msg []byte) bool { return agrees(t, msg, DecodeEvent, strict) }
func checkCheck(t testing.TB, msg []byte) bool { return agrees(t, msg, DecodeCheckRequest, strict) }
func checkResult(t testing.TB, msg []byte) bool {
	return agrees(t, msg, DecodeStepResult, json.Unmarshal)
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"type":"open","at":12,"id":3,"api":"request","url":"https://a.com/x","method":"GET","timeout":500,"headers":["Referer"]}`))
	f.Add([]byte(`{"type":"response","at":5,"id":1,"status":404}`))
	f.Add([]byte(`{"files":[{"name":"mpnet.json","content":"{\"a\":1}"}],"dryRun":true}`))
	f.Add([]byte(`{"api":"request","url":"https://a.com","timeout":3,"headers":[]}`))
	f.Add([]byte(`{"actions":[{"type":"start","id":1,"api":"request","timeoutMs":60000,"deadline":60000,"headers":{"Referer":"https://servicewechat.com/wx1/0/page-frame.html"},"at":0}],"nextWake":60000,"inFlight":1,"queued":0,"sockets":0,"hidden":false}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		checkEvent(t, msg)
		checkCheck(t, msg)
		checkResult(t, msg)
		agrees(t, msg, DecodeBodyRequest, strict)
		agrees(t, msg, DecodeConfigureRequest, strict)
	})
}

func FuzzAppendString(f *testing.F) {
	for _, s := range nasty {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		same(t, AppendString(nil, s), s)
	})
}

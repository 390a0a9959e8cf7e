package serve

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"mpnet/abi"
	hostdecode "mpnet/internal/decode"
)

const fuzzConfig = `{"files":[{"name":"mpnet.json","content":"{\"appid\":\"wx0123456789abcdef\",\"domains\":{\"request\":[\"https://api.example.com\"],\"socket\":[\"wss://ws.example.com\"]},\"networkTimeout\":{\"request\":1000}}"}]}`

// answerOK fails the fuzz run when an answer is not JSON or reports a
// recovered panic ("internal"): malformed input must get bad_message.
func answerOK(t *testing.T, what string, out []byte) {
	t.Helper()
	if !json.Valid(out) {
		t.Fatalf("%s: answer is not JSON: %q", what, out)
	}
	if bytes.Contains(out, []byte(`"code":"internal"`)) {
		t.Fatalf("%s: panic inside the module: %s", what, out)
	}
}

func FuzzConfigure(f *testing.F) {
	f.Add("mpnet.json", `{"domains":{"request":["https://a.com"]}}`)
	f.Add("manifest.json", "{/* c */ \"mp-weixin\": {\"appid\": \"wx1\", \"setting\": {\"urlCheck\": false}},}")
	f.Add("domains.json", `{"requestdomain":["https://a.com:8080","http://b","https://*.c.com","https://[::1]"]}`)
	f.Add("app.json", `{"networkTimeout":{"request":1e400}}`)
	f.Add("mpnet.json", `{"domains":{"request":["https://xn--.ü","https://%zz"]},"lan":["1.2.3.4/40",5]}`)
	f.Fuzz(func(t *testing.T, name, content string) {
		s := New()
		msg, _ := json.Marshal(abi.ConfigureRequest{Files: []abi.File{{Name: name, Content: content}}})
		out := s.Configure(msg)
		answerOK(t, "configure", out)
		if bytes.Contains(out, []byte(`"ok":true`)) {
			answerOK(t, "check", s.Check([]byte(`{"api":"request","url":"https://a.com/"}`)))
		}
	})
}

func FuzzCheck(f *testing.F) {
	for _, u := range []string{"https://api.example.com/x", "https://127.1", "https://[::ffff:127.0.0.1]/", "https:\\\\a@b\\c", "tcp://x:1", "wss://ws.example.com:99999"} {
		f.Add("request", u, int64(0))
	}
	f.Add("tcp", "host:99", int64(5))
	f.Add("resource", "data:x", int64(-1))
	f.Fuzz(func(t *testing.T, api, url string, timeout int64) {
		s := New()
		answerOK(t, "configure", s.Configure([]byte(fuzzConfig)))
		msg, _ := json.Marshal(abi.CheckRequest{API: api, URL: url, Timeout: timeout})
		out := s.Check(msg)
		answerOK(t, "check", out)
		var d abi.Decision
		if json.Unmarshal(out, &d) == nil && !strings.Contains(string(out), `"error"`) {
			if d.Allowed == (d.ErrMsg != "") && api != "resource" {
				t.Fatalf("allowed=%v with errMsg %q", d.Allowed, d.ErrMsg)
			}
		}
	})
}

// FuzzStep feeds an arbitrary sequence of events, one per line, and checks
// that every answer is JSON and the counters stay within the limits.
func FuzzStep(f *testing.F) {
	f.Add(`{"type":"open","at":0,"id":1,"api":"request","url":"https://api.example.com/"}
{"type":"hide","at":10}
{"type":"tick","at":6000}`)
	f.Add(`{"type":"open","at":0,"id":1,"api":"connectSocket","url":"wss://ws.example.com/"}
{"type":"connected","at":1,"id":1}
{"type":"finish","at":2,"id":1}
{"type":"reset","at":3}`)
	f.Add(`{"type":"open","at":5,"id":2,"api":"request","url":"https://api.example.com/","timeout":1}
{"type":"abort","at":5,"id":2}
{"type":"show","at":4}`)
	f.Fuzz(func(t *testing.T, script string) {
		s := New()
		answerOK(t, "configure", s.Configure([]byte(fuzzConfig)))
		for _, line := range strings.Split(script, "\n") {
			out := s.Step([]byte(line))
			answerOK(t, "step", out)
			var r abi.StepResult
			if json.Unmarshal(out, &r) == nil && (r.InFlight > 10 || r.Sockets > 5 || r.InFlight < 0 || r.Queued < 0) {
				t.Fatalf("limits broken: %+v after %q", r, line)
			}
		}
		answerOK(t, "status", s.Status())
	})
}

func FuzzBody(f *testing.F) {
	f.Add("text/plain; charset=gbk", []byte{0xc4, 0xe3, 0xff})
	f.Add("", []byte("\xef\xbb\xbf\xef\xbb\xbf{}"))
	f.Add("text/html", []byte("<meta charset=shift_jis>\x82\xb1"))
	f.Add("application/json; charset=\"utf-16\"", []byte{0xff, 0xfe, 0x00})
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		s := New()
		hdr, _ := json.Marshal(abi.BodyRequest{ContentType: ct})
		// The whole exchange a native host runs, conversion included.
		out, err := hostdecode.Body(func(m []byte) ([]byte, error) { return s.Body(m), nil }, abi.Frame(hdr, body))
		if err != nil {
			t.Fatal(err)
		}
		h, payload, err := abi.Unframe(out)
		if err != nil {
			t.Fatal(err)
		}
		answerOK(t, "body", h)
		var r abi.BodyResult
		if err := json.Unmarshal(h, &r); err != nil {
			t.Fatal(err)
		}
		if r.Error != "" && !bytes.Equal(payload, body) && !bytes.Equal(payload, bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))) {
			t.Fatalf("failed conversion must deliver the raw body")
		}
		if r.Decode != "" {
			t.Fatalf("the exchange ended with a request to convert from %s", r.Decode)
		}
		if r.Error == "" && !utf8.Valid(payload) {
			t.Fatalf("R10: a body without error is handed over as UTF-8; got %q (%+v)", payload, r)
		}
	})
}

// FuzzRawMessages sends arbitrary bytes to every entry point.
func FuzzRawMessages(f *testing.F) {
	f.Add([]byte(`{"api":"request","url":"x"}`))
	f.Add([]byte("\x00\x00\x00\x00"))
	f.Add([]byte(`{"files":[{"name":"a","content":"{"}]}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		s := New()
		answerOK(t, "configure", s.Configure(msg))
		answerOK(t, "check", s.Check(msg))
		answerOK(t, "step", s.Step(msg))
		h, _, err := abi.Unframe(s.Body(msg))
		if err != nil {
			t.Fatal(err)
		}
		answerOK(t, "body", h)
	})
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"mpnet/hostsim/fixtures"
)

var (
	fxOnce sync.Once
	fxSet  *fixtures.Set
	fxErr  error
	fxCA   string
)

// fx starts the fixture servers once for the package's tests.
func fx(t *testing.T) *fixtures.Set {
	t.Helper()
	fxOnce.Do(func() {
		fxSet, fxErr = fixtures.Start(fixtures.Options{SlowDelay: 4 * time.Second})
		if fxErr == nil {
			dir, _ := os.MkdirTemp("", "mpnet-ca-")
			fxCA = filepath.Join(dir, "ca.pem")
			fxErr = fxSet.WriteCA(fxCA)
		}
	})
	if fxErr != nil {
		t.Fatal(fxErr)
	}
	return fxSet
}

// fxArgs returns --roots and a --resolve for every fixture.
func fxArgs(t *testing.T) []string {
	s := fx(t)
	args := []string{"--roots", fxCA}
	for _, f := range s.Faults {
		_, port, _ := net.SplitHostPort(f.Addr)
		args = append(args, "--resolve", fmt.Sprintf("%s:%s:%s", f.Host, port, s.ListenIP()))
	}
	return args
}

func fxConfig(t *testing.T) string {
	return writeFile(t, "mpnet.json", `{
  "appid": "wx0123456789abcdef",
  "domains": {
    "request": ["https://valid.mpnet.test", "https://5xx.mpnet.test", "https://slow.mpnet.test", "https://missing-intermediate.mpnet.test",
      "https://expired.mpnet.test", "https://hang.mpnet.test", "https://refuse.mpnet.test", "https://garbage.mpnet.test"],
    "uploadFile": ["https://valid.mpnet.test"],
    "downloadFile": ["https://valid.mpnet.test"],
    "socket": ["wss://wss.mpnet.test"]
  },
  "networkTimeout": {"request": 2000, "connectSocket": 2000}
}`)
}

type cbOut struct {
	ErrMsg       string
	StatusCode   int
	Header       map[string]string
	Data         any
	TempFilePath string
	Findings     []finding
}

func request(t *testing.T, api string, extra ...string) (int, cbOut, string) {
	t.Helper()
	args := append([]string{api, "--config", fxConfig(t)}, fxArgs(t)...)
	args = append(args, extra...)
	code, out, errs := cli(t, args...)
	var cb cbOut
	if code != 2 {
		if err := json.Unmarshal([]byte(out), &cb); err != nil {
			t.Fatalf("%v: stdout is not a callback: %v\n%s\n%s", extra, err, out, errs)
		}
	}
	return code, cb, errs
}

func rules(fs []finding) string {
	var r []string
	for _, f := range fs {
		r = append(r, f.Rule+":"+f.Check)
	}
	return strings.Join(r, ",")
}

func TestRequestThroughTheModule(t *testing.T) {
	s := fx(t)
	valid := s.URL("valid")
	t.Run("json and the fixed Referer", func(t *testing.T) {
		code, cb, errs := request(t, "request", "--header", "Referer: https://evil.example/", "--header", "X-Token: t1", valid+"echo")
		if code != 0 || cb.ErrMsg != "request:ok" || cb.StatusCode != 200 {
			t.Fatalf("exit %d %+v %s", code, cb, errs)
		}
		data := cb.Data.(map[string]any)
		hdr := data["headers"].(map[string]any)
		if fmt.Sprint(hdr["Referer"]) != "[https://appservice.wx.com/wx0123456789abcdef/0/page-frame.html]" || fmt.Sprint(hdr["X-Token"]) != "[t1]" {
			t.Errorf("headers the server saw: %v", hdr)
		}
		if !strings.Contains(rules(cb.Findings), "R8") {
			t.Errorf("the dropped Referer is not reported: %v", cb.Findings)
		}
	})
	t.Run("GBK converted", func(t *testing.T) {
		_, cb, _ := request(t, "request", valid+"gbk")
		if cb.Data != "你好，世界" || !strings.Contains(rules(cb.Findings), "R10") {
			t.Errorf("%+v", cb)
		}
	})
	t.Run("one BOM removed", func(t *testing.T) {
		_, cb, _ := request(t, "request", valid+"bom")
		if m, ok := cb.Data.(map[string]any); !ok || m["ok"] != true {
			t.Errorf("data %#v", cb.Data)
		}
	})
	t.Run("failed conversion", func(t *testing.T) {
		code, cb, _ := request(t, "request", valid+"bad-gbk")
		if code != 1 || cb.ErrMsg != "request:ok" || !strings.Contains(rules(cb.Findings), "R10") {
			t.Errorf("exit %d %+v", code, cb)
		}
	})
	t.Run("5xx is a success callback with a reminder", func(t *testing.T) {
		code, cb, _ := request(t, "request", s.URL("5xx")+"x")
		if code != 0 || cb.ErrMsg != "request:ok" || cb.StatusCode != 503 || !strings.Contains(rules(cb.Findings), "R11") {
			t.Errorf("exit %d %+v", code, cb)
		}
	})
	t.Run("not in the domain list", func(t *testing.T) {
		code, cb, _ := request(t, "request", s.URL("tls13-only"))
		if code != 1 || cb.ErrMsg != "request:fail url not in domain list" {
			t.Errorf("exit %d %+v", code, cb)
		}
	})
	t.Run("timeout: no hang past the effective timeout", func(t *testing.T) {
		t0 := time.Now()
		code, cb, _ := request(t, "request", "--timeout", "800", s.URL("slow"))
		took := time.Since(t0)
		if code != 1 || cb.ErrMsg != "request:fail timeout" || took > 3*time.Second {
			t.Errorf("exit %d %+v after %v", code, cb, took)
		}
	})
	t.Run("a server that never answers", func(t *testing.T) {
		t0 := time.Now()
		code, cb, _ := request(t, "request", "--timeout", "700", s.URL("hang"))
		if code != 1 || cb.ErrMsg != "request:fail timeout" || time.Since(t0) > 3*time.Second {
			t.Errorf("exit %d %+v after %v", code, cb, time.Since(t0))
		}
	})
	t.Run("refused and garbage", func(t *testing.T) {
		code, cb, _ := request(t, "request", s.URL("refuse"))
		if code != 1 || cb.ErrMsg != "request:fail connection refused" {
			t.Errorf("refused: exit %d %+v", code, cb)
		}
		code, cb, _ = request(t, "request", s.URL("garbage"))
		if code != 1 || !strings.Contains(rules(cb.Findings), "R12:connect") {
			t.Errorf("garbage: exit %d %+v", code, cb)
		}
	})
	t.Run("missing intermediate fails R12 before the call", func(t *testing.T) {
		code, cb, _ := request(t, "request", s.URL("missing-intermediate"))
		if code != 1 || cb.ErrMsg != "request:fail ssl hand shake error" || !strings.Contains(rules(cb.Findings), "R12:chain") {
			t.Errorf("exit %d %+v", code, cb)
		}
	})
	t.Run("huge headers and bodies are bounded", func(t *testing.T) {
		code, cb, _ := request(t, "request", valid+"huge-header")
		if code != 0 && code != 1 {
			t.Errorf("huge header: exit %d %+v", code, cb)
		}
		// The call's own timeout: moving 65 MiB within the fixtures' 2 s
		// networkTimeout failed with "timeout" on a loaded machine instead.
		code, cb, _ = request(t, "request", "--timeout", "60000", valid+fmt.Sprintf("big?bytes=%d", 65<<20))
		if code != 1 || !strings.Contains(cb.ErrMsg, "larger than 64 MiB") {
			t.Errorf("big body: exit %d %+v", code, cb.ErrMsg)
		}
	})
	t.Run("uploadFile", func(t *testing.T) {
		f := writeFile(t, "avatar.png", strings.Repeat("x", 1234))
		code, cb, errs := request(t, "uploadFile", "--file", f, "--form", "user=7", valid+"upload")
		if code != 0 || cb.ErrMsg != "uploadFile:ok" || !strings.Contains(fmt.Sprint(cb.Data), "avatar.png") || !strings.Contains(fmt.Sprint(cb.Data), "1234") {
			t.Errorf("exit %d %+v %s", code, cb, errs)
		}
	})
	t.Run("downloadFile", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "invoice.pdf")
		code, cb, _ := request(t, "downloadFile", "--output", out, valid+"download/invoice.pdf")
		st, err := os.Stat(out)
		if code != 0 || cb.ErrMsg != "downloadFile:ok" || cb.TempFilePath != out || err != nil || st.Size() == 0 {
			t.Errorf("exit %d %+v %v", code, cb, err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, args := range [][]string{
			{"request", "--resolve", "nonsense", valid},
			{"request", "--roots", "/nonexistent.pem", valid},
			{"uploadFile", valid},
			{"request", "--header", "novalue", valid},
		} {
			if code, _, errs := cli(t, args...); code != 2 || errs == "" {
				t.Errorf("%v: exit %d %q", args, code, errs)
			}
		}
	})
}

// TestCertReports runs the R12 report on every TLS fault.
func TestCertReports(t *testing.T) {
	s := fx(t)
	want := map[string]string{
		"valid":                "iOS          ok\n  Android      ok",
		"expired":              "FAIL (validity)",
		"not-yet-valid":        "is not valid yet",
		"wrong-host":           "FAIL (hostname)",
		"self-signed":          "iOS          FAIL (self-signed)",
		"missing-intermediate": "does not send the intermediate certificate",
		"tls10-11":             "accepts only TLS 1.0 and TLS 1.1",
		"tls13-only":           "accepts only TLS 1.3",
		"rsa1024":              "1024-bit RSA key",
		"sha1":                 "signed with SHA1-RSA",
		"no-fs":                "without forward secrecy",
		"garbage":              "did not answer a TLS handshake",
		"refuse":               "connection refused",
	}
	for name, text := range want {
		f := s.Get(name)
		_, port, _ := net.SplitHostPort(f.Addr)
		args := append([]string{"cert"}, fxArgs(t)...)
		args = append(args, "--timeout", "2000", f.Host+":"+port)
		code, out, errs := cli(t, args...)
		wantCode := 1
		if name == "valid" || name == "tls13-only" {
			wantCode = 0
		}
		if code != wantCode || !strings.Contains(out, text) {
			t.Errorf("%s: exit %d (want %d), output lacks %q:\n%s%s", name, code, wantCode, text, out, errs)
		}
	}
	// The fix for a missing intermediate, as JSON.
	f := s.Get("missing-intermediate")
	_, port, _ := net.SplitHostPort(f.Addr)
	args := append([]string{"cert", "--json"}, fxArgs(t)...)
	code, out, _ := cli(t, append(args, f.Host+":"+port)...)
	var reports []certReport
	if err := json.Unmarshal([]byte(out), &reports); err != nil || code != 1 || len(reports) != 1 {
		t.Fatalf("exit %d %v %s", code, err, out)
	}
	v := reports[0].Verdict
	if v.OK || len(v.Findings) != 1 || v.Findings[0].Check != "chain" || !strings.Contains(v.Findings[0].Fix, "full chain") || reports[0].Facts.IssuerSent {
		t.Errorf("missing intermediate: %+v", v)
	}
	if code, _, errs := cli(t, "cert", "bad host:99999"); code != 2 || errs == "" {
		t.Errorf("bad host: exit %d %q", code, errs)
	}
}

// TestSocketCap opens six sockets through one instance: the 6th is refused.
func TestSocketCap(t *testing.T) {
	s := fx(t)
	u := s.URL("wss")
	args := append([]string{"socket", "--json", "--config", fxConfig(t)}, fxArgs(t)...)
	for i := 0; i < 6; i++ {
		args = append(args, fmt.Sprintf("%s?n=%d", u, i))
	}
	var out, errb strings.Builder
	code := run(t.Context(), args, strings.NewReader("hello\n2> only two\n"), &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the 6th socket fails)\n%s%s", code, out.String(), errb.String())
	}
	var opens, refused int
	echoes := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev socketEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		switch {
		case ev.Event == "open":
			opens++
		case ev.Event == "error" && ev.ErrMsg == "connectSocket:fail exceed max task count":
			refused++
			if ev.Socket != 6 {
				t.Errorf("socket %d refused, want the 6th", ev.Socket)
			}
		case ev.Event == "message":
			echoes[ev.Data]++
		}
	}
	if opens != 5 || refused != 1 || echoes["hello"] != 5 || echoes["only two"] != 1 {
		t.Errorf("opens %d refused %d echoes %v\n%s", opens, refused, echoes, out.String())
	}
	// Not in the list: refused before connecting.
	bad := strings.Replace(u, "wss.mpnet.test", "push.mpnet.test", 1)
	code = run(t.Context(), append(append([]string{"socket", "--config", fxConfig(t)}, fxArgs(t)...), bad), strings.NewReader(""), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "connectSocket:fail url not in domain list") {
		t.Errorf("unlisted socket: exit %d %s", code, errb.String())
	}
}

// TestAgent serves R12 reports to extension origins only.
func TestAgent(t *testing.T) {
	s := fx(t)
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, append(append([]string{"agent", "--listen", "127.0.0.1:0"}, fxArgs(t)...), "--timeout", "2000"), strings.NewReader(""), pw, io.Discard)
	}()
	var hello struct{ URL string }
	if err := json.NewDecoder(pr).Decode(&hello); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	get := func(path, origin string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", hello.URL+path, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		if origin != "" && resp.StatusCode == 200 && resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("no CORS header for %s", origin)
		}
		return resp.StatusCode, v
	}
	f := s.Get("expired")
	_, port, _ := net.SplitHostPort(f.Addr)
	code, v := get("/v1/cert?host="+f.Host+"&port="+port, "chrome-extension://abcdefghijklmnop")
	verdict, _ := v["verdict"].(map[string]any)
	if code != 200 || verdict["ok"] != false || !strings.Contains(fmt.Sprint(verdict["findings"]), "expired on") {
		t.Errorf("expired: %d %v", code, v)
	}
	if code, _ := get("/v1/cert?host="+f.Host+"&port="+port, "https://evil.example"); code != 403 {
		t.Errorf("a web origin got %d, want 403", code)
	}
	if code, _ := get("/v1/cert?host=a%20b", ""); code != 400 {
		t.Errorf("bad host got %d, want 400", code)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("agent exit %d", code)
	}
	if code, _, errs := cli(t, "agent", "--listen", "192.0.2.1:7460"); code != 2 || !strings.Contains(errs, "not a loopback address") {
		t.Errorf("non-loopback: exit %d %q", code, errs)
	}
}

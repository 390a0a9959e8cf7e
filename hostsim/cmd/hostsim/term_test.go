package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mpnet/hostsim/fixtures"
)

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain https://a.com/x?y=1 你好": "plain https://a.com/x?y=1 你好",
		"a\x1b[2Kb":                    `a\x1b[2Kb`,
		"a\x1b]0;title\x07b":           `a\x1b]0;title\x07b`,
		"line\nnext\r\tx":              `line\nnext\r\tx`,
		"c1 \u009b31m csi":             `c1 \u009b31m csi`,
		"evil\u202egpj.exe":            `evil\u202egpj.exe`,
		"\u2066iso\u2069 \u200f\u061c": `\u2066iso\u2069 \u200f\u061c`,
		"bad \x9b utf8 \xff":           `bad \x9b utf8 \xff`,
		"sep\u2028x\u2029":             `sep\u2028x\u2029`,
		"del\x7f back\\slash":          `del\x7f back\slash`,
	} {
		if got := safe(in); got != want {
			t.Errorf("safe(%+q) = %q, want %q", in, got, want)
		}
	}
}

// hostile is text a hostile server, HAR or frame carries to rewrite the
// terminal: clear the line, move the cursor, recolour, reverse the text.
const hostile = "\x1b[2K\x1b[1A\x1b[31m\u202e"

func assertNoControls(t *testing.T, what, out string) {
	t.Helper()
	if strings.ContainsAny(out, "\x1b\u202e\u009b") {
		t.Errorf("%s prints raw control characters:\n%q", what, out)
	}
}

// An audit's table escapes URLs, methods and errors from the HAR; its JSON
// stays exact.
func TestAuditEscapesUntrustedText(t *testing.T) {
	har := writeFile(t, "evil.har", `{"log":{"entries":[
 {"startedDateTime":"2024-05-01T10:00:00.000Z","time":12,"request":{"method":"GET\u001b[8m","url":"https://api.example.com/a\u001b[2K\u001b[1A\u001b[31m\u202eok"},"response":{"status":200}},
 {"startedDateTime":"2024-05-01T10:00:01.000Z","time":12,"request":{"method":"GET","url":"https://evil\u001b[2J.example.net/\u009b31m"},"response":{"status":200}}]}}`)
	code, out, errs := cli(t, "audit", "--config", demo("mpnet.json"), har)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	assertNoControls(t, "audit", out)
	if !strings.Contains(out, `https://api.example.com/a\x1b[2K\x1b[1A\x1b[31m\u202eok`) {
		t.Errorf("the URL is not shown escaped:\n%s", out)
	}
	code, out, _ = cli(t, "audit", "--json", "--config", demo("mpnet.json"), har)
	var res struct {
		Entries []struct{ URL, Method string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || len(res.Entries) != 2 {
		t.Fatalf("exit %d %v\n%s", code, err, out)
	}
	if res.Entries[0].URL != "https://api.example.com/a"+hostile+"ok" || res.Entries[0].Method != "GET\x1b[8m" {
		t.Errorf("JSON is not exact: %+q", res.Entries[0])
	}
}

// A certificate's names (IA5 strings may hold any ASCII control), as the
// server sends them, are escaped in cert's
// report.
func TestCertEscapesCertificateNames(t *testing.T) {
	ca, err := fixtures.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Leaf(fixtures.LeafOptions{Names: []string{"evil\x1b[2K\x1b[1A\x1b[31m.mpnet.test", "x\x1b]0;pwned\x07.mpnet.test"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	srv.StartTLS()
	defer srv.Close()
	roots := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(roots, ca.RootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	code, out, errs := cli(t, "cert", "--roots", roots, "--resolve", "evil.mpnet.test:"+port+":127.0.0.1", "--timeout", "2000", "evil.mpnet.test:"+port)
	if code != 1 {
		t.Errorf("exit %d (the names do not match the host)\n%s%s", code, out, errs)
	}
	assertNoControls(t, "cert", out+errs)
	if !strings.Contains(out, `evil\x1b[2K\x1b[1A\x1b[31m.mpnet.test`) || !strings.Contains(out, `x\x1b]0;pwned\x07.mpnet.test`) {
		t.Errorf("the certificate's name is not shown escaped:\n%s", out)
	}
}

// Socket frames and errors are escaped in socket's text output; --json
// keeps them exact.
func TestSocketEscapesFrames(t *testing.T) {
	s := fx(t)
	args := append(append([]string{"socket", "--config", fxConfig(t)}, fxArgs(t)...), s.URL("wss"))
	var out, errb strings.Builder
	code := run(t.Context(), args, strings.NewReader("hi"+hostile+"\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
	assertNoControls(t, "socket", out.String()+errb.String())
	if !strings.Contains(out.String(), `hi\x1b[2K\x1b[1A\x1b[31m\u202e`) {
		t.Errorf("the echoed frame is not shown escaped: %q", out.String())
	}
	out.Reset()
	code = run(t.Context(), append([]string{"socket", "--json"}, args[1:]...), strings.NewReader("hi"+hostile+"\n"), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), fmt.Sprintf("%q", "hi"+hostile)[1:]) && !strings.Contains(out.String(), `"data":"hi\u001b[2K\u001b[1A\u001b[31m`+"\u202e"+`"`) {
		t.Errorf("--json is not exact: exit %d %s", code, out.String())
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mpnet/abi"
	"mpnet/internal/buildwasm"
)

func TestMain(m *testing.M) {
	path, err := buildwasm.Module()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("MPNET_WASM", path)
	code := m.Run()
	if fxSet != nil {
		fxSet.Close()
		os.RemoveAll(filepath.Dir(fxCA))
	}
	buildwasm.Cleanup()
	os.Exit(code)
}

// cli runs hostsim in-process and returns exit status, stdout and stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func demo(name string) string { return filepath.Join(buildwasm.Root(), "demo", name) }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckAllowed(t *testing.T) {
	code, out, errs := cli(t, "check", "--config", demo("mpnet.json"), "--api", "request", "--timeout", "3000", "https://api.example.com/user")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	want := map[string]any{"allowed": true, "errMsg": "", "rule": "", "timeoutMs": 3000.0,
		"referer": "https://appservice.wx.com/wx0123456789abcdef/0/page-frame.html"}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("%s = %v, want %v", k, d[k], v)
		}
	}
	if w, ok := d["warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("warnings = %v, want []", d["warnings"])
	}
}

func TestCheckBlocked(t *testing.T) {
	cases := []struct {
		api, url, rule, errMsg string
	}{
		{"request", "https://evil.example.net/x", "R2", "request:fail url not in domain list"},
		{"request", "http://api.example.com/x", "R1", "request:fail url not in domain list"},
		{"request", "https://0x7f.1/x", "R3", "request:fail url not in domain list"},
		{"connectSocket", "wss://push.example.com/live", "R2", "connectSocket:fail url not in domain list"},
		{"downloadFile", "https://api.example.com/f.pdf", "R2", "downloadFile:fail url not in domain list"},
		{"request", "https://[::1", "R5", "request:fail invalid url"},
	}
	for _, c := range cases {
		code, out, _ := cli(t, "check", "--config", demo("mpnet.json"), "--api", c.api, c.url)
		if code != 1 {
			t.Errorf("%s %s: exit %d, want 1", c.api, c.url, code)
			continue
		}
		var d struct {
			Allowed bool
			Rule    string
			ErrMsg  string
			Fix     string
		}
		json.Unmarshal([]byte(out), &d)
		if d.Allowed || d.Rule != c.rule || d.ErrMsg != c.errMsg || d.Fix == "" {
			t.Errorf("%s %s: %+v, want rule %s errMsg %q and a fix", c.api, c.url, d, c.rule, c.errMsg)
		}
	}
}

func TestCheckMergesProjectFiles(t *testing.T) {
	// The admin console list has only request domains; app.json gives the timeout.
	code, out, errs := cli(t, "check", "--config", demo("project/domains.json"), "--config", demo("project/app.json"),
		"--config", demo("project/project.config.json"), "--api", "uploadFile", "https://api.example.com/u")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if !strings.Contains(out, `"timeoutMs": 30000`) || !strings.Contains(out, "wx0123456789abcdef") {
		t.Errorf("merged configuration not applied: %s", out)
	}
}

func TestCheckBadInput(t *testing.T) {
	bad := writeFile(t, "mpnet.json", "{\n  \"domains\": {\"request\": [\"https://a.com\"]},\n  \"timeout\": 5\n}")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"check", "https://a.com"}, "--config FILE is required"},
		{[]string{"check", "--config", demo("mpnet.json")}, "want exactly one URL"},
		{[]string{"check", "--config", demo("mpnet.json"), "a", "b"}, "want exactly one URL"},
		{[]string{"check", "--config", "/nonexistent.json", "https://a.com"}, "nonexistent.json"},
		{[]string{"check", "--config", bad, "https://a.com"}, "mpnet.json:3:3: error: unknown key \"timeout\""},
		{[]string{"check", "--config", demo("mpnet.json"), "--api", "fetch", "https://a.com"}, "unknown api \"fetch\""},
		{[]string{"check", "--config", demo("mpnet.json"), "--timeout", "soon", "https://a.com"}, "--timeout \"soon\""},
		{[]string{"check", "--bogus"}, "flag provided but not defined"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"check", "--module", "/nonexistent.wasm", "--config", demo("mpnet.json"), "https://a.com"}, "go run ./build"},
	}
	for _, c := range cases {
		code, _, errs := cli(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}} {
		code, out, _ := cli(t, args...)
		if code != 0 || !strings.Contains(out, "hostsim check --config FILE --api API") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
	for _, cmd := range []string{"check", "lint", "audit", "version"} {
		code, _, errs := cli(t, cmd, "--help")
		if code != 0 || !strings.Contains(errs, "Usage: hostsim "+cmd) {
			t.Errorf("%s --help: exit %d, %q", cmd, code, errs)
		}
	}
}

func TestLint(t *testing.T) {
	code, out, _ := cli(t, "lint", demo("mpnet.json"))
	if code != 0 || !strings.Contains(out, "no problems found") {
		t.Errorf("clean config: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "lint", demo("project/domains.json"), demo("project/project.config.json"), demo("project/app.json"))
	if code != 1 {
		t.Errorf("console list with bad entries: exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"domains.json: read as admin console domain list",
		"domains.json:4:48: C3 error: \"https://stats.example.com:8443\" carries a port",
		"fix: write \"https://stats.example.com\"",
		"domains.json:4:82: C1 error: \"http://legacy.example.com\" uses http://",
		"domains.json:7:49: C4 error: \"https://*.img.example.com\" is a wildcard",
		"app.json: read as app.json",
		"3 error(s), 0 warning(s)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, "lint", "--json", demo("project/domains.json"))
	var res struct {
		OK       bool
		Problems []struct{ Rule, File, Entry, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || res.OK || len(res.Problems) < 3 {
		t.Errorf("--json: exit %d err %v %+v", code, err, res)
	}
	broken := writeFile(t, "mpnet.json", "{\n  \"domains\": {\n    \"request\": [\"https://a.com\"\n  }\n}")
	code, out, _ = cli(t, "lint", broken)
	if code != 1 || !strings.Contains(out, "mpnet.json:4:3: error: not valid JSON") {
		t.Errorf("broken JSON: exit %d\n%s", code, out)
	}
	if code, _, errs := cli(t, "lint"); code != 2 || !strings.Contains(errs, "name at least one") {
		t.Errorf("no files: exit %d %s", code, errs)
	}
}

func TestAuditDemo(t *testing.T) {
	code, out, errs := cli(t, "audit", "--config", demo("mpnet.json"), demo("preview.har"))
	if code != 1 {
		t.Fatalf("exit %d, want 1 (the demo HAR has calls that fail on device)\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"FAIL    R2    https://cdn.example.com/config.json",
		"FAIL    R1    http://api.example.com/legacy/notice",
		"FAIL    R2    wss://push.example.com/live",
		"FAIL    R13   http://img.example.com/banner.png",
		"FAIL    R6    https://api.example.com/report/slow",
		"warn    R10   https://api.example.com/legacy/gbk-notice",
		"warn    R11   https://api.example.com/order/create",
		"warn    R7    https://api.example.com/goods/9",
		"ok            https://api.example.com/goods/8",
		"FAIL    R2    https://api.example.com/files/invoice.pdf",
		"ok            https://api.example.com/upload/avatar",
		"31 entries: 29 judged, 2 skipped (page assets), 9 would fail on device, 5 with warnings",
		"  domains.request:\n    https://cdn.example.com\n    https://m.api.example.com\n    https://stats.example.net\n",
		"  domains.socket:\n    wss://push.example.com\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("audit output lacks %q", want)
		}
	}
	logIfFailed(t, out)
}

// logIfFailed shows a command's whole output once a test has failed.
func logIfFailed(t *testing.T, out string) {
	t.Helper()
	if t.Failed() {
		t.Log(out)
	}
}

func TestAuditJSON(t *testing.T) {
	code, out, _ := cli(t, "audit", "--json", "--config", demo("mpnet.json"), demo("preview.har"))
	var res struct {
		Entries []struct {
			Index    int
			API      string
			Verdict  string
			Rule     string
			ErrMsg   string
			Recorded *struct{ API, Verdict, Rule string }
		}
		Summary struct {
			Entries, Judged, Skipped, Failed, Warned int
			HostsToAdd                               map[string][]string
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if code != 1 || len(res.Entries) != 31 || res.Summary.Failed != 9 || res.Summary.Skipped != 2 {
		t.Fatalf("exit %d, %d entries, summary %+v", code, len(res.Entries), res.Summary)
	}
	last := res.Entries[30]
	if last.API != "downloadFile" || last.Verdict != "fail" || last.ErrMsg != "downloadFile:fail url not in domain list" || last.Recorded == nil || last.Recorded.Rule != "R2" {
		t.Errorf("annotated entry: %+v", last)
	}
	if got := res.Summary.HostsToAdd["domains.downloadFile"]; len(got) != 1 || got[0] != "https://api.example.com" {
		t.Errorf("hostsToAdd: %v", res.Summary.HostsToAdd)
	}
}

func TestAuditBadHAR(t *testing.T) {
	cases := []struct{ content, want string }{
		{"not json at all", "not a HAR file"},
		{`{"log": {"entries": [{"request": {}}]}}`, "entry 0: missing request.url"},
		{`{"log": {"entries": [{"startedDateTime": "yesterday", "request": {"method": "GET", "url": "https://a.com"}, "response": {"status": 200}}]}}`, "startedDateTime \"yesterday\""},
		{`{"nolog": 1}`, "log"},
	}
	for _, c := range cases {
		p := writeFile(t, "x.har", c.content)
		code, _, errs := cli(t, "audit", "--config", demo("mpnet.json"), p)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.content, code, errs, c.want)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := cli(t, "version", "--json")
	var v struct {
		ABI    int
		SHA256 string
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 0 || v.ABI != abi.Version || len(v.SHA256) != 64 {
		t.Fatalf("exit %d %v %s", code, err, out)
	}
	code, out, _ = cli(t, "version")
	if code != 0 || !strings.Contains(out, "sha256: "+v.SHA256) || !strings.Contains(out, fmt.Sprintf("abi:    %d", abi.Version)) {
		t.Errorf("version: %s", out)
	}
}

// hostsim rules prints the rules of docs/RULES.md: the list, one in full,
// as JSON; an unknown ID is bad input.
func TestRules(t *testing.T) {
	code, out, _ := cli(t, "rules")
	if code != 0 || !strings.HasPrefix(out, "C1   Scheme fits the list\n") || !strings.Contains(out, "R15  API identity\n") {
		t.Errorf("list: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "rules", "r14")
	if code != 0 || !strings.HasPrefix(out, "R14 · Redirects\n\nThe client follows redirects") || !strings.Contains(out, "each hop's certificate must pass\nR12") {
		t.Errorf("R14: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "rules", "--json", "C3", "R12")
	var rs []struct{ ID, Title, Summary, Text string }
	if err := json.Unmarshal([]byte(out), &rs); err != nil || code != 0 || len(rs) != 2 || rs[1].ID != "R12" || rs[1].Summary == "" {
		t.Errorf("json: exit %d %v %s", code, err, out)
	}
	if code, _, errs := cli(t, "rules", "R99"); code != 2 || !strings.Contains(errs, `no rule "R99"`) {
		t.Errorf("R99: exit %d %s", code, errs)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"

	"mpnet/hostsim/fixtures"
)

// redirectConfig lists the redirect faults' hosts, and redirect-target
// unless unlistTarget.
func redirectConfig(t *testing.T, unlistTarget bool) string {
	hosts := []string{"redirect-valid", "redirect-http", "redirect-unlisted", "redirect-loopback", "redirect-mismatch", "redirect-impostor", "valid"}
	if !unlistTarget {
		hosts = append(hosts, "redirect-target")
	}
	var entries []string
	for _, h := range hosts {
		entries = append(entries, `"https://`+h+`.mpnet.test"`)
	}
	list := strings.Join(entries, ",")
	return writeFile(t, "mpnet.json", `{"appid":"wx0123456789abcdef","domains":{"request":[`+list+`],"uploadFile":[`+list+`],"downloadFile":[`+list+`]},"networkTimeout":{"request":5000,"uploadFile":5000,"downloadFile":5000}}`)
}

// redirectArgs are fxArgs plus the name redirect-unlisted sends calls to.
func redirectArgs(t *testing.T) []string {
	s := fx(t)
	_, port, _ := net.SplitHostPort(s.Get("redirect-target").Addr)
	return append(fxArgs(t), "--resolve", fmt.Sprintf("%s:%s:%s", fixtures.UnlistedHost, port, s.ListenIP()))
}

func callVia(t *testing.T, config string, args ...string) (int, cbOut, []hopReport, string) {
	t.Helper()
	full := []string{args[0]}
	if config != "" {
		full = append(full, "--config", config)
	}
	full = append(append(full, redirectArgs(t)...), args[1:]...)
	code, out, errs := cli(t, full...)
	var cb struct {
		cbOut
		Redirects []hopReport
	}
	if code != 2 {
		if err := jsonUnmarshal(out, &cb); err != nil {
			t.Fatalf("%v: not a callback: %v\n%s%s", args, err, out, errs)
		}
	}
	return code, cb.cbOut, cb.Redirects, errs
}

// Every redirect hop is judged like a call there (R14: R1, R2, R3 and the
// hop's own certificate, R12), before it is followed; a refused hop fails
// the call with the client's errMsg and is never contacted; the chain is in
// the callback and on stderr.
func TestRedirectHopsAreJudged(t *testing.T) {
	s := fx(t)
	target := s.Get("redirect-target")
	t.Run("to a second listed host with its own certificate", func(t *testing.T) {
		code, cb, hops, errs := callVia(t, redirectConfig(t, false), "request", s.URL("redirect-valid")+"echo")
		if code != 0 || cb.ErrMsg != "request:ok" || cb.StatusCode != 200 {
			t.Fatalf("exit %d %+v\n%s", code, cb, errs)
		}
		echo := cb.Data.(map[string]any)
		tlsInfo, _ := echo["tls"].(map[string]any)
		if !strings.HasPrefix(fmt.Sprint(echo["host"]), "redirect-target.mpnet.test:") || tlsInfo["serverName"] != "redirect-target.mpnet.test" {
			t.Errorf("the hop reached %v with SNI %v, want redirect-target's own name", echo["host"], tlsInfo["serverName"])
		}
		if echo["referer"] != "https://appservice.wx.com/wx0123456789abcdef/0/page-frame.html" {
			t.Errorf("the accepted hop got Referer %v", echo["referer"])
		}
		if len(hops) != 1 || hops[0].Status != 302 || hops[0].Verdict != "followed" || !strings.HasPrefix(hops[0].URL, "https://redirect-target.mpnet.test:") {
			t.Errorf("redirects %+v", hops)
		}
		if !strings.Contains(errs, "redirect 302 to https://redirect-target.mpnet.test:") || !strings.Contains(errs, ": followed") {
			t.Errorf("stderr lacks the hop: %q", errs)
		}
	})
	for _, tc := range []struct {
		name, fault, errMsg, reason string
		unlist                      bool
		untouched                   *fixtures.Fault
	}{
		{"to http", "redirect-http", "request:fail url not in domain list", "R1", false, s.Get("aia")},
		{"to an unlisted host", "redirect-unlisted", "request:fail url not in domain list", "not in domains.request", false, target},
		{"to a listed-nowhere second host", "redirect-valid", "request:fail url not in domain list", "not in domains.request", true, target},
		{"to the loopback address", "redirect-loopback", "request:fail url not in domain list", "local host", false, target},
		{"to a host whose certificate does not name it", "redirect-mismatch", "request:fail ssl hand shake error", "redirect-impostor.mpnet.test", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := int64(0)
			if tc.untouched != nil {
				before = tc.untouched.Connections()
			}
			code, cb, hops, errs := callVia(t, redirectConfig(t, tc.unlist), "request", s.URL(tc.fault)+"echo")
			if code != 1 || cb.ErrMsg != tc.errMsg {
				t.Fatalf("exit %d errMsg %q, want 1 and %q\n%+v\n%s", code, cb.ErrMsg, tc.errMsg, cb, errs)
			}
			if len(hops) != 1 || hops[0].Verdict != "refused" || hops[0].Rule != "R14" || hops[0].ErrMsg != tc.errMsg {
				t.Errorf("redirects %+v", hops)
			}
			if !strings.Contains(rules(cb.Findings), "R14") || !strings.Contains(fmt.Sprint(cb.Findings), tc.reason) {
				t.Errorf("findings lack R14 and %q: %+v", tc.reason, cb.Findings)
			}
			if tc.untouched != nil && tc.untouched.Connections() != before {
				t.Errorf("the refused hop's server was contacted")
			}
			if !strings.Contains(errs, ": refused R14 "+tc.errMsg) {
				t.Errorf("stderr lacks the refused hop: %q", errs)
			}
		})
	}
	t.Run("report mode follows, reports, and sends no Referer to the refused hop", func(t *testing.T) {
		code, cb, hops, errs := callVia(t, "", "request", s.URL("redirect-unlisted")+"echo")
		if code != 1 || cb.ErrMsg != "request:ok" || len(hops) != 1 || hops[0].Verdict != "reported" {
			t.Fatalf("exit %d %+v %+v\n%s", code, cb, hops, errs)
		}
		echo := cb.Data.(map[string]any)
		if !strings.HasPrefix(fmt.Sprint(echo["host"]), fixtures.UnlistedHost) || echo["referer"] != "" {
			t.Errorf("the reported hop reached %v with Referer %q; want no Referer", echo["host"], echo["referer"])
		}
	})
	t.Run("downloadFile and uploadFile judge their hops too", func(t *testing.T) {
		code, cb, hops, errs := callVia(t, redirectConfig(t, false), "downloadFile", "--output", t.TempDir()+"/f.txt", s.URL("redirect-valid")+"download/f.txt")
		if code != 0 || cb.ErrMsg != "downloadFile:ok" || len(hops) != 1 || hops[0].Verdict != "followed" {
			t.Errorf("downloadFile: exit %d %+v %+v %s", code, cb, hops, errs)
		}
		code, cb, hops, _ = callVia(t, redirectConfig(t, false), "downloadFile", s.URL("redirect-loopback")+"download/f.txt")
		if code != 1 || cb.ErrMsg != "downloadFile:fail url not in domain list" || len(hops) != 1 || hops[0].Verdict != "refused" {
			t.Errorf("downloadFile to loopback: exit %d %+v %+v", code, cb, hops)
		}
		f := writeFile(t, "a.txt", "hello")
		code, cb, hops, errs = callVia(t, redirectConfig(t, false), "uploadFile", "--file", f, s.URL("redirect-valid")+"upload?code=307")
		if code != 0 || cb.ErrMsg != "uploadFile:ok" || len(hops) != 1 || hops[0].Status != 307 || !strings.Contains(fmt.Sprint(cb.Data), "a.txt") {
			t.Errorf("uploadFile through a 307: exit %d %+v %+v %s", code, cb, hops, errs)
		}
	})
	t.Run("a relative redirect stays on the host", func(t *testing.T) {
		code, cb, hops, errs := callVia(t, redirectConfig(t, false), "request", s.URL("valid")+"status/302")
		if code != 0 || cb.ErrMsg != "request:ok" || len(hops) != 1 || hops[0].URL != s.URL("valid") {
			t.Errorf("exit %d %+v %+v %s", code, cb, hops, errs)
		}
	})
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"mpnet/abi"
)

// certReport is one host's facts and the module's verdict.
type certReport struct {
	Facts   abi.TLSFacts   `json:"facts"`
	Verdict abi.TLSVerdict `json:"verdict"`
}

func (e *env) cert(args []string) error {
	fs, module := e.flags("cert", "cert [--roots FILE] [--resolve H:P:A] [--timeout MS] [--json] HOST[:PORT]...")
	var cf clientFlags
	fs.Var(&cf.resolves, "resolve", "HOST:PORT:ADDR: connect to ADDR for HOST:PORT, like curl --resolve (repeatable)")
	fs.StringVar(&cf.roots, "roots", "", "PEM file of root certificates to trust instead of the system's")
	asJSON := fs.Bool("json", false, "print facts and verdicts as JSON")
	timeout := fs.Int("timeout", 10000, "timeout of each TLS handshake in ms")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return badInput("name at least one HOST or HOST:PORT")
	}
	if *timeout <= 0 {
		return badInput("--timeout must be a positive number of ms")
	}
	type hp struct {
		host string
		port int
	}
	var targets []hp
	for _, a := range pos {
		h, p, err := splitHostPort(a)
		if err != nil {
			return err
		}
		targets = append(targets, hp{h, p})
	}
	c, err := e.newClient(*module, &cf)
	if err != nil {
		return err
	}
	defer c.close()
	show, clear := e.progressLine()
	var reports []certReport
	bad := false
	for i, t := range targets {
		prefix := fmt.Sprintf("[%d/%d] %s:%d", i+1, len(targets), t.host, t.port)
		show(prefix + ": connecting")
		facts, v, err := c.judgeTLS(e.ctx, t.host, t.port, time.Duration(*timeout)*time.Millisecond, func(s string) { show(prefix + ": " + s) })
		clear()
		if err != nil {
			return badInput("%v", err)
		}
		if !v.OK {
			bad = true
		}
		reports = append(reports, certReport{facts, v})
		if !*asJSON {
			writeCertReport(e.stdout, facts, v)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(reports); err != nil {
			return err
		}
	}
	if bad {
		return &exitError{code: 1}
	}
	return nil
}

// splitHostPort reads HOST, HOST:PORT, [V6]:PORT or a https:// or wss:// URL.
func splitHostPort(a string) (string, int, error) {
	s := a
	for _, p := range []string{"https://", "wss://"} {
		if strings.HasPrefix(strings.ToLower(s), p) {
			s = s[len(p):]
			if i := strings.IndexAny(s, "/?#"); i >= 0 {
				s = s[:i]
			}
		}
	}
	host, port := s, "443"
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") == 1 {
		return "", 0, badInput("%q: bad port", a)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return "", 0, badInput("%q: port %q is not a number from 1 to 65535", a, port)
	}
	host = strings.Trim(host, "[]")
	if host == "" || strings.ContainsAny(host, " /@") {
		return "", 0, badInput("%q is not a host name", a)
	}
	return strings.ToLower(host), n, nil
}

func writeCertReport(w io.Writer, f abi.TLSFacts, v abi.TLSVerdict) {
	fmt.Fprintf(w, "%s:%d\n", safe(f.Host), f.Port)
	if len(f.Chain) > 0 {
		leaf := f.Chain[0]
		fmt.Fprintf(w, "  certificate  %s, issued by %s (%s %d, %s)\n", safe(leaf.Subject), safe(leaf.Issuer), safe(leaf.KeyType), leaf.KeyBits, safe(leaf.SignatureAlgorithm))
		left := (leaf.NotAfter - f.Now) / (24 * 3600 * 1000)
		fmt.Fprintf(w, "  valid        %s .. %s (%d days left)\n", day(leaf.NotBefore), day(leaf.NotAfter), left)
		names := append(append([]string{}, leaf.DNSNames...), leaf.IPs...)
		fmt.Fprintf(w, "  names        %s\n", strings.Join(safeAll(names), ", "))
		var subjects []string
		for _, c := range f.Chain[1:] {
			subjects = append(subjects, safe(c.Subject))
		}
		fmt.Fprintf(w, "  chain sent   %d certificate(s): leaf%s\n", len(f.Chain), prefixJoin(", ", subjects))
	}
	if len(f.Versions) > 0 {
		var vs []string
		for _, p := range f.Versions {
			mark := "no"
			if p.Supported {
				mark = "yes"
			}
			vs = append(vs, "TLS "+safe(p.Version)+" "+mark)
		}
		fs := "forward secret"
		if !f.ForwardSecret {
			fs = "NOT forward secret"
		}
		suite := ""
		if f.CipherSuite != "" {
			suite = fmt.Sprintf("; cipher %s (%s)", safe(f.CipherSuite), fs)
		}
		fmt.Fprintf(w, "  protocols    %s%s\n", strings.Join(vs, " · "), suite)
		fmt.Fprintf(w, "  extras       OCSP stapled %s · SCTs %d · roots %s\n", yesNo(f.OCSPStapled), f.SCTs, safe(f.RootsSource))
	}
	fmt.Fprintf(w, "  iOS          %s\n", platform(v.IOS))
	fmt.Fprintf(w, "  Android      %s\n", platform(v.Android))
	for _, fd := range v.Findings {
		fmt.Fprintf(w, "  %s %s (%s): %s\n", safe(capitalize(fd.Severity)), safe(fd.Check), strings.Join(safeAll(fd.Platforms), ", "), safe(fd.Message))
		fmt.Fprintf(w, "      fix: %s\n", safe(fd.Fix))
	}
	fmt.Fprintln(w)
}

func platform(p abi.PlatformResult) string {
	if p.OK {
		return "ok"
	}
	return "FAIL (" + strings.Join(safeAll(p.Fails), ", ") + ")"
}

func prefixJoin(sep string, list []string) string {
	if len(list) == 0 {
		return ""
	}
	return sep + strings.Join(list, sep)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func day(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02") }

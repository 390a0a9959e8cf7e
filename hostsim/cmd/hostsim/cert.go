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
		fmt.Fprintf(w, "  valid        %s .. %s (%d days left; lifetime %d days)\n", day(leaf.NotBefore), day(leaf.NotAfter), left, lifetimeDays(leaf))
		names := append(append([]string{}, leaf.DNSNames...), leaf.IPs...)
		fmt.Fprintf(w, "  names        %s\n", strings.Join(safeAll(names), ", "))
		fmt.Fprintf(w, "  key usage    %s\n", safe(keyUsage(leaf)))
		var subjects []string
		for _, c := range f.Chain[1:] {
			subjects = append(subjects, safe(c.Subject))
		}
		fmt.Fprintf(w, "  chain sent   %d certificate(s): leaf%s\n", len(f.Chain), prefixJoin(", ", subjects))
	}
	for _, p := range f.Versions {
		fmt.Fprintf(w, "  %-12s %s\n", "TLS "+safe(p.Version), versionLine(p))
	}
	if len(f.Chain) > 0 {
		fmt.Fprintf(w, "  ALPN         %s\n", alpnLine(f.ALPN))
		if s := noSNILine(f); s != "" {
			fmt.Fprintf(w, "  without SNI  %s\n", safe(s))
		}
		fmt.Fprintf(w, "  extras       OCSP stapled %s · %s · roots %s\n", yesNo(f.OCSPStapled), sctLine(f), f.RootsSource)
	}
	for i, c := range v.Clients {
		label := ""
		if i == 0 {
			label = "phones"
		}
		fmt.Fprintf(w, "  %-12s %-14s %s\n", label, c.Name, clientLine(c))
	}
	fmt.Fprintf(w, "  iOS          %s\n", platform(v.IOS))
	fmt.Fprintf(w, "  Android      %s\n", platform(v.Android))
	for _, fd := range v.Findings {
		fmt.Fprintf(w, "  %s %s (%s): %s\n", safe(capitalize(fd.Severity)), safe(fd.Check), strings.Join(safeAll(fd.Platforms), ", "), safe(fd.Message))
		fmt.Fprintf(w, "      fix: %s\n", safe(fd.Fix))
	}
	fmt.Fprintln(w)
}

// versionLine says whether a version is accepted and with which suites.
func versionLine(p abi.TLSVersionProbe) string {
	if !p.Supported {
		if p.Error != "" {
			return "no (" + safe(p.Error) + ")"
		}
		return "no"
	}
	if len(p.Ciphers) == 0 {
		return "yes"
	}
	s := "yes: " + wrapList(p.Ciphers, 3, "\n"+strings.Repeat(" ", 20))
	switch {
	case p.Version == "1.3" && p.Partial:
		s += " (the server's choice: TLS 1.3 suites cannot be offered one by one)"
	case p.Partial:
		s += " (the list may be incomplete: the enumeration was cut short)"
	}
	fs := 0
	for _, c := range p.Ciphers {
		if strings.Contains(c, "DHE_") || strings.HasPrefix(c, "TLS_AES_") || strings.HasPrefix(c, "TLS_CHACHA20_") {
			fs++
		}
	}
	if fs == 0 {
		s += " [no forward secrecy]"
	}
	return s
}

// wrapList joins items, perLine to a line.
func wrapList(items []string, perLine int, sep string) string {
	var b strings.Builder
	for i, it := range items {
		switch {
		case i == 0:
		case i%perLine == 0:
			b.WriteString("," + sep)
		default:
			b.WriteString(", ")
		}
		b.WriteString(it)
	}
	return b.String()
}

func alpnLine(alpn string) string {
	switch alpn {
	case "h2":
		return "h2 (HTTP/2: wx.request's enableHttp2 can use it)"
	case "":
		return "none (HTTP/1.1 only: enableHttp2 has no effect)"
	}
	return alpn + " (no h2: enableHttp2 has no effect)"
}

func noSNILine(f abi.TLSFacts) string {
	n := f.NoSNI
	switch {
	case n == nil:
		return ""
	case n.Error != "":
		return "no certificate (" + n.Error + "); phones send SNI"
	case n.SameCert:
		return "the same certificate"
	case n.HostnameMatch:
		return "another certificate, also valid for " + f.Host + " (" + n.Subject + ")"
	}
	return n.Subject + ", not valid for " + f.Host + ": clients that send no SNI fail (phones send it)"
}

func sctLine(f abi.TLSFacts) string {
	embedded := f.Chain[0].SCTs
	s := fmt.Sprintf("SCTs %d (%d embedded, %d in the handshake)", f.SCTs, embedded, f.SCTs-embedded)
	if f.RootsSource != "" && f.RootsSource != "system" {
		s += ", not judged: private roots"
	}
	return s
}

func keyUsage(c abi.CertFacts) string {
	if c.NoExtKeyUsage {
		return "no extended key usage extension"
	}
	return strings.Join(c.ExtKeyUsage, ", ")
}

// lifetimeDays is a certificate's validity period in days, notBefore
// through notAfter inclusive, a started day counting.
func lifetimeDays(c abi.CertFacts) int64 {
	const dayMs = 24 * 3600 * 1000
	return (c.NotAfter - c.NotBefore + 1000 + dayMs - 1) / dayMs
}

// clientLine is one phone generation's row.
func clientLine(c abi.ClientResult) string {
	status := "ok  "
	switch {
	case !c.OK && !c.Judged:
		status = "fails"
	case !c.OK:
		status = "FAIL " + strings.Join(c.Fails, ", ")
	}
	var parts []string
	if c.Protocol != "" {
		p := "TLS " + c.Protocol
		if !c.ForwardSecret {
			p += " without forward secrecy"
		}
		parts = append(parts, p)
	}
	if c.Note != "" {
		parts = append(parts, c.Note)
	}
	if len(parts) == 0 {
		return status
	}
	return status + "  " + strings.Join(parts, "; ")
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

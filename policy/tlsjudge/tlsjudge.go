// Package tlsjudge applies R12 (certificates and TLS) to the facts a host
// gathered about a server (abi.TLSFacts) and says, per platform, whether the
// mini-program client will talk to it, what fails and how to fix it.
//
// It judges only: gathering needs sockets and a root store and stays in the
// host (hostsim natively, the browser from what it can observe).
package tlsjudge

import (
	"fmt"
	"strings"
	"time"

	"mpnet/abi"
)

// ErrMsg is the callback's errMsg when a platform refuses the server's TLS.
const ErrMsg = "request:fail ssl hand shake error"

// ExpirySoon is how close to NotAfter a certificate gets a warning.
const ExpirySoon = 30 * 24 * time.Hour

var (
	both    = []string{"ios", "android"}
	iosOnly = []string{"ios"}
	android = []string{"android"}
)

// Judge returns the R12 verdict for facts.
func Judge(f abi.TLSFacts) abi.TLSVerdict {
	v := abi.TLSVerdict{Host: f.Host, Port: f.Port, Findings: []abi.TLSFinding{}}
	add := func(check, severity string, platforms []string, msg, fix string) {
		v.Findings = append(v.Findings, abi.TLSFinding{Rule: "R12", Check: check, Severity: severity, Platforms: platforms, Message: "[R12] " + msg, Fix: fix})
	}
	name := f.Host
	if f.Port != 0 && f.Port != 443 {
		name = fmt.Sprintf("%s:%d", f.Host, f.Port)
	}
	switch {
	case f.Error != "" && len(f.Chain) == 0:
		add("connect", "error", both, fmt.Sprintf("%s: no TLS session could be made: %s", name, f.Error),
			"check that the server is reachable on that port and speaks TLS (https/wss), not plain HTTP")
		errMsg := "request:fail " + shortErr(f.Error)
		if strings.Contains(strings.ToLower(f.Error), "timeout") || strings.Contains(strings.ToLower(f.Error), "timed out") {
			errMsg = "request:fail timeout"
		}
		return finish(v, errMsg)
	case len(f.Chain) == 0:
		add("connect", "error", both, fmt.Sprintf("%s sent no certificate", name), "configure a certificate on the server")
		return finish(v, ErrMsg)
	}
	leaf := f.Chain[0]
	now := f.Now

	// Validity of every certificate the server sent.
	for i, c := range f.Chain {
		what := "the certificate"
		if i > 0 {
			what = fmt.Sprintf("the chain's certificate %q", c.Subject)
		}
		switch {
		case now < c.NotBefore:
			add("validity", "error", both, fmt.Sprintf("%s of %s is not valid yet: valid from %s", what, name, day(c.NotBefore)),
				"check the server's clock and the certificate's issue date; deploy a certificate that is valid now")
		case now > c.NotAfter:
			add("validity", "error", both, fmt.Sprintf("%s of %s expired on %s", what, name, day(c.NotAfter)),
				"renew the certificate and deploy it with its full chain")
		case i == 0 && c.NotAfter-now < ExpirySoon.Milliseconds():
			add("expiry-soon", "warning", both, fmt.Sprintf("the certificate of %s expires on %s, in %d days", name, day(c.NotAfter), (c.NotAfter-now)/(24*3600*1000)),
				"renew it before it expires (automate renewal)")
		}
	}
	if !f.HostnameMatch {
		msg := fmt.Sprintf("the certificate of %s is not valid for %s (it covers %s)", name, f.Host, covers(leaf))
		add("hostname", "error", both, msg, fmt.Sprintf("deploy a certificate whose names include %s", f.Host))
	}
	chainMissing := !leaf.SelfSigned && !f.IssuerSent && !f.IssuerIsRoot
	switch {
	case leaf.SelfSigned:
		add("self-signed", "error", iosOnly, fmt.Sprintf("%s presents a self-signed certificate: iOS refuses self-signed certificates", name),
			"use a certificate from a CA the phones trust (a free ACME CA works)")
		if !f.Trusted {
			add("trust", "error", android, fmt.Sprintf("%s's self-signed certificate is not trusted by the system roots", name),
				"use a certificate from a CA the phones trust")
		}
	case chainMissing:
		aia := ""
		if len(leaf.AIAIssuers) > 0 {
			aia = fmt.Sprintf(" (the certificate names its issuer at %s, but the client does not fetch it)", leaf.AIAIssuers[0])
		}
		add("chain", "error", both, fmt.Sprintf("%s does not send the intermediate certificate that issued its certificate (%q)%s: the chain is incomplete", name, leaf.Issuer, aia),
			"configure the full chain on the server: the certificate followed by every intermediate (e.g. nginx ssl_certificate fullchain.pem; Apache SSLCertificateFile with the chain appended)")
	case !f.Trusted && strings.Contains(f.TrustError, "expired or is not yet valid"):
		// Only a validity period stands in the way: reported under validity.
	case !f.Trusted:
		add("trust", "error", both, fmt.Sprintf("%s's certificate chain does not lead to a root the phones trust (%s): %s", name, rootsName(f.RootsSource), f.TrustError),
			"use a certificate from a CA in the iOS and Android root stores")
	}

	// TLS versions.
	supported := map[string]bool{}
	for _, p := range f.Versions {
		if p.Supported {
			supported[p.Version] = true
		}
	}
	if len(f.Versions) > 0 {
		switch {
		case !supported["1.2"] && supported["1.3"]:
			add("tls-version", "warning", android, fmt.Sprintf("%s accepts only TLS 1.3: some older Android phones speak at most TLS 1.2", name),
				"enable TLS 1.2 next to 1.3 (e.g. nginx ssl_protocols TLSv1.2 TLSv1.3)")
		case !supported["1.2"] && !supported["1.3"]:
			var old []string
			for _, ver := range []string{"1.0", "1.1"} {
				if supported[ver] {
					old = append(old, "TLS "+ver)
				}
			}
			what := "no TLS version the probe tried"
			if len(old) > 0 {
				what = "only " + strings.Join(old, " and ")
			}
			add("tls-version", "error", both, fmt.Sprintf("%s accepts %s: the client requires TLS 1.2 or later (iOS ATS too)", name, what),
				"enable TLS 1.2 and 1.3 (e.g. nginx ssl_protocols TLSv1.2 TLSv1.3)")
		}
	}
	// iOS App Transport Security.
	if f.CipherSuite != "" && !f.ForwardSecret {
		add("ats-cipher", "error", iosOnly, fmt.Sprintf("%s negotiates %s, a cipher without forward secrecy: iOS ATS requires ECDHE", name, f.CipherSuite),
			"enable ECDHE cipher suites (e.g. ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256) and prefer them")
	}
	for i, c := range f.Chain {
		if i > 0 && c.SelfSigned {
			continue // a root sent along is not checked by ATS
		}
		if weakSignature(c.SignatureAlgorithm) {
			what := "the certificate"
			if i > 0 {
				what = fmt.Sprintf("the intermediate %q", c.Subject)
			}
			add("ats-signature", "error", iosOnly, fmt.Sprintf("%s of %s is signed with %s: iOS ATS requires SHA-256 or stronger", what, name, c.SignatureAlgorithm),
				"reissue the certificate with a SHA-256 (or stronger) signature")
		}
	}
	switch {
	case leaf.KeyType == "RSA" && leaf.KeyBits < 2048:
		add("ats-key", "error", iosOnly, fmt.Sprintf("the certificate of %s has a %d-bit RSA key: iOS ATS requires at least 2048 bits", name, leaf.KeyBits),
			"reissue the certificate with an RSA 2048+ or ECDSA P-256 key")
	case leaf.KeyType == "ECDSA" && leaf.KeyBits < 256:
		add("ats-key", "error", iosOnly, fmt.Sprintf("the certificate of %s has a %d-bit ECDSA key: iOS ATS requires at least 256 bits", name, leaf.KeyBits),
			"reissue the certificate with an ECDSA P-256 (or larger) key")
	}
	return finish(v, ErrMsg)
}

// finish computes the per-platform results.
func finish(v abi.TLSVerdict, errMsg string) abi.TLSVerdict {
	v.IOS, v.Android = abi.PlatformResult{OK: true, Fails: []string{}}, abi.PlatformResult{OK: true, Fails: []string{}}
	for _, f := range v.Findings {
		if f.Severity != "error" {
			continue
		}
		for _, p := range f.Platforms {
			r := &v.IOS
			if p == "android" {
				r = &v.Android
			}
			r.OK = false
			if !contains(r.Fails, f.Check) {
				r.Fails = append(r.Fails, f.Check)
			}
		}
	}
	v.OK = v.IOS.OK && v.Android.OK
	if !v.OK {
		v.ErrMsg = errMsg
	}
	return v
}

func weakSignature(alg string) bool {
	a := strings.ToUpper(alg)
	return strings.Contains(a, "SHA1") || strings.Contains(a, "MD5") || strings.Contains(a, "MD2")
}

func covers(c abi.CertFacts) string {
	names := append(append([]string{}, c.DNSNames...), c.IPs...)
	if len(names) == 0 {
		return "no names, only the subject " + c.Subject
	}
	if len(names) > 5 {
		names = append(names[:5], "...")
	}
	return strings.Join(names, ", ")
}

func rootsName(src string) string {
	if src == "" || src == "system" {
		return "system roots"
	}
	return "roots from " + src
}

func day(ms int64) string { return time.UnixMilli(ms).UTC().Format("2006-01-02") }

func shortErr(s string) string {
	if i := strings.IndexAny(s, "\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

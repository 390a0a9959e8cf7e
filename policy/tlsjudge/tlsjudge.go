// Package tlsjudge applies R12 (certificates and TLS) to the facts a host
// gathered about a server (abi.TLSFacts) and says, per phone generation
// and per platform, whether the mini-program client will talk to it, what
// fails, why, and how to fix it.
//
// It judges only: gathering needs sockets and a root store and stays in the
// host (hostsim natively, the browser through hostsim agent). The phone
// generations are the client profiles of clients.go; a check affects a set
// of them, a platform fails when one of its judged generations does.
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

// Dates of the platform rules (Unix ms, UTC).
const (
	ctSince       = 1539561600000 // 2018-10-15: Apple's CT policy applies to certificates issued after
	ctTableSince  = 1618963200000 // 2021-04-21: Apple's current table of embedded SCTs
	ios13Since    = 1561939200000 // 2019-07-01: iOS 13's EKU and 825-day rules
	apple398Since = 1598918400000 // 2020-09-01: Apple's 398-day limit for public certificates
	dayMs         = 24 * 3600 * 1000
)

// sc081 is the CA/Browser Forum's schedule of maximum lifetimes (ballot
// SC-081): certificates issued from the date on may not be longer.
var sc081 = [...]struct {
	since int64
	days  int64
}{{1868227200000, 47}, {1805068800000, 100}, {1773532800000, 200}}

// judge holds one judgement in progress.
type judge struct {
	f     abi.TLSFacts
	name  string // host, or host:port when the port is not 443
	v     abi.TLSVerdict
	masks []mask // the profiles each finding affects, by finding
	fails [len(profiles)][]string
	notes [len(profiles)][]string
	proto [len(profiles)]string // the version each would negotiate
	fs    mask                  // the profiles that would get forward secrecy
}

// add records a finding affecting the profiles in m. An error fails them;
// a finding that affects only unjudged profiles is not listed (their rows
// say it).
func (j *judge) add(check, severity string, m mask, msg, fix string) {
	for i := range profiles {
		if severity == "error" && m&(1<<i) != 0 && !contains(j.fails[i], check) {
			j.fails[i] = append(j.fails[i], check)
		}
	}
	if m&judgedProfiles == 0 {
		return
	}
	var platforms []string
	if m&judgedProfiles&iosProfiles != 0 {
		platforms = append(platforms, "ios")
	}
	if m&judgedProfiles&androidProfiles != 0 {
		platforms = append(platforms, "android")
	}
	j.v.Findings = append(j.v.Findings, abi.TLSFinding{Rule: "R12", Check: check, Severity: severity, Platforms: platforms, Message: "[R12] " + msg, Fix: fix})
	j.masks = append(j.masks, m)
}

// note adds a remark to the rows of the profiles in m.
func (j *judge) note(m mask, s string) {
	for i := range profiles {
		if m&(1<<i) != 0 {
			j.notes[i] = append(j.notes[i], s)
		}
	}
}

// Judge returns the R12 verdict for facts.
func Judge(f abi.TLSFacts) abi.TLSVerdict {
	j := &judge{f: f, name: f.Host, v: abi.TLSVerdict{Host: f.Host, Port: f.Port, Findings: []abi.TLSFinding{}}}
	if f.Port != 0 && f.Port != 443 {
		j.name = fmt.Sprintf("%s:%d", f.Host, f.Port)
	}
	switch {
	case f.Error != "" && len(f.Chain) == 0:
		j.add("connect", "error", allProfiles, fmt.Sprintf("%s: no TLS session could be made: %s", j.name, f.Error),
			"check that the server is reachable on that port and speaks TLS (https/wss), not plain HTTP")
		errMsg := "request:fail " + shortErr(f.Error)
		if e := strings.ToLower(f.Error); strings.Contains(e, "timeout") || strings.Contains(e, "timed out") {
			errMsg = "request:fail timeout"
		}
		return j.finish(errMsg, false)
	case len(f.Chain) == 0:
		j.add("connect", "error", allProfiles, fmt.Sprintf("%s sent no certificate", j.name), "configure a certificate on the server")
		return j.finish(ErrMsg, false)
	}
	j.validity()
	j.chainAndTrust()
	j.signature()
	j.key()
	j.eku()
	j.lifetime()
	j.transparency()
	j.protocols()
	return j.finish(ErrMsg, true)
}

// validity: every certificate the server sent must be valid now.
func (j *judge) validity() {
	now := j.f.Now
	for i, c := range j.f.Chain {
		what := "the certificate"
		if i > 0 {
			what = fmt.Sprintf("the chain's certificate %q", c.Subject)
		}
		switch {
		case now < c.NotBefore:
			j.add("validity", "error", allProfiles, fmt.Sprintf("%s of %s is not valid yet: valid from %s", what, j.name, day(c.NotBefore)),
				"check the server's clock and the certificate's issue date; deploy a certificate that is valid now")
		case now > c.NotAfter:
			j.add("validity", "error", allProfiles, fmt.Sprintf("%s of %s expired on %s", what, j.name, day(c.NotAfter)),
				"renew the certificate and deploy it with its full chain")
		case i == 0 && c.NotAfter-now < ExpirySoon.Milliseconds():
			j.add("expiry-soon", "warning", allProfiles, fmt.Sprintf("the certificate of %s expires on %s, in %d days", j.name, day(c.NotAfter), (c.NotAfter-now)/dayMs),
				"renew it before it expires (automate renewal)")
		}
	}
	if !j.f.HostnameMatch {
		j.add("hostname", "error", allProfiles, fmt.Sprintf("the certificate of %s is not valid for %s (it covers %s)", j.name, j.f.Host, covers(j.f.Chain[0])),
			fmt.Sprintf("deploy a certificate whose names include %s", j.f.Host))
	}
}

// chainAndTrust: not self-signed (iOS), the complete chain, a trusted root.
func (j *judge) chainAndTrust() {
	f, leaf := j.f, j.f.Chain[0]
	switch {
	case leaf.SelfSigned:
		j.add("self-signed", "error", iosProfiles, fmt.Sprintf("%s presents a self-signed certificate: iOS refuses self-signed certificates", j.name),
			"use a certificate from a CA the phones trust (a free ACME CA works)")
		if !f.Trusted {
			j.add("trust", "error", androidProfiles, fmt.Sprintf("%s's self-signed certificate is not trusted by the system roots", j.name),
				"use a certificate from a CA the phones trust")
		}
	case !f.IssuerSent && !f.IssuerIsRoot:
		msg := fmt.Sprintf("%s does not send the intermediate certificate that issued its certificate (%q): the chain is incomplete. ", j.name, leaf.Issuer)
		if len(leaf.AIAIssuers) > 0 {
			msg += fmt.Sprintf("iPhones usually connect anyway, because iOS fetches a missing intermediate from the certificate's AIA URL (%s); "+
				"Android does not fetch it, so Android phones fail unless they happen to have cached that intermediate: "+
				"this is why it \"works on iPhone, fails on Android\". The client requires the complete chain on every platform", leaf.AIAIssuers[0])
			j.note(having(fAIA), "connects in practice by fetching the intermediate from the AIA URL")
		} else {
			msg += "The certificate names no AIA URL to fetch the intermediate from, so no phone can complete the chain"
		}
		j.add("chain", "error", allProfiles, msg,
			"configure the full chain on the server: the certificate followed by every intermediate (e.g. nginx ssl_certificate fullchain.pem; Apache SSLCertificateFile with the chain appended)")
	case !f.Trusted && strings.Contains(f.TrustError, "expired or is not yet valid"):
		// Only a validity period stands in the way: reported under validity.
	case !f.Trusted && (f.TrustFault == "signature" && j.weak() >= 0 || f.TrustFault == "eku" && j.wrongEKU() >= 0):
		// The chain leads to a trusted root: the fault is reported by its own check.
	case !f.Trusted:
		j.add("trust", "error", allProfiles, fmt.Sprintf("%s's certificate chain does not lead to a root the phones trust (%s): %s", j.name, rootsName(f.RootsSource), f.TrustError),
			"use a certificate from a CA in the iOS and Android root stores")
	}
}

// weak returns the index of the first certificate (roots sent along
// excepted) signed with SHA-1 or MD5, or -1.
func (j *judge) weak() int {
	for i, c := range j.f.Chain {
		if (i == 0 || !c.SelfSigned) && weakSignature(c.SignatureAlgorithm) {
			return i
		}
	}
	return -1
}

// signature: SHA-2 signatures (ATS, iOS 11+, Android 9+).
func (j *judge) signature() {
	i := j.weak()
	if i < 0 {
		return
	}
	c := j.f.Chain[i]
	m := iosProfiles | having(fSHA1)
	what, fix := "the certificate", "reissue the certificate with a SHA-256 (or stronger) signature; the CA does this for free, and the key, names and chain can stay"
	if i > 0 {
		what = fmt.Sprintf("the intermediate %q", c.Subject)
		fix = "deploy the CA's SHA-256 intermediate (ask the CA for its current chain) or reissue the certificate under it"
	}
	msg := fmt.Sprintf("%s of %s is signed with %s: %s refuse SHA-1 and MD5 signatures (iOS ATS requires SHA-256 or stronger; Android refuses SHA-1 since 9), %s still accept it",
		what, j.name, c.SignatureAlgorithm, names(m&judgedProfiles), names(androidProfiles&judgedProfiles&^m))
	if j.f.TrustFault == "signature" {
		msg += "; the chain is otherwise complete and leads to a trusted root"
	}
	j.add("signature", "error", m, msg, fix)
}

// key: ATS wants RSA 2048+ or ECC 256+; Android refuses RSA below 1024.
func (j *judge) key() {
	leaf := j.f.Chain[0]
	switch {
	case leaf.KeyType == "RSA" && leaf.KeyBits < 2048:
		m := iosProfiles
		if leaf.KeyBits < 1024 {
			m = allProfiles
		}
		j.add("ats-key", "error", m, fmt.Sprintf("the certificate of %s has a %d-bit RSA key: iOS ATS requires at least 2048 bits", j.name, leaf.KeyBits),
			"reissue the certificate with an RSA 2048+ or ECDSA P-256 key")
	case leaf.KeyType == "ECDSA" && leaf.KeyBits < 256:
		j.add("ats-key", "error", iosProfiles, fmt.Sprintf("the certificate of %s has a %d-bit ECDSA key: iOS ATS requires at least 256 bits", j.name, leaf.KeyBits),
			"reissue the certificate with an ECDSA P-256 (or larger) key")
	}
}

// wrongEKU returns the index of the first certificate (roots sent along
// excepted) whose extended key usage excludes server authentication, or -1.
func (j *judge) wrongEKU() int {
	for i, c := range j.f.Chain {
		if (i == 0 || !c.SelfSigned) && c.ExtKeyUsage != nil && !contains(c.ExtKeyUsage, "serverAuth") && !contains(c.ExtKeyUsage, "any") {
			return i
		}
	}
	return -1
}

// eku: serverAuth must be allowed everywhere, and present for iOS 13+.
func (j *judge) eku() {
	fix := "reissue the certificate with extendedKeyUsage = serverAuth (openssl: -addext extendedKeyUsage=serverAuth)"
	if i := j.wrongEKU(); i >= 0 {
		c := j.f.Chain[i]
		what := "the certificate"
		if i > 0 {
			what = fmt.Sprintf("the intermediate %q", c.Subject)
			fix = "use an intermediate whose extended key usage allows serverAuth (ask the CA for its TLS chain)"
		}
		j.add("eku", "error", allProfiles, fmt.Sprintf("%s of %s may not be used for TLS servers: its extended key usage is %s, without serverAuth; every phone refuses it",
			what, j.name, strings.Join(c.ExtKeyUsage, ", ")), fix)
		return
	}
	leaf := j.f.Chain[0]
	if leaf.NoExtKeyUsage && !leaf.SelfSigned && leaf.NotBefore >= ios13Since {
		j.add("eku", "error", having(fIOS13), fmt.Sprintf("the certificate of %s has no extended key usage extension: %s require serverAuth in it for certificates issued after 2019-07-01 (%s accept it)",
			j.name, names(having(fIOS13)), names(judgedProfiles&^having(fIOS13))), fix)
	}
}

// public reports whether the chain leads to the system's (public) roots.
func (j *judge) public() bool {
	return (j.f.RootsSource == "" || j.f.RootsSource == "system") && (j.f.Trusted || j.f.TrustFault != "")
}

// lifetimeDays is the validity period as Apple and the CA/Browser Forum
// count it: notBefore through notAfter inclusive, a started day counts.
func lifetimeDays(c abi.CertFacts) int64 {
	return (c.NotAfter - c.NotBefore + 1000 + dayMs - 1) / dayMs
}

// lifetime: iOS 13's 825 days, Apple's 398 days for public certificates,
// and the CA/Browser Forum's schedule (a warning: CAs must not issue
// longer ones; no phone is known to check it).
func (j *judge) lifetime() {
	leaf := j.f.Chain[0]
	if leaf.SelfSigned {
		return
	}
	days, public := lifetimeDays(leaf), j.public()
	fix := "reissue the certificate with a shorter lifetime (at most 397 days; ACME CAs issue 90-day certificates and renew them automatically)"
	switch {
	case leaf.NotBefore >= ios13Since && days > 825:
		j.add("lifetime", "error", having(fIOS13), fmt.Sprintf("the certificate of %s is valid for %d days: %s refuse certificates issued after 2019-07-01 that are valid for more than 825 days, whatever the CA", j.name, days, names(having(fIOS13))), fix)
	case public && leaf.NotBefore >= apple398Since && days > 398:
		j.add("lifetime", "error", having(fIOS13), fmt.Sprintf("the certificate of %s is valid for %d days: Apple's platforms (%s) refuse publicly trusted certificates issued after 2020-09-01 that are valid for more than 398 days", j.name, days, names(having(fIOS13))), fix)
	case public:
		for _, s := range sc081 {
			if leaf.NotBefore >= s.since && days > s.days {
				j.add("lifetime", "warning", allProfiles, fmt.Sprintf("the certificate of %s was issued on %s and is valid for %d days: CAs may no longer issue publicly trusted certificates longer than %d days from %s (CA/Browser Forum ballot SC-081); expect the CA to revoke it", j.name, day(leaf.NotBefore), days, s.days, day(s.since)), fix)
				break
			}
		}
	}
}

// transparency: Apple's CT policy for publicly trusted certificates.
func (j *judge) transparency() {
	leaf := j.f.Chain[0]
	if !j.public() || leaf.SelfSigned || leaf.NotBefore < ctSince {
		return
	}
	days, embedded := lifetimeDays(leaf), leaf.SCTs
	delivered := j.f.SCTs - embedded
	need := int64(2)
	switch {
	case leaf.NotBefore >= ctTableSince && days > 180:
		need = 3
	case leaf.NotBefore < ctTableSince:
		need = 2 + min(3, max(0, (days-457+365)/365)) // under 15 months 2, then one per 12 months, at most 5
	}
	if int64(embedded) >= need || j.f.SCTs >= 2 && delivered >= 1 {
		return
	}
	j.add("ct", "error", having(fCT), fmt.Sprintf("the certificate of %s carries %d embedded SCTs and the server sends %d more: Apple's Certificate Transparency policy wants %d embedded for a %d-day certificate (or 2, one sent in the handshake), so iOS 12.1 and later refuse it",
		j.name, embedded, delivered, need, days), "deploy the certificate exactly as the CA issued it (public CAs embed SCTs), or staple SCTs in the TLS extension or OCSP response")
}

// protocols: the version and suite each phone generation negotiates.
func (j *judge) protocols() {
	f := j.f
	if len(f.Versions) == 0 {
		return
	}
	var server, highest uint8
	var suites [4]uint32
	var listed [4]bool
	for _, p := range f.Versions {
		b := versionBit(p.Version)
		if !p.Supported || b == 0 {
			continue
		}
		server |= b
		if b > highest {
			highest = b
		}
		k := bitIndex(b)
		for _, c := range p.Ciphers {
			suites[k] |= suiteBit(c)
		}
		listed[k] = len(p.Ciphers) > 0 && !p.Partial
	}
	var noVersion, noATS mask
	var noCipher [4]mask // by version
	for i, p := range profiles {
		common := p.vers & server
		if common == 0 {
			noVersion |= 1 << i
			j.notes[i] = append(j.notes[i], fmt.Sprintf("speaks %s; the server accepts only %s", versionNames(p.vers), versionNames(server)))
			continue
		}
		v := highestBit(common)
		k := bitIndex(v)
		j.proto[i] = versions[k]
		fs := false
		switch {
		case v == v13:
			fs = true
		case listed[k]:
			c := suites[k] & p.suites
			if p.flags&fATS != 0 {
				c &= sATS
			}
			fs = c&sFS != 0
			switch {
			case c == 0 && p.flags&fATS != 0:
				noATS |= 1 << i
			case c == 0:
				noCipher[k] |= 1 << i
			}
		case v == highest && f.CipherSuite != "":
			// Facts without cipher lists: only the suite negotiated at
			// the highest version is known.
			fs = f.ForwardSecret
			if p.flags&fATS != 0 && !fs {
				noATS |= 1 << i
			}
		}
		if fs {
			j.fs |= 1 << i
		}
	}
	if noVersion != 0 {
		msg := fmt.Sprintf("%s accepts only %s: %s cannot connect", j.name, versionNames(server), names(noVersion&judgedProfiles))
		fix := "enable TLS 1.2 and 1.3 (e.g. nginx ssl_protocols TLSv1.2 TLSv1.3)"
		switch {
		case server&(v12|v13) == 0:
			msg += ": the client requires TLS 1.2 or later (iOS ATS too)"
		case server&v12 == 0:
			msg += " (they speak at most TLS 1.2): the client needs TLS 1.2 next to 1.3 for older phones"
			fix = "enable TLS 1.2 next to 1.3 (e.g. nginx ssl_protocols TLSv1.2 TLSv1.3)"
		}
		j.add("tls-version", "error", noVersion, msg, fix)
	}
	if noATS != 0 {
		at, list, fs := "TLS 1.2", f.CipherSuite, f.ForwardSecret
		switch k := bitIndex(v12); {
		case listed[k]:
			list, fs = suiteList(f, "1.2"), suites[k]&sFS != 0
		case highest != v12:
			at = "its highest version"
		}
		if !fs {
			list += ", without forward secrecy"
		}
		msg := fmt.Sprintf("under %s %s accepts only %s: none is one of the forward-secret ECDHE suites iOS ATS allows, so %s fail",
			at, j.name, list, names(noATS))
		if ok := iosProfiles &^ noATS &^ noVersion; ok != 0 && server&v13 != 0 {
			msg += fmt.Sprintf(" (%s connect with TLS 1.3)", names(ok))
		}
		j.add("ats-cipher", "error", noATS, msg,
			"enable ECDHE cipher suites for TLS 1.2 (e.g. ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256) and prefer them")
	}
	for k, m := range noCipher {
		if m != 0 {
			j.add("cipher", "error", m, fmt.Sprintf("under TLS %s %s accepts only %s, none of which %s offers: no cipher suite in common", versions[k], j.name, suiteList(f, versions[k]), names(m)),
				"enable the ECDHE AES-GCM suites (ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256) that every phone offers")
		}
	}
}

// suiteList lists the suites the server accepted at version v.
func suiteList(f abi.TLSFacts, v string) string {
	for _, p := range f.Versions {
		if p.Version == v && len(p.Ciphers) > 0 {
			if len(p.Ciphers) > 4 {
				return strings.Join(p.Ciphers[:4], ", ") + ", ..."
			}
			return strings.Join(p.Ciphers, ", ")
		}
	}
	return "no suite the probe knows"
}

// finish computes the platform results and, with clients, the rows.
func (j *judge) finish(errMsg string, clients bool) abi.TLSVerdict {
	v := &j.v
	v.IOS, v.Android = abi.PlatformResult{OK: true, Fails: []string{}}, abi.PlatformResult{OK: true, Fails: []string{}}
	for n, fd := range v.Findings {
		if fd.Severity != "error" {
			continue
		}
		for i, p := range profiles {
			if j.masks[n]&judgedProfiles&(1<<i) == 0 {
				continue
			}
			r := &v.Android
			if p.ios {
				r = &v.IOS
			}
			r.OK = false
			if !contains(r.Fails, fd.Check) {
				r.Fails = append(r.Fails, fd.Check)
			}
		}
	}
	v.OK = v.IOS.OK && v.Android.OK
	if !v.OK {
		v.ErrMsg = errMsg
	}
	if !clients {
		return *v
	}
	for i, p := range profiles {
		c := abi.ClientResult{Name: p.name(), Platform: strings.ToLower(p.platform()), Judged: p.flags&fLegacy == 0,
			Protocol: j.proto[i], ForwardSecret: j.fs&(1<<i) != 0, Fails: append([]string{}, j.fails[i]...)}
		c.OK = len(c.Fails) == 0
		notes := j.notes[i]
		if !c.Judged {
			notes = append(notes, "below the client's TLS 1.2 floor: reported, not judged")
		}
		c.Note = strings.Join(notes, "; ")
		v.Clients = append(v.Clients, c)
	}
	return *v
}

func bitIndex(b uint8) int {
	for i := 0; i < 8; i++ {
		if b == 1<<i {
			return i
		}
	}
	return 0
}

func highestBit(b uint8) uint8 {
	for i := 7; i >= 0; i-- {
		if b&(1<<i) != 0 {
			return 1 << i
		}
	}
	return 0
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

package tlsprobe

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Every suite crypto/tls implements below TLS 1.3 is in exactly one group.
func TestSuiteGroupsCoverEverySuite(t *testing.T) {
	seen := map[uint16]int{}
	for _, g := range suiteGroups {
		for _, id := range g {
			seen[id]++
		}
	}
	for _, id := range allSuites {
		if suiteVersions[id]&(1<<(tls.VersionTLS12&7)) != 0 && suiteVersions[id]&(1<<(tls.VersionTLS13&7)) == 0 && seen[id] != 1 {
			t.Errorf("%s is in %d groups", tls.CipherSuiteName(id), seen[id])
		}
	}
	if n := len(suitesFor(tls.VersionTLS10)); n != 11 {
		t.Errorf("%d suites at TLS 1.0, want 11", n)
	}
	if n := len(suitesFor(tls.VersionTLS12)); n != 22 {
		t.Errorf("%d suites at TLS 1.2, want 22", n)
	}
}

// The probe finds exactly the suites the server accepts, at each version,
// with one handshake per accepted suite plus one per group.
func TestCipherEnumeration(t *testing.T) {
	p := getPKI(t)
	now := time.Now()
	rsaLeaf := issue(t, leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost), p.inter, newKey(t, "rsa2048"))
	serverSuites := []uint16{
		tls.TLS_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
	}
	var handshakes atomic.Int64
	cfg := &tls.Config{
		Certificates: []tls.Certificate{tlsCert(rsaLeaf, p.inter)},
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS13,
		CipherSuites: serverSuites,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			handshakes.Add(1)
			return nil, nil
		},
	}
	addr := serveTLS(t, cfg)
	f := probe(t, addr, Options{})
	if f.Error != "" {
		t.Fatalf("Error %q", f.Error)
	}
	want := map[string][]string{
		"1.0": {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"},
		"1.2": {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
			"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_GCM_SHA384"},
	}
	want["1.1"] = want["1.0"]
	for _, v := range f.Versions {
		switch v.Version {
		case "1.3":
			if !v.Supported || !v.Partial || len(v.Ciphers) != 1 || !strings.HasPrefix(v.Ciphers[0], "TLS_") || v.Ciphers[0] != f.CipherSuite {
				t.Errorf("1.3: %+v (negotiated %s)", v, f.CipherSuite)
			}
		default:
			got := slices.Clone(v.Ciphers)
			slices.Sort(got)
			if !v.Supported || v.Partial || !slices.Equal(got, want[v.Version]) {
				t.Errorf("%s: %+v, want %v", v.Version, v, want[v.Version])
			}
		}
	}
	// Per version below 1.3: the first probe, one per accepted suite found
	// after it, one refusal per group; 1.3: one; without SNI: one.
	groups := func(v uint16) int {
		n := 0
		for _, g := range suiteGroups {
			for _, id := range g {
				if suiteVersions[id]&(1<<(v&7)) != 0 {
					n++
					break
				}
			}
		}
		return n
	}
	wantN := int64(1 + 1 + (1 + 2 + groups(tls.VersionTLS10)) + (1 + 2 + groups(tls.VersionTLS11)) + (1 + 4 + groups(tls.VersionTLS12)))
	if n := handshakes.Load(); n != wantN {
		t.Errorf("%d handshakes, want %d", n, wantN)
	}
}

// ALPN, and the certificate a client without SNI gets.
func TestALPNAndNoSNI(t *testing.T) {
	p := getPKI(t)
	right, other := validLeaf(t, testHost), validLeaf(t, "other.example.test")
	cfg := &tls.Config{
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			c := tlsCert(other, p.inter)
			if h.ServerName == testHost {
				c = tlsCert(right, p.inter)
			}
			return &c, nil
		},
	}
	f := probe(t, serveTLS(t, cfg), Options{})
	if f.ALPN != "h2" || !f.HostnameMatch || f.NoSNI == nil || f.NoSNI.SameCert || f.NoSNI.HostnameMatch || f.NoSNI.Subject != "CN=other.example.test" || f.NoSNI.Error != "" {
		t.Errorf("alpn %q noSNI %+v", f.ALPN, f.NoSNI)
	}
	cfg = &tls.Config{Certificates: []tls.Certificate{tlsCert(right, p.inter)}}
	f = probe(t, serveTLS(t, cfg), Options{})
	if f.ALPN != "" || f.NoSNI == nil || !f.NoSNI.SameCert || !f.NoSNI.HostnameMatch {
		t.Errorf("alpn %q noSNI %+v", f.ALPN, f.NoSNI)
	}
	// A server that refuses clients without SNI.
	cfg = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if h.ServerName == "" {
			return nil, errNoSNI
		}
		c := tlsCert(right, p.inter)
		return &c, nil
	}}
	f = probe(t, serveTLS(t, cfg), Options{})
	if f.NoSNI == nil || f.NoSNI.Error == "" || !f.HostnameMatch {
		t.Errorf("noSNI %+v", f.NoSNI)
	}
}

type sniError struct{}

func (sniError) Error() string { return "no SNI" }

var errNoSNI = sniError{}

// The extended key usages are named; a leaf made for clients only fails
// trust with fault "eku".
func TestExtKeyUsageFault(t *testing.T) {
	p := getPKI(t)
	now := time.Now()
	tmpl := leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost)
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tmpl.UnknownExtKeyUsage = []asn1.ObjectIdentifier{{1, 2, 3, 4}}
	leaf := issue(t, tmpl, p.inter, newKey(t, "ec256"))
	f := probe(t, serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf, p.inter)}}), Options{})
	if f.Trusted || f.TrustFault != "eku" || !slices.Equal(f.Chain[0].ExtKeyUsage, []string{"clientAuth", "1.2.3.4"}) {
		t.Errorf("trusted %v fault %q eku %v (%s)", f.Trusted, f.TrustFault, f.Chain[0].ExtKeyUsage, f.TrustError)
	}
	tmpl = leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost)
	tmpl.ExtKeyUsage = nil
	leaf = issue(t, tmpl, p.inter, newKey(t, "ec256"))
	f = probe(t, serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf, p.inter)}}), Options{})
	if !f.Trusted || f.TrustFault != "" || f.Chain[0].ExtKeyUsage != nil || !f.Chain[0].NoExtKeyUsage {
		t.Errorf("no EKU: trusted %v fault %q eku %#v", f.Trusted, f.TrustFault, f.Chain[0].ExtKeyUsage)
	}
}

// A SHA-1 signature on an otherwise good chain is the trust fault; on a
// chain to an unknown root it is not.
func TestSignatureFault(t *testing.T) {
	p := getPKI(t)
	now := time.Now()
	rsaInter := issue(t, caTemplate("mpnet test RSA intermediate", now.Add(-time.Hour), now.Add(time.Hour)), p.root, newKey(t, "rsa2048"))
	tmpl := leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost)
	tmpl.SignatureAlgorithm = x509.SHA1WithRSA
	leaf := issue(t, tmpl, rsaInter, newKey(t, "rsa2048"))
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf, rsaInter)}})
	f := probe(t, addr, Options{Versions: []uint16{tls.VersionTLS13}})
	if f.Trusted || f.TrustFault != "signature" || f.Chain[0].SignatureAlgorithm != "SHA1-RSA" {
		t.Errorf("trusted %v fault %q (%s)", f.Trusted, f.TrustFault, f.TrustError)
	}
	other := x509.NewCertPool()
	other.AddCert(issue(t, caTemplate("another root", now.Add(-time.Hour), now.Add(time.Hour)), nil, newKey(t, "ec256")).x509)
	f = probe(t, addr, Options{Versions: []uint16{tls.VersionTLS13}, Roots: other, RootsSource: "other.pem"})
	if f.Trusted || f.TrustFault != "" {
		t.Errorf("unknown root: trusted %v fault %q", f.Trusted, f.TrustFault)
	}
}

// SCTs inside a stapled OCSP response are counted.
func TestOCSPSCTs(t *testing.T) {
	list := sctExtension(t, []byte("sct-one"), []byte("sct-two"))
	ext, err := asn1.Marshal(pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 5}, Value: list})
	if err != nil {
		t.Fatal(err)
	}
	resp := append(append([]byte{0x30, 0x82, 0x01, 0x00, 0xa1, 0x03, 0x02, 0x01, 0x00}, ext...), 0x05, 0x00)
	if n := ocspSCTs(resp); n != 2 {
		t.Errorf("%d SCTs, want 2", n)
	}
	crit, _ := asn1.Marshal(pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 5}, Critical: true, Value: list})
	if n := ocspSCTs(crit); n != 2 {
		t.Errorf("critical: %d SCTs, want 2", n)
	}
	for _, bad := range [][]byte{nil, []byte("not ocsp"), ocspSCTExtension, append(slices.Clone(ocspSCTExtension), 0x04, 0x05, 1)} {
		if n := ocspSCTs(bad); n != 0 {
			t.Errorf("%x: %d SCTs", bad, n)
		}
	}
}

package tlsprobe

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mpnet/abi"
)

const testHost = "www.example.test"

// --- certificates ---------------------------------------------------------

type cert struct {
	x509 *x509.Certificate
	der  []byte
	key  crypto.Signer
}

var serial int64 = 100

func newKey(t *testing.T, kind string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "ec256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ec384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ed25519":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue signs tmpl with parent (nil: self-signed) for key.
func issue(t *testing.T, tmpl *x509.Certificate, parent *cert, key crypto.Signer) *cert {
	t.Helper()
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	p, pk := tmpl, key
	if parent != nil {
		p, pk = parent.x509, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, key.Public(), pk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &cert{x509: c, der: der, key: key}
}

func caTemplate(cn string, nb, na time.Time) *x509.Certificate {
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"mpnet test"}},
		NotBefore:             nb,
		NotAfter:              na,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func leafTemplate(nb, na time.Time, names ...string) *x509.Certificate {
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: names[0]},
		NotBefore:             nb,
		NotAfter:              na,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return tmpl
}

// pki is a test root, an intermediate under it, and the roots pool.
type pki struct {
	root, inter *cert
	roots       *x509.CertPool
}

var (
	pkiOnce sync.Once
	testPKI pki
)

func getPKI(t *testing.T) pki {
	pkiOnce.Do(func() {
		now := time.Now()
		root := issue(t, caTemplate("mpnet test root", now.Add(-365*24*time.Hour), now.Add(10*365*24*time.Hour)), nil, newKey(t, "ec256"))
		inter := issue(t, caTemplate("mpnet test intermediate", now.Add(-300*24*time.Hour), now.Add(5*365*24*time.Hour)), root, newKey(t, "ec256"))
		roots := x509.NewCertPool()
		roots.AddCert(root.x509)
		testPKI = pki{root: root, inter: inter, roots: roots}
	})
	if testPKI.root == nil {
		t.Fatal("test PKI not built")
	}
	return testPKI
}

// validLeaf issues an ECDSA leaf for names under the intermediate.
func validLeaf(t *testing.T, names ...string) *cert {
	p := getPKI(t)
	now := time.Now()
	return issue(t, leafTemplate(now.Add(-24*time.Hour), now.Add(90*24*time.Hour), names...), p.inter, newKey(t, "ec256"))
}

func tlsCert(leaf *cert, chain ...*cert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{leaf.der}, PrivateKey: leaf.key, Leaf: leaf.x509}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.der)
	}
	return tc
}

// --- servers --------------------------------------------------------------

// listen returns a listener on 127.0.0.1 closed at the end of the test, and
// a WaitGroup the handlers join.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serveRaw runs handle for every connection until the test ends.
func serveRaw(t *testing.T, handle func(net.Conn)) string {
	ln := listen(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	return ln.Addr().String()
}

// serveTLS runs a TLS server with cfg; every connection completes its
// handshake and is closed when the client closes.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		tc := tls.Server(c, cfg)
		if tc.Handshake() != nil {
			return
		}
		io.Copy(io.Discard, tc)
	})
}

func dialTo(addr string) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func probe(t *testing.T, addr string, opts Options) abi.TLSFacts {
	t.Helper()
	if opts.Roots == nil {
		opts.Roots = getPKI(t).roots
		opts.RootsSource = "test-roots.pem"
	}
	if opts.Dial == nil {
		opts.Dial = dialTo(addr)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	return Probe(context.Background(), testHost, 443, opts)
}

func supported(f abi.TLSFacts) map[string]bool {
	m := map[string]bool{}
	for _, v := range f.Versions {
		m[v.Version] = v.Supported
	}
	return m
}

func versionError(f abi.TLSFacts, version string) string {
	for _, v := range f.Versions {
		if v.Version == version {
			return v.Error
		}
	}
	return "<not probed>"
}

// --- tests ----------------------------------------------------------------

func TestFullChain(t *testing.T) {
	p := getPKI(t)
	leaf := validLeaf(t, testHost)
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf, p.inter)}})
	at := time.Now()
	f := probe(t, addr, Options{Now: func() time.Time { return at }})

	if f.Error != "" {
		t.Fatalf("Error = %q", f.Error)
	}
	if f.Host != testHost || f.Port != 443 || f.Now != at.UnixMilli() || f.RootsSource != "test-roots.pem" {
		t.Errorf("host/port/now/roots = %q %d %d %q", f.Host, f.Port, f.Now, f.RootsSource)
	}
	sup := supported(f)
	if !sup["1.2"] || !sup["1.3"] || sup["1.0"] || sup["1.1"] || len(f.Versions) != 4 {
		t.Errorf("versions = %+v", f.Versions)
	}
	if e := versionError(f, "1.0"); !strings.Contains(e, "protocol version") {
		t.Errorf("1.0 error = %q", e)
	}
	if len(f.Chain) != 2 {
		t.Fatalf("chain length %d", len(f.Chain))
	}
	if !f.Trusted || f.TrustError != "" {
		t.Errorf("Trusted = %v, %q", f.Trusted, f.TrustError)
	}
	if !f.IssuerSent || f.IssuerIsRoot {
		t.Errorf("IssuerSent %v IssuerIsRoot %v", f.IssuerSent, f.IssuerIsRoot)
	}
	if !f.HostnameMatch || f.HostnameError != "" {
		t.Errorf("hostname %v %q", f.HostnameMatch, f.HostnameError)
	}
	if !f.ForwardSecret || !strings.HasPrefix(f.CipherSuite, "TLS_AES_") && !strings.HasPrefix(f.CipherSuite, "TLS_CHACHA20") {
		t.Errorf("suite %q fs %v", f.CipherSuite, f.ForwardSecret)
	}
	if f.OCSPStapled || f.SCTs != 0 {
		t.Errorf("ocsp %v scts %d", f.OCSPStapled, f.SCTs)
	}
	l, i := f.Chain[0], f.Chain[1]
	if l.Subject != "CN="+testHost || l.Issuer != i.Subject || l.IsCA || l.SelfSigned || !i.IsCA || i.SelfSigned {
		t.Errorf("chain = %+v", f.Chain)
	}
	if l.KeyType != "ECDSA" || l.KeyBits != 256 || l.SignatureAlgorithm != "ECDSA-SHA256" {
		t.Errorf("leaf key %s %d %s", l.KeyType, l.KeyBits, l.SignatureAlgorithm)
	}
	sum := sha256.Sum256(leaf.der)
	if l.SHA256 != hex.EncodeToString(sum[:]) || l.NotAfter != leaf.x509.NotAfter.UnixMilli() {
		t.Errorf("leaf sha256/notAfter = %s %d", l.SHA256, l.NotAfter)
	}
}

// TLS 1.2 alone still gives an ECDHE (forward-secret) suite.
func TestTLS12Only(t *testing.T) {
	p := getPKI(t)
	addr := serveTLS(t, &tls.Config{
		Certificates: []tls.Certificate{tlsCert(validLeaf(t, testHost), p.inter)},
		MaxVersion:   tls.VersionTLS12,
	})
	f := probe(t, addr, Options{})
	sup := supported(f)
	if !sup["1.2"] || sup["1.3"] {
		t.Errorf("versions = %+v", f.Versions)
	}
	if !f.ForwardSecret || !strings.Contains(f.CipherSuite, "ECDHE") {
		t.Errorf("suite %q fs %v", f.CipherSuite, f.ForwardSecret)
	}
	if !f.Trusted || !f.IssuerSent {
		t.Errorf("trusted %v issuerSent %v", f.Trusted, f.IssuerSent)
	}
}

func TestLeafOnly(t *testing.T) {
	leaf := validLeaf(t, testHost)
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf)}})
	f := probe(t, addr, Options{})
	if f.Error != "" || len(f.Chain) != 1 {
		t.Fatalf("Error %q chain %d", f.Error, len(f.Chain))
	}
	if f.IssuerSent || f.IssuerIsRoot {
		t.Errorf("IssuerSent %v IssuerIsRoot %v", f.IssuerSent, f.IssuerIsRoot)
	}
	if f.Trusted || !strings.Contains(f.TrustError, "unknown authority") {
		t.Errorf("Trusted %v %q", f.Trusted, f.TrustError)
	}
	if !f.HostnameMatch {
		t.Errorf("hostname should match: %q", f.HostnameError)
	}
}

func TestIssuerIsRoot(t *testing.T) {
	p := getPKI(t)
	now := time.Now()
	leaf := issue(t, leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost), p.root, newKey(t, "ec256"))
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf)}})
	f := probe(t, addr, Options{})
	if !f.Trusted || f.IssuerSent || !f.IssuerIsRoot {
		t.Errorf("Trusted %v (%q) IssuerSent %v IssuerIsRoot %v", f.Trusted, f.TrustError, f.IssuerSent, f.IssuerIsRoot)
	}
}

func TestExpired(t *testing.T) {
	p := getPKI(t)
	now := time.Now()
	t.Run("leaf", func(t *testing.T) {
		leaf := issue(t, leafTemplate(now.Add(-60*24*time.Hour), now.Add(-24*time.Hour), testHost), p.inter, newKey(t, "ec256"))
		addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf, p.inter)}})
		f := probe(t, addr, Options{})
		if f.Error != "" || len(f.Chain) != 2 {
			t.Fatalf("Error %q chain %d", f.Error, len(f.Chain))
		}
		if f.Chain[0].NotAfter >= f.Now {
			t.Errorf("NotAfter %d not before Now %d", f.Chain[0].NotAfter, f.Now)
		}
		if !f.Trusted || !strings.Contains(f.TrustError, "expired") {
			t.Errorf("Trusted %v %q", f.Trusted, f.TrustError)
		}
		if !f.IssuerSent || !f.HostnameMatch {
			t.Errorf("IssuerSent %v hostname %v", f.IssuerSent, f.HostnameMatch)
		}
	})
	t.Run("intermediate", func(t *testing.T) {
		inter := issue(t, caTemplate("expired intermediate", now.Add(-300*24*time.Hour), now.Add(-time.Hour)), p.root, newKey(t, "ec256"))
		leaf := issue(t, leafTemplate(now.Add(-24*time.Hour), now.Add(24*time.Hour), testHost), inter, newKey(t, "ec256"))
		addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf, inter)}})
		f := probe(t, addr, Options{})
		if !f.Trusted || !strings.Contains(f.TrustError, "expired") {
			t.Errorf("Trusted %v %q", f.Trusted, f.TrustError)
		}
	})
	t.Run("untrusted", func(t *testing.T) {
		other := issue(t, caTemplate("other root", now.Add(-72*time.Hour), now.Add(time.Hour)), nil, newKey(t, "ec256"))
		leaf := issue(t, leafTemplate(now.Add(-48*time.Hour), now.Add(-24*time.Hour), testHost), other, newKey(t, "ec256"))
		addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf, other)}})
		f := probe(t, addr, Options{})
		// Untrusted whatever the time: the error names the real reason, and
		// the expiry shows in the chain's NotAfter.
		if f.Trusted || strings.Contains(f.TrustError, "expired") || !strings.Contains(f.TrustError, "unknown authority") {
			t.Errorf("Trusted %v %q", f.Trusted, f.TrustError)
		}
		if !f.IssuerSent || f.IssuerIsRoot || f.Chain[0].NotAfter >= f.Now {
			t.Errorf("IssuerSent %v IssuerIsRoot %v chain %+v", f.IssuerSent, f.IssuerIsRoot, f.Chain)
		}
	})
}

func TestWrongHostname(t *testing.T) {
	p := getPKI(t)
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(validLeaf(t, "other.example.test"), p.inter)}})
	f := probe(t, addr, Options{})
	if f.HostnameMatch || !strings.Contains(f.HostnameError, "other.example.test") || !strings.Contains(f.HostnameError, testHost) {
		t.Errorf("hostname %v %q", f.HostnameMatch, f.HostnameError)
	}
	if !f.Trusted {
		t.Errorf("trust is judged without the host name: %q", f.TrustError)
	}
}

func TestIPHostDefaultDial(t *testing.T) {
	p := getPKI(t)
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(validLeaf(t, "127.0.0.1"), p.inter)}})
	_, port, _ := net.SplitHostPort(addr)
	portN, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	f := Probe(context.Background(), "127.0.0.1", portN, Options{Roots: p.roots, Timeout: 5 * time.Second})
	if f.Error != "" || !f.HostnameMatch || !f.Trusted {
		t.Errorf("facts = %+v", f)
	}
	if len(f.Chain) == 0 || len(f.Chain[0].IPs) != 1 || f.Chain[0].IPs[0] != "127.0.0.1" {
		t.Errorf("IPs = %+v", f.Chain)
	}
}

func TestSelfSigned(t *testing.T) {
	now := time.Now()
	key := newKey(t, "ec256")
	leaf := issue(t, leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost), nil, key)
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf)}})
	f := probe(t, addr, Options{})
	if len(f.Chain) != 1 || !f.Chain[0].SelfSigned || f.Chain[0].IsCA {
		t.Fatalf("chain = %+v", f.Chain)
	}
	if f.Trusted || f.TrustError == "" || f.IssuerSent || f.IssuerIsRoot || !f.HostnameMatch {
		t.Errorf("facts = %+v", f)
	}
	// The same certificate trusted as a root: its issuer (itself) is a root.
	roots := x509.NewCertPool()
	roots.AddCert(leaf.x509)
	f = probe(t, addr, Options{Roots: roots})
	if !f.Trusted || !f.IssuerIsRoot || f.RootsSource != "" {
		t.Errorf("trusted self-signed: %+v", f)
	}
}

func TestTLS13Only(t *testing.T) {
	p := getPKI(t)
	addr := serveTLS(t, &tls.Config{
		Certificates: []tls.Certificate{tlsCert(validLeaf(t, testHost), p.inter)},
		MinVersion:   tls.VersionTLS13,
	})
	f := probe(t, addr, Options{})
	sup := supported(f)
	if !sup["1.3"] || sup["1.2"] || sup["1.1"] || sup["1.0"] {
		t.Errorf("versions = %+v", f.Versions)
	}
	if e := versionError(f, "1.2"); !strings.Contains(e, "protocol version") {
		t.Errorf("1.2 error = %q", e)
	}
	if f.Error != "" || !f.ForwardSecret || len(f.Chain) != 2 {
		t.Errorf("facts = %+v", f)
	}
}

func TestRSAKeyExchangeOnly(t *testing.T) {
	p := getPKI(t)
	now := time.Now()
	leaf := issue(t, leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost), p.inter, newKey(t, "rsa2048"))
	addr := serveTLS(t, &tls.Config{
		Certificates: []tls.Certificate{tlsCert(leaf, p.inter)},
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
	})
	f := probe(t, addr, Options{})
	if f.Error != "" {
		t.Fatalf("Error %q (%+v)", f.Error, f.Versions)
	}
	if f.CipherSuite != "TLS_RSA_WITH_AES_128_GCM_SHA256" || f.ForwardSecret {
		t.Errorf("suite %q fs %v", f.CipherSuite, f.ForwardSecret)
	}
	if sup := supported(f); !sup["1.2"] || sup["1.3"] {
		t.Errorf("versions = %+v", f.Versions)
	}
	l := f.Chain[0]
	if l.KeyType != "RSA" || l.KeyBits != 2048 || l.SignatureAlgorithm != "ECDSA-SHA256" {
		t.Errorf("leaf key %s %d %s", l.KeyType, l.KeyBits, l.SignatureAlgorithm)
	}
}

// A server that only speaks TLS 1.0 is observed (crypto/tls clients refuse
// 1.0 by default; the probe sets MinVersion explicitly).
func TestTLS10Only(t *testing.T) {
	p := getPKI(t)
	addr := serveTLS(t, &tls.Config{
		Certificates: []tls.Certificate{tlsCert(validLeaf(t, testHost), p.inter)},
		MinVersion:   tls.VersionTLS10,
		MaxVersion:   tls.VersionTLS10,
	})
	f := probe(t, addr, Options{})
	sup := supported(f)
	if !sup["1.0"] || sup["1.1"] || sup["1.2"] || sup["1.3"] {
		t.Errorf("versions = %+v", f.Versions)
	}
	if f.Error != "" || len(f.Chain) != 2 || !f.Trusted || !strings.Contains(f.CipherSuite, "CBC_SHA") {
		t.Errorf("facts = %+v", f)
	}
	if e := versionError(f, "1.2"); !strings.Contains(e, "protocol version") {
		t.Errorf("1.2 error = %q", e)
	}
}

func TestKeyTypes(t *testing.T) {
	p := getPKI(t)
	now := time.Now()
	for _, tc := range []struct {
		kind, typ string
		bits      int
	}{
		{"rsa2048", "RSA", 2048},
		{"ec256", "ECDSA", 256},
		{"ec384", "ECDSA", 384},
		{"ed25519", "Ed25519", 256},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			leaf := issue(t, leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost), p.inter, newKey(t, tc.kind))
			addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(leaf, p.inter)}})
			f := probe(t, addr, Options{Versions: []uint16{tls.VersionTLS12, tls.VersionTLS13}})
			if len(f.Chain) != 2 {
				t.Fatalf("facts = %+v", f)
			}
			if l := f.Chain[0]; l.KeyType != tc.typ || l.KeyBits != tc.bits {
				t.Errorf("key %s %d", l.KeyType, l.KeyBits)
			}
			if !f.Trusted || len(f.Versions) != 2 {
				t.Errorf("facts = %+v", f)
			}
		})
	}
}

func TestStapledOCSPAndSCTs(t *testing.T) {
	p := getPKI(t)
	now := time.Now()
	tmpl := leafTemplate(now.Add(-time.Hour), now.Add(time.Hour), testHost)
	tmpl.ExtraExtensions = []pkix.Extension{{Id: oidSCTList, Value: sctExtension(t, []byte("sct-one"))}}
	tmpl.OCSPServer = []string{"http://ocsp.example.test"}
	tmpl.IssuingCertificateURL = []string{"http://ca.example.test/inter.cer"}
	leaf := issue(t, tmpl, p.inter, newKey(t, "ec256"))
	tc := tlsCert(leaf, p.inter)
	tc.OCSPStaple = []byte("not really an OCSP response")
	tc.SignedCertificateTimestamps = [][]byte{[]byte("sct-a"), []byte("sct-b")}
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tc}})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		f := probe(t, addr, Options{Versions: []uint16{v}})
		if !f.OCSPStapled || f.SCTs != 3 {
			t.Errorf("%s: ocsp %v scts %d", VersionName(v), f.OCSPStapled, f.SCTs)
		}
		if len(f.Chain) != 2 || f.Chain[0].SCTs != 1 || f.Chain[0].OCSPServers[0] != "http://ocsp.example.test" ||
			f.Chain[0].AIAIssuers[0] != "http://ca.example.test/inter.cer" {
			t.Errorf("%s: chain %+v", VersionName(v), f.Chain)
		}
	}
}

func TestHugeChain(t *testing.T) {
	p := getPKI(t)
	chain := []*cert{p.inter}
	for range 30 {
		chain = append(chain, p.root)
	}
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{tlsCert(validLeaf(t, testHost), chain...)}})
	f := probe(t, addr, Options{})
	if len(f.Chain) != MaxChain || !f.Trusted || !f.IssuerSent {
		t.Errorf("chain %d trusted %v (%q) issuerSent %v", len(f.Chain), f.Trusted, f.TrustError, f.IssuerSent)
	}
}

func TestRefused(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	f := Probe(context.Background(), "127.0.0.1", addr.Port, Options{Timeout: 2 * time.Second})
	if f.Error != "connection refused" {
		t.Errorf("Error = %q", f.Error)
	}
	for _, v := range f.Versions {
		if v.Supported || v.Error != "connection refused" {
			t.Errorf("version %+v", v)
		}
	}
	if f.RootsSource != "system" || len(f.Chain) != 0 {
		t.Errorf("facts = %+v", f)
	}
}

func TestGarbage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply []byte
		want  string // prefix of Error
	}{
		{"http", []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), "no TLS: the server answered in plain HTTP"},
		{"binary", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "no TLS: the server did not answer a TLS handshake"},
		{"oversized record", []byte{0x16, 0x03, 0x03, 0xff, 0xff}, "no TLS: the server did not answer a TLS handshake"},
		{"handshake garbage", append([]byte{0x16, 0x03, 0x03, 0x00, 0x40}, bytes.Repeat([]byte{0xee}, 0x40)...), "no TLS version accepted"},
		{"silent close", nil, "connection closed by the server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveRaw(t, func(c net.Conn) {
				c.SetDeadline(time.Now().Add(5 * time.Second))
				c.Read(make([]byte, 512))
				c.Write(tc.reply)
			})
			start := time.Now()
			f := probe(t, addr, Options{Timeout: 2 * time.Second})
			if !strings.HasPrefix(f.Error, tc.want) {
				t.Errorf("Error = %q, want prefix %q (%+v)", f.Error, tc.want, f.Versions)
			}
			if len(f.Versions) != 4 || len(f.Chain) != 0 {
				t.Errorf("facts = %+v", f)
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("took %v", d)
			}
		})
	}
}

// A server sending an endless stream of garbage after a plausible header.
func TestEndlessStream(t *testing.T) {
	addr := serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte{0x16, 0x03, 0x03, 0x40, 0x00})
		buf := bytes.Repeat([]byte{0x16}, 4096)
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	f := probe(t, addr, Options{Timeout: 2 * time.Second})
	if f.Error == "" || len(f.Chain) != 0 {
		t.Errorf("facts = %+v", f)
	}
}

func TestHang(t *testing.T) {
	// Reads the client's hello and never answers.
	addr := serveRaw(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	start := time.Now()
	f := probe(t, addr, Options{Timeout: 300 * time.Millisecond})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("probe took %v", d)
	}
	if f.Error != "timeout after 300ms (TLS handshake)" {
		t.Errorf("Error = %q", f.Error)
	}
	for _, v := range f.Versions {
		if !strings.HasPrefix(v.Error, "timeout after 300ms") {
			t.Errorf("version %+v", v)
		}
	}
}

// A Dial function that ignores its context cannot hold the probe.
func TestDialIgnoringContext(t *testing.T) {
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	start := time.Now()
	f := Probe(context.Background(), testHost, 443, Options{
		Timeout: 300 * time.Millisecond,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			<-hold
			return nil, io.EOF
		},
	})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("probe took %v", d)
	}
	if f.Error != "timeout after 300ms (connect)" {
		t.Errorf("Error = %q", f.Error)
	}
}

func TestDialPanics(t *testing.T) {
	f := Probe(context.Background(), testHost, 443, Options{
		Dial: func(context.Context, string, string) (net.Conn, error) { panic("boom") },
	})
	if !strings.Contains(f.Error, "boom") {
		t.Errorf("Error = %q", f.Error)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	addr := serveRaw(t, func(c net.Conn) { c.Read(make([]byte, 1)) })
	f := Probe(ctx, testHost, 443, Options{Dial: dialTo(addr)})
	if f.Error != "canceled" {
		t.Errorf("Error = %q", f.Error)
	}
}

func TestBadArguments(t *testing.T) {
	if f := Probe(context.Background(), "", 443, Options{}); f.Error != "no host" {
		t.Errorf("empty host: %q", f.Error)
	}
	if f := Probe(context.Background(), testHost, 70000, Options{}); !strings.HasPrefix(f.Error, "invalid port") {
		t.Errorf("bad port: %q", f.Error)
	}
	// An unsupported version is reported, not fatal.
	f := Probe(context.Background(), testHost, 443, Options{
		Versions: []uint16{0x0300, 0x0300},
		Dial: func(context.Context, string, string) (net.Conn, error) {
			c, _ := net.Pipe()
			return c, nil
		},
		Timeout: time.Second,
	})
	if len(f.Versions) != 1 || f.Versions[0].Version != "0x0300" || f.Versions[0].Supported || f.Error == "" {
		t.Errorf("SSL 3.0 probe: %+v", f)
	}
}

func TestSummarize(t *testing.T) {
	a := func(k errKind, m string) attempt { return attempt{kind: k, msg: m} }
	for _, tc := range []struct {
		in   []attempt
		want string
	}{
		{nil, "no TLS version probed"},
		{[]attempt{a(kindTimeout, "timeout after 1s (connect)"), a(kindDial, "connection refused")}, "connection refused"},
		{[]attempt{a(kindTLS, "handshake failure"), a(kindTLS, "handshake failure")}, "no TLS version accepted (handshake failure)"},
		{[]attempt{a(kindTLS, "protocol version not supported"), a(kindClosed, "x"), a(kindTLS, "handshake failure")}, "no TLS version accepted"},
		{[]attempt{a(kindClosed, "closed"), a(kindTimeout, "timeout")}, "timeout"},
		{[]attempt{a(kindTLS, "x"), a(kindCanceled, "canceled")}, "canceled"},
	} {
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("summarize(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// sctExtension builds the SCT list extension value: an OCTET STRING holding
// a uint16-length-prefixed list of uint16-length-prefixed SCTs.
func sctExtension(t *testing.T, scts ...[]byte) []byte {
	t.Helper()
	v, err := asn1.Marshal(sctList(scts...))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sctList(scts ...[]byte) []byte {
	var body []byte
	for _, s := range scts {
		body = append(body, byte(len(s)>>8), byte(len(s)))
		body = append(body, s...)
	}
	return append([]byte{byte(len(body) >> 8), byte(len(body))}, body...)
}

func TestSCTParsing(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 300) // length needs both bytes
	for _, tc := range []struct {
		name string
		list []byte
		want int
	}{
		{"two", sctList([]byte("first sct"), big), 2},
		{"one", sctList([]byte{1}), 1},
		{"empty list", sctList(), 0},
		{"empty sct", sctList([]byte{}), 0},
		{"short", []byte{0}, 0},
		{"outer length too long", append([]byte{0, 10}, sctList([]byte{1})[2:]...), 0},
		{"entry overruns", []byte{0, 3, 0, 5, 1}, 0},
		{"trailing byte", []byte{0, 4, 0, 1, 1, 9}, 0},
	} {
		if got := countSCTList(tc.list); got != tc.want {
			t.Errorf("%s: countSCTList = %d, want %d", tc.name, got, tc.want)
		}
	}
	if got := countSCTExtension(sctExtension(t, []byte("a"), []byte("b"), []byte("c"))); got != 3 {
		t.Errorf("extension: %d", got)
	}
	if got := countSCTExtension(sctList([]byte("not DER"))); got != 0 {
		t.Errorf("not an OCTET STRING: %d", got)
	}
	v := sctExtension(t, []byte("a"))
	if got := countSCTExtension(append(v, 0)); got != 0 {
		t.Errorf("trailing data after the OCTET STRING: %d", got)
	}

	// Through a certificate.
	now := time.Now()
	tmpl := leafTemplate(now, now.Add(time.Hour), testHost)
	tmpl.ExtraExtensions = []pkix.Extension{{Id: oidSCTList, Value: sctExtension(t, []byte("x"), big)}}
	c := issue(t, tmpl, nil, newKey(t, "ec256"))
	if f := CertFactsOf(c.x509); f.SCTs != 2 {
		t.Errorf("CertFactsOf SCTs = %d", f.SCTs)
	}
}

func TestCertFactsOf(t *testing.T) {
	if f := CertFactsOf(nil); f.Subject != "" || f.KeyType != "" {
		t.Errorf("nil: %+v", f)
	}
	p := getPKI(t)
	root := CertFactsOf(p.root.x509)
	if !root.SelfSigned || !root.IsCA || root.Subject != root.Issuer || root.KeyType != "ECDSA" || root.KeyBits != 256 {
		t.Errorf("root: %+v", root)
	}
	if !strings.Contains(root.Subject, "CN=mpnet test root") || root.NotBefore != p.root.x509.NotBefore.UnixMilli() {
		t.Errorf("root: %+v", root)
	}
	inter := CertFactsOf(p.inter.x509)
	if inter.SelfSigned || !inter.IsCA {
		t.Errorf("intermediate: %+v", inter)
	}
	// Same subject as issuer but another key: not self-signed.
	now := time.Now()
	tmpl := caTemplate("x", now, now.Add(time.Hour))
	tmpl.Subject = p.inter.x509.Subject
	same := issue(t, tmpl, p.inter, newKey(t, "ec256"))
	if f := CertFactsOf(same.x509); f.Subject != f.Issuer || f.SelfSigned {
		t.Errorf("same-name child: %+v", f)
	}
	leaf := issue(t, leafTemplate(now, now.Add(time.Hour), "a.example.test", "b.example.test", "::1"), p.inter, newKey(t, "ed25519"))
	f := CertFactsOf(leaf.x509)
	if strings.Join(f.DNSNames, ",") != "a.example.test,b.example.test" || len(f.IPs) != 1 || f.IPs[0] != "::1" {
		t.Errorf("names: %+v", f)
	}
	if f.KeyType != "Ed25519" || f.KeyBits != 256 || f.SignatureAlgorithm != "ECDSA-SHA256" || f.SCTs != 0 {
		t.Errorf("leaf: %+v", f)
	}
}

func TestParseRoots(t *testing.T) {
	p := getPKI(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.root.der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("ignored")})

	check := func(pool *x509.CertPool) {
		t.Helper()
		_, err := p.inter.x509.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			t.Errorf("pool does not hold the root: %v", err)
		}
	}
	pool, err := ParseRoots(write("roots.pem", append(append([]byte("comment\n"), keyPEM...), rootPEM...)))
	if err != nil {
		t.Fatal(err)
	}
	check(pool)
	pool, err = ParseRoots(write("root.der", p.root.der))
	if err != nil {
		t.Fatal(err)
	}
	check(pool)

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.pem", nil, "no certificate found"},
		{"text.pem", []byte("hello\n"), "no certificate found"},
		{"keyonly.pem", keyPEM, "no certificate found"},
		{"bad.pem", append(rootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})...), "certificate 2"},
	} {
		path := write(tc.name, tc.data)
		_, err := ParseRoots(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
	missing := filepath.Join(dir, "missing.pem")
	if _, err := ParseRoots(missing); err == nil || !strings.Contains(err.Error(), missing) || strings.Count(err.Error(), missing) != 1 {
		t.Errorf("missing: %v", err)
	}
}

func TestClip(t *testing.T) {
	s := strings.Repeat("é", maxErrText)
	c := clip(s)
	if len(c) > maxErrText+len("…") || !strings.HasSuffix(c, "…") || !utf8Valid(c) {
		t.Errorf("clip: len %d", len(c))
	}
	if clip("short") != "short" {
		t.Error("clip changed a short text")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// Package tlsprobe gathers the facts of rule R12 (certificates and TLS) about
// one https/wss server: it connects, looks, and fills abi.TLSFacts. It never
// judges: whether the facts are acceptable on iOS or Android is decided by the
// policy module (mpnet_judge_tls), so the browser and the native hosts apply
// the same rules.
//
// # How a probe works
//
// Probe makes one connection per TLS version (by default 1.0, 1.1, 1.2 and
// 1.3, concurrently), each handshake restricted to exactly that version and
// offering every cipher suite crypto/tls implements, including the insecure
// ones (RSA key exchange, 3DES, RC4, CBC-SHA256), so that old servers are
// observed rather than refused. Handshakes use InsecureSkipVerify so they
// complete whatever the certificates are; the certificates are then verified
// separately, and each question (hostname, trust, chain, validity) gets its
// own fact. The connection is closed right after the handshake: no request is
// sent. The probe never fetches AIA issuer URLs nor asks OCSP responders.
//
// The facts come from the handshake at the highest version that succeeded:
//
//   - Chain: the certificates exactly as sent, leaf first, at most MaxChain
//     (16) of them; later ones are ignored everywhere.
//   - CipherSuite, ForwardSecret: the negotiated suite; ForwardSecret is true
//     for TLS 1.3 and, below it, when the suite name contains ECDHE or DHE.
//   - HostnameMatch, HostnameError: leaf.VerifyHostname(host).
//   - Trusted, TrustError: the leaf is verified against the roots (Options.Roots
//     or the system's) for server authentication, with only the other
//     certificates the server sent as intermediates and no host name (the host
//     name is its own fact). Trusted answers "does what was sent chain to a
//     trusted root", independently of validity periods: when verification at
//     Now fails, it is repeated at Now moved into the leaf's validity window
//     and into the window common to every sent certificate, and Trusted is
//     true when one of those succeeds (so the failure at Now was only a
//     matter of validity periods). TrustError is "" when the chain verified
//     at Now; with Trusted it is the error at Now (the chain is trusted but a
//     certificate is outside its validity period); without Trusted it is the
//     error of the last verification, made inside the validity windows, so it
//     names why the chain is untrusted whatever the time (when the windows
//     leave no common time, that is still a validity error). Expiry itself is
//     read from the NotBefore/NotAfter facts of the chain.
//   - IssuerSent: some other sent certificate's subject is the leaf's issuer
//     and its key verifies the leaf's signature. IssuerIsRoot: the leaf
//     verifies directly against the roots with no intermediates (any key
//     usage, validity ignored as above).
//   - OCSPStapled: the server stapled an OCSP response. SCTs: SCTs delivered
//     in the handshake plus those embedded in the leaf.
//
// Error is set only when no version succeeded; it is the most informative of
// the attempts' errors ("connection refused", "timeout after 10s (connect)",
// "no TLS: the server did not answer a TLS handshake (is it plain HTTP?)",
// "no TLS version accepted", ...), with each attempt's own error in Versions.
//
// # Bounds
//
// Every attempt is bounded by Options.Timeout (dial and handshake together)
// and by the caller's context; attempts run concurrently, so a probe takes
// about one Timeout at worst even against a server that accepts and never
// answers, or a Dial function that ignores its context. crypto/tls bounds
// the handshake messages (the certificate message to 256 KiB), and the probe
// considers at most 16 certificates. Panics are recovered and reported as
// errors.
//
// # GODEBUG settings
//
// The probe observes TLS 1.0/1.1 servers and RSA-key-exchange, 3DES and RC4
// suites without any GODEBUG setting: crypto/tls only disables them by
// default, and an explicit MinVersion and CipherSuites list turns them back on
// per connection. Three behaviours are process-wide GODEBUG settings, which
// only a main package (//go:debug lines) or the GODEBUG environment variable
// can change; none is required, each widens what can be observed:
//
//   - //go:debug tlssha1=1 — without it a TLS 1.2 server that signs its key
//     exchange with SHA-1 (rsa_pkcs1_sha1, ecdsa_sha1) fails the handshake;
//     this concerns the handshake signature, not certificate signatures,
//     which are only read from the certificate here.
//   - //go:debug x509negativeserial=1 — without it a certificate with a
//     negative serial number cannot be parsed, so the handshake fails with
//     "failed to parse certificate from server".
//   - //go:debug tlsmaxrsasize=16384 (for example) — without it a server whose
//     certificates hold RSA keys over 8192 bits fails the handshake.
//
// # Platforms
//
// On Linux and the BSDs the verification is Go's own and strictly uses only
// the sent intermediates. On Windows and macOS, when Options.Roots is nil Go
// delegates verification to the platform verifier, which may fetch missing
// intermediates through AIA, so Trusted can be true for an incomplete chain;
// IssuerSent still reports the missing intermediate. Pass an explicit roots
// file (ParseRoots) for Go's strict verification on every platform.
package tlsprobe

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"mpnet/abi"
)

// Limits.
const (
	// DefaultTimeout bounds one connection attempt (dial and handshake).
	DefaultTimeout = 10 * time.Second
	// MaxChain is how many of the certificates a server sends are considered.
	MaxChain = 16
	// maxVersions bounds the distinct versions probed.
	maxVersions = 8
	// maxRootsFile bounds a roots file.
	maxRootsFile = 16 << 20
	// maxErrText bounds an error text copied into the facts.
	maxErrText = 1024
	// grace is how long an attempt whose time is up may take to report its
	// own error before it is abandoned.
	grace = 200 * time.Millisecond
)

// Options configure a probe.
type Options struct {
	// Roots are the trusted roots; nil means the system's.
	Roots *x509.CertPool
	// RootsSource is copied into the facts: "system" or the roots file's
	// name. When empty and Roots is nil, "system" is used.
	RootsSource string
	// Timeout bounds each connection attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Dial opens the TCP connection; nil means a net.Dialer. It lets callers
	// map names to other addresses (like curl --resolve). Probe calls it
	// concurrently, once per version, with network "tcp".
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Versions are the TLS versions to probe (tls.VersionTLS10, ...); nil
	// means TLS 1.0, 1.1, 1.2 and 1.3.
	Versions []uint16
}

// DefaultVersions returns the versions probed when Options.Versions is nil.
func DefaultVersions() []uint16 {
	return []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}
}

// Probe connects to host:port once per TLS version (each handshake
// restricted to exactly that version, with InsecureSkipVerify so the
// handshake completes and the certificates can be examined; verification is
// done separately) and gathers abi.TLSFacts. Host is the name sent as SNI
// and checked against the leaf (an IP address is allowed, an IPv6 one with
// or without brackets). Probe never panics and returns within about
// opts.Timeout (or when ctx ends).
func Probe(ctx context.Context, host string, port int, opts Options) abi.TLSFacts {
	if ctx == nil {
		ctx = context.Background()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	at := now()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	facts := abi.TLSFacts{Host: host, Port: port, Now: at.UnixMilli(), RootsSource: opts.RootsSource}
	if facts.RootsSource == "" && opts.Roots == nil {
		facts.RootsSource = "system"
	}
	name := host
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
	}
	switch {
	case name == "":
		facts.Error = "no host"
		return facts
	case port < 1 || port > 65535:
		facts.Error = "invalid port " + strconv.Itoa(port)
		return facts
	}
	addr := net.JoinHostPort(name, strconv.Itoa(port))

	versions := probeVersions(opts.Versions)
	results := make([]attempt, len(versions))
	var wg sync.WaitGroup
	for i, v := range versions {
		wg.Go(func() {
			results[i] = probeOne(ctx, name, addr, v, timeout, at, opts.Dial)
		})
	}
	wg.Wait()

	best := -1
	for i, r := range results {
		p := abi.TLSVersionProbe{Version: VersionName(r.version), Supported: r.state != nil}
		if r.state == nil {
			p.Error = r.msg
		} else if best < 0 || r.version > results[best].version {
			best = i
		}
		facts.Versions = append(facts.Versions, p)
	}
	if best < 0 {
		facts.Error = summarize(results)
		return facts
	}
	func() {
		defer func() {
			if p := recover(); p != nil {
				facts.Error = clip(fmt.Sprintf("internal error examining the certificates: %v", p))
			}
		}()
		gather(&facts, results[best].state, name, at, opts.Roots)
	}()
	return facts
}

// probeVersions returns the distinct versions to probe, in the given order.
func probeVersions(vs []uint16) []uint16 {
	if vs == nil {
		return DefaultVersions()
	}
	var out []uint16
	for _, v := range vs {
		if !slices.Contains(out, v) && len(out) < maxVersions {
			out = append(out, v)
		}
	}
	return out
}

// VersionName names a TLS version as abi.TLSVersionProbe does: "1.0" ...
// "1.3", else the hexadecimal code.
func VersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "1.0"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}

// allSuites lists every TLS 1.0-1.2 suite crypto/tls implements, secure and
// insecure; an explicit list is what makes crypto/tls offer RSA key
// exchange and 3DES without GODEBUG settings.
var allSuites = func() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		ids = append(ids, s.ID)
	}
	for _, s := range tls.InsecureCipherSuites() {
		ids = append(ids, s.ID)
	}
	return ids
}()

// errKind orders attempt errors from most to least informative for Error.
type errKind int

const (
	kindCanceled errKind = iota // the caller's context ended
	kindDial                    // refused, unreachable, DNS
	kindNotTLS                  // the server answered something else
	kindTLS                     // the server speaks TLS but this handshake failed
	kindTimeout                 // no answer in time
	kindClosed                  // the server closed or reset the connection
	kindOther
)

// attempt is the outcome of one handshake.
type attempt struct {
	version uint16
	state   *tls.ConnectionState // nil on failure
	kind    errKind
	msg     string
}

type phase int

const (
	phaseConnect phase = iota
	phaseHandshake
)

// probeOne makes one handshake at version v. It returns within timeout plus
// grace even when Dial or the connection ignore cancellation; an abandoned
// attempt closes its connection when it finally returns.
func probeOne(ctx context.Context, serverName, addr string, v uint16, timeout time.Duration, at time.Time, dial func(context.Context, string, string) (net.Conn, error)) attempt {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := make(chan attempt, 1)
	var connected atomic.Bool
	go func() {
		defer func() {
			if p := recover(); p != nil {
				ch <- attempt{version: v, kind: kindOther, msg: clip(fmt.Sprintf("internal error: %v", p))}
			}
		}()
		ch <- handshake(ctx, actx, serverName, addr, v, timeout, at, dial, &connected)
	}()
	select {
	case r := <-ch:
		return r
	case <-actx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case r := <-ch:
		return r
	case <-t.C:
		ph := phaseConnect
		if connected.Load() {
			ph = phaseHandshake
		}
		kind, msg := ctxMessage(ctx, timeout, ph)
		return attempt{version: v, kind: kind, msg: msg}
	}
}

func handshake(ctx, actx context.Context, serverName, addr string, v uint16, timeout time.Duration, at time.Time, dial func(context.Context, string, string) (net.Conn, error), connected *atomic.Bool) attempt {
	fail := func(err error, ph phase) attempt {
		kind, msg := classify(ctx, actx, err, timeout, ph)
		return attempt{version: v, kind: kind, msg: msg}
	}
	var conn net.Conn
	var err error
	if dial == nil {
		var d net.Dialer
		conn, err = d.DialContext(actx, "tcp", addr)
	} else {
		conn, err = dial(actx, "tcp", addr)
		if err == nil && conn == nil {
			err = errors.New("dial returned no connection")
		}
	}
	if err != nil {
		return fail(err, phaseConnect)
	}
	defer conn.Close()
	connected.Store(true)
	if d, ok := actx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	cfg := &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, // verification is done separately, see gather
		MinVersion:         v,
		MaxVersion:         v,
		CipherSuites:       allSuites,
		Time:               func() time.Time { return at },
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(actx); err != nil {
		return fail(err, phaseHandshake)
	}
	st := tc.ConnectionState()
	_ = tc.Close()
	return attempt{version: v, state: &st}
}

// ctxMessage describes an attempt stopped by a context.
func ctxMessage(ctx context.Context, timeout time.Duration, ph phase) (errKind, string) {
	switch ctx.Err() {
	case context.Canceled:
		return kindCanceled, "canceled"
	case context.DeadlineExceeded:
		return kindTimeout, "timeout (the caller's deadline passed)"
	}
	where := "connect"
	if ph == phaseHandshake {
		where = "TLS handshake"
	}
	return kindTimeout, fmt.Sprintf("timeout after %s (%s)", timeout, where)
}

// classify phrases an attempt's error briefly.
func classify(ctx, actx context.Context, err error, timeout time.Duration, ph phase) (errKind, string) {
	var ne net.Error
	if ctx.Err() != nil || actx.Err() != nil || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return ctxMessage(ctx, timeout, ph)
	}
	if ph == phaseConnect {
		var dnsErr *net.DNSError
		switch {
		case errors.As(err, &dnsErr):
			if dnsErr.IsNotFound {
				return kindDial, "DNS: no such host"
			}
			return kindDial, clip("DNS: " + dnsErr.Err)
		case errors.Is(err, syscall.ECONNREFUSED):
			return kindDial, "connection refused"
		case errors.Is(err, syscall.EHOSTUNREACH):
			return kindDial, "host unreachable"
		case errors.Is(err, syscall.ENETUNREACH):
			return kindDial, "network unreachable"
		case errors.Is(err, syscall.ECONNRESET):
			return kindDial, "connection reset"
		}
		return kindDial, clip("connect: " + innerMessage(err))
	}
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) {
		if bytes.HasPrefix(rhe.RecordHeader[:], []byte("HTTP/")) {
			return kindNotTLS, "no TLS: the server answered in plain HTTP"
		}
		return kindNotTLS, "no TLS: the server did not answer a TLS handshake (is it plain HTTP?)"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" && oe.Err != nil {
		return kindTLS, clip(strings.TrimPrefix(oe.Err.Error(), "tls: "))
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return kindClosed, "connection closed by the server during the TLS handshake"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED):
		return kindClosed, "connection reset by the server during the TLS handshake"
	}
	msg := innerMessage(err)
	if rest, ok := strings.CutPrefix(msg, "tls: server selected unsupported protocol version "); ok {
		if v, perr := strconv.ParseUint(strings.TrimSpace(rest), 16, 16); perr == nil {
			return kindTLS, "protocol version not supported (the server chose " + tlsName(uint16(v)) + ")"
		}
		return kindTLS, "protocol version not supported"
	}
	if strings.HasPrefix(msg, "tls: ") {
		return kindTLS, clip(strings.TrimPrefix(msg, "tls: "))
	}
	return kindOther, clip(msg)
}

// tlsName names a protocol version in prose.
func tlsName(v uint16) string {
	if v == 0x0300 {
		return "SSL 3.0"
	}
	return "TLS " + VersionName(v)
}

// innerMessage drops the net.OpError and os.SyscallError wrappers (which
// repeat addresses) and a "local error: " prefix.
func innerMessage(err error) string {
	for {
		switch e := err.(type) {
		case *net.OpError:
			if e.Err == nil {
				return e.Error()
			}
			err = e.Err
			continue
		case *os.SyscallError:
			if e.Err == nil {
				return e.Error()
			}
			err = e.Err
			continue
		}
		return err.Error()
	}
}

// summarize picks the Error of a probe where no version succeeded.
func summarize(rs []attempt) string {
	if len(rs) == 0 {
		return "no TLS version probed"
	}
	top := 0
	for i, r := range rs {
		if r.kind < rs[top].kind {
			top = i
		}
	}
	if rs[top].kind != kindTLS {
		return rs[top].msg
	}
	msg := rs[top].msg
	for _, r := range rs {
		if r.kind == kindTLS && r.msg != msg {
			return "no TLS version accepted"
		}
	}
	return "no TLS version accepted (" + msg + ")"
}

// gather fills the facts from the chosen handshake.
func gather(facts *abi.TLSFacts, st *tls.ConnectionState, host string, at time.Time, roots *x509.CertPool) {
	facts.CipherSuite = tls.CipherSuiteName(st.CipherSuite)
	facts.ForwardSecret = st.Version == tls.VersionTLS13 ||
		strings.Contains(facts.CipherSuite, "ECDHE") || strings.Contains(facts.CipherSuite, "DHE")
	facts.OCSPStapled = len(st.OCSPResponse) > 0
	facts.SCTs = len(st.SignedCertificateTimestamps)

	certs := st.PeerCertificates
	if len(certs) > MaxChain {
		certs = certs[:MaxChain]
	}
	for _, c := range certs {
		facts.Chain = append(facts.Chain, CertFactsOf(c))
	}
	if len(certs) == 0 || certs[0] == nil {
		return
	}
	leaf := certs[0]
	facts.SCTs += embeddedSCTs(leaf)

	if err := leaf.VerifyHostname(host); err == nil {
		facts.HostnameMatch = true
	} else {
		facts.HostnameError = clip(err.Error())
	}

	sent := certs[1:]
	inter := x509.NewCertPool()
	for _, c := range sent {
		if c != nil {
			inter.AddCert(c)
		}
	}
	times := verifyTimes(leaf, sent, at)
	ok, nowErr, lastErr := verifyAny(leaf, roots, inter, x509.ExtKeyUsageServerAuth, times)
	facts.Trusted = ok
	switch {
	case ok && nowErr != nil:
		facts.TrustError = clip(nowErr.Error()) // trusted, but not at Now
	case !ok && lastErr != nil:
		facts.TrustError = clip(lastErr.Error()) // untrusted whatever the time
	case !ok:
		facts.TrustError = clip(nowErr.Error())
	}

	for _, c := range sent {
		if c != nil && bytes.Equal(c.RawSubject, leaf.RawIssuer) && signedBy(leaf, c) {
			facts.IssuerSent = true
			break
		}
	}
	facts.IssuerIsRoot, _, _ = verifyAny(leaf, roots, x509.NewCertPool(), x509.ExtKeyUsageAny, times)
}

// verifyTimes returns at, then (for retries after a validity error) at
// moved into the leaf's validity window and into the window common to every
// sent certificate.
func verifyTimes(leaf *x509.Certificate, sent []*x509.Certificate, at time.Time) []time.Time {
	times := []time.Time{at}
	add := func(t time.Time) {
		for _, u := range times {
			if u.Equal(t) {
				return
			}
		}
		times = append(times, t)
	}
	lo, hi := leaf.NotBefore, leaf.NotAfter
	if !hi.Before(lo) {
		add(clampTime(at, lo, hi))
	}
	for _, c := range sent {
		if c == nil {
			continue
		}
		if c.NotBefore.After(lo) {
			lo = c.NotBefore
		}
		if c.NotAfter.Before(hi) {
			hi = c.NotAfter
		}
	}
	if !hi.Before(lo) {
		add(clampTime(at, lo, hi))
	}
	return times
}

func clampTime(t, lo, hi time.Time) time.Time {
	if t.Before(lo) {
		return lo
	}
	if t.After(hi) {
		return hi
	}
	return t
}

// verifyAny verifies leaf at times[0] and, if that fails, at the later
// times. It reports success, the error at times[0] and
// the error of the last retry (nil when there was none or it succeeded).
func verifyAny(leaf *x509.Certificate, roots, inter *x509.CertPool, usage x509.ExtKeyUsage, times []time.Time) (ok bool, nowErr, lastErr error) {
	verify := func(t time.Time) error {
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			CurrentTime:   t,
			KeyUsages:     []x509.ExtKeyUsage{usage},
		})
		return err
	}
	nowErr = verify(times[0])
	if nowErr == nil {
		return true, nil, nil
	}
	// Retry whatever the error: an expired intermediate is reported inside
	// an UnknownAuthorityError, and success at another time proves the
	// failure was only a matter of validity periods.
	for _, t := range times[1:] {
		lastErr = verify(t)
		if lastErr == nil {
			return true, nowErr, nil
		}
	}
	return false, nowErr, lastErr
}

// signedBy reports whether parent's key verifies child's signature. It does
// not require parent to be a CA (that is the chain verifier's question). An
// algorithm Go refuses to check (MD5, unknown) counts as signed, since the
// names already match where this is used.
func signedBy(child, parent *x509.Certificate) bool {
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	if err == nil {
		return true
	}
	var ia x509.InsecureAlgorithmError
	return errors.As(err, &ia) || errors.Is(err, x509.ErrUnsupportedAlgorithm)
}

// CertFactsOf converts one certificate. A nil certificate gives zero facts.
func CertFactsOf(c *x509.Certificate) abi.CertFacts {
	if c == nil {
		return abi.CertFacts{}
	}
	f := abi.CertFacts{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		DNSNames:           slices.Clone(c.DNSNames),
		NotBefore:          c.NotBefore.UnixMilli(),
		NotAfter:           c.NotAfter.UnixMilli(),
		SelfSigned:         bytes.Equal(c.RawSubject, c.RawIssuer) && signedBy(c, c),
		IsCA:               c.IsCA,
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		AIAIssuers:         slices.Clone(c.IssuingCertificateURL),
		OCSPServers:        slices.Clone(c.OCSPServer),
		SCTs:               embeddedSCTs(c),
	}
	for _, ip := range c.IPAddresses {
		f.IPs = append(f.IPs, ip.String())
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		f.KeyType = "RSA"
		if k != nil && k.N != nil {
			f.KeyBits = k.N.BitLen()
		}
	case *ecdsa.PublicKey:
		f.KeyType = "ECDSA"
		if k != nil && k.Curve != nil && k.Curve.Params() != nil {
			f.KeyBits = k.Curve.Params().BitSize
		}
	case ed25519.PublicKey:
		f.KeyType = "Ed25519"
		f.KeyBits = 256
	default:
		f.KeyType = c.PublicKeyAlgorithm.String()
	}
	sum := sha256.Sum256(c.Raw)
	f.SHA256 = hex.EncodeToString(sum[:])
	return f
}

// oidSCTList is the X.509 extension holding embedded SCTs (RFC 6962 3.3).
var oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// embeddedSCTs counts the SCTs embedded in c.
func embeddedSCTs(c *x509.Certificate) int {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidSCTList) {
			return countSCTExtension(e.Value)
		}
	}
	return 0
}

// countSCTExtension counts the SCTs in the value of the SCT list extension:
// a DER OCTET STRING holding a TLS-encoded SignedCertificateTimestampList
// (a uint16-length-prefixed list of uint16-length-prefixed SCTs). Anything
// malformed counts as 0.
func countSCTExtension(value []byte) int {
	var list []byte
	rest, err := asn1.Unmarshal(value, &list)
	if err != nil || len(rest) != 0 {
		return 0
	}
	return countSCTList(list)
}

// countSCTList counts the entries of a TLS-encoded
// SignedCertificateTimestampList; malformed input counts as 0.
func countSCTList(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	n := int(b[0])<<8 | int(b[1])
	b = b[2:]
	if n != len(b) || n == 0 {
		return 0
	}
	count := 0
	for len(b) > 0 {
		if len(b) < 2 {
			return 0
		}
		l := int(b[0])<<8 | int(b[1])
		if l == 0 || 2+l > len(b) {
			return 0
		}
		b = b[2+l:]
		count++
	}
	return count
}

// ParseRoots reads a file of root certificates: PEM "CERTIFICATE" blocks
// (other blocks are skipped), or a single DER certificate or DER sequence.
// Errors name the file, and say so when it holds no certificate.
func ParseRoots(path string) (*x509.CertPool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("roots file %s: %w", path, pathless(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRootsFile+1))
	if err != nil {
		return nil, fmt.Errorf("roots file %s: %w", path, pathless(err))
	}
	if len(data) > maxRootsFile {
		return nil, fmt.Errorf("roots file %s: larger than %d MiB", path, maxRootsFile>>20)
	}
	pool := x509.NewCertPool()
	n, blocks := 0, 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks++
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("roots file %s: certificate %d (PEM block %d): %v", path, n+1, blocks, err)
		}
		pool.AddCert(c)
		n++
	}
	if blocks == 0 && len(data) > 0 {
		if certs, err := x509.ParseCertificates(data); err == nil {
			for _, c := range certs {
				pool.AddCert(c)
				n++
			}
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("roots file %s: no certificate found (expected PEM \"CERTIFICATE\" blocks)", path)
	}
	return pool, nil
}

// pathless drops the *fs.PathError wrapper, whose path the caller already
// names.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// clip bounds a text copied into the facts, on a rune boundary.
func clip(s string) string {
	if len(s) <= maxErrText {
		return s
	}
	cut := maxErrText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

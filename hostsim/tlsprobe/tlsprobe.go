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
// observed rather than refused, and ALPN "h2" and "http/1.1". Handshakes use
// InsecureSkipVerify so they complete whatever the certificates are; the
// certificates are then verified separately, and each question (hostname,
// trust, chain, validity) gets its own fact. The connection is closed right
// after the handshake: no request is sent. The probe never fetches AIA issuer
// URLs nor asks OCSP responders.
//
// # Cipher suites
//
// For every version below 1.3 that the server accepts, the probe then
// enumerates the suites it accepts among crypto/tls's 22: they are split
// into six groups by key exchange, authentication and cipher (ECDHE-ECDSA
// AEAD, ECDHE-ECDSA CBC/RC4, the same two for ECDHE-RSA, RSA key exchange
// AEAD and CBC/3DES/RC4), and each group is offered again and again without
// the suites already chosen until the server refuses: a version costs one
// handshake per accepted suite plus one per group, the groups run
// concurrently, at most Options.Parallel handshakes at a time. Versions'
// Ciphers list the accepted suites in crypto/tls's order. crypto/tls offers
// every TLS 1.3 suite it implements and has no setting to offer fewer, so
// at TLS 1.3 Ciphers holds only the suite the server chose, and Partial is
// set. Suites crypto/tls does not implement (DHE, CCM, ARIA, Camellia,
// ECDSA-3DES, ...) are never seen; see docs/RATIONALE.md.
//
// A handshake without SNI (when the host is a name) tells which
// certificate a client that sends none would get (NoSNI).
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
//   - TrustFault: when Trusted is false, "eku" if the chain verifies once
//     server authentication is not required of its extended key usages, or
//     "signature" if the certificates up to the last one signed with SHA-1
//     or MD5 each carry their issuer's signature (of the weak hash) and that
//     issuer verifies to the roots.
//   - OCSPStapled: the server stapled an OCSP response. SCTs: SCTs delivered
//     in the handshake (the TLS extension and a stapled OCSP response) plus
//     those embedded in the leaf.
//   - ALPN: the protocol the server chose.
//
// Error is set only when no version succeeded; it is the most informative of
// the attempts' errors ("connection refused", "timeout after 10s (connect)",
// "no TLS: the server did not answer a TLS handshake (is it plain HTTP?)",
// "no TLS version accepted", ...), with each attempt's own error in Versions.
//
// # Bounds
//
// Every attempt is bounded by Options.Timeout (dial and handshake together)
// and by the caller's context; the version probes run concurrently, and the
// enumeration that follows has one more Timeout in all, so a probe takes
// about two Timeouts at worst even against a server that accepts and never
// answers, or a Dial function that ignores its context. A probe makes at
// most 1 + 4 + (22+6) + 2×(11+3) = 61 handshakes (TLS 1.2 has 22 suites in
// six groups, 1.0 and 1.1 have 11 in three), typically a dozen.
// crypto/tls bounds the handshake messages (the certificate message to
// 256 KiB), and the probe considers at most 16 certificates. Panics are recovered and reported as
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
	// Parallel bounds the handshakes in flight at once; 0 means
	// DefaultParallel.
	Parallel int
}

// DefaultParallel is how many handshakes a probe has in flight at most.
const DefaultParallel = 8

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

	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	p := &prober{ctx: ctx, addr: addr, name: name, timeout: timeout, at: at, dial: opts.Dial, sem: make(chan struct{}, parallel)}
	// The enumeration has one more Timeout in all, whatever it finds.
	var cancel context.CancelFunc
	p.ectx, cancel = context.WithTimeout(ctx, 2*timeout+grace)
	defer cancel()

	versions := probeVersions(opts.Versions)
	results := make([]attempt, len(versions))
	suites := make([][]uint16, len(versions))
	partial := make([]bool, len(versions))
	var noSNI attempt
	var wg sync.WaitGroup
	for i, v := range versions {
		wg.Go(func() {
			results[i] = p.handshake(ctx, hello{min: v, max: v, suites: suitesFor(v), alpn: true, sni: name})
			if st := results[i].state; st != nil {
				suites[i], partial[i] = p.enumerate(v, st.CipherSuite)
			}
		})
	}
	askNoSNI := net.ParseIP(name) == nil
	if askNoSNI {
		wg.Go(func() {
			noSNI = p.handshake(ctx, hello{min: tls.VersionTLS10, max: tls.VersionTLS13, suites: allSuites})
		})
	}
	wg.Wait()

	best := -1
	for i, r := range results {
		pr := abi.TLSVersionProbe{Version: VersionName(r.version), Supported: r.state != nil, Partial: partial[i]}
		if r.state == nil {
			pr.Error = r.msg
		} else if best < 0 || r.version > results[best].version {
			best = i
		}
		for _, id := range suites[i] {
			pr.Ciphers = append(pr.Ciphers, tls.CipherSuiteName(id))
		}
		facts.Versions = append(facts.Versions, pr)
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
		if askNoSNI {
			facts.NoSNI = noSNIFacts(noSNI, results[best].state, name)
		}
	}()
	return facts
}

// noSNIFacts compares the leaf served without SNI with the one served with.
func noSNIFacts(r attempt, with *tls.ConnectionState, host string) *abi.NoSNIFacts {
	if r.state == nil || len(r.state.PeerCertificates) == 0 || r.state.PeerCertificates[0] == nil {
		msg := r.msg
		if msg == "" {
			msg = "no certificate"
		}
		return &abi.NoSNIFacts{Error: msg}
	}
	leaf := r.state.PeerCertificates[0]
	n := &abi.NoSNIFacts{Subject: clip(leaf.Subject.String()), HostnameMatch: leaf.VerifyHostname(host) == nil}
	if len(with.PeerCertificates) > 0 && with.PeerCertificates[0] != nil {
		n.SameCert = bytes.Equal(leaf.Raw, with.PeerCertificates[0].Raw)
	}
	return n
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

// suitesFor returns the suites of allSuites valid at version v.
func suitesFor(v uint16) []uint16 {
	var out []uint16
	for _, id := range allSuites {
		if suiteVersions[id]&(1<<(v&7)) != 0 {
			out = append(out, id)
		}
	}
	return out
}

// suiteVersions maps a suite to the versions it is defined for (bit
// v&7 for version v: TLS 1.0 is 0x0301, bit 1).
var suiteVersions = func() map[uint16]uint8 {
	m := map[uint16]uint8{}
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, s := range list {
			for _, v := range s.SupportedVersions {
				m[s.ID] |= 1 << (v & 7)
			}
		}
	}
	return m
}()

// suiteGroups splits the TLS 1.0-1.2 suites for the enumeration: a server
// with one certificate accepts at most the groups of its key type, and
// each group is enumerated on its own, concurrently.
var suiteGroups = [][]uint16{
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA},
	{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA256, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_RC4_128_SHA},
}

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

// prober holds what every handshake of one probe shares.
type prober struct {
	ctx, ectx context.Context // the caller's; the enumeration's (with its deadline)
	addr      string
	name      string // the host, for SNI
	timeout   time.Duration
	at        time.Time
	dial      func(context.Context, string, string) (net.Conn, error)
	sem       chan struct{} // bounds the handshakes in flight
}

// hello is what one handshake offers.
type hello struct {
	min, max uint16
	suites   []uint16
	alpn     bool   // offer h2 and http/1.1
	sni      string // "" sends no server name
}

// enumerate finds the suites the server accepts at version v (below 1.3),
// knowing it chose first from all of them. It reports them in allSuites'
// order, and whether the list may be incomplete.
func (p *prober) enumerate(v, first uint16) ([]uint16, bool) {
	if v >= tls.VersionTLS13 {
		return []uint16{first}, true
	}
	var mu sync.Mutex
	found := map[uint16]bool{first: true}
	partial := false
	var wg sync.WaitGroup
	for _, g := range suiteGroups {
		var offer []uint16
		for _, id := range g {
			if id != first && suiteVersions[id]&(1<<(v&7)) != 0 {
				offer = append(offer, id)
			}
		}
		wg.Go(func() {
			for len(offer) > 0 {
				r := p.handshake(p.ectx, hello{min: v, max: v, suites: offer, sni: p.name})
				if r.state == nil {
					if r.kind != kindTLS && r.kind != kindClosed {
						mu.Lock()
						partial = true // cut short: not the server refusing
						mu.Unlock()
					}
					return
				}
				id := r.state.CipherSuite
				i := slices.Index(offer, id)
				if i < 0 { // crypto/tls refuses a suite it did not offer
					return
				}
				offer = slices.Delete(offer, i, i+1)
				mu.Lock()
				found[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	var out []uint16
	for _, id := range allSuites {
		if found[id] {
			out = append(out, id)
		}
	}
	return out, partial
}

// handshake makes one handshake as h says, within p.timeout (waiting for a
// free slot does not count) and ctx. It returns within timeout plus grace
// even when Dial or the connection ignore cancellation; an abandoned
// attempt closes its connection when it finally returns.
func (p *prober) handshake(ctx context.Context, h hello) attempt {
	select {
	case p.sem <- struct{}{}:
		defer func() { <-p.sem }()
	case <-ctx.Done():
		kind, msg := ctxMessage(ctx, p.timeout, phaseConnect)
		return attempt{version: h.max, kind: kind, msg: msg}
	}
	actx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	ch := make(chan attempt, 1)
	var connected atomic.Bool
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- attempt{version: h.max, kind: kindOther, msg: clip(fmt.Sprintf("internal error: %v", r))}
			}
		}()
		ch <- p.dialAndHandshake(ctx, actx, h, &connected)
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
		kind, msg := ctxMessage(ctx, p.timeout, ph)
		return attempt{version: h.max, kind: kind, msg: msg}
	}
}

func (p *prober) dialAndHandshake(ctx, actx context.Context, h hello, connected *atomic.Bool) attempt {
	fail := func(err error, ph phase) attempt {
		kind, msg := classify(ctx, actx, err, p.timeout, ph)
		return attempt{version: h.max, kind: kind, msg: msg}
	}
	var conn net.Conn
	var err error
	if p.dial == nil {
		var d net.Dialer
		conn, err = d.DialContext(actx, "tcp", p.addr)
	} else {
		conn, err = p.dial(actx, "tcp", p.addr)
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
		ServerName:         h.sni,
		InsecureSkipVerify: true, // verification is done separately, see gather
		MinVersion:         h.min,
		MaxVersion:         h.max,
		CipherSuites:       h.suites,
		Time:               func() time.Time { return p.at },
	}
	if h.alpn {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(actx); err != nil {
		return fail(err, phaseHandshake)
	}
	st := tc.ConnectionState()
	_ = tc.Close()
	return attempt{version: st.Version, state: &st}
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
	facts.SCTs = len(st.SignedCertificateTimestamps) + ocspSCTs(st.OCSPResponse)
	facts.ALPN = clip(st.NegotiatedProtocol)

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
	if !ok {
		facts.TrustFault = trustFault(certs, roots, inter, times)
	}
}

// trustFault names what alone keeps an unverified chain from a trusted
// root (see TLSFacts.TrustFault), or "".
func trustFault(certs []*x509.Certificate, roots, inter *x509.CertPool, times []time.Time) string {
	leaf := certs[0]
	if ok, _, _ := verifyAny(leaf, roots, inter, x509.ExtKeyUsageAny, times); ok {
		return "eku"
	}
	// The last certificate signed with a weak hash, below the roots sent along.
	last := -1
	for i, c := range certs {
		if c != nil && weakHash(c.SignatureAlgorithm) && (i == 0 || !bytes.Equal(c.RawSubject, c.RawIssuer)) {
			last = i
		}
	}
	if last < 0 || last+1 >= len(certs) {
		return ""
	}
	for i := 0; i <= last; i++ { // each link up to there is its issuer's signature
		if certs[i] == nil || certs[i+1] == nil || !bytes.Equal(certs[i].RawIssuer, certs[i+1].RawSubject) || !signedBy(certs[i], certs[i+1]) {
			return ""
		}
	}
	above := x509.NewCertPool()
	for _, c := range certs[last+2:] {
		if c != nil {
			above.AddCert(c)
		}
	}
	if ok, _, _ := verifyAny(certs[last+1], roots, above, x509.ExtKeyUsageAny, verifyTimes(certs[last+1], certs[last+2:], times[0])); ok {
		return "signature"
	}
	return ""
}

func weakHash(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1:
		return true
	}
	return false
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
		ExtKeyUsage:        extKeyUsages(c),
	}
	f.NoExtKeyUsage = f.ExtKeyUsage == nil
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

// ekuNames names the extended key usages crypto/x509 knows.
var ekuNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny: "any", x509.ExtKeyUsageServerAuth: "serverAuth", x509.ExtKeyUsageClientAuth: "clientAuth",
	x509.ExtKeyUsageCodeSigning: "codeSigning", x509.ExtKeyUsageEmailProtection: "emailProtection",
	x509.ExtKeyUsageIPSECEndSystem: "ipsecEndSystem", x509.ExtKeyUsageIPSECTunnel: "ipsecTunnel", x509.ExtKeyUsageIPSECUser: "ipsecUser",
	x509.ExtKeyUsageTimeStamping: "timeStamping", x509.ExtKeyUsageOCSPSigning: "OCSPSigning",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto: "msSGC", x509.ExtKeyUsageNetscapeServerGatedCrypto: "nsSGC",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "msCodeCom", x509.ExtKeyUsageMicrosoftKernelCodeSigning: "msKernelCode",
}

// extKeyUsages lists c's extended key usages by name (unknown ones as
// their OID); nil when c has no such extension.
func extKeyUsages(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := ekuNames[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("eku(%d)", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return out
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

// ocspSCTExtension is the DER encoding of the OID of the SCT list
// extension in an OCSP response (1.3.6.1.4.1.11129.2.4.5, RFC 6962 3.3).
var ocspSCTExtension = []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x05}

// ocspSCTs counts the SCTs in a stapled OCSP response: the extension is
// found by its OID (an Extension's optional critical flag may follow) and
// its value read as the certificate extension's is. Anything malformed
// counts as 0.
func ocspSCTs(resp []byte) int {
	i := bytes.Index(resp, ocspSCTExtension)
	if i < 0 {
		return 0
	}
	rest := resp[i+len(ocspSCTExtension):]
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(rest, &v)
	if err == nil && v.Tag == asn1.TagBoolean {
		_, err = asn1.Unmarshal(rest, &v)
	}
	if err != nil || v.Tag != asn1.TagOctetString || v.Class != asn1.ClassUniversal {
		return 0
	}
	return countSCTExtension(v.Bytes)
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

package tlsprobe_test

// An independent client checks the probe: on every TLS fixture, OpenSSL's
// s_client (Debian's openssl package; scripts/install-deps.sh installs it)
// must see the same protocols, the same cipher suites per version, the same
// chain as sent, the same leaf signature and key size, the same ALPN and the
// same certificate without SNI as tlsprobe reports.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"mpnet/abi"
	"mpnet/hostsim/fixtures"
	"mpnet/hostsim/tlsprobe"
)

// sslNames maps OpenSSL's suite names to the IANA names tlsprobe reports.
func sslNames(t *testing.T) map[string]string {
	out, err := exec.Command("openssl", "ciphers", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0").Output()
	if err != nil {
		t.Fatalf("openssl ciphers: %v", err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "-" {
			m[f[2]] = f[0]
		}
	}
	if len(m) < 20 {
		t.Fatalf("openssl ciphers -stdname gave %d names:\n%s", len(m), out)
	}
	return m
}

var sslFlags = map[string]string{"1.0": "-tls1", "1.1": "-tls1_1", "1.2": "-tls1_2", "1.3": "-tls1_3"}

// sclientTimeout bounds one s_client run whose answer the comparison
// needs. It is no speed target: s_client ends as soon as the handshake is
// done or refused (stdin is empty), so only a server that never answers
// waits this long, and those are compared with noTLSTimeout. On a loaded
// two-core machine, two dozen s_client processes at once took more than
// the 4 s this once was, and the empty output read as "openssl saw no TLS".
var sclientTimeout = 60 * time.Second

// noTLSTimeout bounds the s_client run that confirms a server the probe
// found no TLS on (refused, not TLS, hanging): a timeout there agrees.
const noTLSTimeout = 4 * time.Second

// sclient runs one s_client handshake and returns its output.
func sclient(t *testing.T, addr string, args ...string) string {
	return sclientWithin(t, sclientTimeout, addr, args...)
}

// sclientWithin is sclient with its own timeout. A run the timeout killed
// fails the test when its answer was needed (timeout is sclientTimeout):
// its empty output must not pass for "the server refused".
func sclientWithin(t *testing.T, timeout time.Duration, addr string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", addr}, args...)...)
	cmd.Stdin = strings.NewReader("")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // a refused handshake exits non-zero; the output says why
	if ctx.Err() != nil && timeout == sclientTimeout {
		t.Errorf("openssl s_client -connect %s %s: no answer in %s", addr, strings.Join(args, " "), timeout)
	}
	return out.String()
}

var (
	reCipher = regexp.MustCompile(`(?m)^New, (TLSv[\d.]+|SSLv3), Cipher is (\S+)`)
	reALPN   = regexp.MustCompile(`(?m)^ALPN protocol: (\S+)`)
)

// handshake reports the suite (IANA) a handshake at version v agreed on, "" if none.
func handshake(t *testing.T, names map[string]string, addr, host, v, ciphers string) string {
	args := []string{"-servername", host, sslFlags[v]}
	if v == "1.3" {
		if ciphers != "" {
			args = append(args, "-ciphersuites", ciphers)
		}
	} else {
		args = append(args, "-cipher", ciphers+"@SECLEVEL=0") // TLS 1.0/1.1 and RSA key exchange need level 0
	}
	m := reCipher.FindStringSubmatch(sclient(t, addr, args...))
	if m == nil || m[2] == "(NONE)" {
		return ""
	}
	if n, ok := names[m[2]]; ok {
		return n
	}
	return m[2]
}

// suites enumerates what OpenSSL finds accepted at v (below 1.3): offer
// everything, then everything but what was chosen, until the server refuses.
func suites(t *testing.T, names map[string]string, addr, host, v string) []string {
	rev := map[string]string{}
	for o, n := range names {
		rev[n] = o
	}
	var found []string
	excl := ""
	for i := 0; i < 40; i++ {
		s := handshake(t, names, addr, host, v, "ALL:COMPLEMENTOFALL"+excl+":")
		if s == "" {
			break
		}
		found = append(found, s)
		excl += ":!" + rev[s]
	}
	slices.Sort(found)
	return found
}

// chainSent returns the SHA-256 of each certificate s_client saw, in order.
func chainSent(out string) (sums []string) {
	rest := []byte(out)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return sums
		}
		sum := sha256.Sum256(b.Bytes)
		sums = append(sums, hex.EncodeToString(sum[:]))
	}
}

// reKey reads the key and signature s_client prints for each certificate
// it got ("a:PKEY: rsaEncryption, 2048 (bit); sigalg: RSA-SHA1").
var reKey = regexp.MustCompile(`(?m)^\s+a:PKEY: [^,]+, (\d+) \(bit\); sigalg: (\S+)`)

// goSignature names OpenSSL's signature algorithms the way crypto/x509 does.
var goSignature = map[string]string{
	"RSA-SHA256": "SHA256-RSA", "RSA-SHA384": "SHA384-RSA", "RSA-SHA512": "SHA512-RSA", "RSA-SHA1": "SHA1-RSA",
	"ecdsa-with-SHA256": "ECDSA-SHA256", "ecdsa-with-SHA384": "ECDSA-SHA384", "ecdsa-with-SHA512": "ECDSA-SHA512", "ED25519": "Ed25519",
}

func TestFactsAgreeWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed (Debian: apt-get install openssl; scripts/install-deps.sh does it): the independent comparison is skipped")
	}
	names := sslNames(t)
	set, err := fixtures.Start(fixtures.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	// Starting a process costs tens of ms on a small VM: the fixtures are
	// compared concurrently (t.Run from several goroutines, not t.Parallel,
	// which would allow only GOMAXPROCS at once).
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	for _, f := range set.Faults {
		if f.Scheme != "https" && f.Scheme != "wss" {
			continue // aia: plain HTTP
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t.Run(f.Name, func(t *testing.T) { compareFixture(t, names, set.CA.Pool(), f) })
		})
	}
	wg.Wait()
}

func compareFixture(t *testing.T, names map[string]string, roots *x509.CertPool, f *fixtures.Fault) {
	facts := tlsprobe.Probe(t.Context(), f.Host, 443, tlsprobe.Options{
		Roots: roots, RootsSource: "fixtures", Timeout: 3 * time.Second,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, f.Addr)
		},
	})
	if facts.Error != "" {
		// No TLS session (refused, not TLS, no answer): OpenSSL gets none either.
		if out := sclientWithin(t, noTLSTimeout, f.Addr, "-servername", f.Host); reCipher.MatchString(out) && !strings.Contains(out, "Cipher is (NONE)") {
			t.Errorf("the probe found no TLS (%s), openssl did:\n%s", facts.Error, out)
		}
		return
	}
	compare(t, names, f, facts)
}

func compare(t *testing.T, names map[string]string, f *fixtures.Fault, facts abi.TLSFacts) {
	// The versions are compared concurrently, each on its own handshakes.
	var wg sync.WaitGroup
	for _, p := range facts.Versions {
		wg.Go(func() {
			ours := slices.Clone(p.Ciphers)
			slices.Sort(ours)
			if p.Version == "1.3" {
				s := handshake(t, names, f.Addr, f.Host, "1.3", "")
				if (s != "") != p.Supported {
					t.Errorf("TLS 1.3: openssl %q, probe supported=%v", s, p.Supported)
				}
				// crypto/tls cannot offer fewer suites; OpenSSL can: the one
				// the probe saw must be accepted alone.
				if p.Supported && (len(p.Ciphers) != 1 || handshake(t, names, f.Addr, f.Host, "1.3", p.Ciphers[0]) != p.Ciphers[0]) {
					t.Errorf("TLS 1.3: the probe's %v is not accepted alone by the server", p.Ciphers)
				}
				return
			}
			theirs := suites(t, names, f.Addr, f.Host, p.Version)
			if (len(theirs) > 0) != p.Supported || !slices.Equal(ours, theirs) {
				t.Errorf("TLS %s: probe supported=%v %v, openssl %v", p.Version, p.Supported, ours, theirs)
			}
		})
	}
	wg.Wait()
	top := ""
	for _, p := range facts.Versions {
		if p.Supported {
			top = p.Version
		}
	}
	args := []string{"-servername", f.Host, "-showcerts", "-alpn", "h2,http/1.1", sslFlags[top]}
	if top != "1.3" {
		args = append(args, "-cipher", "ALL:@SECLEVEL=0")
	}
	out := sclient(t, f.Addr, args...)
	sums := chainSent(out)
	var ours []string
	for _, c := range facts.Chain {
		ours = append(ours, c.SHA256)
	}
	if !slices.Equal(sums, ours) || len(sums) == 0 {
		t.Fatalf("chain as sent: openssl %v, probe %v\n%s", sums, ours, out)
	}
	keys := reKey.FindAllStringSubmatch(out, -1)
	if len(keys) != len(facts.Chain) {
		t.Fatalf("openssl printed %d keys for %d certificates:\n%s", len(keys), len(facts.Chain), out)
	}
	for i, k := range keys {
		if c := facts.Chain[i]; goSignature[k[2]] != c.SignatureAlgorithm || k[1] != fmt.Sprint(c.KeyBits) {
			t.Errorf("certificate %d: openssl %s bits %s, probe %d bits %s", i, k[1], k[2], c.KeyBits, c.SignatureAlgorithm)
		}
	}
	alpn := ""
	if m := reALPN.FindStringSubmatch(out); m != nil {
		alpn = m[1]
	}
	if alpn != facts.ALPN {
		t.Errorf("ALPN: openssl %q, probe %q", alpn, facts.ALPN)
	}
	noSNI := chainSent(sclient(t, f.Addr, "-noservername", "-showcerts", sslFlags[top], cipherFlag(top)[0], cipherFlag(top)[1]))
	if facts.NoSNI == nil || len(noSNI) == 0 || (noSNI[0] == ours[0]) != facts.NoSNI.SameCert {
		t.Errorf("without SNI: openssl leaf %v, probe %+v", noSNI, facts.NoSNI)
	}
}

func cipherFlag(v string) [2]string {
	if v == "1.3" {
		return [2]string{"-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"}
	}
	return [2]string{"-cipher", "ALL:@SECLEVEL=0"}
}

package abi

// TLSFacts is what a native host observed about one server's certificates
// and TLS (R12), the input of mpnet_judge_tls. The host gathers facts (it has
// the sockets and the root store); the module judges them, so the browser
// can apply the same rules to what it can observe.
type TLSFacts struct {
	// Host is the name the client connects to (SNI), Port its port.
	Host string `json:"host"`
	Port int    `json:"port"`
	// Now is the probe's time, Unix ms (the module reads no clock).
	Now int64 `json:"now"`
	// Error is set when no TLS session could be made at all (refused,
	// unreachable, timeout, not TLS); the other facts are then partial.
	Error string `json:"error,omitempty"`
	// Versions holds one probe per TLS version tried.
	Versions []TLSVersionProbe `json:"versions,omitempty"`
	// Chain is the certificates the server sent, leaf first, from the
	// handshake at the highest version that succeeded.
	Chain []CertFacts `json:"chain,omitempty"`
	// CipherSuite is the suite negotiated at the highest version (IANA name);
	// ForwardSecret whether it uses (EC)DHE (always true for TLS 1.3).
	CipherSuite   string `json:"cipherSuite,omitempty"`
	ForwardSecret bool   `json:"forwardSecret"`
	// HostnameMatch reports whether the leaf is valid for Host;
	// HostnameError explains a mismatch.
	HostnameMatch bool   `json:"hostnameMatch"`
	HostnameError string `json:"hostnameError,omitempty"`
	// Trusted reports whether the chain verifies to a trusted root using only
	// the intermediates the server sent (no AIA fetching, like the stricter
	// clients); TrustError explains a failure. Roots are the system's plus
	// any the user gave (RootsSource says which).
	Trusted     bool   `json:"trusted"`
	TrustError  string `json:"trustError,omitempty"`
	RootsSource string `json:"rootsSource,omitempty"`
	// IssuerSent reports whether the leaf's issuer is among the certificates
	// the server sent; IssuerIsRoot whether it is a trusted root itself.
	// Neither true means an intermediate is missing from the chain.
	IssuerSent   bool `json:"issuerSent"`
	IssuerIsRoot bool `json:"issuerIsRoot"`
	// OCSPStapled and SCTs describe revocation/transparency data shown.
	// SCTs counts every SCT for the leaf: embedded in it (also in
	// Chain[0].SCTs), sent in the TLS extension and inside a stapled OCSP
	// response.
	OCSPStapled bool `json:"ocspStapled"`
	SCTs        int  `json:"scts"`
	// TrustFault names the one thing that keeps a chain leading to a
	// trusted root from verifying, when there is one: "signature" (a
	// certificate on the way is signed with SHA-1 or MD5, which the
	// verifier refuses) or "eku" (its extended key usage excludes server
	// authentication). Empty when the chain verifies or fails otherwise.
	TrustFault string `json:"trustFault,omitempty"`
	// ALPN is the protocol the server chose when offered "h2" and
	// "http/1.1" at the highest version ("" when it chose none).
	ALPN string `json:"alpn,omitempty"`
	// NoSNI is what a handshake without the server name extension got;
	// nil when it was not tried (an IP address host, or an older host).
	NoSNI *NoSNIFacts `json:"noSNI,omitempty"`
}

// NoSNIFacts describes the certificate a server presents to a client that
// sends no SNI.
type NoSNIFacts struct {
	// Error is set when that handshake failed.
	Error string `json:"error,omitempty"`
	// SameCert: the leaf is the one served with SNI. HostnameMatch: it is
	// valid for the host. Subject is its subject.
	SameCert      bool   `json:"sameCert"`
	HostnameMatch bool   `json:"hostnameMatch"`
	Subject       string `json:"subject,omitempty"`
}

// TLSVersionProbe is the result of the handshakes restricted to one
// version.
type TLSVersionProbe struct {
	Version   string `json:"version"` // "1.0", "1.1", "1.2", "1.3"
	Supported bool   `json:"supported"`
	Error     string `json:"error,omitempty"`
	// Ciphers are the cipher suites (IANA names) the server accepted at
	// this version, in the order found.
	Ciphers []string `json:"ciphers,omitempty"`
	// Partial means Ciphers may lack suites the server accepts: at TLS 1.3
	// (a client cannot offer TLS 1.3 suites one by one with crypto/tls, so
	// it holds the suite the server chose), or when the enumeration was cut
	// short (time, errors).
	Partial bool `json:"partial,omitempty"`
}

// CertFacts describes one certificate.
type CertFacts struct {
	Subject   string   `json:"subject"`
	Issuer    string   `json:"issuer"`
	DNSNames  []string `json:"dnsNames,omitempty"`
	IPs       []string `json:"ips,omitempty"`
	NotBefore int64    `json:"notBefore"` // Unix ms
	NotAfter  int64    `json:"notAfter"`  // Unix ms
	// SelfSigned: issued by itself (subject equals issuer and its own key
	// verifies its signature).
	SelfSigned bool `json:"selfSigned"`
	IsCA       bool `json:"isCA"`
	// SignatureAlgorithm as Go's x509 names it, e.g. "SHA256-RSA", "SHA1-RSA", "ECDSA-SHA256".
	SignatureAlgorithm string `json:"signatureAlgorithm"`
	// KeyType is "RSA", "ECDSA" or "Ed25519"; KeyBits its size.
	KeyType     string   `json:"keyType"`
	KeyBits     int      `json:"keyBits"`
	AIAIssuers  []string `json:"aiaIssuers,omitempty"`
	OCSPServers []string `json:"ocspServers,omitempty"`
	SCTs        int      `json:"scts"` // embedded SCTs
	SHA256      string   `json:"sha256"`
	// ExtKeyUsage lists the extended key usages ("serverAuth",
	// "clientAuth", "any", ... or the OID). NoExtKeyUsage: the certificate
	// has no such extension (false too when the host did not look).
	ExtKeyUsage   []string `json:"extKeyUsage,omitempty"`
	NoExtKeyUsage bool     `json:"noExtKeyUsage,omitempty"`
}

// TLSVerdict is the module's R12 judgement of TLSFacts.
type TLSVerdict struct {
	Host string `json:"host"`
	Port int    `json:"port"`
	// OK is true when both platforms accept the server.
	OK      bool           `json:"ok"`
	IOS     PlatformResult `json:"ios"`
	Android PlatformResult `json:"android"`
	// Findings lists every check that failed or warrants a warning.
	Findings []TLSFinding `json:"findings"`
	// ErrMsg is what a request to this host would call back with on a
	// platform that refuses it ("" when both accept).
	ErrMsg string `json:"errMsg"`
	// Clients holds one result per phone generation (policy/tlsjudge's
	// client profiles), in a fixed order; absent when no TLS session could
	// be made.
	Clients []ClientResult `json:"clients,omitempty"`
}

// ClientResult is the verdict for one phone generation.
type ClientResult struct {
	// Name names the generation ("iOS 13+", "Android 5–6", ...).
	Name     string `json:"name"`
	Platform string `json:"platform"` // "ios" or "android"
	// OK: it passes R12 (it connects and every rule holds).
	OK bool `json:"ok"`
	// Judged is false for generations below the client's own floor
	// (reported only; they never fail the verdict).
	Judged bool `json:"judged"`
	// Protocol is the version it would negotiate ("" when none);
	// ForwardSecret whether a suite it would accept there is (EC)DHE.
	Protocol      string `json:"protocol,omitempty"`
	ForwardSecret bool   `json:"forwardSecret"`
	// Fails names the checks that fail on it; Note says why in one line,
	// or adds what a developer should know.
	Fails []string `json:"fails"`
	Note  string   `json:"note,omitempty"`
}

// PlatformResult is the verdict for one platform.
type PlatformResult struct {
	OK bool `json:"ok"`
	// Fails names the checks that fail on this platform.
	Fails []string `json:"fails"`
}

// TLSFinding is one R12 check that did not pass cleanly.
type TLSFinding struct {
	Rule string `json:"rule"` // always "R12"
	// Check is one of: connect, validity, hostname, trust, chain,
	// self-signed, tls-version, ats-cipher, cipher, signature, ats-key,
	// eku, lifetime, ct, expiry-soon.
	Check     string   `json:"check"`
	Severity  string   `json:"severity"`  // "error" or "warning"
	Platforms []string `json:"platforms"` // "ios", "android"
	Message   string   `json:"message"`
	Fix       string   `json:"fix"`
}

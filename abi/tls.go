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
	OCSPStapled bool `json:"ocspStapled"`
	SCTs        int  `json:"scts"`
}

// TLSVersionProbe is the result of a handshake restricted to one version.
type TLSVersionProbe struct {
	Version   string `json:"version"` // "1.0", "1.1", "1.2", "1.3"
	Supported bool   `json:"supported"`
	Error     string `json:"error,omitempty"`
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
	// self-signed, tls-version, ats-cipher, ats-signature, ats-key, expiry-soon.
	Check     string   `json:"check"`
	Severity  string   `json:"severity"`  // "error" or "warning"
	Platforms []string `json:"platforms"` // "ios", "android"
	Message   string   `json:"message"`
	Fix       string   `json:"fix"`
}

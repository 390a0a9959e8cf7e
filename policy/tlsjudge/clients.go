package tlsjudge

import "strings"

// The client profiles: one per phone generation whose TLS behaviour
// differs in a way R12 can observe. Sources and dates are in
// docs/RATIONALE.md ("Phone generations"); the data is kept compact on
// purpose (it ships in the module).

// suiteNames are the TLS 1.0-1.2 cipher suites a probe can enumerate
// (those crypto/tls implements), IANA names; a profile's suites are bits
// of this table.
var suiteNames = [...]string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",       // 0
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",       // 1
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",         // 2
	"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",         // 3
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", // 4
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",   // 5
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",          // 6
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",          // 7
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",            // 8
	"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",            // 9
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",       // 10
	"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",         // 11
	"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",           // 12
	"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",              // 13
	"TLS_ECDHE_RSA_WITH_RC4_128_SHA",                // 14
	"TLS_RSA_WITH_AES_128_GCM_SHA256",               // 15
	"TLS_RSA_WITH_AES_256_GCM_SHA384",               // 16
	"TLS_RSA_WITH_AES_128_CBC_SHA",                  // 17
	"TLS_RSA_WITH_AES_256_CBC_SHA",                  // 18
	"TLS_RSA_WITH_AES_128_CBC_SHA256",               // 19
	"TLS_RSA_WITH_3DES_EDE_CBC_SHA",                 // 20
	"TLS_RSA_WITH_RC4_128_SHA",                      // 21
}

const (
	sEcdheGCM   = 0xF         // ECDHE AES-GCM
	sChaCha     = 0x30        // ECDHE ChaCha20-Poly1305
	sEcdheCBC   = 0x3C0       // ECDHE AES-CBC-SHA
	sEcdheOld   = 0x7000      // ECDHE 3DES and RC4
	sRSAGCM     = 3 << 15     // RSA key exchange AES-GCM
	sRSACBC     = 3 << 17     // RSA key exchange AES-CBC-SHA
	sRSAOld     = 3 << 20     // RSA key exchange 3DES and RC4
	sFS         = 0x7FFF      // every ECDHE suite: forward secret
	sATS        = 0xF | 0xDC0 // the ECDHE suites ATS allows: GCM, CBC-SHA (not ECDHE-RSA-AES256-CBC-SHA), AES128-CBC-SHA256; no ChaCha
	sAndroid44  = sEcdheCBC | sEcdheOld | sRSACBC | sRSAOld
	sAndroid5   = sEcdheGCM | sEcdheCBC | 0x6000 | sRSAGCM | sRSACBC | 1<<21 // RC4 enabled until API 23
	sAndroid7   = sEcdheGCM | sChaCha | sEcdheCBC | sRSAGCM | sRSACBC
	v10, v11    = 1, 2
	v12, v13    = 4, 8
	allVersions = v10 | v11 | v12 | v13
)

// Profile flags.
const (
	fLegacy uint8 = 1 << iota // below the client's own TLS 1.2 floor: reported, never judged
	fATS                      // iOS App Transport Security (TLS 1.2+, its ECDHE suites, RSA 2048/ECC 256, SHA-2)
	fAIA                      // fetches a missing intermediate from the certificate's AIA URL
	fSHA1                     // refuses SHA-1 (and MD5) signed certificates
	fIOS13                    // iOS 13's certificate rules: serverAuth EKU, 825 days; Apple's 398 days
	fCT                       // Apple's Certificate Transparency policy (iOS 12.1 and later)
)

// profile is one phone generation: which TLS versions and suites it
// offers, and which certificate rules it applies.
type profile struct {
	ios    bool
	lo, hi string // the OS versions it covers; hi "" means "and later"
	vers   uint8
	suites uint32
	flags  uint8
}

const iosFlags = fATS | fAIA | fSHA1 | fCT

var profiles = [...]profile{
	{true, "9", "12.1", v12, sATS, iosFlags},
	{true, "12.2", "12.5", v12 | v13, sATS, iosFlags},
	{true, "13", "", v12 | v13, sATS, iosFlags | fIOS13},
	{false, "4.4", "4.4", v10, sAndroid44, fLegacy},
	{false, "5", "6", v12, sAndroid5, 0},
	{false, "7", "8.1", v12, sAndroid7, 0},
	{false, "9", "9", v12, sAndroid7, fSHA1},
	{false, "10", "", v12 | v13, sAndroid7, fSHA1},
}

// mask is a set of profiles, bit i for profiles[i].
type mask uint16

const allProfiles mask = 1<<len(profiles) - 1

// having returns the profiles with every flag in f (ios: iOS only).
func having(f uint8) mask {
	var m mask
	for i, p := range profiles {
		if p.flags&f == f {
			m |= 1 << i
		}
	}
	return m
}

func platformMask(ios bool) mask {
	var m mask
	for i, p := range profiles {
		if p.ios == ios {
			m |= 1 << i
		}
	}
	return m
}

var (
	iosProfiles     = platformMask(true)
	androidProfiles = platformMask(false)
	judgedProfiles  = allProfiles &^ having(fLegacy)
)

func (p profile) platform() string {
	if p.ios {
		return "iOS"
	}
	return "Android"
}

func (p profile) name() string { return span(p, p) }

// span names the profiles from a to b of one platform: "Android 5–9",
// "iOS 12.2+".
func span(a, b profile) string {
	s := a.platform() + " " + a.lo
	switch {
	case b.hi == "":
		return s + "+"
	case a.lo != b.hi:
		return s + "–" + b.hi
	}
	return s
}

// names says which phones m covers, merging neighbours: "iOS 9–12.1 and
// Android 5–9".
func names(m mask) string {
	var parts []string
	for i := 0; i < len(profiles); {
		if m&(1<<i) == 0 {
			i++
			continue
		}
		j := i
		for j+1 < len(profiles) && m&(1<<(j+1)) != 0 && profiles[j+1].ios == profiles[i].ios {
			j++
		}
		parts = append(parts, span(profiles[i], profiles[j]))
		i = j + 1
	}
	switch len(parts) {
	case 0:
		return "no phone"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// suiteBit returns the bit of a suite name, 0 for names outside the table.
func suiteBit(name string) uint32 {
	for i, n := range suiteNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// versions names the version bits by index.
var versions = [...]string{"1.0", "1.1", "1.2", "1.3"}

// versionBit maps "1.0".."1.3" to its bit.
func versionBit(v string) uint8 {
	switch v {
	case "1.0":
		return v10
	case "1.1":
		return v11
	case "1.2":
		return v12
	case "1.3":
		return v13
	}
	return 0
}

// versionNames lists the versions in bits, "TLS 1.0 and TLS 1.1".
func versionNames(bits uint8) string {
	var out []string
	for i, n := range versions {
		if bits&(1<<i) != 0 {
			out = append(out, "TLS "+n)
		}
	}
	if len(out) == 0 {
		return "no TLS version the probe tried"
	}
	return strings.Join(out, " and ")
}

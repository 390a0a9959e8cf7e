package wire

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"mpnet/abi"
)

// strictAgrees checks one message against encoding/json (with
// DisallowUnknownFields): ours takes it exactly when encoding/json does,
// into the same value, except for the documented differences (a field
// name in another case, trailing data after the value).
func strictAgrees[T any](t testing.TB, msg []byte, ours func([]byte, *T) error) {
	t.Helper()
	var got, want T
	errOurs := ours(msg, &got)
	errJSON := strict(msg, &want)
	switch {
	case errOurs == nil && errJSON != nil:
		t.Fatalf("%q: we take it, encoding/json refuses: %v", msg, errJSON)
	case errOurs != nil && errJSON == nil:
		if strings.Contains(errOurs.Error(), "unknown field") && caseVariant(msg) {
			return // encoding/json matches field names in any case
		}
		if strings.Contains(errOurs.Error(), "extra data") {
			return // its Decoder stops at the value
		}
		t.Fatalf("%q: we refuse it (%v), encoding/json takes it as %#v", msg, errOurs, want)
	case errOurs == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%q decodes differently\n ours %#v\n json %#v", msg, got, want)
	}
}

// caseVariant reports whether msg has a key that is not one of the ABI's
// field names but is one in another case.
func caseVariant(msg []byte) bool {
	known := strings.Fields(`api url timeout headers type at id method status tls host port ok ios android findings errMsg
		rule check severity platforms message fix fails files config dryRun name content appid version domains networkTimeout
		urlCheck mode lan concurrency timeoutFrom request uploadFile downloadFile socket tcp udp connectSocket contentType decoded
		source invalid now error versions chain cipherSuite forwardSecret hostnameMatch hostnameError trusted trustError rootsSource
		issuerSent issuerIsRoot ocspStapled scts supported subject issuer dnsNames ips notBefore notAfter selfSigned isCA
		signatureAlgorithm keyType keyBits aiaIssuers ocspServers sha256 ciphers partial trustFault alpn noSNI sameCert subject
		extKeyUsage noExtKeyUsage clients judged protocol note server`)
	dec := json.NewDecoder(bytes.NewReader(msg))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if s, ok := tok.(string); ok {
			for _, k := range known {
				if s != k && strings.EqualFold(s, k) {
					return true
				}
			}
		}
	}
}

var strictSamples = []string{
	`{"api":"request","url":"https://a.com/x","timeout":500,"headers":["Referer","x"]}`,
	` { "url" : "https:\/\/a.com\/\u00e9\ud83d\ude00" , "api":"request" } `,
	`{"url":"\ud800x","api":"r"}`, `{"url":"\ud800\u0041"}`, `{"url":"\udc00\ud800\udc00"}`,
	`{"url":"a\xffb\xc3"}`, `{"url":"tab\there"}`, "{\"url\":\"raw\ttab\"}", `{"url":"\x"}`, `{"url":"\u12"}`,
	`{"api":null,"headers":null,"timeout":null}`, `{"headers":[]}`, `{"headers":[null,"a"]}`,
	`{"timeout":1.0}`, `{"timeout":1e3}`, `{"timeout":-0}`, `{"timeout":01}`, `{"timeout":9223372036854775808}`,
	`{"timeout":-9223372036854775808}`, `{"timeout":"5"}`, `{"timeout":true}`, `{"timeout":1.}`, `{"timeout":.5}`, `{"timeout":-}`,
	`{"api":"a","api":"b"}`, `{"API":"x"}`, `{"bogus":1}`, `{}`, `null`, `[]`, `"x"`, ``, `{`, `{"api"}`, `{"api":"x",}`,
	`{"api":"x"} x`, `{"api":"x"}}`, `{"api":"x"}  `, "\ufeff{}", `{"headers":["a",]}`, `{"headers":["a" "b"]}`,
	`{"type":"tls","at":5,"tls":{"host":"a.com","port":443,"ok":false,"ios":{"ok":false,"fails":["chain"]},"android":{"ok":true,"fails":null},"findings":[{"rule":"R12","check":"chain","severity":"error","platforms":["ios"],"message":"m","fix":"f"}],"errMsg":"request:fail"}}`,
	`{"type":"tls","tls":null}`, `{"type":"tls","tls":{"ios":{"ok":true},"ios":{"fails":[]}}}`, `{"status":404,"type":"response","at":1,"id":2}`,
	`{"files":[{"name":"mpnet.json","content":"{}"}],"dryRun":true}`, `{"files":null}`, `{"files":[]}`, `{"files":[{"name":1}]}`,
	`{"config":{"appid":"wx1","domains":{"request":["https://a.com"],"udp":[]},"networkTimeout":{"request":1000},"urlCheck":false,"mode":"report","lan":["10.0.0.0/8"],"concurrency":"queue","timeoutFrom":"call"}}`,
	`{"config":{"urlCheck":null}}`, `{"config":null}`, `{"config":{"domains":{"bogus":[]}}}`, `{"config":{"networkTimeout":{"request":1.5}}}`,
	`{"api":"request","contentType":"text/html; charset=gbk","url":"u","decoded":"gbk","source":"meta","invalid":-1}`,
	`{"host":"a.com","port":443,"now":1700000000000,"versions":[{"version":"1.3","supported":true},{"version":"1.0","supported":false,"error":"e"}],"chain":[{"subject":"CN=a","issuer":"CN=b","dnsNames":["a.com"],"ips":null,"notBefore":1,"notAfter":2,"selfSigned":false,"isCA":false,"signatureAlgorithm":"SHA256-RSA","keyType":"RSA","keyBits":2048,"aiaIssuers":[],"ocspServers":["http://o"],"scts":2,"sha256":"ab"}],"cipherSuite":"TLS_AES_128_GCM_SHA256","forwardSecret":true,"hostnameMatch":true,"trusted":true,"rootsSource":"system","issuerSent":true,"issuerIsRoot":false,"ocspStapled":false,"scts":0}`,
	`{"host":"a.com","chain":[{"keyBits":"2048"}]}`, `{"port":70000000000000000000}`, `{"error":"dial tcp: refused","host":"x","port":1}`,
	`{"host":"a.com","versions":[{"version":"1.2","supported":true,"ciphers":["TLS_RSA_WITH_AES_128_GCM_SHA256","TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]},{"version":"1.3","supported":true,"ciphers":["TLS_AES_128_GCM_SHA256"],"partial":true}],"chain":[{"subject":"CN=a","extKeyUsage":["serverAuth","1.2.3.4"]},{"noExtKeyUsage":true,"noExtKeyUsage":false}],"trustFault":"signature","alpn":"h2","noSNI":{"sameCert":false,"hostnameMatch":false,"subject":"CN=other","error":""}}`,
	`{"noSNI":null}`, `{"noSNI":{"sameCert":true},"noSNI":{"subject":"x"}}`, `{"noSNI":{"bogus":1}}`, `{"noSNI":[]}`, `{"versions":[{"ciphers":null,"partial":null}]}`,
	`{"versions":[{"ciphers":[1]}]}`, `{"chain":[{"extKeyUsage":"serverAuth"}]}`, `{"alpn":false}`, `{"trustFault":"eku","trustFault":""}`,
	`{"type":"tls","at":1,"tls":{"host":"a.com","port":443,"ok":true,"clients":[{"name":"iOS 13+","platform":"ios","ok":true,"judged":true,"protocol":"1.3","forwardSecret":true,"fails":[],"note":"n"},{"name":"Android 4.4","platform":"android","ok":false,"judged":false,"fails":["tls-version"]}]}}`,
	`{"type":"tls","at":1,"tls":{"clients":null}}`, `{"type":"tls","at":1,"tls":{"clients":[{"ok":"yes"}]}}`, `{"type":"tls","at":1,"tls":{"clients":[{"extra":1}]}}`,
}

func allStrict(t testing.TB, msg []byte) {
	strictAgrees(t, msg, StrictCheckRequest)
	strictAgrees(t, msg, StrictEvent)
	strictAgrees(t, msg, StrictBodyRequest)
	strictAgrees(t, msg, StrictConfigureRequest)
	strictAgrees(t, msg, StrictTLSFacts)
}

func TestStrictDecodersAgreeWithEncodingJSON(t *testing.T) {
	for _, m := range strictSamples {
		allStrict(t, []byte(m))
	}
	// The samples must reach both sides of every decision.
	var ok, refused int
	for _, m := range strictSamples {
		var r abi.CheckRequest
		if StrictCheckRequest([]byte(m), &r) == nil {
			ok++
		} else {
			refused++
		}
	}
	if ok < 10 || refused < 10 {
		t.Fatalf("samples: %d taken, %d refused as check requests", ok, refused)
	}
}

// Values encoding/json writes are read back to the same value.
func TestStrictDecodersReadWhatEncodingJSONWrites(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for i := 0; i < 500; i++ {
		ev := abi.Event{Type: rstr(r), At: int64(r.Intn(1 << 40)), ID: int64(r.Intn(100)), API: rstr(r), URL: rstr(r), Method: rstr(r),
			Timeout: int64(r.Intn(1000)) - 10, Headers: rstrs(r), Status: r.Intn(600), Server: rstr(r)}
		if r.Intn(3) == 0 {
			ev.TLS = &abi.TLSVerdict{Host: rstr(r), Port: r.Intn(65536), OK: r.Intn(2) == 0, IOS: abi.PlatformResult{OK: true, Fails: rstrs(r)},
				Findings: []abi.TLSFinding{{Rule: "R12", Check: rstr(r), Severity: rstr(r), Platforms: rstrs(r), Message: rstr(r), Fix: rstr(r)}}, ErrMsg: rstr(r),
				Clients: randomClients(r)}
		}
		msg, _ := json.Marshal(ev)
		var got abi.Event
		if err := StrictEvent(msg, &got); err != nil || !reflect.DeepEqual(normalized(t, ev), got) {
			t.Fatalf("%s: %v\n got %#v", msg, err, got)
		}
		cfg := abi.Config{AppID: rstr(r), Domains: abi.Domains{Request: rstrs(r), TCP: rstrs(r)}, NetworkTimeout: abi.Timeouts{Request: int64(r.Intn(9999))}, LAN: rstrs(r), Mode: rstr(r)}
		if r.Intn(2) == 0 {
			b := r.Intn(2) == 0
			cfg.URLCheck = &b
		}
		cr := abi.ConfigureRequest{Files: []abi.File{{Name: rstr(r), Content: rstr(r)}}, Config: &cfg, DryRun: r.Intn(2) == 0}
		msg, _ = json.Marshal(cr)
		var gotCR abi.ConfigureRequest
		if err := StrictConfigureRequest(msg, &gotCR); err != nil || !reflect.DeepEqual(normalized(t, cr), gotCR) {
			t.Fatalf("%s: %v\n got %#v", msg, err, gotCR)
		}
		facts := randomFacts(r)
		msg, _ = json.Marshal(facts)
		var gotF abi.TLSFacts
		if err := StrictTLSFacts(msg, &gotF); err != nil || !reflect.DeepEqual(normalized(t, facts), gotF) {
			t.Fatalf("%s: %v\n got %#v", msg, err, gotF)
		}
	}
}

// randomFacts returns TLS facts with every field filled at random.
func randomFacts(r *rand.Rand) abi.TLSFacts {
	f := abi.TLSFacts{Host: rstr(r), Port: r.Intn(65536), Now: int64(r.Intn(1 << 45)), Error: rstr(r), CipherSuite: rstr(r),
		ForwardSecret: r.Intn(2) == 0, HostnameMatch: r.Intn(2) == 0, HostnameError: rstr(r), Trusted: r.Intn(2) == 0, TrustError: rstr(r),
		RootsSource: rstr(r), IssuerSent: r.Intn(2) == 0, IssuerIsRoot: r.Intn(2) == 0, OCSPStapled: r.Intn(2) == 0, SCTs: r.Intn(5),
		TrustFault: rstr(r), ALPN: rstr(r)}
	for n := r.Intn(4); n > 0; n-- {
		f.Versions = append(f.Versions, abi.TLSVersionProbe{Version: rstr(r), Supported: r.Intn(2) == 0, Error: rstr(r), Ciphers: rstrs(r), Partial: r.Intn(2) == 0})
	}
	for n := r.Intn(3); n > 0; n-- {
		f.Chain = append(f.Chain, abi.CertFacts{Subject: rstr(r), Issuer: rstr(r), DNSNames: rstrs(r), IPs: rstrs(r), NotBefore: int64(r.Intn(1 << 45)),
			NotAfter: int64(r.Intn(1 << 45)), SelfSigned: r.Intn(2) == 0, IsCA: r.Intn(2) == 0, SignatureAlgorithm: rstr(r), KeyType: rstr(r),
			KeyBits: r.Intn(5000), AIAIssuers: rstrs(r), OCSPServers: rstrs(r), SCTs: r.Intn(4), SHA256: rstr(r), ExtKeyUsage: rstrs(r), NoExtKeyUsage: r.Intn(2) == 0})
	}
	if r.Intn(2) == 0 {
		f.NoSNI = &abi.NoSNIFacts{Error: rstr(r), SameCert: r.Intn(2) == 0, HostnameMatch: r.Intn(2) == 0, Subject: rstr(r)}
	}
	return f
}

// randomClients returns client results filled at random.
func randomClients(r *rand.Rand) []abi.ClientResult {
	var cs []abi.ClientResult
	for n := r.Intn(3); n > 0; n-- {
		cs = append(cs, abi.ClientResult{Name: rstr(r), Platform: rstr(r), OK: r.Intn(2) == 0, Judged: r.Intn(2) == 0, Protocol: rstr(r),
			ForwardSecret: r.Intn(2) == 0, Fails: rstrs(r), Note: rstr(r)})
	}
	return cs
}

// normalized is v as encoding/json reads back what it wrote (invalid UTF-8
// becomes U+FFFD, empty omitempty slices become nil).
func normalized[T any](t testing.TB, v T) T {
	msg, _ := json.Marshal(v)
	var out T
	if err := strict(msg, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The encoders write what encoding/json writes.
func TestStatusTLSVerdictAndErrorEncoders(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	for i := 0; i < 500; i++ {
		st := abi.Status{ABI: r.Intn(3), Configured: r.Intn(2) == 0, Mode: rstr(r), InFlight: r.Intn(20), Queued: r.Intn(20), Sockets: r.Intn(6), Hidden: r.Intn(2) == 0, Now: int64(r.Intn(1 << 50))}
		same(t, AppendStatus(nil, &st), st)
		e := abi.ErrorResult{Error: abi.ErrorInfo{Code: rstr(r), Message: rstr(r)}}
		same(t, AppendErrorResult(nil, &e), e)
		v := abi.TLSVerdict{Host: rstr(r), Port: r.Intn(65536), OK: r.Intn(2) == 0, IOS: abi.PlatformResult{OK: r.Intn(2) == 0, Fails: rstrs(r)},
			Android: abi.PlatformResult{Fails: rstrs(r)}, ErrMsg: rstr(r), Clients: randomClients(r)}
		for n := r.Intn(3); n > 0; n-- {
			v.Findings = append(v.Findings, abi.TLSFinding{Rule: rstr(r), Check: rstr(r), Severity: rstr(r), Platforms: rstrs(r), Message: rstr(r), Fix: rstr(r)})
		}
		same(t, AppendTLSVerdict(nil, &v), v)
	}
}

func FuzzStrictDecoders(f *testing.F) {
	for _, m := range strictSamples {
		f.Add([]byte(m))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		allStrict(t, msg)
	})
}

package config

import (
	"fmt"
	"net/netip"
	"strings"

	"mpnet/abi"
	"mpnet/policy/urlhost"
)

// Lists names the six domain lists in a fixed order, as mpnet.json spells them.
var Lists = []string{"request", "uploadFile", "downloadFile", "socket", "tcp", "udp"}

// ListScheme is the scheme an entry of each list must use (C1).
var ListScheme = map[string]string{
	"request": "https", "uploadFile": "https", "downloadFile": "https",
	"socket": "wss", "tcp": "tcp", "udp": "udp",
}

// ConsoleName is the admin console's name of each list, for fix messages.
var ConsoleName = map[string]string{
	"request": "request合法域名", "uploadFile": "uploadFile合法域名", "downloadFile": "downloadFile合法域名",
	"socket": "socket合法域名", "tcp": "tcp合法域名", "udp": "udp合法域名",
}

// DefaultLAN is the R4 LAN when the configuration names none: the RFC 1918
// private ranges and the IPv6 unique-local range.
var DefaultLAN = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}

// Entry is one domain-list entry after validation.
type Entry struct {
	List string
	Raw  string
	// Key is the normalised host (C6): lower-case ASCII, IDNA, no trailing dot.
	// Empty when the entry could not be parsed at all.
	Key string
	// Problems lists the C rules the entry breaks; an entry with any is
	// ignored when matching, as the admin console would refuse it.
	Problems []abi.Problem
	Where    Source
}

// Valid reports whether the entry can match calls.
func (e *Entry) Valid() bool { return len(e.Problems) == 0 && e.Key != "" }

// Compiled is a configuration ready for matching.
type Compiled struct {
	Config abi.Config
	// Entries holds every entry of every list, valid or not, in file order.
	Entries map[string][]*Entry
	hosts   map[string]map[string]*Entry // list -> key -> first valid entry
	LAN     []netip.Prefix
	Mode    string
	// URLCheck false: domain rules are reported, not enforced.
	URLCheck bool
	// Legacy: calls beyond the pool fail instead of queueing.
	Legacy bool
	// TimeoutFromStart: the timeout runs from the call's start, not from the call.
	TimeoutFromStart bool
	Referer          string
	// Tooling holds the valid patterns of "tooling" (R15).
	Tooling []ToolingPattern
}

// Compile validates the configuration and builds the match tables. The
// problems it returns are C1-C4 and C6 findings and other warnings; none is
// fatal (invalid entries are ignored).
func Compile(l *Loaded) (*Compiled, []abi.Problem) {
	c := &Compiled{Config: l.Config, Entries: map[string][]*Entry{}, hosts: map[string]map[string]*Entry{}}
	var probs []abi.Problem
	probs = append(probs, l.Warnings...)
	cfg := &c.Config
	if cfg.Version == "" {
		cfg.Version = "0"
	}
	if cfg.Mode == "" {
		cfg.Mode = "enforce"
	}
	if cfg.Concurrency == "" {
		cfg.Concurrency = "queue"
	}
	if cfg.TimeoutFrom == "" {
		cfg.TimeoutFrom = "call"
	}
	c.Mode = cfg.Mode
	c.URLCheck = cfg.URLCheck == nil || *cfg.URLCheck
	c.Legacy = cfg.Concurrency == "legacy"
	c.TimeoutFromStart = cfg.TimeoutFrom == "start"

	appid := cfg.AppID
	if appid == "" {
		appid = "touristappid"
		probs = append(probs, abi.Problem{Rule: "R8", Severity: "warning", Entry: "appid",
			Message: "no appid configured: the Referer uses \"touristappid\" as the developer tools do",
			Fix:     "set \"appid\" in mpnet.json or import project.config.json"})
	} else if !validAppID(appid) {
		w := l.Where["appid"]
		probs = append(probs, abi.Problem{Rule: "R8", Severity: "warning", File: w.File, Line: w.Line, Col: w.Col, Entry: appid,
			Message: fmt.Sprintf("appid %q does not look like a mini-program appid (wx followed by 16 hex digits)", appid),
			Fix:     "copy the appid from the admin console (开发管理 > 开发设置)"})
	}
	if !validVersion(cfg.Version) {
		w := l.Where["version"]
		probs = append(probs, abi.Problem{Rule: "R8", Severity: "warning", File: w.File, Line: w.Line, Col: w.Col, Entry: cfg.Version,
			Message: fmt.Sprintf("version %q is not \"0\", \"devtools\" or a release version made of digits and dots", cfg.Version),
			Fix:     "use \"0\" for development, trial and audit builds"})
	}
	c.Referer = "https://appservice.wx.com/" + appid + "/" + cfg.Version + "/page-frame.html"

	t := cfg.NetworkTimeout
	for k, v := range map[string]int64{"request": t.Request, "connectSocket": t.ConnectSocket, "uploadFile": t.UploadFile, "downloadFile": t.DownloadFile} {
		if v > MaxTimeout {
			w := l.Where["networkTimeout."+k]
			probs = append(probs, abi.Problem{Rule: "R6", Severity: "warning", File: w.File, Line: w.Line, Col: w.Col, Entry: "networkTimeout." + k,
				Message: fmt.Sprintf("networkTimeout.%s is %d ms; the client caps every timeout at %d ms", k, v, MaxTimeout),
				Fix:     fmt.Sprintf("set networkTimeout.%s to at most %d", k, MaxTimeout)})
		}
	}

	lan := cfg.LAN
	if lan == nil {
		lan = DefaultLAN
	}
	for i, s := range lan {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			w := l.Where[fmt.Sprintf("lan[%d]", i)]
			probs = append(probs, abi.Problem{Rule: "R4", Severity: "error", File: w.File, Line: w.Line, Col: w.Col, Entry: s, List: "lan",
				Message: fmt.Sprintf("lan entry %q is not a CIDR range; it is ignored", s),
				Fix:     "write ranges such as \"192.168.0.0/16\" or \"fd00::/8\""})
			continue
		}
		c.LAN = append(c.LAN, p.Masked())
	}

	for _, list := range Lists {
		raws := *listPtr(cfg, list)
		seen := map[string]*Entry{}
		c.hosts[list] = map[string]*Entry{}
		for i, raw := range raws {
			e := checkEntry(list, raw)
			e.Where = l.Where[fmt.Sprintf("domains.%s[%d]", list, i)]
			for j := range e.Problems {
				p := &e.Problems[j]
				p.File, p.Line, p.Col = e.Where.File, e.Where.Line, e.Where.Col
			}
			probs = append(probs, e.Problems...)
			c.Entries[list] = append(c.Entries[list], e)
			if !e.Valid() {
				continue
			}
			if first, dup := seen[e.Key]; dup {
				probs = append(probs, abi.Problem{Rule: "C6", Severity: "warning", File: e.Where.File, Line: e.Where.Line, Col: e.Where.Col,
					Entry: raw, List: "domains." + list,
					Message: fmt.Sprintf("%q is the same host as %q (hosts compare case-insensitively, after IDNA and trailing-dot normalisation)", raw, first.Raw),
					Fix:     fmt.Sprintf("remove the duplicate %q", raw)})
				continue
			}
			seen[e.Key] = e
			c.hosts[list][e.Key] = e
		}
	}
	probs = append(probs, c.compileTooling(l)...)
	return c, probs
}

// MaxTimeout is the client's default and maximum timeout (R6), in ms.
const MaxTimeout = 60000

// Lookup returns the valid entry of list whose host equals key, or nil.
func (c *Compiled) Lookup(list, key string) *Entry { return c.hosts[list][key] }

// Timeout returns networkTimeout for an API, 0 when unset.
func (c *Compiled) Timeout(api string) int64 {
	t := c.Config.NetworkTimeout
	switch api {
	case "request":
		return t.Request
	case "uploadFile":
		return t.UploadFile
	case "downloadFile":
		return t.DownloadFile
	case "connectSocket":
		return t.ConnectSocket
	}
	return 0
}

// InLAN reports whether ip lies in a configured LAN range (R4).
func (c *Compiled) InLAN(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range c.LAN {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// checkEntry validates one entry against C1-C4 and computes its C6 key.
func checkEntry(list, raw string) *Entry {
	e := &Entry{List: list, Raw: raw}
	want := ListScheme[list]
	lname := "domains." + list
	add := func(rule, msg, fix string) {
		e.Problems = append(e.Problems, abi.Problem{Rule: rule, Severity: "error", Entry: raw, List: lname, Message: msg, Fix: fix})
	}
	s := strings.TrimSpace(raw)
	if s != raw {
		add("C4", fmt.Sprintf("%q has spaces around it", raw), fmt.Sprintf("write %q", s))
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		add("C1", fmt.Sprintf("%q has no scheme; entries of %s start with %s://", raw, lname, want), fmt.Sprintf("write %q", want+"://"+s))
		rest = s
	} else if strings.ToLower(scheme) != want {
		add("C1", fmt.Sprintf("%q uses %s://; entries of %s must use %s://", raw, strings.ToLower(scheme), lname, want),
			fmt.Sprintf("write %q", want+"://"+rest))
	}
	// Split the authority from anything after it, as a URL parser would.
	auth, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#\\"); i >= 0 {
		auth, tail = rest[:i], rest[i:]
	}
	hostPart := auth
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		add("C4", fmt.Sprintf("%q contains userinfo (%q); an entry is a host only", raw, auth[:i+1]), fmt.Sprintf("write %q", want+"://"+auth[i+1:]))
		hostPart = auth[i+1:]
	}
	if tail != "" {
		add("C4", fmt.Sprintf("%q has a path, query or fragment (%q); an entry is a host only", raw, tail), fmt.Sprintf("write %q", want+"://"+hostPart))
	}
	if strings.Contains(hostPart, "*") {
		add("C4", fmt.Sprintf("%q is a wildcard; the console accepts no wildcards and a parent domain does not cover its subdomains (C5)", raw),
			"list every subdomain the mini program calls, e.g. "+want+"://api."+strings.TrimLeft(strings.ReplaceAll(hostPart, "*", ""), "."))
		return e
	}
	host, port := hostPart, ""
	if strings.HasPrefix(hostPart, "[") {
		if i := strings.Index(hostPart, "]"); i >= 0 {
			host, port = hostPart[:i+1], hostPart[i+1:]
		}
	} else if i := strings.LastIndex(hostPart, ":"); i >= 0 {
		host, port = hostPart[:i], hostPart[i:]
	}
	if port != "" {
		add("C3", fmt.Sprintf("%q carries a port; entries have none and every port is allowed in calls", raw), fmt.Sprintf("write %q", want+"://"+host))
	}
	if host == "" {
		add("C4", fmt.Sprintf("%q has no host", raw), "write "+want+"://api.example.com")
		return e
	}
	h, err := urlhost.ParseHost(host)
	if err != nil {
		reason := err.Error()
		if ue, ok := err.(*urlhost.Error); ok {
			reason = ue.Reason
		}
		add("C4", fmt.Sprintf("%q is not a valid host name: %s", raw, reason), "write a domain name such as "+want+"://api.example.com")
		return e
	}
	switch {
	case h.Kind == urlhost.IPv4 || h.Kind == urlhost.IPv6:
		add("C2", fmt.Sprintf("%q is an IP address (%s); the console accepts domain names only", raw, h.Name),
			"give the server a domain name with a certificate and list that; LAN addresses need no entry (R4)")
	case h.IsLocal():
		add("C2", fmt.Sprintf("%q is localhost; the client never calls local hosts (R3)", raw),
			"deploy the server under a domain name; use mpnet's report mode while developing against localhost")
	}
	e.Key = h.Key()
	return e
}

func validAppID(s string) bool {
	if len(s) != 18 || !strings.HasPrefix(s, "wx") {
		return false
	}
	for _, r := range s[2:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

func validVersion(s string) bool {
	if s == "0" || s == "devtools" {
		return true
	}
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '.') {
			return false
		}
	}
	return true
}

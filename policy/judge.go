// Package policy is the mini-program client's network rules (RULES.md C5-C6,
// R1-R11) as a deterministic, I/O-free decision function and state machine.
// Hosts report events with their own clock; the engine returns actions.
package policy

import (
	"fmt"
	"reflect"
	"strings"

	"mpnet/abi"
	"mpnet/internal/swar"
	"mpnet/policy/config"
	"mpnet/policy/urlhost"
)

// Reasons of the client's errMsg, "<api>:fail <reason>".
const (
	ReasonNotInList   = "url not in domain list"
	ReasonInvalidURL  = "invalid url"
	ReasonTimeout     = "timeout"
	ReasonInterrupted = "interrupted"
	ReasonAbort       = "abort"
	ReasonExceed      = "exceed max task count"
)

// DocURL is the client's network document the developer tools point to.
const DocURL = "https://developers.weixin.qq.com/miniprogram/dev/framework/ability/network.html"

// consolePath is where each list lives in the admin console.
const consolePath = "开发管理 > 开发设置 > 服务器域名"

// ListOf returns the configuration list governing an API ("" for unknown APIs).
func ListOf(api string) string {
	switch api {
	case "request", "uploadFile", "downloadFile", "tcp", "udp":
		return api
	case "connectSocket":
		return "socket"
	case "resource":
		return "resource"
	}
	return ""
}

// ErrMsg formats the client's errMsg for an API and reason.
func ErrMsg(api, reason string) string {
	prefix := api
	switch api {
	case "tcp":
		prefix = "createTCPSocket"
	case "udp":
		prefix = "createUDPSocket"
	}
	return prefix + ":fail " + reason
}

// isPool reports whether an API shares the pool of 10 (R7).
func isPool(api string) bool {
	return api == "request" || api == "uploadFile" || api == "downloadFile"
}

// EffectiveTimeout computes R6: the call's timeout if given, else
// networkTimeout for the API, else 60000 ms, never above 60000 ms. It also
// returns where the figure came from and any warning.
func EffectiveTimeout(c *config.Compiled, api string, given int64) (ms int64, source string, warn *abi.Warning) {
	if api == "tcp" || api == "udp" || api == "resource" {
		return 0, "", nil
	}
	switch {
	case given > 0:
		ms, source = given, "the call's timeout option"
	case given < 0:
		warn = &abi.Warning{Rule: "R6", Message: fmt.Sprintf("[R6] timeout %d is not a positive number of ms; the client ignores it", given),
			Fix: "pass a positive timeout in milliseconds, or none"}
	}
	if ms == 0 {
		if t := c.Timeout(api); t > 0 {
			ms, source = t, "networkTimeout."+api+" in app.json"
		} else {
			ms, source = config.MaxTimeout, "the default"
		}
	}
	if ms > config.MaxTimeout {
		warn = &abi.Warning{Rule: "R6", Message: fmt.Sprintf("[R6] timeout %d ms (from %s) is above the client's maximum; it is capped at %d ms", ms, source, config.MaxTimeout),
			Fix: fmt.Sprintf("use a timeout of at most %d ms", config.MaxTimeout)}
		ms = config.MaxTimeout
	}
	return ms, source, warn
}

// Judge decides one call against a compiled configuration, as the device
// would in a release build. Its error is for bad input only (unknown API).
func Judge(c *config.Compiled, req abi.CheckRequest) (abi.Decision, error) {
	d, _, err := judge(c, req)
	return d, err
}

// judge is Judge that also says where the effective timeout came from.
func judge(c *config.Compiled, req abi.CheckRequest) (abi.Decision, string, error) {
	return judgeAs(c, req, false)
}

// Placeholders for the URL (and the URL without its "scheme://") in the
// texts of a decision judged as a template (judgeAs with tmpl): a template
// is judged once per origin and filled in for each URL (Judger). They are
// control bytes, which no URL that gets a template contains (authority).
const (
	markURL  = "\x00U"
	markRest = "\x00R"
)

// judgeAs is judge; with tmpl, the decision's texts carry markURL and
// markRest where the URL appears (see fill).
func judgeAs(c *config.Compiled, req abi.CheckRequest, tmpl bool) (abi.Decision, string, error) {
	list := ListOf(req.API)
	if list == "" {
		return abi.Decision{}, "", fmt.Errorf("unknown api %q: want one of %s", req.API, strings.Join(abi.APIs, ", "))
	}
	d := abi.Decision{API: req.API, URL: req.URL, Mode: c.Mode, Referer: c.Referer, Warnings: []abi.Warning{}}
	if list != "resource" {
		d.List = "domains." + list
	}
	ms, source, tw := EffectiveTimeout(c, req.API, req.Timeout)
	d.TimeoutMs = ms
	if tw != nil {
		d.Warnings = append(d.Warnings, *tw)
	}
	if setsReferer(req.Headers) {
		d.Warnings = append(d.Warnings, abi.Warning{Rule: "R8",
			Message: "[R8] the Referer header cannot be set: the client drops it and sends " + c.Referer,
			Fix:     "stop setting Referer; identify the mini program on the server by the fixed Referer or your own header"})
	}
	var v *verdict
	if list == "resource" {
		v = resourceViolation(req.URL, &d)
	} else {
		v = violation(c, req.API, list, req.URL, &d, tmpl)
	}
	if v == nil {
		d.Allowed, d.Proceed = true, true
		return d, source, nil
	}
	d.Rule, d.Fix, d.Console = v.rule, v.fix, v.console
	if req.API != "resource" {
		d.ErrMsg = ErrMsg(req.API, v.reason)
	}
	d.Message = "[" + v.rule + "] " + v.message
	d.Proceed = c.Mode != "enforce" || !c.URLCheck
	return d, source, nil
}

// setsReferer reports whether the code tried to set the Referer header
// (R8). It is all judge reads of the header names.
func setsReferer(headers []string) bool {
	for _, h := range headers {
		if strings.EqualFold(strings.TrimSpace(h), "referer") {
			return true
		}
	}
	return false
}

// Judger is Judge with a memo of recent decisions for one configuration:
// a decision is a pure function of the configuration and the request, and
// mini programs call the same URLs over and over (polling, retries, one
// endpoint per screen). The memo is bounded (MemoSize entries, then it
// starts again) and belongs to one configuration. A Judger is not safe for
// concurrent use.
type Judger struct {
	cfg  *config.Compiled
	memo map[memoKey]memoVal
	// origins memoises decisions by the URL's scheme and authority as
	// written (see authority): a decision depends on nothing else in the
	// URL but for the URL quoted in its texts, so it is kept as a template
	// (judgeAs) and filled in, and calls to one server with ever-new paths
	// and queries are answered without parsing.
	origins map[memoKey]*memoVal
}

// MemoSize bounds a Judger's memo.
const MemoSize = 128

// memoKey holds every input judge reads: the header names matter only
// through setsReferer.
type memoKey struct {
	api, url string
	timeout  int64
	referer  bool
}

type memoVal struct {
	d      abi.Decision
	source string
}

// NewJudger returns a Judger for a compiled configuration.
func NewJudger(c *config.Compiled) *Judger {
	return &Judger{cfg: c, memo: make(map[memoKey]memoVal), origins: make(map[memoKey]*memoVal)}
}

// Judge is Judge(j's configuration, req), answered from the memo when it can.
func (j *Judger) Judge(req abi.CheckRequest) (abi.Decision, error) {
	d, _, _, err := j.judgeAgain(req)
	return d, err
}

// JudgeAgain is Judge that also reports whether the very same request was
// judged before (and is still in the memo): callers keeping memos of their
// own admit a request on its second sight, so that a stream of ever-new
// URLs does not churn them.
func (j *Judger) JudgeAgain(req abi.CheckRequest) (d abi.Decision, again bool, err error) {
	d, _, again, err = j.judgeAgain(req)
	return d, again, err
}

func (j *Judger) judge(req abi.CheckRequest) (abi.Decision, string, error) {
	d, source, _, err := j.judgeAgain(req)
	return d, source, err
}

// exactKey is the memo key of req itself.
func exactKey(req abi.CheckRequest) memoKey {
	return memoKey{api: req.API, url: req.URL, timeout: req.Timeout, referer: setsReferer(req.Headers)}
}

// originKey turns a request's exact key into its origin template's key,
// when the request can have one: its URL's authority ends where written
// (authority) and the API is not "resource" (R13 quotes the URL otherwise).
func originKey(exact memoKey) (memoKey, bool) {
	k := exact
	var ok bool
	k.url, ok = authority(exact.url)
	return k, ok && exact.api != "resource"
}

func (j *Judger) judgeAgain(req abi.CheckRequest) (abi.Decision, string, bool, error) {
	ek := exactKey(req)
	if v, ok := j.memo[ek]; ok {
		d := v.d
		d.Warnings = d.Warnings[:len(d.Warnings):len(d.Warnings)] // appending copies: the memo stays intact
		return d, v.source, true, nil
	}
	k, ok := originKey(ek)
	if ok {
		if v, hit := j.origins[k]; hit {
			d := fill(v.d, req.URL)
			d.Warnings = d.Warnings[:len(d.Warnings):len(d.Warnings)]
			return d, v.source, false, nil
		}
	}
	var d abi.Decision
	var source string
	var err error
	if ok {
		// Judged as a template: kept for the origin when every text of
		// it is the template's (not for invalid URLs, whose message quotes
		// the URL), and filled in for this URL.
		var t abi.Decision
		if t, source, err = judgeAs(j.cfg, req, true); err != nil {
			return t, source, false, err
		}
		d = fill(t, req.URL)
		if t.Allowed || (t.Rule != "R5" && !strings.Contains(t.Message+t.Console+t.Fix, req.URL) && j.sameAsJudged(d, req)) {
			Remember(j.origins, k, &memoVal{d: t, source: source})
		}
	} else if d, source, err = judge(j.cfg, req); err != nil {
		return d, source, false, err
	}
	Remember(j.memo, ek, memoVal{d: d, source: source})
	d.Warnings = d.Warnings[:len(d.Warnings):len(d.Warnings)]
	return d, source, false, nil
}

// Template answers the origin template that decides req (see judgeAs), with
// every place the URL appears in it (its URL field too) holding
// TemplateURL, and TemplateRest where the URL without "scheme://" appears,
// and a key naming the template among all of this Judger's: req's
// decision is the template with those filled in. ok is false when req
// gets no template (its URL is not one whose authority ends where written,
// the API is "resource", or the decision quotes the URL otherwise, as for
// invalid URLs).
func (j *Judger) Template(req abi.CheckRequest) (t abi.Decision, key OriginKey, ok bool) {
	k, ok := originKey(exactKey(req))
	if !ok {
		return t, key, false
	}
	v, hit := j.origins[k]
	if !hit {
		if _, _, _, err := j.judgeAgain(req); err != nil {
			return t, key, false
		}
		if v, hit = j.origins[k]; !hit {
			return t, key, false
		}
	}
	t = v.d
	t.URL = markURL
	return t, OriginKey{v}, true
}

// OriginKey names one of a Judger's origin templates (Template): the
// template itself, so that a host's map of them hashes a pointer, not the
// origin again.
type OriginKey struct{ v *memoVal }

// TemplateURL and TemplateRest are the placeholders of Template.
const (
	TemplateURL  = markURL
	TemplateRest = markRest
)

// URLRest is what TemplateRest stands for: raw without its "scheme://".
func URLRest(raw string) string { return raw[strings.Index(raw, "://")+3:] }

// sameAsJudged reports whether d, a filled-in template, is exactly what
// judging req afresh gives: a template is kept only then (its texts then
// hold no placeholder-like bytes of their own). Once per origin.
func (j *Judger) sameAsJudged(d abi.Decision, req abi.CheckRequest) bool {
	want, _, err := judge(j.cfg, req)
	return err == nil && reflect.DeepEqual(d, want)
}

// fill makes a template decision (judgeAs with tmpl) the decision for raw,
// a URL that authority accepts (so its scheme is written as parsed and ends
// at the first "://").
func fill(t abi.Decision, raw string) abi.Decision {
	t.URL = raw
	if t.Allowed {
		return t
	}
	rest := URLRest(raw)
	f := func(s string) string {
		if !strings.Contains(s, "\x00") {
			return s
		}
		return strings.ReplaceAll(strings.ReplaceAll(s, markURL, raw), markRest, rest)
	}
	t.Message, t.Console, t.Fix = f(t.Message), f(t.Console), f(t.Fix)
	return t
}

// Remember puts k in a memo bounded to MemoSize entries: a full memo starts
// again empty (the memos hold what is called over and over, which comes
// back at once).
func Remember[K comparable, V any](m map[K]V, k K, v V) {
	if len(m) >= MemoSize {
		clear(m)
	}
	m[k] = v
}

// authority returns the scheme and authority of a URL exactly as written
// ("https://user@host:port"), when the WHATWG parser is sure to end the
// authority there: a lowercase special scheme, "://", at least one byte,
// then '/', '?', '#' or the end, and nothing anywhere that the parser
// removes or rewrites first (ASCII whitespace and controls, which it strips
// or trims) or reads as a slash ('\').
func authority(raw string) (string, bool) {
	var rest string
	switch {
	case strings.HasPrefix(raw, "https://"):
		rest = raw[8:]
	case strings.HasPrefix(raw, "http://"):
		rest = raw[7:]
	case strings.HasPrefix(raw, "wss://"):
		rest = raw[6:]
	case strings.HasPrefix(raw, "ws://"):
		rest = raw[5:]
	default:
		return "", false
	}
	end := len(rest)
	for i := 0; i < len(rest); i++ {
		// Eight plain bytes at a time (internal/swar): printable ASCII,
		// no '\\' and, until the authority's end is found, no '/', '?', '#'.
		for i+8 <= len(rest) {
			x := swar.Word(rest, i)
			if !swar.AllASCIIAtLeast(x, 0x21) || swar.HasZero(x^swar.Ones*'\\') || swar.HasZero(x^swar.Ones*0x7f) ||
				(end == len(rest) && (swar.HasZero((x^swar.Ones*'/')&^(swar.Ones*0x10)) || swar.HasZero(x^swar.Ones*'#'))) {
				break
			}
			i += 8
		}
		if i == len(rest) {
			break
		}
		c := rest[i]
		if c <= ' ' || c == '\\' || c == 0x7f {
			return "", false
		}
		if end == len(rest) && (c == '/' || c == '?' || c == '#') {
			end = i
		}
	}
	if end == 0 {
		return "", false
	}
	return raw[:len(raw)-len(rest)+end], true
}

type verdict struct {
	rule, reason, message, fix, console string
}

// violation applies R1-R5 (with C5/C6) and fills d.Host, d.Entry and warnings.
func violation(c *config.Compiled, api, list, raw string, d *abi.Decision, tmpl bool) *verdict {
	want := config.ListScheme[list]
	lname := "domains." + list
	var host urlhost.Host
	scheme := ""
	if (api == "tcp" || api == "udp") && !strings.Contains(raw, "://") {
		h, _, err := urlhost.ParseHostPort(raw)
		if err != nil {
			return invalid(raw, err)
		}
		host, scheme = h, want
	} else {
		u, err := urlhost.Parse(raw)
		if err != nil {
			return invalid(raw, err)
		}
		host, scheme = u.Host, u.Scheme
		if u.HasUserinfo() {
			d.Warnings = append(d.Warnings, abi.Warning{Rule: "R5",
				Message: fmt.Sprintf("[R5] the URL carries userinfo (%q); the call really goes to %s", u.Username+"@", u.Host.String()),
				Fix:     "remove the user:password@ part from the URL"})
		}
	}
	d.Host = host.String()
	shown, rest := raw, strings.TrimPrefix(strings.TrimSpace(raw), scheme+"://")
	if tmpl {
		shown, rest = markURL, markRest
	}
	entry := want + "://" + host.String()
	if host.Kind == urlhost.Domain {
		entry = want + "://" + host.Key()
	}
	notInList := func(rule, msg, fix string) *verdict {
		return &verdict{rule: rule, reason: ReasonNotInList, message: msg, fix: fix,
			console: shown + " 不在以下 " + list + " 合法域名列表中，请参考文档：" + DocURL}
	}
	addFixFor := func(e string) string {
		return "add " + e + " to " + lname + " (admin console: " + consolePath + " > " + config.ConsoleName[list] + ")"
	}
	if scheme != want {
		fix := "serve it over " + want + " and call " + want + "://" + rest
		if host.IsLocal() || host.Kind != urlhost.Domain {
			fix = fmt.Sprintf("serve it over %s from a domain name and %s; local hosts (R3) and IP addresses (R2) never work on device", want, addFixFor(want+"://<that domain>"))
		}
		return notInList("R1", shown+" uses "+scheme+":, "+api+" needs "+want+":", fix)
	}
	if host.IsLocal() {
		return notInList("R3", fmt.Sprintf("%s targets %s, a local host (localhost, loopback or unspecified address): the device never calls it", shown, host.String()),
			"deploy the server under a domain name and "+addFixFor(want+"://<that domain>")+"; to reach a computer on the phone's LAN use its LAN address (R4)")
	}
	if host.Kind != urlhost.Domain {
		if c.InLAN(host.IP) {
			d.Warnings = append(d.Warnings, abi.Warning{Rule: "R4",
				Message: fmt.Sprintf("[R4] %s is a LAN address: allowed without configuration, but only while the phone is on the same LAN", host.String())})
			return nil
		}
		return notInList("R2", fmt.Sprintf("%s targets the IP address %s, which is not on the LAN (R4); IP addresses cannot be configured (C2)", shown, host.String()),
			"give the server a domain name and "+addFixFor(want+"://<that domain>"))
	}
	d.Entry = entry
	if c.Lookup(list, host.Key()) != nil {
		return nil
	}
	// Not listed: find the most helpful explanation.
	for _, e := range c.Entries[list] {
		if e.Key == host.Key() && !e.Valid() {
			p := e.Problems[0]
			return notInList("R2", fmt.Sprintf("%s is not in %s: the entry %q is ignored because it breaks %s (%s)", shown, lname, e.Raw, p.Rule, p.Message), p.Fix)
		}
	}
	for _, e := range c.Entries[list] {
		if e.Valid() && strings.HasSuffix(host.Key(), "."+e.Key) {
			d.Warnings = append(d.Warnings, abi.Warning{Rule: "C5",
				Message: fmt.Sprintf("[C5] %s is a subdomain of the configured %s, but a parent domain does not cover its subdomains", host.Key(), e.Raw),
				Fix:     "configure the subdomain: " + addFixFor(entry)})
			break
		}
	}
	for _, other := range config.Lists {
		if other != list && c.Lookup(other, host.Key()) != nil {
			return notInList("R2", fmt.Sprintf("%s is not in %s (it is listed in domains.%s, which does not cover %s)", shown, lname, other, api), addFixFor(entry))
		}
	}
	return notInList("R2", shown+" is not in "+lname, addFixFor(entry))
}

// resourceViolation applies R13 to an image, audio or video URL: no domain
// list governs them, but they must be https from a reachable host.
func resourceViolation(raw string, d *abi.Decision) *verdict {
	lower := strings.ToLower(strings.TrimSpace(raw))
	if strings.HasPrefix(lower, "data:") || strings.HasPrefix(lower, "blob:") {
		return nil
	}
	u, err := urlhost.Parse(raw)
	if err != nil {
		return invalid(raw, err)
	}
	d.Host = u.Host.String()
	switch {
	case u.Scheme != "https":
		return &verdict{rule: "R13", reason: "not https", message: fmt.Sprintf("%s is loaded over %s: images, audio and video over http do not load on device", raw, u.Scheme),
			fix: "serve the file over https (" + "https://" + strings.TrimPrefix(raw, u.Scheme+"://") + ")"}
	case u.Host.IsLocal():
		return &verdict{rule: "R13", reason: "local host", message: fmt.Sprintf("%s is on a local host (%s): the device cannot load it", raw, u.Host.String()),
			fix: "serve the file from a public https host or a CDN"}
	}
	return nil
}

func invalid(raw string, err error) *verdict {
	reason := err.Error()
	if ue, ok := err.(*urlhost.Error); ok {
		reason = ue.Reason
	}
	return &verdict{rule: "R5", reason: ReasonInvalidURL,
		message: fmt.Sprintf("%q is not a valid URL: %s", truncate(raw, 200), reason),
		fix:     "build an absolute URL such as https://api.example.com/path (check string concatenation and encoding)"}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"mpnet/abi"
)

// maxBody bounds a response body hostsim reads (the module's own bound).
const maxBody = 64 << 20

// callback is what the client hands the success or fail callback, plus
// mpnet's findings.
type callback struct {
	ErrMsg       string            `json:"errMsg"`
	StatusCode   int               `json:"statusCode,omitempty"`
	Header       map[string]string `json:"header,omitempty"`
	Data         any               `json:"data,omitempty"`
	TempFilePath string            `json:"tempFilePath,omitempty"`
	Findings     []finding         `json:"findings"`
	// Redirects is the chain of hops the call met, in order (R14).
	Redirects []hopReport `json:"redirects,omitempty"`
	// Timing, in ms: queued is time waiting for a slot, duration the call's total.
	TimeoutMs  int64 `json:"timeoutMs,omitempty"`
	DurationMs int64 `json:"durationMs"`
}

// httpCall holds the flags of request, uploadFile and downloadFile.
type httpCall struct {
	api     string
	method  string
	headers multiFlag
	data    string
	timeout string
	file    string
	name    string
	forms   multiFlag
	output  string
}

func (e *env) request(api string, args []string) error {
	synopsis := map[string]string{
		"request":      "request [--config FILE] [--method M] [--header K:V]... [--data D] [--timeout MS] [--resolve H:P:A] [--roots FILE] URL",
		"uploadFile":   "uploadFile [--config FILE] --file PATH [--name NAME] [--form K=V]... [--header K:V]... [--timeout MS] URL",
		"downloadFile": "downloadFile [--config FILE] [--output PATH] [--header K:V]... [--timeout MS] URL",
	}[api]
	fs, module := e.flags(api, synopsis)
	var cf clientFlags
	cf.register(fs)
	h := &httpCall{api: api}
	fs.Var(&h.headers, "header", "a request header K:V (repeatable); a Referer is dropped, as on device (R8)")
	fs.StringVar(&h.timeout, "timeout", "", "the call's own timeout option in ms")
	switch api {
	case "request":
		fs.StringVar(&h.method, "method", "GET", "HTTP method")
		fs.StringVar(&h.data, "data", "", "request body; @FILE reads it from a file")
	case "uploadFile":
		fs.StringVar(&h.file, "file", "", "the local file to upload (required)")
		fs.StringVar(&h.name, "name", "file", "the multipart field name of the file")
		fs.Var(&h.forms, "form", "an extra multipart field K=V (repeatable)")
	case "downloadFile":
		fs.StringVar(&h.output, "output", "", "where to save the file (default: a temporary file, like the client's tempFilePath)")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInput("want exactly one URL, got %d arguments", len(pos))
	}
	var timeout int64
	if h.timeout != "" {
		if timeout, err = strconv.ParseInt(h.timeout, 10, 64); err != nil {
			return badInput("--timeout %q is not a whole number of milliseconds", h.timeout)
		}
	}
	hdr := http.Header{}
	var names []string
	for _, kv := range h.headers {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return badInput("--header %q: want NAME:VALUE", kv)
		}
		hdr.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		names = append(names, strings.TrimSpace(k))
	}
	var body []byte
	if api == "request" && h.data != "" {
		if strings.HasPrefix(h.data, "@") {
			if body, err = readBounded(h.data[1:], maxBody, "request bodies (--data @FILE)"); err != nil {
				return err
			}
		} else {
			body = []byte(h.data)
		}
	}
	if api == "uploadFile" {
		if h.file == "" {
			return badInput("--file PATH is required")
		}
		if body, err = multipartBody(h, hdr); err != nil {
			return err
		}
	}
	c, err := e.newClient(*module, &cf)
	if err != nil {
		return err
	}
	defer c.close()
	cb, err := c.do(api, pos[0], h, hdr, names, body, timeout)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cb); err != nil {
		return err
	}
	if !strings.HasSuffix(cb.ErrMsg, ":ok") {
		return &exitError{code: 1}
	}
	for _, f := range cb.Findings {
		if f.Severity == "error" {
			return &exitError{code: 1}
		}
	}
	return nil
}

// multipartBody builds an uploadFile body and sets its Content-Type.
func multipartBody(h *httpCall, hdr http.Header) ([]byte, error) {
	f, err := os.Open(h.file)
	if err != nil {
		return nil, badInput("--file: %v", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > maxBody {
		return nil, badInput("--file: %s is larger than %d MiB", h.file, maxBody>>20)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, kv := range h.forms {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, badInput("--form %q: want K=V", kv)
		}
		w.WriteField(k, v)
	}
	part, err := w.CreateFormFile(h.name, filepath.Base(h.file))
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(part, io.LimitReader(f, maxBody+1)); err != nil {
		return nil, badInput("--file: %v", err)
	}
	if buf.Len() > maxBody {
		return nil, badInput("--file: larger than %d MiB", maxBody>>20)
	}
	w.Close()
	hdr.Set("Content-Type", w.FormDataContentType())
	return buf.Bytes(), nil
}

// do performs one call with the client's semantics: the module's decision,
// R12 on the server, the engine's timeout and Referer, R10 on the body.
func (c *client) do(api, raw string, h *httpCall, hdr http.Header, names []string, body []byte, timeout int64) (*callback, error) {
	ctx := c.e.ctx
	began := time.Now()
	cb := &callback{Findings: []finding{}}
	fail := func(errMsg string) *callback {
		cb.ErrMsg, cb.DurationMs = errMsg, time.Since(began).Milliseconds()
		return cb
	}
	d, err := c.inst.Check(ctx, abi.CheckRequest{API: api, URL: raw, Timeout: timeout, Headers: names})
	if err != nil {
		return nil, badInput("%v", err)
	}
	cb.TimeoutMs = d.TimeoutMs
	if !d.Allowed && !d.Proceed {
		cb.Findings = append(cb.Findings, finding{Rule: d.Rule, Severity: "error", Message: d.Message, Fix: d.Fix})
		cb.Findings = append(cb.Findings, warningFindings(d.Warnings)...)
		return fail(d.ErrMsg), nil
	}
	u, host, port, err := target(raw, d.Host)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" {
		_, v, err := c.judgeTLS(ctx, host, port, time.Duration(d.TimeoutMs)*time.Millisecond, nil)
		if err != nil {
			return nil, badInput("%v", err)
		}
		cb.Findings = append(cb.Findings, tlsFindings(v)...)
		if !v.OK {
			return fail(strings.Replace(v.ErrMsg, "request:", api+":", 1)), nil
		}
	}

	// Open the call in the engine; it answers start (or block/queue), and
	// later fail on timeout, through the Sim's timers. Actions arrive
	// through on: before the start on a channel this goroutine waits on,
	// after it straight into the call's state, so that a redirect hop's
	// verdict is known as soon as its event returns.
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := &callState{early: make(chan abi.Action, 64), cancel: cancel}
	id, err := c.sim.Open(ctx, abi.Event{API: api, URL: raw, Method: h.method, Timeout: timeout, Headers: names}, st.on)
	if err != nil {
		return nil, badInput("%v", err)
	}
	var forced map[string]string
	for forced == nil {
		a := <-st.early
		switch a.Type {
		case abi.ActReport:
			cb.Findings = append(cb.Findings, actionFinding(a))
		case abi.ActBlock, abi.ActFail:
			cb.Findings = append(cb.Findings, actionFinding(a))
			return fail(a.ErrMsg), nil
		case abi.ActStart:
			forced = a.Headers
			if forced == nil {
				forced = map[string]string{}
			}
		}
	}
	st.started()
	// finish reports the call done to the engine and returns the callback:
	// the engine's fail (a timeout, a refused hop) wins over errMsg.
	finish := func(errMsg string) *callback {
		c.sim.Event(ctx, abi.Event{Type: abi.EvFinish, ID: id})
		failed, late := st.result()
		cb.Findings = append(cb.Findings, late...)
		if failed.Type != "" {
			cb.Findings = append(cb.Findings, actionFinding(failed))
			errMsg = failed.ErrMsg
		}
		return fail(errMsg)
	}

	method := h.method
	switch api {
	case "uploadFile":
		method = "POST"
	case "downloadFile", "":
		method = "GET"
	}
	req, err := http.NewRequestWithContext(callCtx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, badInput("%v", err)
	}
	req.Header = hdr.Clone()
	req.Header.Del("Referer")
	for k, v := range forced {
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "mpnet-hostsim (MicroMessenger; miniProgram)")
	}
	transport := &http.Transport{
		DialContext:            c.dial,
		TLSClientConfig:        c.tlsConfig(""), // each hop verified for its own host
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 1 << 20,
		Proxy:                  nil,
	}
	defer transport.CloseIdleConnections()
	hops := &hopJudge{c: c, ctx: callCtx, api: api, id: id, st: st, cb: cb, timeout: time.Duration(d.TimeoutMs) * time.Millisecond}
	resp, err := (&http.Client{Transport: transport, CheckRedirect: hops.check}).Do(req)
	if err != nil {
		var bad *exitError
		if errors.As(err, &bad) {
			c.sim.Event(ctx, abi.Event{Type: abi.EvFinish, ID: id})
			return nil, bad // a hop hostsim cannot follow the way the client would
		}
		return finish(api + ":fail " + netReason(err)), nil
	}
	defer resp.Body.Close()
	final := resp.Request.URL.String()
	c.sim.Event(ctx, abi.Event{Type: abi.EvResponse, ID: id, Status: resp.StatusCode})
	raw2, err := readLimited(resp.Body)
	if err != nil {
		return finish(api + ":fail " + netReason(err)), nil
	}
	cb.StatusCode = resp.StatusCode
	cb.Header = map[string]string{}
	for k, v := range resp.Header {
		cb.Header[k] = strings.Join(v, ", ")
	}
	switch api {
	case "downloadFile":
		path, err := saveDownload(h.output, raw2)
		if err != nil {
			return nil, err
		}
		cb.TempFilePath = path
	default:
		res, out, err := c.inst.Body(ctx, abi.BodyRequest{API: api, ContentType: resp.Header.Get("Content-Type"), URL: final}, raw2)
		if err != nil {
			return nil, badInput("%v", err)
		}
		for _, f := range warningFindings(res.Warnings) {
			if res.Error != "" && f.Message == res.Error {
				f.Severity = "error" // the conversion failed: garbled data on device
			}
			cb.Findings = append(cb.Findings, f)
		}
		cb.Data = string(out)
		if api == "request" {
			// dataType "json" (the default): parsed when it parses, else the string.
			var v any
			if json.Unmarshal(out, &v) == nil {
				cb.Data = v
			}
		}
	}
	return finish(api + ":ok"), nil
}

// callState is what the engine said about a running call: its fail (a
// timeout, a refused redirect hop) and its later findings.
type callState struct {
	mu      sync.Mutex
	early   chan abi.Action // actions until the start
	running bool
	failed  abi.Action
	late    []finding
	reports []abi.Action // report actions since the start, for the hops
	cancel  context.CancelFunc
}

// on receives the call's actions (Sim.Open's callback).
func (st *callState) on(a abi.Action) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.running {
		st.early <- a
		return
	}
	st.take(a)
}

// take files an action of the running call; the caller holds st.mu.
func (st *callState) take(a abi.Action) {
	switch a.Type {
	case abi.ActFail:
		if st.failed.Type == "" {
			st.failed = a
		}
		st.cancel()
	case abi.ActReport:
		st.late = append(st.late, actionFinding(a))
		st.reports = append(st.reports, a)
	}
}

// started switches on to the running state, taking what queued meanwhile.
func (st *callState) started() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.running = true
	for len(st.early) > 0 {
		st.take(<-st.early)
	}
}

// result returns the fail (if any) and the findings so far.
func (st *callState) result() (abi.Action, []finding) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.failed, st.late
}

// hopReport is one redirect a call met: the server's answer, the URL it
// sent the call to, and what the client did.
type hopReport struct {
	Status int    `json:"status"`
	URL    string `json:"url"`
	// Verdict is "followed", "refused" (the call failed there, as on
	// device) or "reported" (report mode: followed, though a device would
	// fail the call there; the fixed Referer is not sent).
	Verdict string `json:"verdict"`
	Rule    string `json:"rule,omitempty"`
	ErrMsg  string `json:"errMsg,omitempty"`
}

// maxRedirects is how many hops a call follows (as Chromium does).
const maxRedirects = 20

// errHopRefused stops net/http at a hop the engine failed the call at.
var errHopRefused = errors.New("redirect refused (R14)")

// hopJudge has the module judge every redirect hop before net/http
// follows it (R14): the hop's URL (the same host for Go and the client, or
// hostsim refuses to go on), then its server's TLS (R12, a tls event), then
// the hop itself (a redirect event).
type hopJudge struct {
	c       *client
	ctx     context.Context
	api     string
	id      int64
	st      *callState
	cb      *callback
	timeout time.Duration
}

// check is the http.Client's CheckRedirect.
func (j *hopJudge) check(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	hop := hopReport{URL: req.URL.String()}
	if req.Response != nil {
		hop.Status = req.Response.StatusCode
	}
	abs, host, port, d, err := j.resolve(req, via[len(via)-1].URL)
	if err != nil {
		return err
	}
	hop.URL = abs
	// The hop's server's TLS, unless the domain rules already refuse the
	// hop: a device never contacts that server at all.
	if host != "" && req.URL.Scheme == "https" && (d.Allowed || d.Proceed) {
		_, v, err := j.c.judgeTLS(j.ctx, host, port, j.timeout, nil)
		if err != nil {
			return badInput("%v", err)
		}
		j.cb.Findings = append(j.cb.Findings, tlsFindings(v)...)
		if err := j.c.sim.Event(j.ctx, abi.Event{Type: abi.EvTLS, TLS: &v}); err != nil {
			return badInput("%v", err)
		}
	}
	j.st.mu.Lock()
	seen := len(j.st.reports)
	j.st.mu.Unlock()
	if err := j.c.sim.Event(j.ctx, abi.Event{Type: abi.EvRedirect, ID: j.id, URL: abs}); err != nil {
		return badInput("%v", err)
	}
	j.st.mu.Lock()
	failed, reports := j.st.failed, j.st.reports[seen:]
	j.st.mu.Unlock()
	hop.Verdict = "followed"
	for _, a := range reports {
		if a.Rule == "R14" && a.Severity == "error" {
			hop.Verdict, hop.Rule, hop.ErrMsg = "reported", a.Rule, a.ErrMsg
			// The device never calls there, so it never sends the fixed
			// Referer there either.
			req.Header.Del("Referer")
		}
	}
	if failed.Type != "" {
		hop.Verdict, hop.Rule, hop.ErrMsg = "refused", failed.Rule, failed.ErrMsg
	}
	j.cb.Redirects = append(j.cb.Redirects, hop)
	fmt.Fprintf(j.c.e.stderr, "hostsim %s: redirect %d to %s: %s%s\n", j.api, hop.Status, safe(hop.URL), hop.Verdict, prefixJoin(" ", safeAll(nonEmpty(hop.Rule, hop.ErrMsg))))
	if failed.Type != "" {
		return errHopRefused
	}
	return nil
}

// resolve finds where a redirect sends the call, as the client reads the
// Location header: an absolute URL as is, "//host/..." with the current
// scheme, a path on the current host. What a browser could read otherwise
// than Go (backslashes, white space, controls) is refused, and so is a hop
// whose host Go reads differently from the module (as for the first URL).
func (j *hopJudge) resolve(req *http.Request, prev *url.URL) (string, string, int, abi.Decision, error) {
	fail := func(err error) (string, string, int, abi.Decision, error) { return "", "", 0, abi.Decision{}, err }
	loc := ""
	if req.Response != nil {
		loc = req.Response.Header.Get("Location")
	}
	if strings.ContainsFunc(loc, func(r rune) bool { return r == '\\' || r <= ' ' || r == 0x7f }) {
		return fail(badInput("the server redirects to %q, which Go and the client can read differently; hostsim does not follow it", loc))
	}
	abs := req.URL.String() // Go's resolution: a path keeps the host
	switch {
	case strings.HasPrefix(loc, "//"):
		abs = prev.Scheme + ":" + loc
	case hasScheme(loc):
		abs = loc
	}
	d, err := j.c.inst.Check(j.ctx, abi.CheckRequest{API: j.api, URL: abs})
	if err != nil {
		return fail(badInput("%v", err))
	}
	if d.Host == "" {
		return abs, "", 0, d, nil // an invalid URL: the engine fails the hop (R5)
	}
	_, host, port, err := target(abs, d.Host)
	if err != nil {
		return fail(err)
	}
	if goHost := strings.TrimSuffix(strings.ToLower(req.URL.Hostname()), "."); goHost != host {
		return fail(badInput("the server redirects to %q: Go would call %q where the client calls %q; hostsim does not follow it", loc, goHost, host))
	}
	return abs, host, port, d, nil
}

// hasScheme reports whether s starts with a URL scheme and ':'.
func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return true
		default:
			return false
		}
	}
	return false
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("response body larger than %d MiB", maxBody>>20)
	}
	return b, nil
}

func saveDownload(path string, data []byte) (string, error) {
	if path == "" {
		f, err := os.CreateTemp("", "mpnet-download-*")
		if err != nil {
			return "", err
		}
		path = f.Name()
		f.Close()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", badInput("--output: %v", err)
	}
	return path, nil
}

// netReason shortens a Go network error to the part a developer needs.
func netReason(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
	case strings.Contains(msg, "no such host"):
		return "host not found (DNS)"
	case strings.Contains(msg, "server response headers exceeded"), strings.Contains(msg, "header list too long"):
		return "response headers too large"
	case strings.Contains(msg, "first record does not look like a TLS handshake"), strings.Contains(msg, "tls:"):
		return "ssl hand shake error"
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}

package policy

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"mpnet/abi"
	"mpnet/policy/config"
	"mpnet/policy/urlhost"
)

// Limits of the client (R7, R9).
const (
	PoolSize      = 10   // request + uploadFile + downloadFile in flight
	SocketLimit   = 5    // connectSocket open at once
	BackgroundMs  = 5000 // calls not finished this long after hiding fail
	MaxOpenCalls  = 100000
	maxURLInEvent = 8192
)

type state uint8

const (
	stQueued   state = iota + 1 // waiting for a pool slot (R7)
	stDeferred                  // made while in the background (R9)
	stRunning                   // started; for sockets: connecting
	stOpen                      // socket connected: its connect timeout is over
	stHandshake                 // started (holds its slot) but waiting for its server's R12 verdict
)

type call struct {
	id        int64
	seq       uint64 // open order: ties between timers fire in call order
	api       string
	url       string
	pool      bool
	socket    bool
	st        state
	opened    int64
	timeoutMs int64
	source    string // where timeoutMs came from
	deadline  int64  // 0: none
	interrupt int64  // 0: none
	headers   map[string]string
	server    string // "host:port" whose R12 verdict the call needs before it starts ("" none)
	gone      bool   // removed from the engine
}

// timer is a heap entry; it is stale (skipped) once the call's deadline or
// interrupt no longer equals at, or the call is gone.
type timer struct {
	at        int64
	seq       uint64
	interrupt bool
	c         *call
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	if h[i].seq != h[j].seq {
		return h[i].seq < h[j].seq
	}
	return !h[i].interrupt && h[j].interrupt
}

// The heap is typed (not container/heap) so that a push does not box the
// timer: one allocation less per call on the hot path.
func (h *timerHeap) push(t timer) {
	*h = append(*h, t)
	h.up(len(*h) - 1)
}

func (h *timerHeap) pop() {
	old := *h
	n := len(old) - 1
	old[0], old[n] = old[n], timer{}
	*h = old[:n]
	h.down(0)
}

func (h timerHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.Less(j, i) {
			return
		}
		h[i], h[j] = h[j], h[i]
		j = i
	}
}

func (h timerHeap) down(i int) {
	for {
		j := 2*i + 1
		if j >= len(h) {
			return
		}
		if r := j + 1; r < len(h) && h.Less(r, j) {
			j = r
		}
		if !h.Less(j, i) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

func (h timerHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// fifo is a queue of calls with lazy removal: entries whose call left the
// expected state are skipped.
type fifo struct {
	items []*call
	head  int
	n     int // live entries
}

func (q *fifo) push(c *call) { q.items = append(q.items, c); q.n++ }

// pop returns the oldest live call in state st, or nil.
func (q *fifo) pop(st state) *call {
	for q.head < len(q.items) {
		c := q.items[q.head]
		q.items[q.head] = nil
		q.head++
		if c.st == st && !c.gone {
			q.n--
			q.compact()
			return c
		}
	}
	q.compact()
	return nil
}

func (q *fifo) compact() {
	if q.head > 1024 && q.head*2 > len(q.items) {
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	if q.n == 0 {
		q.items, q.head = q.items[:0], 0
	}
}

// Engine is the per-mini-program state machine: the request pool and its
// queue (R7), the socket cap (R7), timeouts (R6), background interruption
// and deferral (R9), the fixed Referer (R8) and status reminders (R11).
// It is not safe for concurrent use; the host serialises events.
type Engine struct {
	cfg      *config.Compiled
	judger   *Judger
	now      int64
	seq      uint64
	calls    map[int64]*call
	queue    fifo // stQueued, FIFO (R7)
	deferred fifo // stDeferred, in call order (R9)
	timers   timerHeap
	running  int // pool calls started
	sockets  int // sockets connecting or open
	hidden   bool
	acts     []abi.Action
	headers  map[string]string         // the forced headers (R8), shared by every call
	tls      map[string]abi.TLSVerdict // R12 verdicts by "host:port"
	// tlsSource: the host can obtain R12 verdicts, so calls to servers
	// without one wait for it (EvTLSSource); noTLS: servers for which the
	// host said no verdict can be had.
	tlsSource bool
	noTLS     map[string]bool
}

// maxTLS bounds the R12 knowledge an engine keeps (verdicts and servers without one).
const maxTLS = 10000

// forced returns the headers every call must carry (R8), built once per configuration.
func (e *Engine) forced() map[string]string {
	if e.headers == nil || e.headers["Referer"] != e.cfg.Referer {
		e.headers = map[string]string{"Referer": e.cfg.Referer}
	}
	return e.headers
}

// NewEngine returns an engine for a compiled configuration.
func NewEngine(c *config.Compiled) *Engine {
	return &Engine{cfg: c, judger: NewJudger(c), calls: map[int64]*call{}}
}

// Config returns the engine's configuration.
func (e *Engine) Config() *config.Compiled { return e.cfg }

// SetConfig replaces the configuration; calls already made keep their
// decisions, later calls use the new one.
func (e *Engine) SetConfig(c *config.Compiled) { e.cfg, e.judger = c, NewJudger(c) }

// Now returns the time of the last event.
func (e *Engine) Now() int64 { return e.now }

// Idle reports whether the engine holds no calls and is in the foreground:
// its state then equals a fresh engine's with the same configuration.
func (e *Engine) Idle() bool { return len(e.calls) == 0 && !e.hidden }

// Status summarises the engine.
func (e *Engine) Status() abi.Status {
	return abi.Status{ABI: abi.Version, Configured: true, Mode: e.cfg.Mode, InFlight: e.running, Queued: e.queue.n + e.deferred.n,
		Sockets: e.sockets, Hidden: e.hidden, Now: e.now}
}

// ErrBadEvent wraps every rejection of an event; the engine is unchanged.
var ErrBadEvent = errors.New("bad event")

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadEvent, fmt.Sprintf(format, a...))
}

// validate checks an event before any state changes, so a rejected event
// leaves the engine exactly as it was.
func (e *Engine) validate(ev *abi.Event) error {
	if ev.At < e.now {
		return bad("time went backwards: at=%d is before the last event's %d", ev.At, e.now)
	}
	switch ev.Type {
	case abi.EvOpen:
		if ev.ID == 0 {
			return bad("open needs a non-zero id")
		}
		if _, dup := e.calls[ev.ID]; dup {
			return bad("call id %d is already open", ev.ID)
		}
		switch ev.Transport {
		case "", TransportFetch, TransportXHR, TransportWebSocket:
		default:
			return bad("unknown transport %q: want fetch, xhr or websocket", ev.Transport)
		}
		if ev.API == "" && ev.Transport == "" {
			return bad("open needs an api, or the transport to tell it from (R15)")
		}
		if ev.API != "" && ListOf(ev.API) == "" {
			return bad("unknown api %q: want one of %s", ev.API, strings.Join(abi.APIs, ", "))
		}
		if len(ev.Origin) > maxURLInEvent {
			return bad("origin is %d bytes long, at most %d", len(ev.Origin), maxURLInEvent)
		}
		if len(ev.URL) > maxURLInEvent {
			return bad("url is %d bytes long, at most %d", len(ev.URL), maxURLInEvent)
		}
		if len(e.calls) >= MaxOpenCalls {
			return bad("too many calls open (%d): report finish events", len(e.calls))
		}
	case abi.EvConnected, abi.EvResponse, abi.EvFinish, abi.EvAbort:
		if ev.ID == 0 {
			return bad("%s needs the id of an open call", ev.Type)
		}
		if ev.Type == abi.EvResponse && (ev.Status < 100 || ev.Status > 999) {
			return bad("response status %d is not an HTTP status", ev.Status)
		}
	case abi.EvRedirect:
		if ev.ID == 0 {
			return bad("redirect needs the id of an open call")
		}
		if ev.URL == "" {
			return bad("redirect needs the url the call is redirected to")
		}
		if len(ev.URL) > maxURLInEvent {
			return bad("url is %d bytes long, at most %d", len(ev.URL), maxURLInEvent)
		}
	case abi.EvTLS:
		if ev.TLS == nil {
			if _, ok := serverKey(ev.Server); !ok {
				return bad("tls needs a verdict with host and port, or the server (\"host:port\") no verdict can be had for")
			}
			break
		}
		if ev.TLS.Host == "" || ev.TLS.Port <= 0 || ev.TLS.Port > 65535 {
			return bad("tls needs a verdict with host and port")
		}
	case abi.EvHide, abi.EvShow, abi.EvTick, abi.EvReset, abi.EvTLSSource:
	case "":
		return bad("event has no type")
	default:
		return bad("unknown event type %q", ev.Type)
	}
	return nil
}

// Step applies one event at time ev.At. Timers that expire at or before
// ev.At fire first, in time order (ties in call order), each at its own
// time. A rejected event returns an error wrapping ErrBadEvent and leaves
// the engine unchanged. The result's Actions share the engine's buffer:
// they are valid until the next event.
func (e *Engine) Step(ev abi.Event) (abi.StepResult, error) {
	if err := e.validate(&ev); err != nil {
		return abi.StepResult{}, err
	}
	e.acts = e.acts[:0]
	e.fireUntil(ev.At)
	e.now = ev.At
	switch ev.Type {
	case abi.EvOpen:
		e.open(&ev)
	case abi.EvConnected:
		if c := e.calls[ev.ID]; c != nil && c.socket && c.st == stRunning {
			c.st, c.deadline = stOpen, 0
		}
	case abi.EvResponse:
		if c := e.calls[ev.ID]; c != nil && ev.Status >= 400 {
			kind := "client error"
			if ev.Status >= 500 {
				kind = "server error"
			}
			e.report(c, "R11", "warning", fmt.Sprintf("[R11] %s answered %d (%s): on device the success callback runs with statusCode %d", c.url, ev.Status, kind, ev.Status),
				"check res.statusCode in the success callback before using res.data")
		}
	case abi.EvFinish:
		if c := e.calls[ev.ID]; c != nil {
			e.remove(c)
			e.pump()
		}
	case abi.EvRedirect:
		if c := e.calls[ev.ID]; c != nil {
			e.redirect(c, ev.URL)
		}
	case abi.EvAbort:
		if c := e.calls[ev.ID]; c != nil {
			e.remove(c)
			e.emit(abi.Action{Type: abi.ActFail, ID: c.id, API: c.api, ErrMsg: ErrMsg(c.api, ReasonAbort), At: e.now,
				Message: "the call was aborted by the mini program"})
			e.pump()
		}
	case abi.EvHide:
		if !e.hidden {
			e.hidden = true
			for _, c := range e.calls {
				if c.pool && (c.st == stRunning || c.st == stQueued || c.st == stHandshake) {
					e.setInterrupt(c, e.now+BackgroundMs)
				}
			}
		}
	case abi.EvShow:
		if e.hidden {
			e.hidden = false
			for _, c := range e.calls {
				c.interrupt = 0
			}
			e.pump()
			for c := e.deferred.pop(stDeferred); c != nil; c = e.deferred.pop(stDeferred) {
				e.place(c)
			}
			e.compactTimers()
		}
	case abi.EvTLS:
		e.learnTLS(&ev)
	case abi.EvTLSSource:
		e.tlsSource = true
	case abi.EvReset:
		*e = Engine{cfg: e.cfg, judger: e.judger, calls: map[int64]*call{}, now: e.now, seq: e.seq, acts: e.acts, tls: e.tls,
			tlsSource: e.tlsSource, noTLS: e.noTLS}
	}
	return e.result(), nil
}

func (e *Engine) result() abi.StepResult {
	if e.acts == nil {
		e.acts = []abi.Action{}
	}
	return abi.StepResult{Actions: e.acts, NextWake: e.nextWake(), InFlight: e.running, Queued: e.queue.n + e.deferred.n,
		Sockets: e.sockets, Hidden: e.hidden}
}

func (e *Engine) emit(a abi.Action) { e.acts = append(e.acts, a) }

func (e *Engine) enforcing() bool { return e.cfg.Mode == "enforce" }

// report records a finding about a call.
func (e *Engine) report(c *call, rule, severity, msg, fix string) {
	e.emit(abi.Action{Type: abi.ActReport, ID: c.id, API: c.api, Rule: rule, Severity: severity, Message: msg, Fix: fix, At: e.now})
}

// reportFailure records, in report mode, a failure the device would call back with errMsg.
func (e *Engine) reportFailure(c *call, rule, errMsg, msg, fix string) {
	e.emit(abi.Action{Type: abi.ActReport, ID: c.id, API: c.api, Rule: rule, Severity: "error", ErrMsg: errMsg,
		Message: msg + "; on device it fails with " + errMsg, Fix: fix, At: e.now})
}

func (e *Engine) open(ev *abi.Event) {
	ev.API = identify(ev)
	if what, pattern := e.tooling(ev); what != "" {
		e.pass(ev, what, pattern)
		return
	}
	if e.cfg.Mode == "off" {
		e.emit(abi.Action{Type: abi.ActStart, ID: ev.ID, API: ev.API, At: e.now})
		return
	}
	d, source, _ := e.judger.judge(abi.CheckRequest{API: ev.API, URL: ev.URL, Timeout: ev.Timeout, Headers: ev.Headers})
	for _, w := range d.Warnings {
		sev := "warning"
		if w.Rule == "R4" {
			sev = "info"
		}
		e.emit(abi.Action{Type: abi.ActReport, ID: ev.ID, API: ev.API, Rule: w.Rule, Severity: sev, Message: w.Message, Fix: w.Fix, At: e.now})
	}
	if !d.Allowed {
		if !d.Proceed {
			e.emit(abi.Action{Type: abi.ActBlock, ID: ev.ID, API: ev.API, Rule: d.Rule, ErrMsg: d.ErrMsg, Message: d.Message,
				Console: d.Console, Fix: d.Fix, At: e.now, List: d.List, Entry: entryIfListed(d)})
			return
		}
		msg := d.Message
		if d.Rule == "R1" || d.Rule == "R2" || d.Rule == "R3" {
			msg = fmt.Sprintf("[%s] %s not in domain list. This network request will be blocked in release version. (%s)", d.Rule, ev.URL, strings.TrimPrefix(d.Message, "["+d.Rule+"] "))
		}
		e.emit(abi.Action{Type: abi.ActReport, ID: ev.ID, API: ev.API, Rule: d.Rule, Severity: "error", ErrMsg: d.ErrMsg, Message: msg,
			Console: d.Console, Fix: d.Fix, At: e.now, List: d.List, Entry: entryIfListed(d)})
	}
	if errMsg, msg, fix, failed := e.tlsFailure(ev.API, ev.URL); failed {
		if e.enforcing() {
			e.emit(abi.Action{Type: abi.ActBlock, ID: ev.ID, API: ev.API, Rule: "R12", ErrMsg: errMsg, Message: msg, Fix: fix, At: e.now})
			return
		}
		e.emit(abi.Action{Type: abi.ActReport, ID: ev.ID, API: ev.API, Rule: "R12", Severity: "error", ErrMsg: errMsg, Message: msg + "; on device it fails with " + errMsg, Fix: fix, At: e.now})
	}
	if ev.API == "tcp" || ev.API == "udp" || ev.API == "resource" {
		e.emit(abi.Action{Type: abi.ActStart, ID: ev.ID, API: ev.API, At: e.now})
		return
	}
	e.seq++
	c := &call{id: ev.ID, seq: e.seq, api: ev.API, url: ev.URL, pool: isPool(ev.API), socket: ev.API == "connectSocket",
		opened: e.now, timeoutMs: d.TimeoutMs, source: source}
	if e.enforcing() {
		c.headers = e.forced()
		if e.tlsSource {
			c.server = e.tlsServer(ev.API, ev.URL)
		}
	}
	e.calls[c.id] = c
	if !e.cfg.TimeoutFromStart {
		e.setDeadline(c, c.opened+c.timeoutMs)
	}
	if e.hidden {
		if e.enforcing() {
			c.st = stDeferred
			e.deferred.push(c)
			e.emit(abi.Action{Type: abi.ActQueue, ID: c.id, API: c.api, Reason: "background", Position: e.deferred.n, Rule: "R9", At: e.now,
				Message: "[R9] the mini program is in the background: the call does not start until it returns to the foreground"})
			return
		}
		e.report(c, "R9", "warning", "[R9] call made while the mini program is in the background: on device it would not start until it returns to the foreground", "")
	}
	e.place(c)
}

// tlsFailure reports whether the engine knows that a call's server fails
// R12, with the errMsg for the call's API and the first error's message and fix.
func (e *Engine) tlsFailure(api, raw string) (errMsg, msg, fix string, failed bool) {
	v, ok := e.tlsVerdict(api, raw)
	if !ok || v.OK {
		return "", "", "", false
	}
	msg = "[R12] the server's certificate or TLS fails on device"
	for _, f := range v.Findings {
		if f.Severity == "error" {
			msg, fix = f.Message, f.Fix
			break
		}
	}
	return strings.Replace(v.ErrMsg, "request:", api+":", 1), msg, fix, true
}

// redirect judges one redirect hop of a call (R14) as the client's
// developer tools do: the hop's URL must pass R1-R5 for the call's API, and
// its server must not be known to fail R12. A hop the device refuses fails
// the call with that API's errMsg (enforce), or is reported as a failure the
// device would see (report mode, urlCheck false).
func (e *Engine) redirect(c *call, raw string) {
	from := c.url
	c.url = raw
	if e.cfg.Mode == "off" {
		return
	}
	d, _, err := e.judger.judge(abi.CheckRequest{API: c.api, URL: raw})
	if err != nil {
		return // the call's API was validated at open
	}
	for _, w := range d.Warnings {
		if w.Rule == "R5" || w.Rule == "C5" {
			e.report(c, w.Rule, "warning", w.Message, w.Fix)
		}
	}
	hop := fmt.Sprintf("[R14] %s was redirected to %s", from, raw)
	if !d.Allowed {
		msg := hop + ", which the client refuses: " + d.Message
		fix := d.Fix + "; or make the server answer without redirecting to a URL the client refuses"
		if !d.Proceed {
			e.remove(c)
			e.emit(abi.Action{Type: abi.ActFail, ID: c.id, API: c.api, Rule: "R14", ErrMsg: d.ErrMsg, Message: msg,
				Console: d.Console, Fix: fix, At: e.now, List: d.List, Entry: entryIfListed(d)})
			e.pump()
			return
		}
		if d.Rule == "R1" || d.Rule == "R2" || d.Rule == "R3" {
			msg = fmt.Sprintf("%s, not in domain list. This network request will be blocked in release version. (%s)", hop, d.Message)
		}
		e.emit(abi.Action{Type: abi.ActReport, ID: c.id, API: c.api, Rule: "R14", Severity: "error", ErrMsg: d.ErrMsg, Message: msg,
			Console: d.Console, Fix: fix, At: e.now, List: d.List, Entry: entryIfListed(d)})
	}
	if errMsg, msg, fix, failed := e.tlsFailure(c.api, raw); failed {
		msg = hop + ": " + msg
		if e.enforcing() {
			e.remove(c)
			e.emit(abi.Action{Type: abi.ActFail, ID: c.id, API: c.api, Rule: "R14", ErrMsg: errMsg, Message: msg, Fix: fix, At: e.now})
			e.pump()
			return
		}
		e.reportFailure(c, "R14", errMsg, msg, fix)
	}
}

func tlsKey(host string, port int) string {
	return strings.ToLower(strings.Trim(host, "[]")) + ":" + strconv.Itoa(port)
}

// serverOf returns the "host:port" key of a call's TLS server: pool and
// socket APIs on https/wss URLs only.
func serverOf(api, raw string) (string, bool) {
	if !isPool(api) && api != "connectSocket" {
		return "", false
	}
	u, err := urlhost.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "wss") {
		return "", false
	}
	port := u.Port
	if port < 0 {
		port = 443
	}
	return tlsKey(u.Host.Name, port), true
}

// serverKey normalises a "host:port" a host sent (IPv6 hosts with or
// without brackets) to the engine's key.
func serverKey(s string) (string, bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || len(s) > 300 {
		return "", false
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil || port <= 0 || port > 65535 {
		return "", false
	}
	return tlsKey(s[:i], port), true
}

// tlsVerdict finds the R12 verdict for a call's server, if the host told one.
func (e *Engine) tlsVerdict(api, raw string) (abi.TLSVerdict, bool) {
	if len(e.tls) == 0 {
		return abi.TLSVerdict{}, false
	}
	key, ok := serverOf(api, raw)
	if !ok {
		return abi.TLSVerdict{}, false
	}
	v, ok := e.tls[key]
	return v, ok
}

// tlsServer returns the server a call must wait for before it starts: its
// https/wss server when no verdict (and no "none to be had") is known yet.
func (e *Engine) tlsServer(api, raw string) string {
	key, ok := serverOf(api, raw)
	if !ok || e.noTLS[key] {
		return ""
	}
	if _, known := e.tls[key]; known {
		return ""
	}
	return key
}

// learnTLS keeps what a "tls" event says about a server and lets the calls
// waiting for it go on: failed with the device's errMsg when the verdict
// fails (enforce mode), otherwise started.
func (e *Engine) learnTLS(ev *abi.Event) {
	var key string
	var v *abi.TLSVerdict
	if ev.TLS != nil {
		v = ev.TLS
		key = tlsKey(v.Host, v.Port)
		if e.tls == nil {
			e.tls = map[string]abi.TLSVerdict{}
		}
		if len(e.tls) < maxTLS {
			e.tls[key] = *v
		}
	} else {
		key, _ = serverKey(ev.Server)
		if e.noTLS == nil {
			e.noTLS = map[string]bool{}
		}
		if len(e.noTLS) < maxTLS {
			e.noTLS[key] = true
		}
	}
	var held []*call
	for _, c := range e.calls {
		if c.st == stHandshake && c.server == key {
			held = append(held, c)
		}
	}
	if len(held) == 0 {
		return
	}
	sort.Slice(held, func(i, j int) bool { return held[i].seq < held[j].seq })
	failed := false
	for _, c := range held {
		c.server = ""
		if v == nil {
			e.report(c, "R12", "warning", fmt.Sprintf("[R12] no certificate and TLS verdict could be had for %s: the call went ahead without the R12 check", key),
				"make sure hostsim agent is running and the host is in the configuration's domain lists")
		} else if errMsg, msg, fix, bad := e.tlsFailure(c.api, c.url); bad {
			e.remove(c)
			e.emit(abi.Action{Type: abi.ActFail, ID: c.id, API: c.api, Rule: "R12", ErrMsg: errMsg, Message: msg, Fix: fix, At: e.now})
			failed = true
			continue
		}
		c.st = stRunning
		e.emitStart(c)
	}
	if failed {
		e.pump()
	}
}

// entryIfListed returns the entry to add for an R2 violation on a domain,
// "" when adding an entry would not help.
func entryIfListed(d abi.Decision) string {
	if d.Rule == "R2" {
		return d.Entry
	}
	return ""
}

// place starts a call or holds it per R7.
func (e *Engine) place(c *call) {
	switch {
	case c.socket && e.sockets >= SocketLimit:
		msg := fmt.Sprintf("[R7] %d sockets are already open: the client allows at most %d at once", e.sockets, SocketLimit)
		fix := "close sockets you no longer need (SocketTask.close) or multiplex over one socket"
		if e.enforcing() {
			e.forget(c)
			e.emit(abi.Action{Type: abi.ActBlock, ID: c.id, API: c.api, Rule: "R7", ErrMsg: ErrMsg(c.api, ReasonExceed), Message: msg, Fix: fix, At: e.now})
			return
		}
		e.reportFailure(c, "R7", ErrMsg(c.api, ReasonExceed), msg, fix)
	case c.pool && e.running >= PoolSize:
		fix := "limit concurrent request/uploadFile/downloadFile calls to 10 (batch or chain them)"
		if e.enforcing() {
			if e.cfg.Legacy {
				e.forget(c)
				e.emit(abi.Action{Type: abi.ActBlock, ID: c.id, API: c.api, Rule: "R7", ErrMsg: ErrMsg(c.api, ReasonExceed), At: e.now,
					Message: fmt.Sprintf("[R7] %d calls are in flight: in legacy mode the client fails calls beyond %d", e.running, PoolSize), Fix: fix})
				return
			}
			c.st = stQueued
			e.queue.push(c)
			e.emit(abi.Action{Type: abi.ActQueue, ID: c.id, API: c.api, Reason: "pool", Position: e.queue.n, Rule: "R7", At: e.now,
				Message: fmt.Sprintf("[R7] %d calls are in flight: this one waits in the queue (position %d) until one finishes", e.running, e.queue.n),
				Fix:     fix})
			return
		}
		e.report(c, "R7", "warning", fmt.Sprintf("[R7] %d calls are in flight: on device this one would wait in the queue", e.running), fix)
	}
	e.start(c)
}

func (e *Engine) start(c *call) {
	if c.server != "" {
		// A call that waited in a queue while its server's verdict came in.
		if errMsg, msg, fix, bad := e.tlsFailure(c.api, c.url); bad {
			e.forget(c)
			e.emit(abi.Action{Type: abi.ActFail, ID: c.id, API: c.api, Rule: "R12", ErrMsg: errMsg, Message: msg, Fix: fix, At: e.now})
			return
		}
	}
	c.st = stRunning
	if c.pool {
		e.running++
	}
	if c.socket {
		e.sockets++
	}
	if e.cfg.TimeoutFromStart {
		e.setDeadline(c, e.now+c.timeoutMs)
	}
	if e.hidden && c.pool {
		e.setInterrupt(c, e.now+BackgroundMs)
	}
	if c.server != "" && e.tlsServer(c.api, c.url) != "" {
		// The first call to a server without a verdict holds its place, as
		// the device's handshake would, until the host reports the verdict.
		c.st = stHandshake
		e.emit(abi.Action{Type: abi.ActQueue, ID: c.id, API: c.api, Reason: "tls", Rule: "R12", Server: c.server, At: e.now,
			Message: fmt.Sprintf("[R12] waiting for the certificate and TLS verdict on %s, as the device's handshake would: the call goes on once it is known", c.server)})
		return
	}
	c.server = ""
	e.emitStart(c)
}

func (e *Engine) emitStart(c *call) {
	e.emit(abi.Action{Type: abi.ActStart, ID: c.id, API: c.api, TimeoutMs: c.timeoutMs, Deadline: c.deadline, Headers: c.headers, At: e.now})
}

// pump starts queued calls while the pool has room and the app is in the foreground.
func (e *Engine) pump() {
	for !e.hidden && e.running < PoolSize {
		c := e.queue.pop(stQueued)
		if c == nil {
			return
		}
		e.start(c)
	}
}

// remove drops a call from every structure, releasing its slot.
func (e *Engine) remove(c *call) {
	switch c.st {
	case stRunning, stOpen, stHandshake:
		if c.pool {
			e.running--
		}
		if c.socket {
			e.sockets--
		}
	case stQueued:
		e.queue.n--
	case stDeferred:
		e.deferred.n--
	}
	e.forget(c)
}

// forget drops a call that holds no slot; queue and timer entries pointing
// at it become stale and are skipped.
func (e *Engine) forget(c *call) {
	c.gone = true
	delete(e.calls, c.id)
	if len(e.calls) == 0 {
		e.timers = e.timers[:0]
		e.queue, e.deferred = fifo{}, fifo{}
	}
}

func (e *Engine) setDeadline(c *call, at int64) {
	c.deadline = at
	e.timers.push(timer{at: at, seq: c.seq, c: c})
}

func (e *Engine) setInterrupt(c *call, at int64) {
	c.interrupt = at
	e.timers.push(timer{at: at, seq: c.seq, interrupt: true, c: c})
}

func (t timer) live() bool {
	if t.c.gone {
		return false
	}
	if t.interrupt {
		return t.c.interrupt == t.at
	}
	return t.c.deadline == t.at && t.c.st != stOpen
}

// nextTimer returns the earliest live timer (ties: earliest opened call,
// timeout before interruption), dropping stale entries on the way.
func (e *Engine) nextTimer() (t timer, ok bool) {
	for len(e.timers) > 0 {
		if e.timers[0].live() {
			return e.timers[0], true
		}
		e.timers.pop()
	}
	return timer{}, false
}

// compactTimers drops stale entries when they outnumber live ones.
func (e *Engine) compactTimers() {
	if len(e.timers) < 64 || len(e.timers) < 4*len(e.calls) {
		return
	}
	live := e.timers[:0]
	for _, t := range e.timers {
		if t.live() {
			live = append(live, t)
		}
	}
	for i := len(live); i < len(e.timers); i++ {
		e.timers[i] = timer{}
	}
	e.timers = live
	e.timers.init()
}

func (e *Engine) nextWake() int64 {
	t, ok := e.nextTimer()
	if !ok {
		return 0
	}
	return t.at
}

// fireUntil fires every timer due at or before t, each at its own time.
func (e *Engine) fireUntil(t int64) {
	for {
		tm, ok := e.nextTimer()
		if !ok || tm.at > t {
			return
		}
		e.timers.pop()
		c, at := tm.c, tm.at
		if at > e.now {
			e.now = at
		}
		var rule, reason, msg, fix string
		if tm.interrupt {
			c.interrupt = 0
			rule, reason = "R9", ReasonInterrupted
			msg = fmt.Sprintf("[R9] the mini program has been in the background for %d ms and the call had not finished", BackgroundMs)
			fix = "finish network work before the app is hidden (onHide), or retry in onShow"
		} else {
			c.deadline = 0
			what := "no response"
			if c.socket {
				what = "the socket did not connect"
			}
			rule, reason = "R6", ReasonTimeout
			msg = fmt.Sprintf("[R6] %s within the effective timeout of %d ms (from %s)", what, c.timeoutMs, c.source)
			fix = "speed up the server, or raise the timeout (call option or networkTimeout in app.json, at most 60000 ms)"
		}
		if !e.enforcing() {
			e.reportFailure(c, rule, ErrMsg(c.api, reason), msg, fix)
			continue
		}
		e.remove(c)
		e.emit(abi.Action{Type: abi.ActFail, ID: c.id, API: c.api, Rule: rule, ErrMsg: ErrMsg(c.api, reason), Message: msg, Fix: fix, At: e.now})
		e.pump()
	}
}

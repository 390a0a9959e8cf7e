// Package abi defines the messages exchanged between a host and the mpnet
// WebAssembly module: the configuration, the events a host reports, the
// actions the module decides, and the results of the stateless entry points.
//
// The package holds types only, no logic, so that the module (wasm/), the
// policy core (policy/) and the native host (hostsim/) agree on one wire
// format without the host linking the policy. Every message is JSON; see
// wasm/ABI.md for the exports that carry them.
package abi

// Version is the ABI version this package describes. A host refuses a module
// whose mpnet_abi_version export returns anything else.
const Version = 3

// Bounds on configuration the module imports (mpnet_configure): a host
// checks them before it reads a file, so that it never holds more.
const (
	// MaxConfigFileSize is the largest configuration file, in bytes.
	MaxConfigFileSize = 4 << 20
	// MaxConfigFiles is the most files one import may merge.
	MaxConfigFiles = 32
)

// APIs lists the mini-program network APIs the policy knows, in a fixed
// order, and "resource": an image, audio or video the page loads (R13).
var APIs = []string{"request", "uploadFile", "downloadFile", "connectSocket", "tcp", "udp", "resource"}

// Modes lists the accepted values of Config.Mode.
var Modes = []string{"enforce", "report", "off"}

// Config is the product's own configuration file, mpnet.json, and also the
// effective configuration the module reports after importing project files.
type Config struct {
	AppID          string   `json:"appid,omitempty"`
	Version        string   `json:"version,omitempty"`
	Domains        Domains  `json:"domains"`
	NetworkTimeout Timeouts `json:"networkTimeout,omitempty"`
	// URLCheck false means "skip domain name verification": domain violations
	// (R1-R5) are reported, never blocked. Nil means true.
	URLCheck *bool  `json:"urlCheck,omitempty"`
	Mode     string `json:"mode,omitempty"`
	// LAN lists the CIDR ranges R4 treats as the developer's LAN. Nil means
	// the default (RFC 1918 and fc00::/7); an empty list disables R4.
	LAN []string `json:"lan,omitempty"`
	// Concurrency is "queue" (default, base library >= 1.4.0) or "legacy"
	// (calls beyond the pool of 10 fail instead of waiting).
	Concurrency string `json:"concurrency,omitempty"`
	// TimeoutFrom is "call" (default: the timeout runs from the moment the
	// app makes the call, queue wait included) or "start".
	TimeoutFrom string `json:"timeoutFrom,omitempty"`
	// Tooling lists URL patterns of the preview that are not mini-program
	// calls (R15), beside the dev servers' own traffic the module knows:
	// "scheme://host[:port]/path" with "*" for any run of characters (not
	// crossing the authority's end in the host and port). A call of the
	// preview page matching one passes untouched (action "pass").
	Tooling []string `json:"tooling,omitempty"`
}

// Domains holds the six domain lists of the admin console.
type Domains struct {
	Request      []string `json:"request,omitempty"`
	UploadFile   []string `json:"uploadFile,omitempty"`
	DownloadFile []string `json:"downloadFile,omitempty"`
	Socket       []string `json:"socket,omitempty"`
	TCP          []string `json:"tcp,omitempty"`
	UDP          []string `json:"udp,omitempty"`
}

// Timeouts is app.json's networkTimeout, in milliseconds; 0 means unset.
type Timeouts struct {
	Request       int64 `json:"request,omitempty"`
	ConnectSocket int64 `json:"connectSocket,omitempty"`
	UploadFile    int64 `json:"uploadFile,omitempty"`
	DownloadFile  int64 `json:"downloadFile,omitempty"`
}

// File is one configuration file handed to the module for import: its name
// (used to recognise the format and in error messages) and its text.
type File struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// ConfigureRequest is the input of mpnet_configure: project files in any
// format RULES.md lists, merged in order. Exactly one of Files or Config is
// used; Config (already structured) skips file parsing.
type ConfigureRequest struct {
	Files  []File  `json:"files,omitempty"`
	Config *Config `json:"config,omitempty"`
	// DryRun reports the merged configuration and its problems without
	// loading it into the engine (used by lint).
	DryRun bool `json:"dryRun,omitempty"`
}

// ConfigureResult is the output of mpnet_configure.
type ConfigureResult struct {
	// OK is false when a file could not be read as configuration at all; the
	// engine then keeps its previous configuration.
	OK     bool      `json:"ok"`
	Errors []Problem `json:"errors,omitempty"`
	// Problems are the C1-C4 (and other) findings about a configuration that
	// was loaded; invalid entries are ignored when matching.
	Problems []Problem `json:"problems,omitempty"`
	Config   *Config   `json:"config,omitempty"`
	// Formats names the format recognised for each input file, in order.
	Formats []string `json:"formats,omitempty"`
	Referer string   `json:"referer,omitempty"`
}

// Problem is an error or warning about configuration, located in a file.
type Problem struct {
	Rule     string `json:"rule,omitempty"`
	Severity string `json:"severity"` // "error" or "warning"
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Col      int    `json:"col,omitempty"`
	// Entry is the offending value, e.g. "https://a.com:8080", or the key.
	Entry   string `json:"entry,omitempty"`
	List    string `json:"list,omitempty"` // e.g. "domains.request"
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// CheckRequest is the input of mpnet_check: one call judged on its own,
// without touching the engine's state.
type CheckRequest struct {
	API string `json:"api"`
	URL string `json:"url"`
	// Timeout is the call's own timeout option in ms; 0 means not given.
	Timeout int64 `json:"timeout,omitempty"`
	// Headers are the names of the headers the code tried to set.
	Headers []string `json:"headers,omitempty"`
}

// Warning is a non-blocking finding attached to a decision.
type Warning struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Decision is the module's judgement of one call, as `hostsim check` prints it.
type Decision struct {
	// Allowed reports whether the call would succeed on a device (release build).
	Allowed bool `json:"allowed"`
	// Proceed reports whether the preview lets the call go on regardless
	// (mode report or off, or urlCheck false for domain rules).
	Proceed bool   `json:"proceed"`
	ErrMsg  string `json:"errMsg"`
	Rule    string `json:"rule"`
	// Message explains the violation in English, naming the rule and the fix.
	Message string `json:"message,omitempty"`
	// Console is the line the WeChat developer tools print (Chinese).
	Console string `json:"console,omitempty"`
	// Fix says what to change, e.g. which list to add which entry to.
	Fix      string    `json:"fix,omitempty"`
	Warnings []Warning `json:"warnings"`
	// TimeoutMs is the effective timeout (R6); 0 for tcp/udp.
	TimeoutMs int64  `json:"timeoutMs"`
	Referer   string `json:"referer"`
	API       string `json:"api"`
	URL       string `json:"url"`
	// Host is the host the call really targets (after WHATWG parsing), "" for invalid URLs.
	Host string `json:"host,omitempty"`
	// List is the configuration list that governs this API, e.g. "domains.request".
	List string `json:"list,omitempty"`
	// Entry is the configuration entry that would allow the call, e.g. "https://api.example.com".
	Entry string `json:"entry,omitempty"`
	Mode  string `json:"mode"`
}

// Event types a host reports to mpnet_step.
const (
	EvOpen      = "open"      // the app made a call (any API)
	EvConnected = "connected" // a socket's handshake completed: its connect timeout stops
	EvResponse  = "response"  // response headers arrived (Status set)
	EvFinish    = "finish"    // the call completed (or the socket closed); frees its slot
	EvAbort     = "abort"     // the app aborted the call (task.abort / AbortSignal)
	EvHide      = "hide"      // the mini program went to the background
	EvShow      = "show"      // it came back to the foreground
	EvTick      = "tick"      // time passed (the host's timer for NextWake fired)
	EvReset     = "reset"     // forget every call (page reload); keeps the configuration and TLS verdicts
	// EvTLS tells the engine a server's R12 verdict (TLS set): later calls
	// to that host and port fail as the device would. Hosts replay these
	// events after a trap even when the engine was idle.
	// A "tls" event with Server ("host:port") and no TLS says that no
	// verdict can be had for that server (the host has no source for it,
	// or its source failed): calls held for it go ahead unjudged by R12.
	EvTLS = "tls"
	// EvTLSSource tells the engine that the host can obtain R12 verdicts
	// (hostsim agent): from then on, in enforce mode, an https/wss call to a
	// server without a known verdict holds its place (pool slot or socket)
	// but waits (ActQueue, Reason "tls", Server set) until a "tls" event for
	// that server arrives, as the device's handshake would; its timeout
	// keeps running. Hosts replay it after a trap like "tls" events.
	EvTLSSource = "tlsSource"
	// EvRedirect tells the engine that a call is being redirected to URL
	// (one hop; R14): the hop is judged like a call to URL with the call's
	// API (R1-R5, and an R12 verdict the engine knows for its server); a hop
	// the device would refuse fails the call (a report in report mode).
	EvRedirect = "redirect"
)

// Event is what a host tells mpnet_step. At is the host's monotonic clock in
// ms; it must never go backwards.
type Event struct {
	Type string `json:"type"`
	At   int64  `json:"at"`
	ID   int64  `json:"id,omitempty"`
	API  string `json:"api,omitempty"`
	URL  string `json:"url,omitempty"`
	// Method is the HTTP method, for the record.
	Method string `json:"method,omitempty"`
	// Timeout is the call's own timeout option in ms (0 = not given).
	Timeout int64 `json:"timeout,omitempty"`
	// Headers are the names of the headers the code tried to set.
	Headers []string `json:"headers,omitempty"`
	// Status is the HTTP status for EvResponse.
	Status int `json:"status,omitempty"`
	// TLS is the server's verdict for EvTLS (from mpnet_judge_tls).
	TLS *TLSVerdict `json:"tls,omitempty"`

	// Transport facts of an open event from a preview page (R15). With them
	// the module tells dev-server tooling from mini-program calls, and,
	// when API is empty, which API the call is.

	// Transport is how the page made the call: "fetch", "xhr" or "websocket".
	Transport string `json:"transport,omitempty"`
	// Origin is the origin of the page that made the call, as captured at
	// document start ("http://localhost:10086"); empty for hosts that are
	// not a preview page (hostsim), which never get "pass".
	Origin string `json:"origin,omitempty"`
	// Protocols are a WebSocket's subprotocols.
	Protocols []string `json:"protocols,omitempty"`
	// Accept is the Accept header the code set, if any.
	Accept string `json:"accept,omitempty"`
	// Body is the kind of request body the code passed: "formdata",
	// "blob", "arraybuffer", "string", "urlsearchparams", "stream" or
	// "other"; empty for none.
	Body string `json:"body,omitempty"`
	// ContentType is the Content-Type header the code set, if any.
	ContentType string `json:"contentType,omitempty"`
	// ResponseType is an XHR's responseType ("", "text", "json",
	// "arraybuffer", "blob", "document").
	ResponseType string `json:"responseType,omitempty"`
	// Server is "host:port" for an EvTLS that says no verdict can be had.
	Server string `json:"server,omitempty"`
}

// Action types mpnet_step returns.
const (
	// ActStart: perform the call now; TimeoutMs/Deadline say when it will be
	// failed, Headers lists headers to force (the Referer of R8).
	ActStart = "start"
	// ActQueue: hold the call; Reason is "pool" (R7), "background" (R9) or
	// "tls" (R12: waiting for its server's verdict, named by Server).
	ActQueue = "queue"
	// ActBlock: fail the call at once with ErrMsg (it never starts).
	ActBlock = "block"
	// ActFail: fail a started or held call with ErrMsg (timeout, interrupted, abort).
	ActFail = "fail"
	// ActReport: a finding only; nothing to carry out.
	ActReport = "report"
	// ActPass: the call is not a mini-program call (R15: the dev server's
	// own traffic on the preview origin, or a pattern of Config.Tooling):
	// perform it untouched, with no pool slot, no forced headers and no
	// R10, and report nothing more about it (the engine keeps no state).
	ActPass = "pass"
)

// Action is one thing the host must carry out (or record).
type Action struct {
	Type      string            `json:"type"`
	ID        int64             `json:"id,omitempty"`
	API       string            `json:"api,omitempty"`
	Rule      string            `json:"rule,omitempty"`
	ErrMsg    string            `json:"errMsg,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	Position  int               `json:"position,omitempty"`
	TimeoutMs int64             `json:"timeoutMs,omitempty"`
	Deadline  int64             `json:"deadline,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	// At is the time the action takes effect (a timer's deadline when the
	// action comes from a timer that expired before the event's time).
	At int64 `json:"at"`
	// Message, Console and Fix explain a block, fail or report.
	Message  string `json:"message,omitempty"`
	Console  string `json:"console,omitempty"`
	Fix      string `json:"fix,omitempty"`
	Severity string `json:"severity,omitempty"` // for reports: "error", "warning" or "info"
	// List and Entry name the configuration list and the entry that would
	// allow the call (domain-list violations), for "hosts to add" summaries.
	List  string `json:"list,omitempty"`
	Entry string `json:"entry,omitempty"`
	// Server is the "host:port" whose R12 verdict a call waits for (queue,
	// reason "tls"): the host asks its source for it and reports a "tls" event.
	Server string `json:"server,omitempty"`
}

// StepResult is the output of mpnet_step.
type StepResult struct {
	Actions []Action `json:"actions"`
	// NextWake is the time (host clock, ms) at which the host must report an
	// EvTick (or any event) for pending timers to fire; 0 when none.
	NextWake int64 `json:"nextWake"`
	// InFlight, Queued and Sockets describe the engine after the event.
	InFlight int  `json:"inFlight"`
	Queued   int  `json:"queued"`
	Sockets  int  `json:"sockets"`
	Hidden   bool `json:"hidden"`
}

// BodyRequest is the header of an mpnet_body message; the raw response body
// follows it (see wasm/ABI.md for the framing).
type BodyRequest struct {
	API         string `json:"api,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	URL         string `json:"url,omitempty"`
	// Decoded is set on the second message for a body in a charset the
	// host converts (the first answer's Decode): the charset it converted
	// from. The payload is then the converted UTF-8, or the raw body when
	// Invalid is not 0.
	Decoded string `json:"decoded,omitempty"`
	// Source is the first answer's Source, sent back with Decoded.
	Source string `json:"source,omitempty"`
	// Invalid counts the byte sequences the host's decoder could not
	// convert (0: converted); -1 says the host has no decoder for Decoded.
	Invalid int `json:"invalid,omitempty"`
}

// BodyResult is the header of an mpnet_body answer; the transformed body
// follows it.
type BodyResult struct {
	// Charset is the encoding the body was read as (WHATWG name).
	Charset string `json:"charset"`
	// Source tells where Charset came from: "content-type", "bom", "meta", "utf-8" (valid UTF-8), "guess".
	Source      string    `json:"source"`
	Converted   bool      `json:"converted"`
	BOMStripped bool      `json:"bomStripped"`
	Warnings    []Warning `json:"warnings,omitempty"`
	// Error is set when conversion failed (R10); the body is then the raw
	// input. The call itself still succeeds: this is a finding, not a block.
	Error string `json:"error,omitempty"`
	// Decode, when set, asks the host to convert the body from this charset
	// (a WHATWG encoding name) with its own decoder and to send it back
	// (BodyRequest.Decoded); the answer then carries no body.
	Decode string `json:"decode,omitempty"`
}

// ErrorResult is what an entry point returns for a message it cannot use.
type ErrorResult struct {
	Error ErrorInfo `json:"error"`
}

// ErrorInfo describes a rejected message.
type ErrorInfo struct {
	// Code is "bad_message" (unparseable or invalid input), "not_configured",
	// or "internal" (a recovered panic; the instance stays usable).
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Status is the output of mpnet_status.
type Status struct {
	ABI        int    `json:"abi"`
	Configured bool   `json:"configured"`
	Mode       string `json:"mode"`
	InFlight   int    `json:"inFlight"`
	Queued     int    `json:"queued"`
	Sockets    int    `json:"sockets"`
	Hidden     bool   `json:"hidden"`
	Now        int64  `json:"now"`
}

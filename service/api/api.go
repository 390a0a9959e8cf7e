// Package api holds the team service's wire types: the JSON bodies of the
// /v1 endpoints, shared by the service, its clients (hostsim, the load
// benchmark) and the HTTP test suite. Types and constants only, no logic,
// so that a client links neither the service nor policy/ (hostsim must go
// through the module; see ARCHITECTURE.md, "One implementation").
//
// service/API.md documents every endpoint with an example.
package api

// Roles of a project token. Admin changes the configuration and manages
// tokens; member reads the configuration and sends reports; ci reads the
// configuration and sends audit results. Operator is the service's own
// token: it creates projects (and any project's tokens).
const (
	RoleAdmin    = "admin"
	RoleMember   = "member"
	RoleCI       = "ci"
	RoleOperator = "operator"
)

// Limits the service enforces (documented in service/API.md).
const (
	// MaxConfigBytes bounds a PUT configuration.
	MaxConfigBytes = 256 << 10
	// MaxBatchBytes bounds a report batch's body.
	MaxBatchBytes = 1 << 20
	// MaxBatchRecords bounds the records of one batch.
	MaxBatchRecords = 1000
	// MaxURLBytes bounds one reported URL (as the module does).
	MaxURLBytes = 8 << 10
	// MaxKeyBytes bounds an Idempotency-Key.
	MaxKeyBytes = 128
	// MaxExamples is how many example URLs a violation keeps.
	MaxExamples = 5
)

// Error is every error answer: {"error": {"code", "message", ...}}.
type Error struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody describes what went wrong. Problems carries the C1-C6 lint
// findings of a refused configuration; ETag the current configuration's
// ETag on a failed If-Match.
type ErrorBody struct {
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Problems []Problem `json:"problems,omitempty"`
	ETag     string    `json:"etag,omitempty"`
}

// Problem is a configuration finding, as `hostsim lint --json` prints it.
type Problem struct {
	Rule     string `json:"rule,omitempty"`
	Severity string `json:"severity"`
	Line     int    `json:"line,omitempty"`
	Col      int    `json:"col,omitempty"`
	Entry    string `json:"entry,omitempty"`
	List     string `json:"list,omitempty"`
	Message  string `json:"message"`
	Fix      string `json:"fix,omitempty"`
}

// NewProject is the body of POST /v1/projects (operator).
type NewProject struct {
	AppID string `json:"appid"`
	Name  string `json:"name,omitempty"`
}

// Project describes a project; Token is set only in the answer to its
// creation: the first admin token, shown once.
type Project struct {
	AppID     string `json:"appid"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"createdAt"`
	Token     *Token `json:"token,omitempty"`
}

// NewToken is the body of POST /v1/projects/{appid}/tokens.
type NewToken struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Token describes a token. Secret is set only in the answer to its
// creation (shown once; the service keeps a hash).
type Token struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Project   string `json:"project,omitempty"`
	CreatedAt int64  `json:"createdAt"`
	CreatedBy string `json:"createdBy,omitempty"`
	RevokedAt int64  `json:"revokedAt,omitempty"`
	LastUsed  int64  `json:"lastUsed,omitempty"`
	Secret    string `json:"token,omitempty"`
}

// Whoami answers GET /v1/whoami.
type Whoami struct {
	Project string `json:"project,omitempty"`
	Role    string `json:"role"`
	Name    string `json:"name"`
	TokenID string `json:"tokenId"`
}

// ConfigVersion describes one stored version of a project's mpnet.json.
type ConfigVersion struct {
	Version int    `json:"version"`
	ETag    string `json:"etag"`
	Author  string `json:"author"`
	At      int64  `json:"at"`
	Message string `json:"message,omitempty"`
	// Body is the file as stored (GET .../config/versions/{v}).
	Body string `json:"body,omitempty"`
	// Changes summarises the difference from the previous version (history).
	Changes []Change `json:"changes,omitempty"`
}

// PutResult answers a successful PUT .../config: the new version and the
// warnings the configuration still has (errors refuse the PUT).
type PutResult struct {
	ConfigVersion
	Warnings []Problem `json:"warnings"`
}

// History answers GET .../config/history, newest first.
type History struct {
	Versions []ConfigVersion `json:"versions"`
}

// Change is one difference between two configurations: an entry added to
// or removed from a list, or a setting changed.
type Change struct {
	// Kind is "added", "removed" or "changed".
	Kind string `json:"kind"`
	// Path is "domains.request", "networkTimeout.request", "mode", ...
	Path  string `json:"path"`
	Entry string `json:"entry,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// Diff answers GET .../config/diff?from=A&to=B.
type Diff struct {
	From    int      `json:"from"`
	To      int      `json:"to"`
	Changes []Change `json:"changes"`
	// Unified is a line diff of the two files (unified format, 3 lines of context).
	Unified string `json:"unified"`
}

// Batch is the body of POST .../reports; its Idempotency-Key header names
// it, so that a retry is answered without counting twice.
type Batch struct {
	// Source says who sent it: "extension", "hostsim" (audit) or another name.
	Source  string   `json:"source,omitempty"`
	Records []Record `json:"records"`
}

// Record is one call a client saw. The service judges API and URL again
// against the project's current configuration; nothing else a client
// says about the call is believed.
type Record struct {
	API string `json:"api"`
	URL string `json:"url"`
	// At is when the call was made (Unix ms); clamped to the last 30 days,
	// the receive time when absent.
	At int64 `json:"at,omitempty"`
}

// BatchResult answers POST .../reports.
type BatchResult struct {
	Key string `json:"key"`
	// Received records; Counted: those the configuration fails (R1-R5,
	// R13), each added to its (list, host, rule) count; Allowed: the rest.
	Received int `json:"received"`
	Counted  int `json:"counted"`
	Allowed  int `json:"allowed"`
	// Duplicate: this key was seen before with the same batch; nothing was
	// counted again and the first answer is repeated.
	Duplicate     bool `json:"duplicate"`
	ConfigVersion int  `json:"configVersion"`
}

// Violation is the count of one (list, host, rule): every call that fails
// for the same reason at the same host.
type Violation struct {
	List string `json:"list"`
	Host string `json:"host"`
	Rule string `json:"rule"`
	API  string `json:"api"`
	// Count of calls reported; FirstSeen and LastSeen in Unix ms.
	Count     int64  `json:"count"`
	FirstSeen int64  `json:"firstSeen"`
	LastSeen  int64  `json:"lastSeen"`
	LastBy    string `json:"lastBy"`
	// Reporters: who reported it, with their counts.
	Reporters []Reporter `json:"reporters"`
	// Examples: URLs as called, without query string, fragment or userinfo.
	Examples []string `json:"examples"`
	// Open: the current configuration still fails it (judged again now).
	Open bool `json:"open"`
	// ErrMsg, Message and Fix: the module's explanation under the current configuration.
	ErrMsg  string `json:"errMsg,omitempty"`
	Message string `json:"message,omitempty"`
	Fix     string `json:"fix,omitempty"`
	// Entry is the configuration entry that would allow the calls, when
	// adding one would (R2).
	Entry string `json:"entry,omitempty"`
}

// Reporter is one token's share of a violation.
type Reporter struct {
	Name     string `json:"name"`
	Count    int64  `json:"count"`
	LastSeen int64  `json:"lastSeen"`
}

// Summary answers GET .../summary.
type Summary struct {
	Project string         `json:"project"`
	Config  *ConfigVersion `json:"config"`
	// HostsToAdd maps a list ("domains.request") to the entries to add to it.
	HostsToAdd map[string][]string `json:"hostsToAdd"`
	// OpenByRule counts the calls of open violations by rule.
	OpenByRule map[string]int64 `json:"openByRule"`
	Violations []Violation      `json:"violations"`
	Gate       Gate             `json:"gate"`
}

// Gate answers GET .../gate: the release gate CI calls.
type Gate struct {
	Pass bool `json:"pass"`
	// Reasons lists why it fails (empty when it passes).
	Reasons       []GateReason `json:"reasons"`
	ConfigVersion int          `json:"configVersion"`
	// Since: only violations seen at or after this time (Unix ms) count.
	Since     int64 `json:"since,omitempty"`
	CheckedAt int64 `json:"checkedAt"`
}

// GateReason is one reason a gate fails.
type GateReason struct {
	Rule    string `json:"rule,omitempty"`
	List    string `json:"list,omitempty"`
	Host    string `json:"host,omitempty"`
	Count   int64  `json:"count,omitempty"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Timeline answers GET .../timeline: violations counted per bucket and rule.
type Timeline struct {
	// Bucket is "hour" or "day"; each point's T is the bucket's start (Unix ms).
	Bucket string  `json:"bucket"`
	Points []Point `json:"points"`
}

// Point is one bucket of a Timeline.
type Point struct {
	T      int64            `json:"t"`
	ByRule map[string]int64 `json:"byRule"`
}

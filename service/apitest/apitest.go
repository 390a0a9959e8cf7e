// Package apitest is the team service's HTTP test suite. The same suite
// runs against the native server (service/native_test.go: the handler over
// SQLite) and against the built Worker inside workerd with a local D1
// database (service/worker/worker_test.go), so both builds are held to one
// behaviour.
package apitest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mpnet/service/api"
)

// Target is a running service.
type Target struct {
	// URL is the service's base URL, e.g. http://127.0.0.1:34567.
	URL string
	// Operator is its operator token.
	Operator string
	// RatePerMinute is its per-token request limit (the suite makes at
	// most 80 requests with any one token before the rate test).
	RatePerMinute int
}

// Client is a minimal API client bound to one token.
type Client struct {
	t     testing.TB
	base  string
	token string
}

// Resp is an answer: status, headers and body.
type Resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it cannot.
func (r *Resp) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected: %v\n%s", r.Status, err, r.Body)
	}
}

// Code returns the error code of an api.Error answer.
func (r *Resp) Code() string {
	var e api.Error
	json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// NewClient returns a client for base with token (may be "").
func NewClient(t testing.TB, base, token string) *Client {
	return &Client{t: t, base: strings.TrimRight(base, "/"), token: token}
}

// Token is the client's token.
func (c *Client) Token() string { return c.token }

// Do sends a request; body is sent as is when []byte or string, else as JSON.
func (c *Client) Do(method, path string, body any, headers ...string) *Resp {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b // sent without a Content-Length
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	var res *http.Response
	for try := 0; ; try++ {
		res, err = http.DefaultClient.Do(req)
		if err == nil || try == 2 || req.GetBody == nil && rd != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
		if rd != nil {
			req.Body, _ = req.GetBody()
		}
	}
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return &Resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Want fails the test unless the answer has the status.
func Want(t testing.TB, r *Resp, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, r.Status, status, r.Body)
	}
}

// RandomAppID returns a fresh appid, so that a suite can run twice on one database.
func RandomAppID() string {
	var b [8]byte
	rand.Read(b[:])
	return "wx" + hex.EncodeToString(b[:])
}

// Key returns a fresh idempotency key.
func Key() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ConfigFor is a valid mpnet.json for appid listing request hosts.
func ConfigFor(appid string, request ...string) string {
	if request == nil {
		request = []string{"https://api.example.com"}
	}
	q := make([]string, len(request))
	for i, r := range request {
		q[i] = strconv.Quote(r)
	}
	return fmt.Sprintf(`{
  "appid": %q,
  "domains": {
    "request": [%s],
    "downloadFile": ["https://cdn.example.com"],
    "socket": ["wss://ws.example.com"]
  },
  "networkTimeout": {"request": 10000}
}
`, appid, strings.Join(q, ", "))
}

// Project creates a project with the operator token and returns its
// admin client.
func Project(t testing.TB, tg Target, appid string) *Client {
	t.Helper()
	op := NewClient(t, tg.URL, tg.Operator)
	r := op.Do("POST", "/v1/projects", api.NewProject{AppID: appid, Name: "test " + appid})
	Want(t, r, http.StatusCreated, "create project "+appid)
	var p api.Project
	r.JSON(t, &p)
	if p.Token == nil || p.Token.Secret == "" || p.Token.Role != api.RoleAdmin {
		t.Fatalf("project %s created without an admin token: %s", appid, r.Body)
	}
	return NewClient(t, tg.URL, p.Token.Secret)
}

// Token makes a token of role in the admin client's project.
func Token(t testing.TB, admin *Client, appid, name, role string) *Client {
	t.Helper()
	r := admin.Do("POST", "/v1/projects/"+appid+"/tokens", api.NewToken{Name: name, Role: role})
	Want(t, r, http.StatusCreated, "create token "+name)
	var tok api.Token
	r.JSON(t, &tok)
	return NewClient(t, admin.base, tok.Secret)
}

// PutConfig saves body as the project's configuration (If-Match: etag when
// not "") and returns the answer.
func PutConfig(admin *Client, appid, body, etag string) *Resp {
	h := []string{}
	if etag != "" {
		h = append(h, "If-Match", etag)
	}
	return admin.Do("PUT", "/v1/projects/"+appid+"/config", body, h...)
}

// Report sends records under key.
func Report(c *Client, appid, key string, recs ...api.Record) *Resp {
	return c.Do("POST", "/v1/projects/"+appid+"/reports", api.Batch{Records: recs}, "Idempotency-Key", key)
}

// Summary fetches and decodes a project's summary.
func Summary(t testing.TB, c *Client, appid string) api.Summary {
	t.Helper()
	r := c.Do("GET", "/v1/projects/"+appid+"/summary", nil)
	Want(t, r, http.StatusOK, "summary")
	var s api.Summary
	r.JSON(t, &s)
	return s
}

// Total sums a summary's violation counts.
func Total(s api.Summary) int64 {
	var n int64
	for _, v := range s.Violations {
		n += v.Count
	}
	return n
}

// find returns the violation of (list, host, rule), or nil.
func find(s api.Summary, list, host, rule string) *api.Violation {
	for i, v := range s.Violations {
		if v.List == list && v.Host == host && v.Rule == rule {
			return &s.Violations[i]
		}
	}
	return nil
}

// Run runs the whole suite against tg.
func Run(t *testing.T, tg Target) {
	appA, appB := RandomAppID(), RandomAppID()
	var adminA, adminB, memberA, ciA *Client

	t.Run("health and dashboard", func(t *testing.T) {
		anon := NewClient(t, tg.URL, "")
		Want(t, anon.Do("GET", "/v1/health", nil), http.StatusOK, "health")
		r := anon.Do("GET", "/dashboard/", nil)
		Want(t, r, http.StatusOK, "dashboard")
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("dashboard Content-Type %q", ct)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("dashboard CSP %q", csp)
		}
		for _, f := range []string{"app.js", "app.css"} {
			Want(t, anon.Do("GET", "/dashboard/"+f, nil), http.StatusOK, f)
		}
		Want(t, anon.Do("GET", "/v1/nothing-here", nil), http.StatusNotFound, "unknown endpoint")
	})

	t.Run("authentication", func(t *testing.T) {
		anon := NewClient(t, tg.URL, "")
		r := anon.Do("GET", "/v1/whoami", nil)
		Want(t, r, http.StatusUnauthorized, "no token")
		if r.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		Want(t, NewClient(t, tg.URL, "garbage").Do("GET", "/v1/whoami", nil), http.StatusUnauthorized, "garbage token")
		Want(t, NewClient(t, tg.URL, "mpnet_aaaaaaaaaaaaaaaa_"+strings.Repeat("A", 43)).Do("GET", "/v1/whoami", nil), http.StatusUnauthorized, "unknown token")
		op := NewClient(t, tg.URL, tg.Operator)
		r = op.Do("GET", "/v1/whoami", nil)
		Want(t, r, http.StatusOK, "operator whoami")
		var who api.Whoami
		r.JSON(t, &who)
		if who.Role != api.RoleOperator {
			t.Errorf("operator whoami %+v", who)
		}
	})

	t.Run("projects", func(t *testing.T) {
		adminA = Project(t, tg, appA)
		adminB = Project(t, tg, appB)
		op := NewClient(t, tg.URL, tg.Operator)
		Want(t, op.Do("POST", "/v1/projects", api.NewProject{AppID: appA}), http.StatusConflict, "duplicate project")
		Want(t, op.Do("POST", "/v1/projects", api.NewProject{AppID: "wx../../x"}), http.StatusBadRequest, "bad appid")
		Want(t, op.Do("POST", "/v1/projects", `{"appid": "wxabc", "extra": 1}`), http.StatusBadRequest, "unknown field")
		Want(t, adminA.Do("POST", "/v1/projects", api.NewProject{AppID: RandomAppID()}), http.StatusForbidden, "admin creates a project")
		Want(t, adminA.Do("GET", "/v1/projects", nil), http.StatusForbidden, "admin lists projects")
		// A real token's id with a wrong secret.
		forged := adminA.token[:len(adminA.token)-4] + "AAAA"
		if forged == adminA.token {
			forged = adminA.token[:len(adminA.token)-4] + "BBBB"
		}
		Want(t, NewClient(t, tg.URL, forged).Do("GET", "/v1/whoami", nil), http.StatusUnauthorized, "right id, wrong secret")
		r := adminA.Do("GET", "/v1/whoami", nil)
		Want(t, r, http.StatusOK, "admin whoami")
		var who api.Whoami
		r.JSON(t, &who)
		if who.Project != appA || who.Role != api.RoleAdmin {
			t.Errorf("admin whoami %+v", who)
		}
		Want(t, adminA.Do("GET", "/v1/projects/"+appA, nil), http.StatusOK, "get own project")
	})
	if adminA == nil || adminB == nil {
		t.Fatal("no projects: the rest of the suite cannot run")
	}

	t.Run("tokens", func(t *testing.T) {
		memberA = Token(t, adminA, appA, "alice", api.RoleMember)
		ciA = Token(t, adminA, appA, "ci", api.RoleCI)
		r := adminA.Do("GET", "/v1/projects/"+appA+"/tokens", nil)
		Want(t, r, http.StatusOK, "list tokens")
		if bytes.Contains(r.Body, []byte(memberA.token)) || bytes.Contains(r.Body, []byte(`"token"`)) {
			t.Errorf("the token list shows secrets: %s", r.Body)
		}
		var list struct{ Tokens []api.Token }
		r.JSON(t, &list)
		if len(list.Tokens) != 3 {
			t.Errorf("%d tokens listed, want 3 (admin, alice, ci)", len(list.Tokens))
		}
		Want(t, memberA.Do("POST", "/v1/projects/"+appA+"/tokens", api.NewToken{Name: "x", Role: api.RoleAdmin}), http.StatusForbidden, "member creates a token")
		Want(t, memberA.Do("GET", "/v1/projects/"+appA+"/tokens", nil), http.StatusForbidden, "member lists tokens")
		Want(t, adminA.Do("POST", "/v1/projects/"+appA+"/tokens", api.NewToken{Name: "x", Role: "root"}), http.StatusBadRequest, "bad role")
		Want(t, adminA.Do("POST", "/v1/projects/"+appA+"/tokens", api.NewToken{Name: "", Role: "ci"}), http.StatusBadRequest, "empty name")
	})

	t.Run("config", func(t *testing.T) {
		path := "/v1/projects/" + appA + "/config"
		r := memberA.Do("GET", path, nil)
		Want(t, r, http.StatusNotFound, "no config yet")
		if r.Code() != "no_config" {
			t.Errorf("code %q", r.Code())
		}
		bad := `{"appid": "` + appA + `", "domains": {"request": ["http://api.example.com", "https://127.0.0.1", "https://a.example.com:8080", "https://b.example.com/path", "https://*.example.com"]}}`
		r = PutConfig(adminA, appA, bad, "")
		Want(t, r, http.StatusUnprocessableEntity, "invalid config")
		var e api.Error
		r.JSON(t, &e)
		rules := map[string]bool{}
		for _, p := range e.Error.Problems {
			rules[p.Rule] = true
			if p.Severity == "error" && (p.Message == "" || p.Line == 0) {
				t.Errorf("problem without message or line: %+v", p)
			}
		}
		for _, rule := range []string{"C1", "C2", "C3", "C4"} {
			if !rules[rule] {
				t.Errorf("the refusal does not name %s: %s", rule, r.Body)
			}
		}
		r = PutConfig(adminA, appA, `{"appid": "`+appA+`", "domains": {}, "timeout": 5}`, "")
		Want(t, r, http.StatusUnprocessableEntity, "unknown key")
		if !bytes.Contains(r.Body, []byte(`unknown key \"timeout\"`)) {
			t.Errorf("unknown key not named: %s", r.Body)
		}
		Want(t, PutConfig(adminA, appA, ConfigFor(appB), ""), http.StatusUnprocessableEntity, "another project's appid")
		Want(t, PutConfig(adminA, appA, "{not json", ""), http.StatusUnprocessableEntity, "not JSON")
		Want(t, memberA.Do("GET", path, nil), http.StatusNotFound, "nothing saved by refused PUTs")

		Want(t, PutConfig(memberA, appA, ConfigFor(appA), ""), http.StatusForbidden, "member PUTs config")
		Want(t, PutConfig(ciA, appA, ConfigFor(appA), ""), http.StatusForbidden, "ci PUTs config")

		r = PutConfig(adminA, appA, ConfigFor(appA), "")
		Want(t, r, http.StatusCreated, "first config")
		var put api.PutResult
		r.JSON(t, &put)
		if put.Version != 1 || put.ETag == "" || r.Header.Get("ETag") != put.ETag || put.Author != "admin" {
			t.Errorf("first PUT answered %+v (ETag header %q)", put, r.Header.Get("ETag"))
		}
		r = memberA.Do("GET", path, nil)
		Want(t, r, http.StatusOK, "get config")
		if string(r.Body) != ConfigFor(appA) || r.Header.Get("ETag") != put.ETag || r.Header.Get("X-Mpnet-Config-Version") != "1" {
			t.Errorf("GET gave %q etag %q", r.Body, r.Header.Get("ETag"))
		}
		Want(t, ciA.Do("GET", path, nil, "If-None-Match", put.ETag), http.StatusNotModified, "unchanged config")

		// Two admins edit version 1; the second must not overwrite the first.
		admin2 := Token(t, adminA, appA, "bob", api.RoleAdmin)
		v2 := ConfigFor(appA, "https://api.example.com", "https://pay.example.com")
		Want(t, PutConfig(adminA, appA, v2, ""), http.StatusPreconditionRequired, "PUT without If-Match")
		r = PutConfig(adminA, appA, v2, put.ETag)
		Want(t, r, http.StatusOK, "second version")
		var put2 api.PutResult
		r.JSON(t, &put2)
		r = PutConfig(admin2, appA, ConfigFor(appA, "https://other.example.com"), put.ETag)
		Want(t, r, http.StatusPreconditionFailed, "lost update")
		r.JSON(t, &e)
		if e.Error.ETag != put2.ETag {
			t.Errorf("412 names ETag %q, want the current %q", e.Error.ETag, put2.ETag)
		}
		r = memberA.Do("GET", path, nil)
		if string(r.Body) != v2 {
			t.Errorf("the lost update changed the config: %s", r.Body)
		}

		r = memberA.Do("GET", path+"/history", nil)
		Want(t, r, http.StatusOK, "history")
		var h api.History
		r.JSON(t, &h)
		if len(h.Versions) != 2 || h.Versions[0].Version != 2 || h.Versions[1].Version != 1 || h.Versions[0].Author != "admin" {
			t.Fatalf("history %s", r.Body)
		}
		if len(h.Versions[0].Changes) != 1 || h.Versions[0].Changes[0] != (api.Change{Kind: "added", Path: "domains.request", Entry: "https://pay.example.com"}) {
			t.Errorf("version 2's changes %+v", h.Versions[0].Changes)
		}
		r = memberA.Do("GET", path+"/versions/1", nil)
		Want(t, r, http.StatusOK, "version 1")
		var v1 api.ConfigVersion
		r.JSON(t, &v1)
		if v1.Body != ConfigFor(appA) {
			t.Errorf("version 1 body %q", v1.Body)
		}
		Want(t, memberA.Do("GET", path+"/versions/9", nil), http.StatusNotFound, "missing version")
		r = memberA.Do("GET", path+"/diff?from=1&to=2", nil)
		Want(t, r, http.StatusOK, "diff")
		var d api.Diff
		r.JSON(t, &d)
		if !strings.Contains(d.Unified, `+    "request": ["https://api.example.com", "https://pay.example.com"],`) ||
			!strings.Contains(d.Unified, `-    "request": ["https://api.example.com"],`) || !strings.HasPrefix(d.Unified, "--- mpnet.json@1\n+++ mpnet.json@2\n@@ ") {
			t.Errorf("unified diff:\n%s", d.Unified)
		}
		if len(d.Changes) != 1 {
			t.Errorf("diff changes %+v", d.Changes)
		}
		Want(t, PutConfig(adminB, appB, ConfigFor(appB), ""), http.StatusCreated, "project B's config")
	})

	t.Run("isolation between projects", func(t *testing.T) {
		for _, p := range []string{"/config", "/summary", "/gate", "/timeline", "/config/history", "/tokens"} {
			r := adminA.Do("GET", "/v1/projects/"+appB+p, nil)
			Want(t, r, http.StatusForbidden, "A's admin reads B"+p)
			if bytes.Contains(r.Body, []byte("api.example.com")) {
				t.Errorf("the refusal leaks B's data: %s", r.Body)
			}
		}
		Want(t, PutConfig(adminA, appB, ConfigFor(appB, "https://evil.example.com"), ""), http.StatusForbidden, "A's admin writes B's config")
		Want(t, Report(memberA, appB, Key(), api.Record{API: "request", URL: "https://x.example.com/"}), http.StatusForbidden, "A's member reports to B")
		Want(t, adminA.Do("GET", "/v1/projects/wx0000000000000000/config", nil), http.StatusForbidden, "A's admin reads a project that does not exist")
		Want(t, NewClient(t, tg.URL, tg.Operator).Do("GET", "/v1/projects/"+appB+"/config", nil), http.StatusOK, "operator reads B")
		if s := Summary(t, adminB, appB); Total(s) != 0 {
			t.Errorf("B's counts changed: %+v", s.Violations)
		}
	})

	t.Run("reports", func(t *testing.T) {
		path := "/v1/projects/" + appA + "/reports"
		Want(t, memberA.Do("POST", path, api.Batch{Records: []api.Record{{API: "request", URL: "https://a.example.com"}}}), http.StatusBadRequest, "no Idempotency-Key")
		recs := []api.Record{
			{API: "request", URL: "https://api.example.com/user?id=1"},                                         // allowed
			{API: "request", URL: "https://unlisted.example.com/a?token=SECRET#frag"},                          // R2
			{API: "request", URL: "https://user:pw@unlisted.example.com/b"},                                    // R2, userinfo
			{API: "request", URL: "http://api.example.com/plain"},                                              // R1
			{API: "request", URL: "https://localhost:3000/mock"},                                               // R3
			{API: "downloadFile", URL: "https://api.example.com/file.zip"},                                     // R2 (listed in request only)
			{API: "resource", URL: "http://img.example.com/a.png"},                                             // R13
			{API: "connectSocket", URL: "wss://ws.example.com/live"},                                           // allowed
			{API: "request", URL: "https://pay.example.com/order", At: time.Now().Add(-time.Hour).UnixMilli()}, // allowed in v2
		}
		key := Key()
		r := Report(memberA, appA, key, recs...)
		Want(t, r, http.StatusOK, "report")
		var res api.BatchResult
		r.JSON(t, &res)
		if res.Received != 9 || res.Counted != 6 || res.Allowed != 3 || res.Duplicate || res.ConfigVersion != 2 {
			t.Fatalf("batch answered %+v", res)
		}
		s := Summary(t, memberA, appA)
		if Total(s) != 6 {
			t.Fatalf("total %d, want 6: %+v", Total(s), s.Violations)
		}
		v := find(s, "domains.request", "unlisted.example.com", "R2")
		if v == nil || v.Count != 2 || !v.Open || v.Entry != "https://unlisted.example.com" || v.LastBy != "alice" {
			t.Fatalf("R2 violation %+v", v)
		}
		for _, ex := range v.Examples {
			if strings.ContainsAny(ex, "?#@") || strings.Contains(ex, "SECRET") || strings.Contains(ex, "pw") {
				t.Errorf("example URL keeps query, fragment or userinfo: %q", ex)
			}
		}
		if len(v.Examples) != 2 || len(v.Reporters) != 1 || v.Reporters[0].Name != "alice" || v.Reporters[0].Count != 2 {
			t.Errorf("R2 examples %q reporters %+v", v.Examples, v.Reporters)
		}
		for _, k := range [][3]string{{"domains.request", "api.example.com", "R1"}, {"domains.request", "localhost", "R3"},
			{"domains.downloadFile", "api.example.com", "R2"}, {"resource", "img.example.com", "R13"}} {
			if find(s, k[0], k[1], k[2]) == nil {
				t.Errorf("no violation %v in %+v", k, s.Violations)
			}
		}
		if got := s.HostsToAdd["domains.request"]; len(got) != 1 || got[0] != "https://unlisted.example.com" {
			t.Errorf("hosts to add %v", s.HostsToAdd)
		}
		if got := s.HostsToAdd["domains.downloadFile"]; len(got) != 1 || got[0] != "https://api.example.com" {
			t.Errorf("hosts to add %v", s.HostsToAdd)
		}
		if s.OpenByRule["R2"] != 3 || s.OpenByRule["R1"] != 1 || s.OpenByRule["R3"] != 1 || s.OpenByRule["R13"] != 1 {
			t.Errorf("open by rule %v", s.OpenByRule)
		}
		if s.Config == nil || s.Config.Version != 2 {
			t.Errorf("summary config %+v", s.Config)
		}

		// A retry of the same batch (same key, same body) counts nothing.
		r = Report(memberA, appA, key, recs...)
		Want(t, r, http.StatusOK, "replayed batch")
		var again api.BatchResult
		r.JSON(t, &again)
		if !again.Duplicate || again.Counted != 6 || again.Received != 9 {
			t.Errorf("replay answered %+v", again)
		}
		// The same key with other records is refused and counts nothing.
		r = Report(memberA, appA, key, api.Record{API: "request", URL: "https://unlisted.example.com/x"})
		Want(t, r, http.StatusConflict, "key reused for another batch")
		if r.Code() != "key_reused" {
			t.Errorf("code %q", r.Code())
		}
		// Forged: a client cannot claim a verdict, a count or a reporter.
		forged := `{"records": [{"api": "request", "url": "https://unlisted.example.com/", "count": 1000}]}`
		Want(t, memberA.Do("POST", path, forged, "Idempotency-Key", Key()), http.StatusBadRequest, "record with a count")
		forged = `{"records": [{"api": "request", "url": "https://api.example.com/", "verdict": "fail", "rule": "R2"}]}`
		Want(t, memberA.Do("POST", path, forged, "Idempotency-Key", Key()), http.StatusBadRequest, "record with a verdict")
		forged = `{"records": [{"api": "request", "url": "https://unlisted.example.com/"}], "who": "mallory"}`
		Want(t, memberA.Do("POST", path, forged, "Idempotency-Key", Key()), http.StatusBadRequest, "batch naming its reporter")
		// Allowed calls, however many, count nothing.
		many := make([]api.Record, 200)
		for i := range many {
			many[i] = api.Record{API: "request", URL: fmt.Sprintf("https://api.example.com/ok/%d", i)}
		}
		r = Report(ciA, appA, Key(), many...)
		Want(t, r, http.StatusOK, "allowed calls")
		r.JSON(t, &res)
		if res.Counted != 0 || res.Allowed != 200 {
			t.Errorf("allowed calls answered %+v", res)
		}
		Want(t, Report(memberA, appA, Key(), api.Record{API: "fetch", URL: "https://a.example.com/"}), http.StatusBadRequest, "unknown api")
		Want(t, Report(memberA, appA, Key(), api.Record{API: "request", URL: ""}), http.StatusBadRequest, "empty url")
		Want(t, Report(memberA, appA, "bad key with spaces", api.Record{API: "request", URL: "https://a.example.com/"}), http.StatusBadRequest, "bad key")
		Want(t, Report(memberA, appA, Key()), http.StatusBadRequest, "empty batch")
		if s := Summary(t, memberA, appA); Total(s) != 6 {
			t.Errorf("after replays and forgeries the total is %d, want 6: %+v", Total(s), s.Violations)
		}
		// The CI token reports too, under its own name.
		Want(t, Report(ciA, appA, Key(), api.Record{API: "request", URL: "https://unlisted.example.com/c"}), http.StatusOK, "ci report")
		s = Summary(t, memberA, appA)
		v = find(s, "domains.request", "unlisted.example.com", "R2")
		if v == nil || v.Count != 3 || v.LastBy != "ci" || len(v.Reporters) != 2 {
			t.Errorf("after the ci report: %+v", v)
		}
		// A project without configuration cannot judge reports.
		appC := RandomAppID()
		adminC := Project(t, tg, appC)
		Want(t, Report(adminC, appC, Key(), api.Record{API: "request", URL: "https://a.example.com/"}), http.StatusConflict, "report without config")
	})

	t.Run("gate and timeline", func(t *testing.T) {
		path := "/v1/projects/" + appA
		r := ciA.Do("GET", path+"/gate", nil)
		Want(t, r, http.StatusOK, "gate")
		var g api.Gate
		r.JSON(t, &g)
		if g.Pass || len(g.Reasons) != 5 || g.ConfigVersion != 2 {
			t.Fatalf("gate %s", r.Body)
		}
		if g.Reasons[0].Rule != "R2" || g.Reasons[0].Host != "unlisted.example.com" || !strings.Contains(g.Reasons[0].Fix, "https://unlisted.example.com") {
			t.Errorf("first reason %+v", g.Reasons[0])
		}
		// Adding the host closes its violation without touching the others.
		r = memberA.Do("GET", path+"/config", nil)
		etag := r.Header.Get("ETag")
		Want(t, PutConfig(adminA, appA, ConfigFor(appA, "https://api.example.com", "https://pay.example.com", "https://unlisted.example.com"), etag), http.StatusOK, "fix config")
		s := Summary(t, memberA, appA)
		v := find(s, "domains.request", "unlisted.example.com", "R2")
		if v == nil || v.Open || v.Count != 3 {
			t.Errorf("after adding the host: %+v", v)
		}
		if _, ok := s.HostsToAdd["domains.request"]; ok {
			t.Errorf("hosts to add still lists request hosts: %v", s.HostsToAdd)
		}
		if s.OpenByRule["R2"] != 1 {
			t.Errorf("open by rule %v", s.OpenByRule)
		}
		r = ciA.Do("GET", path+"/gate", nil)
		r.JSON(t, &g)
		if g.Pass || len(g.Reasons) != 4 {
			t.Errorf("gate after the fix %s", r.Body)
		}
		// Only violations seen since a time count: none in the future.
		r = ciA.Do("GET", path+"/gate?since="+strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10), nil)
		r.JSON(t, &g)
		if !g.Pass || len(g.Reasons) != 0 {
			t.Errorf("gate since the future %s", r.Body)
		}
		Want(t, ciA.Do("GET", path+"/gate?since=yesterday", nil), http.StatusBadRequest, "bad since")
		// B has a configuration and no violations: it passes.
		r = adminB.Do("GET", "/v1/projects/"+appB+"/gate", nil)
		r.JSON(t, &g)
		if !g.Pass {
			t.Errorf("B's gate %s", r.Body)
		}

		r = memberA.Do("GET", path+"/timeline?bucket=hour&since=2d", nil)
		Want(t, r, http.StatusOK, "timeline")
		var tl api.Timeline
		r.JSON(t, &tl)
		var sum int64
		for _, p := range tl.Points {
			for _, n := range p.ByRule {
				sum += n
			}
		}
		if tl.Bucket != "hour" || sum != 7 || len(tl.Points) == 0 {
			t.Errorf("timeline %s", r.Body)
		}
		Want(t, memberA.Do("GET", path+"/timeline?bucket=week", nil), http.StatusBadRequest, "bad bucket")
	})

	t.Run("revocation", func(t *testing.T) {
		tmp := Token(t, adminA, appA, "temp", api.RoleMember)
		Want(t, tmp.Do("GET", "/v1/whoami", nil), http.StatusOK, "before revocation")
		r := tmp.Do("GET", "/v1/whoami", nil)
		var who api.Whoami
		r.JSON(t, &who)
		Want(t, adminA.Do("DELETE", "/v1/projects/"+appA+"/tokens/"+who.TokenID, nil), http.StatusNoContent, "revoke")
		Want(t, tmp.Do("GET", "/v1/whoami", nil), http.StatusUnauthorized, "after revocation")
		Want(t, adminA.Do("DELETE", "/v1/projects/"+appA+"/tokens/"+who.TokenID, nil), http.StatusNotFound, "revoke twice")
		// B's only admin cannot be revoked (the project would be locked out).
		r = adminB.Do("GET", "/v1/whoami", nil)
		r.JSON(t, &who)
		Want(t, adminB.Do("DELETE", "/v1/projects/"+appB+"/tokens/"+who.TokenID, nil), http.StatusConflict, "last admin")
	})

	t.Run("size limits", func(t *testing.T) {
		big := `{"appid": "` + appA + `", "domains": {"request": ["https://a.example.com"]}, "$schema": "` + strings.Repeat("x", api.MaxConfigBytes) + `"}`
		Want(t, PutConfig(adminA, appA, big, "*"), http.StatusRequestEntityTooLarge, "config over the limit")
		recs := make([]api.Record, api.MaxBatchRecords+1)
		for i := range recs {
			recs[i] = api.Record{API: "request", URL: "https://a.example.com/"}
		}
		Want(t, Report(memberA, appA, Key(), recs...), http.StatusRequestEntityTooLarge, "too many records")
		huge := make([]api.Record, 200)
		for i := range huge {
			huge[i] = api.Record{API: "request", URL: "https://a.example.com/" + strings.Repeat("p", 6000)}
		}
		Want(t, Report(memberA, appA, Key(), huge...), http.StatusRequestEntityTooLarge, "batch over 1 MiB")
		Want(t, Report(memberA, appA, Key(), api.Record{API: "request", URL: "https://a.example.com/" + strings.Repeat("p", api.MaxURLBytes)}), http.StatusBadRequest, "URL over 8 KiB")
		// A body without Content-Length (chunked) is cut at the limit too.
		body, _ := json.Marshal(api.Batch{Records: huge})
		r := memberA.Do("POST", "/v1/projects/"+appA+"/reports", io.MultiReader(bytes.NewReader(body)), "Idempotency-Key", Key())
		Want(t, r, http.StatusRequestEntityTooLarge, "chunked batch over 1 MiB")
	})

	t.Run("CORS and origins", func(t *testing.T) {
		r := memberA.Do("GET", "/v1/whoami", nil, "Origin", "https://evil.example")
		Want(t, r, http.StatusForbidden, "a web page's origin")
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Error("CORS allowed for a web page")
		}
		ext := "chrome-extension://abcdefghijklmnopabcdefghijklmnop"
		r = memberA.Do("GET", "/v1/whoami", nil, "Origin", ext)
		Want(t, r, http.StatusOK, "the extension's origin")
		if r.Header.Get("Access-Control-Allow-Origin") != ext {
			t.Errorf("ACAO %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
		r = NewClient(t, tg.URL, "").Do("OPTIONS", "/v1/projects/"+appA+"/reports", nil, "Origin", ext,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, idempotency-key, content-type")
		Want(t, r, http.StatusNoContent, "preflight")
		if h := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(h, "idempotency-key") || !strings.Contains(h, "if-none-match") {
			t.Errorf("preflight allows headers %q", h)
		}
		u, _ := url.Parse(tg.URL)
		Want(t, memberA.Do("GET", "/v1/whoami", nil, "Origin", u.Scheme+"://"+u.Host), http.StatusOK, "the dashboard's own origin")
	})

	t.Run("rate limit", func(t *testing.T) {
		c := Token(t, adminA, appA, "busy", api.RoleMember)
		limited := 0
		var wg sync.WaitGroup
		var mu sync.Mutex
		var retry string
		n := 2*tg.RatePerMinute + 1
		sem := make(chan struct{}, 8)
		for i := 0; i < n; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				r := c.Do("GET", "/v1/whoami", nil)
				if r.Status == http.StatusTooManyRequests {
					mu.Lock()
					limited++
					retry = r.Header.Get("Retry-After")
					mu.Unlock()
				} else if r.Status != http.StatusOK {
					t.Errorf("status %d", r.Status)
				}
			}()
		}
		wg.Wait()
		// n requests fall in at most two minutes, so at least one minute got
		// more than the limit.
		if limited == 0 {
			t.Fatalf("%d requests, none limited (limit %d/min)", n, tg.RatePerMinute)
		}
		if s, err := strconv.Atoi(retry); err != nil || s < 1 || s > 60 {
			t.Errorf("Retry-After %q", retry)
		}
		// Another token is not affected.
		Want(t, memberA.Do("GET", "/v1/whoami", nil), http.StatusOK, "another token")
	})
}

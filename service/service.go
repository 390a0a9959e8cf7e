// Package service is mpnet's team service: one configuration and one
// violation log per mini program (appid), as one net/http handler.
//
// The same handler is built twice: for Cloudflare Workers (service/worker,
// GOOS=js with syumai/workers, storage in D1) and natively
// (service/cmd/mpnet-team, storage in SQLite). It links policy/ directly:
// a configuration is linted and a reported call judged exactly as the
// module does, because it is the same Go code.
//
// service/API.md documents the endpoints; docs/RATIONALE.md ("Team
// service") says why it is built this way.
package service

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"mpnet/service/api"
	"mpnet/service/dashboard"
	"mpnet/service/store"
)

// Options configure a service.
type Options struct {
	// Store is the database (migrated on the first request that needs it).
	Store *store.Store
	// OperatorToken, when set, is accepted as the operator's token besides
	// those stored in the database (the Worker's is a secret in its
	// environment; natively Bootstrap stores one).
	OperatorToken string
	// RatePerMinute bounds each token's requests per minute (default 600).
	RatePerMinute int
	// CORSOrigins are the origins, besides the service's own (the
	// dashboard), whose pages may call the API: the extension's
	// (chrome-extension://ID). Empty allows every browser extension's
	// origin and no web page's.
	CORSOrigins []string
	// Hosts, when set, are the only Host header values accepted (a
	// service on loopback must refuse other names: DNS rebinding).
	Hosts []string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives one line per request: method, path, status, duration
	// and the token's id; never a secret. Nil logs nothing.
	Log func(line string)
}

// Service is the handler.
type Service struct {
	o     Options
	st    *store.Store
	mux   *http.ServeMux
	cache compiledCache
	// pruned is when old rate counts and batch keys were last deleted.
	pruneMu sync.Mutex
	pruned  time.Time
}

// New returns the service's handler.
func New(o Options) *Service {
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = 600
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{o: o, st: o.Store, mux: http.NewServeMux()}
	s.routes()
	return s
}

// route is an authenticated API endpoint: who may call it, and the code.
type route struct {
	roles []string // the roles allowed; the operator is always allowed
	h     func(w http.ResponseWriter, r *http.Request, c *caller)
}

func (s *Service) routes() {
	all := []string{api.RoleAdmin, api.RoleMember, api.RoleCI}
	admin := []string{api.RoleAdmin}
	handle := func(pattern string, rt route) {
		s.mux.Handle(pattern, s.authed(rt))
	}
	handle("GET /v1/whoami", route{all, s.whoami})
	handle("POST /v1/projects", route{nil, s.createProject})
	handle("GET /v1/projects", route{nil, s.listProjects})
	handle("GET /v1/projects/{appid}", route{all, s.getProject})
	handle("POST /v1/projects/{appid}/tokens", route{admin, s.createToken})
	handle("GET /v1/projects/{appid}/tokens", route{admin, s.listTokens})
	handle("DELETE /v1/projects/{appid}/tokens/{id}", route{admin, s.revokeToken})
	handle("GET /v1/projects/{appid}/config", route{all, s.getConfig})
	handle("PUT /v1/projects/{appid}/config", route{admin, s.putConfig})
	handle("GET /v1/projects/{appid}/config/history", route{all, s.history})
	handle("GET /v1/projects/{appid}/config/versions/{version}", route{all, s.configVersion})
	handle("GET /v1/projects/{appid}/config/diff", route{all, s.diff})
	handle("POST /v1/projects/{appid}/reports", route{all, s.report})
	handle("GET /v1/projects/{appid}/summary", route{all, s.summary})
	handle("GET /v1/projects/{appid}/gate", route{all, s.gate})
	handle("GET /v1/projects/{appid}/timeline", route{all, s.timeline})
	s.mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "schema": store.Version()})
	})
	s.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s %s (see service/API.md)", r.Method, r.URL.Path))
	})
	s.mux.Handle("GET /dashboard/", http.StripPrefix("/dashboard/", dashboard.Handler()))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/dashboard/", http.StatusFound)
	})
}

// ServeHTTP checks the Host and Origin headers, answers CORS preflights,
// logs the request and hands it to its endpoint.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.o.Now()
	lw := &logWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if s.o.Log != nil {
			s.o.Log(fmt.Sprintf("%s %s %d %s token=%s", r.Method, r.URL.Path, lw.status, s.o.Now().Sub(start).Round(time.Microsecond), lw.token))
		}
	}()
	h := lw.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if !s.hostAllowed(r.Host) {
		fail(lw, http.StatusMisdirectedRequest, "bad_host", fmt.Sprintf("this service does not answer for host %q", r.Host))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if !s.originAllowed(origin, r) {
			fail(lw, http.StatusForbidden, "bad_origin", fmt.Sprintf("pages from %s may not call this service (allowed: the dashboard and the mpnet extension)", origin))
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "ETag, Retry-After, X-Mpnet-Config-Version")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key")
			h.Set("Access-Control-Max-Age", "600")
			lw.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		h.Set("Cache-Control", "no-store")
	}
	s.mux.ServeHTTP(lw, r)
}

// hostAllowed checks the Host header against Options.Hosts.
func (s *Service) hostAllowed(host string) bool {
	if len(s.o.Hosts) == 0 {
		return true
	}
	for _, h := range s.o.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	return false
}

// originAllowed: the service's own pages (the dashboard), the configured
// extension origins, or any extension when none is configured.
func (s *Service) originAllowed(origin string, r *http.Request) bool {
	if origin == "http://"+r.Host || origin == "https://"+r.Host {
		return true
	}
	if len(s.o.CORSOrigins) == 0 {
		return strings.HasPrefix(origin, "chrome-extension://") || strings.HasPrefix(origin, "moz-extension://")
	}
	for _, o := range s.o.CORSOrigins {
		if o == origin {
			return true
		}
	}
	return false
}

// LoopbackHosts returns the Host header values a service listening on
// addr (host:port) answers to when that address is loopback: the address
// itself, localhost and 127.0.0.1 / [::1] with its port. Nil for other
// addresses.
func LoopbackHosts(addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil
	}
	return []string{net.JoinHostPort(host, port), "localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port}
}

// logWriter remembers the status and the token id for the request log.
type logWriter struct {
	http.ResponseWriter
	status int
	token  string
	wrote  bool
}

func (l *logWriter) WriteHeader(code int) {
	if !l.wrote {
		l.status, l.wrote = code, true
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *logWriter) Write(b []byte) (int, error) {
	l.wrote = true
	return l.ResponseWriter.Write(b)
}

// Flush lets streaming writers flush through the log wrapper.
func (l *logWriter) Flush() {
	if f, ok := l.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// caller is an authenticated request's token.
type caller struct {
	tok   store.Token
	appid string // the {appid} of the path, checked against the token
}

// name is how reports and config versions name the caller.
func (c *caller) name() string {
	return c.tok.Name
}

// authed authenticates, authorises and rate-limits a request, then runs
// the endpoint.
func (s *Service) authed(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := s.st.Migrate(ctx); err != nil {
			s.internal(w, err)
			return
		}
		tok, err := s.authenticate(ctx, r.Header.Get("Authorization"))
		if err != nil {
			var ae *authError
			if errors.As(err, &ae) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="mpnet"`)
				fail(w, http.StatusUnauthorized, "unauthorized", ae.msg)
				return
			}
			s.internal(w, err)
			return
		}
		if lw, ok := w.(*logWriter); ok {
			lw.token = tok.ID
		}
		c := &caller{tok: tok, appid: r.PathValue("appid")}
		if tok.Role != api.RoleOperator {
			if c.appid != "" && c.appid != tok.Project {
				fail(w, http.StatusForbidden, "forbidden", "this token belongs to another project")
				return
			}
			if !contains(rt.roles, tok.Role) {
				fail(w, http.StatusForbidden, "forbidden", fmt.Sprintf("a %s token may not do this (needs: %s)", tok.Role, strings.Join(rt.roles, " or ")))
				return
			}
		}
		if ok, retry, err := s.allow(ctx, tok.ID); err != nil {
			s.internal(w, err)
			return
		} else if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(retry))
			fail(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("more than %d requests this minute for this token; retry in %d s", s.o.RatePerMinute, retry))
			return
		}
		if c.appid != "" && tok.Role == api.RoleOperator {
			if _, err := s.st.Project(ctx, c.appid); errors.Is(err, store.ErrNotFound) {
				fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("no project %q", c.appid))
				return
			} else if err != nil {
				s.internal(w, err)
				return
			}
		}
		s.maybePrune(ctx)
		rt.h(w, r, c)
	})
}

// allow counts the request in its token's minute; when over the limit it
// answers false and the seconds until the next minute.
func (s *Service) allow(ctx context.Context, tokenID string) (bool, int, error) {
	now := s.o.Now().UnixMilli()
	minute := now / 60000
	n, err := s.st.CountRequest(ctx, tokenID, minute)
	if err != nil {
		return false, 0, err
	}
	if n > s.o.RatePerMinute {
		return false, int((minute+1)*60000-now+999) / 1000, nil
	}
	return true, 0, nil
}

// maybePrune deletes rate counts older than two minutes and batch keys
// older than BatchKeyDays, now and then.
func (s *Service) maybePrune(ctx context.Context) {
	now := s.o.Now()
	s.pruneMu.Lock()
	// A fresh instance (a new process, a new Worker isolate or a Go
	// instance the Worker's glue replaced) prunes one time in a hundred; a
	// long-lived one once an hour.
	due := now.Sub(s.pruned) > time.Hour && (!s.pruned.IsZero() || rand.IntN(100) == 0)
	if due || s.pruned.IsZero() {
		s.pruned = now
	}
	s.pruneMu.Unlock()
	if !due {
		return
	}
	if err := s.st.Prune(ctx, now.UnixMilli()/60000-2, now.Add(-BatchKeyDays*24*time.Hour).UnixMilli()); err != nil && s.o.Log != nil {
		s.o.Log("prune: " + err.Error())
	}
}

// BatchKeyDays is how long a batch's idempotency key is remembered: a
// retry later than that counts again.
const BatchKeyDays = 30

// internal answers 500 and logs the cause (the client gets no details).
func (s *Service) internal(w http.ResponseWriter, err error) {
	if s.o.Log != nil {
		s.o.Log("error: " + err.Error())
	}
	fail(w, http.StatusInternalServerError, "internal", "the service failed; try again (it has been logged)")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

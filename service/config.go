package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"mpnet/abi"
	"mpnet/policy/config"
	"mpnet/service/api"
	"mpnet/service/store"
)

// ConfigFile is the name a project's configuration is linted under: it is
// always the product's own file, mpnet.json (strict: unknown keys are
// errors).
const ConfigFile = "mpnet.json"

// Lint judges a project's mpnet.json as `hostsim lint` does (policy/config:
// C1-C4 and C6, R4's ranges, R6, R8), and adds the service's own rule:
// the file's appid, when it has one, is the project's. errs refuse the
// file; warns do not. The compiled configuration is nil when errs is not
// empty.
func Lint(body, appid string) (c *config.Compiled, errs, warns []api.Problem) {
	if !utf8.ValidString(body) {
		return nil, []api.Problem{{Severity: "error", Message: "the file is not UTF-8 text"}}, nil
	}
	l, lerrs := config.Load([]abi.File{{Name: ConfigFile, Content: body}})
	if len(lerrs) > 0 {
		return nil, problems(lerrs), nil
	}
	c, probs := config.Compile(l)
	for _, p := range problems(probs) {
		if p.Severity == "error" {
			errs = append(errs, p)
		} else {
			warns = append(warns, p)
		}
	}
	if l.Config.AppID == "" {
		errs = append(errs, api.Problem{Severity: "error", Entry: "appid",
			Message: "the file names no appid: the Referer (R8) would use \"touristappid\"",
			Fix:     fmt.Sprintf("add \"appid\": %q", appid)})
	} else if l.Config.AppID != appid {
		w := l.Where["appid"]
		errs = append(errs, api.Problem{Severity: "error", Entry: l.Config.AppID, Line: w.Line, Col: w.Col,
			Message: fmt.Sprintf("the file is for appid %q, this project is %q", l.Config.AppID, appid),
			Fix:     fmt.Sprintf("set \"appid\": %q, or use the other project's URL", appid)})
	}
	if len(errs) > 0 {
		return nil, errs, warns
	}
	if warns == nil {
		warns = []api.Problem{}
	}
	return c, nil, warns
}

// problems converts the module's problems to the API's (the file is always mpnet.json).
func problems(ps []abi.Problem) []api.Problem {
	out := make([]api.Problem, 0, len(ps))
	for _, p := range ps {
		out = append(out, api.Problem{Rule: p.Rule, Severity: p.Severity, Line: p.Line, Col: p.Col, Entry: p.Entry, List: p.List, Message: p.Message, Fix: p.Fix})
	}
	return out
}

// etagOf is a version's strong ETag: its number and its content's hash.
func etagOf(version int, body string) string {
	sum := sha256.Sum256([]byte(body))
	return `"` + strconv.Itoa(version) + "-" + hex.EncodeToString(sum[:8]) + `"`
}

func versionInfo(c store.Config) api.ConfigVersion {
	return api.ConfigVersion{Version: c.Version, ETag: c.ETag, Author: c.Author, At: c.At, Message: c.Message}
}

// matchETag reports whether an If-Match / If-None-Match header lists etag (or *).
func matchETag(header, etag string) bool {
	for _, e := range strings.Split(header, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || e == etag || strings.TrimPrefix(e, "W/") == etag {
			return true
		}
	}
	return false
}

func (s *Service) getConfig(w http.ResponseWriter, r *http.Request, c *caller) {
	cfg, err := s.st.LatestConfig(r.Context(), c.appid)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "no_config", fmt.Sprintf("project %q has no configuration yet: an admin PUTs its mpnet.json", c.appid))
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	h := w.Header()
	h.Set("ETag", cfg.ETag)
	h.Set("X-Mpnet-Config-Version", strconv.Itoa(cfg.Version))
	if inm := r.Header.Get("If-None-Match"); inm != "" && matchETag(inm, cfg.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.Write([]byte(cfg.Body))
}

func (s *Service) putConfig(w http.ResponseWriter, r *http.Request, c *caller) {
	ctx := r.Context()
	b, ok := readBody(w, r, api.MaxConfigBytes)
	if !ok {
		return
	}
	msg := r.URL.Query().Get("message")
	if len(msg) > 500 {
		fail(w, http.StatusBadRequest, "bad_request", "message: at most 500 bytes")
		return
	}
	body := string(b)
	_, errs, warns := Lint(body, c.appid)
	if len(errs) > 0 {
		failWith(w, http.StatusUnprocessableEntity, api.ErrorBody{Code: "invalid_config",
			Message:  fmt.Sprintf("the configuration has %d error(s); nothing was saved", len(errs)),
			Problems: append(errs, warns...)})
		return
	}
	cur, err := s.st.LatestConfig(ctx, c.appid)
	version := 1
	switch {
	case errors.Is(err, store.ErrNotFound):
		if im := r.Header.Get("If-Match"); im != "" && im != "*" {
			failWith(w, http.StatusPreconditionFailed, api.ErrorBody{Code: "precondition_failed", Message: "If-Match names a version, but the project has no configuration yet"})
			return
		}
	case err != nil:
		s.internal(w, err)
		return
	default:
		im := r.Header.Get("If-Match")
		if im == "" {
			failWith(w, http.StatusPreconditionRequired, api.ErrorBody{Code: "precondition_required", ETag: cur.ETag,
				Message: fmt.Sprintf("send If-Match with the ETag of the version you edited (now %s, version %d), so that no one's change is lost", cur.ETag, cur.Version)})
			return
		}
		if !matchETag(im, cur.ETag) {
			failWith(w, http.StatusPreconditionFailed, api.ErrorBody{Code: "precondition_failed", ETag: cur.ETag,
				Message: fmt.Sprintf("the configuration changed since you read it: it is version %d (%s) by %s now; get it, redo your edit and send again", cur.Version, cur.ETag, cur.Author)})
			return
		}
		version = cur.Version + 1
	}
	row := store.Config{Project: c.appid, Version: version, Body: body, ETag: etagOf(version, body), Author: c.name(), At: s.o.Now().UnixMilli(), Message: msg}
	saved, err := s.st.PutConfig(ctx, row)
	if err != nil {
		s.internal(w, err)
		return
	}
	if !saved {
		// Another PUT took this version between our read and our write.
		latest, _ := s.st.LatestConfig(ctx, c.appid)
		failWith(w, http.StatusPreconditionFailed, api.ErrorBody{Code: "precondition_failed", ETag: latest.ETag,
			Message: fmt.Sprintf("another change was saved as version %d at the same time; get it, redo your edit and send again", version)})
		return
	}
	w.Header().Set("ETag", row.ETag)
	w.Header().Set("X-Mpnet-Config-Version", strconv.Itoa(version))
	status := http.StatusOK
	if version == 1 {
		status = http.StatusCreated
	}
	writeJSON(w, status, api.PutResult{ConfigVersion: versionInfo(row), Warnings: warns})
}

func (s *Service) history(w http.ResponseWriter, r *http.Request, c *caller) {
	limit, before := 50, 0
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			fail(w, http.StatusBadRequest, "bad_request", "limit: want 1 to 200")
			return
		}
		limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fail(w, http.StatusBadRequest, "bad_request", "before: want a version number")
			return
		}
		before = n
	}
	// One more than asked: the oldest shown needs its predecessor for its changes.
	rows, err := s.st.Configs(r.Context(), c.appid, before, limit+1)
	if err != nil {
		s.internal(w, err)
		return
	}
	out := api.History{Versions: []api.ConfigVersion{}}
	for i := 0; i < len(rows) && i < limit; i++ {
		v := versionInfo(rows[i])
		prev := ""
		if i+1 < len(rows) {
			prev = rows[i+1].Body
		}
		v.Changes = Changes(prev, rows[i].Body)
		out.Versions = append(out.Versions, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Service) configVersion(w http.ResponseWriter, r *http.Request, c *caller) {
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		fail(w, http.StatusBadRequest, "bad_request", "the version is a number from 1")
		return
	}
	cfg, err := s.st.ConfigAt(r.Context(), c.appid, n)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("no version %d", n))
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	v := versionInfo(cfg)
	v.Body = cfg.Body
	w.Header().Set("ETag", cfg.ETag)
	writeJSON(w, http.StatusOK, v)
}

func (s *Service) diff(w http.ResponseWriter, r *http.Request, c *caller) {
	ctx := r.Context()
	q := r.URL.Query()
	to, err := strconv.Atoi(q.Get("to"))
	if q.Get("to") == "" {
		latest, lerr := s.st.LatestConfig(ctx, c.appid)
		if lerr != nil {
			fail(w, http.StatusNotFound, "no_config", "the project has no configuration")
			return
		}
		to, err = latest.Version, nil
	}
	if err != nil || to < 1 {
		fail(w, http.StatusBadRequest, "bad_request", "to: want a version number")
		return
	}
	from := to - 1
	if v := q.Get("from"); v != "" {
		if from, err = strconv.Atoi(v); err != nil || from < 0 {
			fail(w, http.StatusBadRequest, "bad_request", "from: want a version number (0: empty)")
			return
		}
	}
	body := func(v int) (string, bool) {
		if v == 0 {
			return "", true
		}
		cfg, err := s.st.ConfigAt(ctx, c.appid, v)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				fail(w, http.StatusNotFound, "not_found", fmt.Sprintf("no version %d", v))
			} else {
				s.internal(w, err)
			}
			return "", false
		}
		return cfg.Body, true
	}
	a, ok := body(from)
	if !ok {
		return
	}
	b, ok := body(to)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, api.Diff{From: from, To: to, Changes: Changes(a, b),
		Unified: Unified(a, b, fmt.Sprintf("mpnet.json@%d", from), fmt.Sprintf("mpnet.json@%d", to))})
}

// compiledCache keeps compiled configurations by ETag, at most 64 (a
// native process and a Worker isolate's Go instance both live on).
type compiledCache struct {
	mu sync.Mutex
	m  map[string]*config.Compiled
}

// current returns the project's newest configuration, compiled.
func (s *Service) current(ctx context.Context, appid string) (store.Config, *config.Compiled, error) {
	cfg, err := s.st.LatestConfig(ctx, appid)
	if err != nil {
		return cfg, nil, err
	}
	key := appid + " " + cfg.ETag
	s.cache.mu.Lock()
	c := s.cache.m[key]
	s.cache.mu.Unlock()
	if c != nil {
		return cfg, c, nil
	}
	c, errs, _ := Lint(cfg.Body, appid)
	if len(errs) > 0 {
		return cfg, nil, fmt.Errorf("stored configuration %s version %d no longer lints: %s", appid, cfg.Version, errs[0].Message)
	}
	s.cache.mu.Lock()
	if s.cache.m == nil || len(s.cache.m) >= 64 {
		s.cache.m = map[string]*config.Compiled{}
	}
	s.cache.m[key] = c
	s.cache.mu.Unlock()
	return cfg, c, nil
}

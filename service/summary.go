package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"mpnet/abi"
	"mpnet/policy"
	"mpnet/policy/config"
	"mpnet/service/api"
	"mpnet/service/store"
)

// maxGateReasons bounds the reasons a failing gate lists.
const maxGateReasons = 50

// state is a project's violations judged again under its current
// configuration: what the summary, the gate and the dashboard show.
type state struct {
	cfg        *store.Config
	violations []api.Violation
	hostsToAdd map[string][]string
	openByRule map[string]int64
}

// judgeNow loads a project's violations seen since `since` and judges
// each again, by one of its example URLs, under the current
// configuration: a violation is open while that still fails. A (list,
// host, rule) decides the verdict of every URL in it (the rules judged
// here read only the scheme, the host and the API), so one example
// stands for all.
func (s *Service) judgeNow(ctx context.Context, appid string, since int64) (*state, error) {
	st := &state{hostsToAdd: map[string][]string{}, openByRule: map[string]int64{}, violations: []api.Violation{}}
	cfg, compiled, err := s.current(ctx, appid)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err == nil {
		st.cfg = &cfg
	}
	rows, err := s.st.Violations(ctx, appid, since)
	if err != nil {
		return nil, err
	}
	var judger *policy.Judger
	if compiled != nil {
		judger = policy.NewJudger(compiled)
	}
	added := map[string]bool{}
	for _, v := range rows {
		out := api.Violation{List: v.List, Host: v.Host, Rule: v.Rule, API: v.API, Count: v.N, FirstSeen: v.FirstSeen, LastSeen: v.LastSeen,
			LastBy: v.LastBy, Reporters: []api.Reporter{}, Examples: v.Examples}
		if out.Examples == nil {
			out.Examples = []string{}
		}
		for _, r := range v.Reporters {
			out.Reporters = append(out.Reporters, api.Reporter{Name: r.Who, Count: r.N, LastSeen: r.LastSeen})
		}
		if judger != nil {
			d, err := judger.Judge(abi.CheckRequest{API: v.API, URL: exampleOf(v)})
			if err == nil && !d.Allowed {
				out.Open, out.ErrMsg, out.Message, out.Fix = true, d.ErrMsg, d.Message, d.Fix
				st.openByRule[d.Rule] += v.N
				if d.Rule == "R2" && d.Entry != "" {
					out.Entry = d.Entry
					if !added[d.List+" "+d.Entry] {
						added[d.List+" "+d.Entry] = true
						st.hostsToAdd[d.List] = append(st.hostsToAdd[d.List], d.Entry)
					}
				}
			}
		}
		st.violations = append(st.violations, out)
	}
	for _, l := range st.hostsToAdd {
		sort.Strings(l)
	}
	return st, nil
}

// exampleOf is the URL a violation is judged again by: its newest example,
// or one made of its list's scheme and its host.
func exampleOf(v store.Violation) string {
	if len(v.Examples) > 0 {
		return v.Examples[0]
	}
	scheme := config.ListScheme[strings.TrimPrefix(v.List, "domains.")]
	if scheme == "" {
		scheme = "https"
	}
	return scheme + "://" + v.Host + "/"
}

// gateOf is the release gate over a judged state: it passes when the
// project has a configuration and no violation is open.
func gateOf(st *state, since, now int64) api.Gate {
	g := api.Gate{Pass: true, Reasons: []api.GateReason{}, Since: since, CheckedAt: now}
	if st.cfg == nil {
		g.Pass = false
		g.Reasons = append(g.Reasons, api.GateReason{Message: "the project has no configuration", Fix: "an admin PUTs the project's mpnet.json"})
		return g
	}
	g.ConfigVersion = st.cfg.Version
	open := 0
	for _, v := range st.violations {
		if !v.Open {
			continue
		}
		g.Pass = false
		open++
		if len(g.Reasons) < maxGateReasons {
			host := v.Host
			if host == "" {
				host = "(invalid URLs)"
			}
			g.Reasons = append(g.Reasons, api.GateReason{Rule: v.Rule, List: v.List, Host: v.Host, Count: v.Count,
				Message: fmt.Sprintf("%s: %d call(s) to %s fail on device: %s", v.Rule, v.Count, host, v.ErrMsg), Fix: v.Fix})
		}
	}
	if open > maxGateReasons {
		g.Reasons = append(g.Reasons, api.GateReason{Message: fmt.Sprintf("and %d more open violations (see the summary)", open-maxGateReasons)})
	}
	return g
}

// judged answers a request for a project's judged state (?since=), or
// answers the error and returns nil.
func (s *Service) judged(w http.ResponseWriter, r *http.Request, c *caller) (*state, int64) {
	since, ok := sinceParam(w, r, s.o.Now())
	if !ok {
		return nil, 0
	}
	st, err := s.judgeNow(r.Context(), c.appid, since)
	if err != nil {
		s.internal(w, err)
		return nil, 0
	}
	return st, since
}

func (s *Service) summary(w http.ResponseWriter, r *http.Request, c *caller) {
	st, since := s.judged(w, r, c)
	if st == nil {
		return
	}
	out := api.Summary{Project: c.appid, HostsToAdd: st.hostsToAdd, OpenByRule: st.openByRule, Violations: st.violations,
		Gate: gateOf(st, since, s.o.Now().UnixMilli())}
	if st.cfg != nil {
		v := versionInfo(*st.cfg)
		out.Config = &v
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Service) gate(w http.ResponseWriter, r *http.Request, c *caller) {
	if st, since := s.judged(w, r, c); st != nil {
		writeJSON(w, http.StatusOK, gateOf(st, since, s.o.Now().UnixMilli()))
	}
}

func (s *Service) timeline(w http.ResponseWriter, r *http.Request, c *caller) {
	now := s.o.Now()
	since, ok := sinceParam(w, r, now)
	if !ok {
		return
	}
	if r.URL.Query().Get("since") == "" {
		since = now.Add(-14 * 24 * time.Hour).UnixMilli()
	}
	bucket := r.URL.Query().Get("bucket")
	switch bucket {
	case "":
		bucket = "day"
		if now.UnixMilli()-since <= 2*24*3600_000 {
			bucket = "hour"
		}
	case "hour", "day":
	default:
		fail(w, http.StatusBadRequest, "bad_request", "bucket: want hour or day")
		return
	}
	rows, err := s.st.Hours(r.Context(), c.appid, since/3600_000)
	if err != nil {
		s.internal(w, err)
		return
	}
	size := int64(3600_000)
	if bucket == "day" {
		size = 24 * 3600_000
	}
	out := api.Timeline{Bucket: bucket, Points: []api.Point{}}
	for _, h := range rows {
		t := h.Hour * 3600_000 / size * size
		if n := len(out.Points); n == 0 || out.Points[n-1].T != t {
			out.Points = append(out.Points, api.Point{T: t, ByRule: map[string]int64{}})
		}
		out.Points[len(out.Points)-1].ByRule[h.Rule] += h.N
	}
	writeJSON(w, http.StatusOK, out)
}

// sinceParam reads ?since=: Unix ms, an RFC 3339 time, or a duration back
// from now ("24h", "7d"). 0 when absent.
func sinceParam(w http.ResponseWriter, r *http.Request, now time.Time) (int64, bool) {
	v := r.URL.Query().Get("since")
	if v == "" {
		return 0, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return n, true
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UnixMilli(), true
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n >= 0 && n <= 3650 {
			return now.Add(-time.Duration(n) * 24 * time.Hour).UnixMilli(), true
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d).UnixMilli(), true
	}
	fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("since %q: want Unix milliseconds, an RFC 3339 time or a duration such as 24h or 7d", v))
	return 0, false
}

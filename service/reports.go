package service

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"mpnet/abi"
	"mpnet/policy"
	"mpnet/policy/urlhost"
	"mpnet/service/api"
	"mpnet/service/store"
)

// maxAge is how far back a record's time may lie; older times are moved
// up to it, future ones back to now.
const maxAge = 30 * 24 * 3600 * 1000

// report takes a batch of calls a client saw, judges each again under
// the project's current configuration (the client's verdict is not even
// read), and adds the failing ones to their (list, host, rule) counts, all
// in one statement keyed by the batch's Idempotency-Key.
func (s *Service) report(w http.ResponseWriter, r *http.Request, c *caller) {
	ctx := r.Context()
	key := r.Header.Get("Idempotency-Key")
	if err := validKey(key); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	body, ok := readBody(w, r, api.MaxBatchBytes)
	if !ok {
		return
	}
	var b api.Batch
	if err := decodeStrict(body, &b); err != nil {
		fail(w, http.StatusBadRequest, "bad_request", "the body is not a batch {\"records\": [{\"api\", \"url\", \"at\"}]}: "+err.Error())
		return
	}
	if len(b.Records) == 0 {
		fail(w, http.StatusBadRequest, "bad_request", "the batch has no records")
		return
	}
	if len(b.Records) > api.MaxBatchRecords {
		fail(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the batch has %d records; send at most %d per batch", len(b.Records), api.MaxBatchRecords))
		return
	}
	for i, rec := range b.Records {
		if policy.ListOf(rec.API) == "" {
			fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("records[%d].api is %q; want one of %s", i, rec.API, strings.Join(abi.APIs, ", ")))
			return
		}
		if rec.URL == "" || len(rec.URL) > api.MaxURLBytes {
			fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("records[%d].url: want 1 to %d bytes", i, api.MaxURLBytes))
			return
		}
	}
	cfg, compiled, err := s.current(ctx, c.appid)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusConflict, "no_config", "the project has no configuration to judge reports against: an admin PUTs its mpnet.json first")
		return
	} else if err != nil {
		s.internal(w, err)
		return
	}
	now := s.o.Now().UnixMilli()
	judger := policy.NewJudger(compiled)
	groups := map[[3]string]*store.Group{}
	hours := map[store.Hour]int64{}
	counted := 0
	for _, rec := range b.Records {
		d, err := judger.Judge(abi.CheckRequest{API: rec.API, URL: rec.URL})
		if err != nil || d.Allowed {
			continue
		}
		counted++
		at := rec.At
		if at <= 0 || at > now {
			at = now
		} else if at < now-maxAge {
			at = now - maxAge
		}
		k := [3]string{listName(d), d.Host, d.Rule}
		g := groups[k]
		if g == nil {
			g = &store.Group{List: k[0], Host: k[1], Rule: k[2], API: rec.API, First: at, Last: at}
			groups[k] = g
		}
		g.N++
		g.First, g.Last = min(g.First, at), max(g.Last, at)
		if ex := ExampleURL(rec.URL); len(g.Examples) < 3 && !contains(g.Examples, ex) {
			g.Examples = append(g.Examples, ex)
		}
		hours[store.Hour{Hour: at / 3600_000, Rule: d.Rule}]++
	}
	gl := make([]*store.Group, 0, len(groups))
	for _, g := range groups {
		gl = append(gl, g)
	}
	sort.Slice(gl, func(i, j int) bool {
		a, b := gl[i], gl[j]
		return a.List+"\x00"+a.Host+"\x00"+a.Rule < b.List+"\x00"+b.Host+"\x00"+b.Rule
	})
	hl := make([]store.Hour, 0, len(hours))
	for h, n := range hours {
		h.N = n
		hl = append(hl, h)
	}
	sort.Slice(hl, func(i, j int) bool {
		return hl[i].Hour < hl[j].Hour || hl[i].Hour == hl[j].Hour && hl[i].Rule < hl[j].Rule
	})
	gj, err := marshal(gl)
	if err != nil {
		s.internal(w, err)
		return
	}
	hj, err := marshal(hl)
	if err != nil {
		s.internal(w, err)
		return
	}
	sum := sha256.Sum256(body)
	row := store.Batch{Project: c.appid, Key: key, Token: c.tok.ID, Who: c.name(), Hash: hex.EncodeToString(sum[:]), At: now,
		ConfigVersion: cfg.Version, Received: len(b.Records), Counted: counted, Groups: string(gj), Hours: string(hj)}
	inserted, err := s.st.InsertBatch(ctx, row)
	if err != nil {
		s.internal(w, err)
		return
	}
	if !inserted {
		prev, err := s.st.BatchByKey(ctx, c.appid, key)
		if err != nil {
			s.internal(w, err)
			return
		}
		if prev.Hash != row.Hash {
			fail(w, http.StatusConflict, "key_reused", "this Idempotency-Key was used for a different batch; nothing was counted (use a new key for every new batch)")
			return
		}
		row = prev
	}
	writeJSON(w, http.StatusOK, api.BatchResult{Key: key, Received: row.Received, Counted: row.Counted, Allowed: row.Received - row.Counted,
		Duplicate: !inserted, ConfigVersion: row.ConfigVersion})
}

// listName is the list a violation is counted under: the configuration
// list that governs the API, or "resource" for images, audio and video (R13).
func listName(d abi.Decision) string {
	if d.List == "" {
		return "resource"
	}
	return d.List
}

// validKey accepts an Idempotency-Key: 1 to 128 printable ASCII characters.
func validKey(k string) error {
	if k == "" {
		return errors.New("send an Idempotency-Key header (a new random value per batch, the same on every retry of it)")
	}
	if len(k) > api.MaxKeyBytes {
		return fmt.Errorf("Idempotency-Key: at most %d characters", api.MaxKeyBytes)
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] >= 0x7f {
			return errors.New("Idempotency-Key: printable ASCII only")
		}
	}
	return nil
}

// ExampleURL is a reported URL as the service keeps it: parsed as the
// browser does and without its userinfo, query and fragment (they may
// carry tokens or personal data); an unparseable URL is cut at its first
// '?' or '#' and to 200 bytes.
func ExampleURL(raw string) string {
	if u, err := urlhost.Parse(raw); err == nil {
		return u.Origin() + u.Path
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if len(raw) > 200 {
		raw = raw[:200]
	}
	return strings.ToValidUTF8(raw, "\uFFFD")
}

package main

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"mpnet/abi"
	"mpnet/hostsim"
	"mpnet/hostsim/har"
)

// auditRow is the verdict on one HAR entry.
type auditRow struct {
	Index    int           `json:"index"`
	API      string        `json:"api,omitempty"`
	Method   string        `json:"method,omitempty"`
	URL      string        `json:"url"`
	Status   int           `json:"status"`
	TimeMs   float64       `json:"timeMs"`
	Verdict  string        `json:"verdict"` // "ok", "fail", "warn", "skipped", "unjudged"
	Rule     string        `json:"rule,omitempty"`
	ErrMsg   string        `json:"errMsg,omitempty"`
	Findings []abi.Action  `json:"findings,omitempty"`
	Recorded *recordedNote `json:"recorded,omitempty"`
	Skip     string        `json:"skip,omitempty"`
	// Unjudged says why the entry could not be judged (a time no call
	// takes, a start years away from the others).
	Unjudged string `json:"unjudged,omitempty"`
	at       int64  // Unix ms, for --report
	end      int64
	done     bool
}

// recordedNote is what mpnet's exporter wrote into the entry's _mpnet field.
type recordedNote struct {
	API     string `json:"api,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	Rule    string `json:"rule,omitempty"`
}

// auditSummary closes the report.
type auditSummary struct {
	Entries int `json:"entries"`
	Judged  int `json:"judged"`
	Skipped int `json:"skipped"`
	// Unjudged counts entries that could not be judged; the audit then
	// exits 2. Entries = Judged + Skipped + Unjudged.
	Unjudged int            `json:"unjudged"`
	Failed   int            `json:"failed"`
	Warned   int            `json:"warned"`
	Rules    map[string]int `json:"rules"`
	// HostsToAdd maps a list ("domains.request") to the entries to add to it.
	HostsToAdd map[string][]string `json:"hostsToAdd"`
}

// pageAssets are resource types of the preview page itself, not of the mini
// program's network APIs.
var pageAssets = map[string]bool{"document": true, "script": true, "stylesheet": true, "font": true, "manifest": true,
	"texttrack": true, "ping": true, "cspviolationreport": true, "preflight": true, "signedexchange": true}

// apiOf infers which mini-program API made a HAR entry ("" = not judged).
func apiOf(e *har.Entry) (api, skip string) {
	lower := strings.ToLower(e.URL)
	switch {
	case strings.HasPrefix(lower, "data:") || strings.HasPrefix(lower, "blob:") || strings.HasPrefix(lower, "chrome-extension:"):
		return "", "inline or extension URL"
	case e.ResourceType == "websocket" || strings.HasPrefix(lower, "ws:") || strings.HasPrefix(lower, "wss:"):
		return "connectSocket", ""
	case e.ResourceType == "image" || e.ResourceType == "media":
		return "resource", ""
	case pageAssets[e.ResourceType]:
		return "", "the preview page's own " + e.ResourceType
	}
	return "request", ""
}

type endHeap []*auditRow

func (h endHeap) Len() int { return len(h) }
func (h endHeap) Less(i, j int) bool {
	if h[i].end != h[j].end {
		return h[i].end < h[j].end
	}
	return h[i].Index < h[j].Index
}
func (h endHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *endHeap) Push(x any)   { *h = append(*h, x.(*auditRow)) }
func (h *endHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// auditor replays a HAR through a report-mode engine, in time order.
type auditor struct {
	e       *env
	inst    *hostsim.Instance
	rows    map[int64]*auditRow
	order   []*auditRow // rows not yet printed, in HAR order
	ends    endHeap
	t0      time.Time
	last    int64
	sum     auditSummary
	hosts   map[string]map[string]bool
	emit    func(*auditRow) error
	verbose bool
	report  *teamReporter // --report: the findings for the team service (team.go)
}

func (e *env) audit(args []string) error {
	fs, module := e.flags("audit", "audit --config FILE [--json] HAR")
	var configs multiFlag
	fs.Var(&configs, "config", "configuration file (repeatable; formats merge in order)")
	asJSON := fs.Bool("json", false, "print machine-readable JSON instead of a table")
	report := fs.Bool("report", false, "send the findings to the team service (--config URL or $MPNET_SERVICE; token in $MPNET_TOKEN)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(configs) == 0 {
		return badInput("--config FILE is required")
	}
	if len(pos) != 1 {
		return badInput("want exactly one HAR file, got %d arguments", len(pos))
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return badInput("%v", err)
	}
	defer f.Close()
	m, inst, err := e.instance(*module)
	if err != nil {
		return err
	}
	defer m.Close(e.ctx)
	res, err := configure(e.ctx, inst, configs, true)
	if err != nil {
		return err
	}
	// Judge as a release build on a device: report mode records every
	// violation and lets the replay go on; urlCheck does not apply on device.
	cfg := *res.Config
	cfg.Mode, cfg.URLCheck = "report", nil
	if r, err := inst.Configure(e.ctx, abi.ConfigureRequest{Config: &cfg}); err != nil || !r.OK {
		return badInput("configuring the audit: %v %v", err, r.Errors)
	}

	out := bufio.NewWriterSize(e.stdout, 64<<10)
	defer out.Flush()
	a := &auditor{e: e, inst: inst, rows: map[int64]*auditRow{}, hosts: map[string]map[string]bool{},
		sum: auditSummary{Rules: map[string]int{}, HostsToAdd: map[string][]string{}}}
	if *report {
		target, err := reportTarget(configs)
		if err != nil {
			return err
		}
		c, err := newTeamClient(e.ctx, target)
		if err != nil {
			return err
		}
		a.report = &teamReporter{c: c}
	}
	first := true
	if *asJSON {
		out.WriteString("{\"entries\":[")
		a.emit = func(r *auditRow) error {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if !first {
				out.WriteByte(',')
			}
			first = false
			out.WriteString("\n")
			_, err = out.Write(b)
			return err
		}
	} else {
		fmt.Fprintf(out, "%5s  %-13s %-7s %6s  %-7s %-5s %s\n", "#", "API", "METHOD", "STATUS", "VERDICT", "RULE", "URL")
		a.emit = func(r *auditRow) error { return writeRow(out, r) }
	}
	if err := readPipelined(f, a.entry); err != nil {
		return badInput("%s: %v", pos[0], err)
	}
	if err := a.drain(math.MaxInt64); err != nil {
		return err
	}
	if n := len(a.order) + a.ends.Len(); n > 0 || a.sum.Judged+a.sum.Skipped+a.sum.Unjudged != a.sum.Entries {
		// Never end with entries neither judged nor printed.
		return fmt.Errorf("internal error: %d of %d entries were left unfinished", max(n, a.sum.Entries-a.sum.Judged-a.sum.Skipped-a.sum.Unjudged), a.sum.Entries)
	}
	for list, set := range a.hosts {
		for h := range set {
			a.sum.HostsToAdd[list] = append(a.sum.HostsToAdd[list], h)
		}
		sort.Strings(a.sum.HostsToAdd[list])
	}
	if *asJSON {
		b, _ := json.Marshal(a.sum)
		fmt.Fprintf(out, "\n],\"summary\":%s}\n", b)
	} else {
		writeSummary(out, &a.sum)
	}
	out.Flush()
	if a.report != nil {
		sent, counted, dup, err := a.report.send(e.ctx)
		if err != nil {
			return badInput("%v", err)
		}
		fmt.Fprintf(e.stderr, "hostsim audit: reported %d call(s) to %s: %d fail under the team's configuration", sent, a.report.c.projectURL(), counted)
		if dup > 0 {
			fmt.Fprintf(e.stderr, " (%d already reported before, not counted again)", dup)
		}
		fmt.Fprintln(e.stderr)
	}
	if a.sum.Unjudged > 0 {
		return badInput("%d of %d entries could not be judged (verdict \"unjudged\" in the report)", a.sum.Unjudged, a.sum.Entries)
	}
	if a.sum.Failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// Bounds on a HAR entry's timing: a call that takes longer, or starts
// further from the first entry, is not something a preview recorded (a
// broken exporter, an edited file), and judging it would push the engine's
// clock past what it can count. Such entries are reported as unjudged.
const (
	maxEntryTime = 366 * 24 * 3600 * 1000 // ms: entry.time
	maxHARSpan   = 366 * 24 * time.Hour   // startedDateTime from the first entry
)

// errStopped ends the HAR reader when the consumer failed.
var errStopped = errors.New("stopped")

// readPipelined is har.Read with the parsing on its own goroutine: reading
// the JSON and judging entries through the module each took about half of
// an audit, so on two cores they overlap. Entries reach fn in order; the
// first error (the reader's, or fn's, which stops the reader) is returned.
func readPipelined(r io.Reader, fn func(*har.Entry) error) error {
	entries := make(chan *har.Entry, 512)
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(entries)
		readErr <- har.Read(r, func(e *har.Entry) error {
			select {
			case entries <- e:
				return nil
			case <-stop:
				return errStopped
			}
		})
	}()
	for e := range entries {
		if err := fn(e); err != nil {
			close(stop)
			for range entries { // let the reader finish
			}
			return err
		}
	}
	return <-readErr
}

// entry judges one HAR entry as it streams by.
func (a *auditor) entry(e *har.Entry) error {
	a.sum.Entries++
	row := &auditRow{Index: e.Index, Method: e.Method, URL: e.URL, Status: e.Status, TimeMs: e.Time}
	if len(e.Annotation) > 0 {
		var rec recordedNote
		if json.Unmarshal(e.Annotation, &rec) == nil {
			row.Recorded = &rec
		}
	}
	api, skip := apiOf(e)
	if row.Recorded != nil && row.Recorded.API != "" {
		api, skip = row.Recorded.API, ""
	}
	if api == "" {
		row.Verdict, row.Skip, row.done = "skipped", skip, true
		a.sum.Skipped++
		a.order = append(a.order, row)
		return a.flush()
	}
	row.API = api
	start, unjudged, err := a.clock(e)
	if err != nil {
		return err
	}
	if unjudged == "" && !(e.Time <= maxEntryTime) {
		unjudged = fmt.Sprintf("time is %g ms, more than a year: no call takes that long", e.Time)
	}
	if unjudged != "" {
		row.Verdict, row.Unjudged, row.done = "unjudged", unjudged, true
		a.sum.Unjudged++
		a.order = append(a.order, row)
		return a.flush()
	}
	row.at = a.t0.UnixMilli() + start
	if err := a.drain(start); err != nil {
		return err
	}
	id := int64(e.Index) + 1
	a.rows[id] = row
	a.order = append(a.order, row)
	r, err := a.inst.Step(a.e.ctx, abi.Event{Type: abi.EvOpen, At: start, ID: id, API: api, URL: e.URL, Method: e.Method})
	if err != nil {
		return fmt.Errorf("entry %d: %w", e.Index, err)
	}
	a.collect(r.Actions)
	if e.Status >= 100 && e.Status <= 999 && api != "resource" {
		r, err := a.inst.Step(a.e.ctx, abi.Event{Type: abi.EvResponse, At: start, ID: id, Status: e.Status})
		if err != nil {
			return fmt.Errorf("entry %d: %w", e.Index, err)
		}
		a.collect(r.Actions)
	}
	if ct := header(e.ResponseHeaders, "content-type"); ct != "" && api == "request" {
		if _, params, err := mime.ParseMediaType(ct); err == nil && params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8") {
			br, _, err := a.inst.Body(a.e.ctx, abi.BodyRequest{API: api, ContentType: ct, URL: e.URL}, nil)
			if err == nil {
				for _, w := range br.Warnings {
					row.Findings = append(row.Findings, abi.Action{Type: abi.ActReport, ID: id, Rule: w.Rule, Severity: "warning", Message: w.Message, Fix: w.Fix})
				}
			}
		}
	}
	dur := int64(e.Time)
	if dur < 0 {
		dur = 0
	}
	row.end = start + dur
	heap.Push(&a.ends, row)
	return nil
}

// clock turns startedDateTime into ms since the first entry; a time more
// than maxHARSpan away from it gives a reason the entry cannot be judged.
func (a *auditor) clock(e *har.Entry) (int64, string, error) {
	t, err := time.Parse(time.RFC3339Nano, e.StartedDateTime)
	if err != nil {
		return 0, "", fmt.Errorf("entry %d: startedDateTime %q is not an RFC 3339 time", e.Index, e.StartedDateTime)
	}
	if a.t0.IsZero() {
		a.t0 = t
	}
	if d := t.Sub(a.t0); d > maxHARSpan || d < -maxHARSpan {
		return 0, fmt.Sprintf("startedDateTime %s is more than a year from the first entry's (%s)", e.StartedDateTime, a.t0.Format(time.RFC3339)), nil
	}
	ms := t.Sub(a.t0).Milliseconds()
	if ms < a.last {
		ms = a.last // entries slightly out of order: keep the engine's clock monotonic
	}
	a.last = ms
	return ms, "", nil
}

// drain finishes every entry that ended at or before t.
func (a *auditor) drain(t int64) error {
	for a.ends.Len() > 0 && a.ends[0].end <= t {
		row := heap.Pop(&a.ends).(*auditRow)
		at := max(row.end, a.last)
		a.last = at
		r, err := a.inst.Step(a.e.ctx, abi.Event{Type: abi.EvFinish, At: at, ID: int64(row.Index) + 1})
		if err != nil {
			return fmt.Errorf("entry %d: %w", row.Index, err)
		}
		a.collect(r.Actions)
		row.done = true
		delete(a.rows, int64(row.Index)+1)
	}
	return a.flush()
}

// collect files report actions under their rows.
func (a *auditor) collect(acts []abi.Action) {
	for _, act := range acts {
		if act.Type != abi.ActReport {
			continue
		}
		row := a.rows[act.ID]
		if row == nil {
			continue
		}
		row.Findings = append(row.Findings, act)
		if act.List != "" && act.Entry != "" {
			if a.hosts[act.List] == nil {
				a.hosts[act.List] = map[string]bool{}
			}
			a.hosts[act.List][act.Entry] = true
		}
	}
}

// flush prints finished rows from the head of the HAR order.
func (a *auditor) flush() error {
	i := 0
	for ; i < len(a.order) && a.order[i].done; i++ {
		r := a.order[i]
		if r.Verdict == "" {
			r.Verdict = "ok"
			for _, f := range r.Findings {
				a.sum.Rules[f.Rule]++
				switch {
				case f.Severity == "error":
					if r.Verdict != "fail" {
						r.Verdict, r.Rule, r.ErrMsg = "fail", f.Rule, f.ErrMsg
					}
				case f.Severity == "warning" && r.Verdict == "ok":
					r.Verdict, r.Rule = "warn", f.Rule
				}
			}
			a.sum.Judged++
			if a.report != nil && (r.Verdict == "fail" || r.Verdict == "warn") {
				a.report.add(r.API, r.URL, r.at)
			}
			switch r.Verdict {
			case "fail":
				a.sum.Failed++
			case "warn":
				a.sum.Warned++
			}
		}
		if err := a.emit(r); err != nil {
			return err
		}
		a.order[i] = nil
	}
	a.order = a.order[i:]
	return nil
}

func header(hs []har.Header, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

func writeRow(w io.Writer, r *auditRow) error {
	verdict := map[string]string{"ok": "ok", "fail": "FAIL", "warn": "warn", "skipped": "-", "unjudged": "ERROR"}[r.Verdict]
	status := "-"
	if r.Status > 0 {
		status = fmt.Sprint(r.Status)
	}
	api := r.API
	if api == "" {
		api = "-"
	}
	_, err := fmt.Fprintf(w, "%5d  %-13s %-7s %6s  %-7s %-5s %s\n", r.Index, safe(api), safe(shorten(r.Method, 7)), status, verdict, safe(r.Rule), safe(shorten(r.URL, 100)))
	if r.Verdict == "fail" && r.ErrMsg != "" {
		fmt.Fprintf(w, "%7s errMsg: %s\n", "", safe(r.ErrMsg))
	}
	if r.Unjudged != "" {
		fmt.Fprintf(w, "%7s not judged: %s\n", "", safe(r.Unjudged))
	}
	for _, f := range r.Findings {
		if f.Severity == "info" {
			continue
		}
		fmt.Fprintf(w, "%7s %s\n", "", safe(f.Message))
		if f.Fix != "" {
			fmt.Fprintf(w, "%7s fix: %s\n", "", safe(f.Fix))
		}
	}
	return err
}

func writeSummary(w io.Writer, s *auditSummary) {
	fmt.Fprintf(w, "\n%d entries: %d judged, %d skipped (page assets), %d would fail on device, %d with warnings\n",
		s.Entries, s.Judged, s.Skipped, s.Failed, s.Warned)
	if s.Unjudged > 0 {
		fmt.Fprintf(w, "%d entries COULD NOT BE JUDGED (see \"not judged\" above)\n", s.Unjudged)
	}
	if len(s.Rules) > 0 {
		var rules []string
		for r := range s.Rules {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		fmt.Fprint(w, "findings by rule:")
		for _, r := range rules {
			fmt.Fprintf(w, " %s=%d", r, s.Rules[r])
		}
		fmt.Fprintln(w, "  (hostsim rules ID explains each)")
	}
	if len(s.HostsToAdd) > 0 {
		fmt.Fprintln(w, "\nhosts to add (admin console: 开发管理 > 开发设置 > 服务器域名):")
		var lists []string
		for l := range s.HostsToAdd {
			lists = append(lists, l)
		}
		sort.Strings(lists)
		for _, l := range lists {
			fmt.Fprintf(w, "  %s:\n", l)
			for _, h := range s.HostsToAdd[l] {
				fmt.Fprintf(w, "    %s\n", safe(h))
			}
		}
	}
}

// shorten cuts s to at most n runes, marking the cut with "...".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// The reproduction: an entry whose time is above 2^62 ms never
// finished, so it and every later entry were neither judged nor printed,
// and the run exited 0 ("3 entries: 1 judged ... 0 would fail"). Every
// entry must now be printed and counted, and the exit status says that one
// could not be judged; so does a startedDateTime years away from the rest.
func TestAuditJudgesOrReportsEveryEntry(t *testing.T) {
	har := writeFile(t, "overflow.har", `{"log":{"entries":[
 {"startedDateTime":"2024-05-01T10:00:00.000Z","time":12,"request":{"method":"GET","url":"https://api.example.com/a"},"response":{"status":200}},
 {"startedDateTime":"2024-05-01T10:00:01.000Z","time":9.3e18,"request":{"method":"GET","url":"https://api.example.com/b"},"response":{"status":200}},
 {"startedDateTime":"2024-05-01T10:00:02.000Z","time":12,"request":{"method":"GET","url":"https://evil.example.net/c"},"response":{"status":200}},
 {"startedDateTime":"9999-12-31T23:59:59.000Z","time":12,"request":{"method":"GET","url":"https://api.example.com/d"},"response":{"status":200}},
 {"startedDateTime":"2024-05-01T10:00:03.000Z","time":4611686018427387904,"request":{"method":"GET","url":"https://api.example.com/e"},"response":{"status":200}},
 {"startedDateTime":"2024-05-01T10:00:04.000Z","time":1e300,"request":{"method":"GET","url":"https://api.example.com/f"},"response":{"status":200}},
 {"startedDateTime":"2024-05-01T10:00:05.000Z","time":20,"request":{"method":"GET","url":"https://api.example.com/g"},"response":{"status":200}}]}}`)
	code, out, errs := cli(t, "audit", "--config", demo("mpnet.json"), har)
	if code != 2 || !strings.Contains(errs, "4 of 7 entries could not be judged") {
		t.Errorf("exit %d, stderr %q; want 2 and the count", code, errs)
	}
	for _, want := range []string{
		"ok            https://api.example.com/a",
		"ERROR         https://api.example.com/b",
		"not judged: time is 9.3e+18 ms, more than a year",
		"FAIL    R2    https://evil.example.net/c",
		"ERROR         https://api.example.com/d",
		"not judged: startedDateTime 9999-12-31T23:59:59.000Z is more than a year from the first entry's",
		"ERROR         https://api.example.com/e",
		"ERROR         https://api.example.com/f",
		"ok            https://api.example.com/g",
		"7 entries: 3 judged, 0 skipped (page assets), 1 would fail on device, 0 with warnings",
		"4 entries COULD NOT BE JUDGED",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	logIfFailed(t, out)
	code, out, _ = cli(t, "audit", "--json", "--config", demo("mpnet.json"), har)
	var res struct {
		Entries []struct {
			Index             int
			Verdict, Unjudged string
		}
		Summary struct{ Entries, Judged, Skipped, Unjudged, Failed int }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 2 {
		t.Fatalf("exit %d %v\n%s", code, err, out)
	}
	s := res.Summary
	if len(res.Entries) != 7 || s.Entries != 7 || s.Judged+s.Skipped+s.Unjudged != 7 || s.Unjudged != 4 || s.Failed != 1 {
		t.Errorf("%d entries printed, summary %+v", len(res.Entries), s)
	}
	for i, e := range res.Entries {
		if e.Index != i || (e.Verdict == "unjudged") != (e.Unjudged != "") {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
}

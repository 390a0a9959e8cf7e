package docs

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// RULES.md names every rule once, in order, each with a title, a summary
// and its own anchor.
func TestRulesAreComplete(t *testing.T) {
	var want []string
	for i := 1; i <= 6; i++ {
		want = append(want, fmt.Sprintf("C%d", i))
	}
	for i := 1; i <= 15; i++ {
		want = append(want, fmt.Sprintf("R%d", i))
	}
	if got := IDs(); !slices.Equal(got, want) {
		t.Fatalf("RULES.md has rules %v, want %v", got, want)
	}
	for _, r := range Rules() {
		if r.Title == "" || r.Summary == "" || !strings.HasPrefix(r.Text, r.Summary) || strings.Contains(r.Text, "###") {
			t.Errorf("%s: %+v", r.ID, r)
		}
		if strings.Count(Markdown(), `<a id="`+r.ID+`"></a>`) != 1 {
			t.Errorf("%s has no single anchor", r.ID)
		}
	}
	if r, ok := Find("r12"); !ok || r.ID != "R12" {
		t.Errorf("Find(r12) = %+v %v", r, ok)
	}
	page := string(RulesHTML())
	for _, id := range want {
		if !strings.Contains(page, `<section class="rule" id="`+id+`">`) {
			t.Errorf("the rules page has no section %s", id)
		}
	}
	if strings.Contains(page, "&lt;a id") || !strings.Contains(page, "<code>url not in domain list</code>") {
		t.Errorf("the rules page renders its Markdown wrongly")
	}
}

// The extension's locales explain the same rules: each has rule_<ID> for
// exactly RULES.md's IDs, and the English text is RULES.md's own (title and
// summary), so that the panel and the document never drift apart.
func TestLocalesAgreeWithRules(t *testing.T) {
	for _, loc := range []string{"en", "zh_CN"} {
		b, err := os.ReadFile(filepath.Join("..", "extension", "_locales", loc, "messages.json"))
		if err != nil {
			t.Fatal(err)
		}
		var msgs map[string]struct{ Message string }
		if err := json.Unmarshal(b, &msgs); err != nil {
			t.Fatal(err)
		}
		var keys []string
		for k := range msgs {
			if id, ok := strings.CutPrefix(k, "rule_"); ok {
				keys = append(keys, id)
			}
		}
		ids := slices.Clone(IDs())
		slices.Sort(keys)
		slices.Sort(ids)
		if !slices.Equal(keys, ids) {
			t.Errorf("%s has rule texts for %v, RULES.md for %v", loc, keys, ids)
		}
		if loc != "en" {
			continue
		}
		for _, r := range Rules() {
			if want := r.Title + ". " + r.Summary; msgs["rule_"+r.ID].Message != want {
				t.Errorf("en rule_%s is\n  %q\nRULES.md says\n  %q", r.ID, msgs["rule_"+r.ID].Message, want)
			}
		}
	}
}

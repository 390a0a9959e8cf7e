// Package docs carries RULES.md, the one source of mpnet's rule texts: the
// CLI prints it (hostsim rules), the build renders it as the extension's
// rules page (RulesHTML), and tests hold the extension's locale texts and
// the conformance vectors to its rule IDs.
package docs

import (
	_ "embed"
	"html"
	"regexp"
	"strings"
	"sync"
)

//go:embed RULES.md
var rulesMD string

// Rule is one rule of RULES.md.
type Rule struct {
	// ID is "C1".."C6" or "R1".."R15".
	ID string `json:"id"`
	// Title is the heading after the ID ("Scheme fits the list").
	Title string `json:"title"`
	// Summary is the first paragraph: the text the extension's panel shows
	// (its English locale text is Title + ". " + Summary).
	Summary string `json:"summary"`
	// Text is the whole section after the heading, Markdown paragraphs.
	Text string `json:"text"`
}

var (
	once    sync.Once
	parsed  []Rule
	intro   []string // paragraphs and headings before the first rule
	heading = regexp.MustCompile(`^### <a id="([CR][0-9]+)"></a>([CR][0-9]+) · (.+)$`)
)

// Markdown returns RULES.md as it is.
func Markdown() string { return rulesMD }

// Rules returns every rule in document order.
func Rules() []Rule {
	once.Do(parse)
	return parsed
}

// Find returns the rule with id (case-insensitive).
func Find(id string) (Rule, bool) {
	for _, r := range Rules() {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return Rule{}, false
}

// IDs returns the rule IDs in document order.
func IDs() []string {
	var ids []string
	for _, r := range Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

func parse() {
	var cur *Rule
	for _, block := range blocks(rulesMD) {
		if m := heading.FindStringSubmatch(block); m != nil && m[1] == m[2] {
			parsed = append(parsed, Rule{ID: m[1], Title: m[3]})
			cur = &parsed[len(parsed)-1]
			continue
		}
		if strings.HasPrefix(block, "#") {
			cur = nil // a section heading between groups of rules
			if len(parsed) == 0 {
				intro = append(intro, block)
			}
			continue
		}
		if cur == nil {
			if len(parsed) == 0 {
				intro = append(intro, block)
			}
			continue
		}
		text := strings.Join(strings.Fields(block), " ")
		if cur.Summary == "" {
			cur.Summary = text
		}
		if cur.Text != "" {
			cur.Text += "\n\n"
		}
		cur.Text += text
	}
}

// blocks splits Markdown into headings and paragraphs.
func blocks(md string) []string {
	var out []string
	var para []string
	flush := func() {
		if len(para) > 0 {
			out = append(out, strings.Join(para, "\n"))
			para = nil
		}
	}
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case strings.HasPrefix(line, "#"):
			flush()
			out = append(out, line)
		default:
			para = append(para, line)
		}
	}
	flush()
	return out
}

// RulesHTML renders RULES.md as a standalone page for the extension
// (ui/rules.html, next to common.css): the same text, each rule under an
// anchor with its ID, so that the panel can link to rules.html#R12.
func RulesHTML() []byte {
	Rules()
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>mpnet rules</title>\n")
	b.WriteString("<link rel=\"stylesheet\" href=\"common.css\">\n<style>main{max-width:46rem;margin:0 auto;padding:1.5rem}section.rule{margin:1.5rem 0}section.rule:target{outline:2px solid currentColor;outline-offset:.5rem}nav a{margin-right:.6rem}</style>\n")
	b.WriteString("</head>\n<body>\n<main>\n")
	for _, block := range intro {
		writeBlock(&b, block)
	}
	b.WriteString("<nav>")
	for _, r := range parsed {
		b.WriteString(`<a href="#` + r.ID + `">` + r.ID + `</a>`)
	}
	b.WriteString("</nav>\n")
	for _, r := range parsed {
		b.WriteString(`<section class="rule" id="` + r.ID + `">` + "\n<h3>" + r.ID + " · " + inline(r.Title) + "</h3>\n")
		for _, p := range strings.Split(r.Text, "\n\n") {
			b.WriteString("<p>" + inline(p) + "</p>\n")
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</main>\n</body>\n</html>\n")
	return []byte(b.String())
}

func writeBlock(b *strings.Builder, block string) {
	level := len(block) - len(strings.TrimLeft(block, "#"))
	if level > 0 && level <= 6 && strings.HasPrefix(block[level:], " ") {
		tag := "h" + string(rune('0'+level))
		b.WriteString("<" + tag + ">" + inline(strings.TrimSpace(block[level:])) + "</" + tag + ">\n")
		return
	}
	b.WriteString("<p>" + inline(strings.Join(strings.Fields(block), " ")) + "</p>\n")
}

var (
	codeSpan = regexp.MustCompile("`([^`]+)`")
	strong   = regexp.MustCompile(`\*\*([^*]+)\*\*`)
)

// inline escapes text and renders `code` and **strong**.
func inline(s string) string {
	s = html.EscapeString(s)
	s = codeSpan.ReplaceAllString(s, "<code>$1</code>")
	return strong.ReplaceAllString(s, "<strong>$1</strong>")
}

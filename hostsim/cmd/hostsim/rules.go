package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"mpnet/docs"
)

// rules prints the rules of docs/RULES.md: the list, or the rules named.
//
//	hostsim rules [--json] [ID...]
func (e *env) rules(args []string) error {
	fs, _ := e.flags("rules", "rules [--json] [ID...]")
	asJSON := fs.Bool("json", false, "print the rules as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	list := docs.Rules()
	if len(pos) > 0 {
		list = nil
		for _, id := range pos {
			r, ok := docs.Find(id)
			if !ok {
				return badInput("no rule %q: the rules are %s", id, strings.Join(docs.IDs(), " "))
			}
			list = append(list, r)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(list)
	}
	if len(pos) == 0 {
		for _, r := range list {
			fmt.Fprintf(e.stdout, "%-4s %s\n", r.ID, r.Title)
		}
		fmt.Fprintln(e.stdout, "\nhostsim rules ID prints a rule in full; all of them are in docs/RULES.md.")
		return nil
	}
	for i, r := range list {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "%s · %s\n", r.ID, r.Title)
		for _, p := range strings.Split(r.Text, "\n\n") {
			fmt.Fprintf(e.stdout, "\n%s\n", wrap(p, 76))
		}
	}
	return nil
}

// wrap breaks a paragraph into lines of at most width runes where it can.
func wrap(p string, width int) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(p) {
		l := len([]rune(w))
		if n > 0 && n+1+l > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += l
	}
	return b.String()
}

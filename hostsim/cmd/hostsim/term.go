package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// safe makes untrusted text (URLs from a HAR, certificate names, socket
// frames, server headers, error texts quoting any of them) harmless on a
// terminal: C0 and C1 controls (ESC starts the sequences that move the
// cursor, rewrite or hide lines), DEL, bidirectional overrides and
// isolates (which reorder what a line shows), the line and paragraph
// separators and bytes that are not UTF-8 are written as Go-style escapes
// (\x1b, \u202e, \n). Everything else, backslashes included, is left as it
// is: the text stays readable, not reversible. Every text (non-JSON) output
// of the CLI passes what it did not write itself through safe; JSON output
// is exact JSON (encoding/json escapes controls itself).
func safe(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r, n):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports whether r (n bytes long) must be escaped.
func unsafeRune(r rune, n int) bool {
	switch {
	case r == utf8.RuneError && n == 1: // not UTF-8 (a lone 0x9b is CSI on 8-bit terminals)
		return true
	case r < 0x20 || r >= 0x7f && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi marks, embeddings, overrides, isolates
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	}
	return false
}

// safeLines is safe for multi-line text the CLI composed (error messages
// listing several problems): each line is made safe, the line breaks stay.
func safeLines(s string) string {
	if !strings.Contains(s, "\n") {
		return safe(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safe(l)
	}
	return strings.Join(lines, "\n")
}

// safeAll applies safe to each string.
func safeAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = safe(s)
	}
	return out
}

package body

import "strings"

// Prescan looks for a <meta charset> or <meta http-equiv="content-type"
// content="...charset=..."> in the first 1024 bytes of an HTML document,
// as the HTML standard's "prescan a byte stream to determine its encoding"
// does, and answers the WHATWG name of the encoding it declares, or "".
// Like the standard, a declared UTF-16 is read as UTF-8 and x-user-defined
// as windows-1252.
func Prescan(b []byte) string {
	if len(b) > 1024 {
		b = b[:1024]
	}
	p := prescanner{b: b}
	for p.i < len(b) {
		switch {
		case p.has("<!--"):
			// Skip the comment: to the first '>' preceded by "--", the
			// two dashes of "<!--" counting.
			j := p.i + 2
			for ; j+2 < len(b) && !(b[j] == '-' && b[j+1] == '-' && b[j+2] == '>'); j++ {
			}
			if j+2 >= len(b) {
				return ""
			}
			p.i = j + 2
		case p.hasFold("<meta") && p.i+5 < len(b) && (isSpace(b[p.i+5]) || b[p.i+5] == '/'):
			p.i += 5
			if name, ok := p.meta(); !ok {
				return ""
			} else if name != "" {
				return name
			}
		case p.has("<") && p.i+1 < len(b) && isLetter(b[p.i+1]),
			p.has("</") && p.i+2 < len(b) && isLetter(b[p.i+2]):
			// Another tag: skip its name and attributes.
			for p.i < len(b) && !isSpace(b[p.i]) && b[p.i] != '>' {
				p.i++
			}
			for {
				name, _, ok := p.attr()
				if !ok {
					return ""
				}
				if name == "" {
					break
				}
			}
		case p.has("<!"), p.has("</"), p.has("<?"):
			for p.i < len(b) && b[p.i] != '>' {
				p.i++
			}
		}
		p.i++
	}
	return ""
}

// prescanner is the position in the bytes Prescan reads.
type prescanner struct {
	b []byte
	i int
}

func (p *prescanner) has(s string) bool {
	return len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s
}

// hasFold is has ignoring ASCII case (s is lower case).
func (p *prescanner) hasFold(s string) bool {
	if len(p.b)-p.i < len(s) {
		return false
	}
	for k := 0; k < len(s); k++ {
		if lower(p.b[p.i+k]) != s[k] {
			return false
		}
	}
	return true
}

// meta reads a meta element's attributes (the position is just after
// "<meta") and answers the encoding it declares, "" when it declares none
// the prescan can use; ok is false when the bytes end inside it.
func (p *prescanner) meta() (name string, ok bool) {
	seen := map[string]bool{}
	gotPragma := false
	needPragma := 0 // 0 unknown, 1 needs http-equiv, 2 does not
	charset := ""
	for {
		k, v, ok := p.attr()
		if !ok {
			return "", false
		}
		if k == "" {
			break
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		switch k {
		case "http-equiv":
			if v == "content-type" {
				gotPragma = true
			}
		case "content":
			if charset == "" {
				if label, found := charsetFromContent(v); found {
					if enc := Lookup(label); enc != "" {
						charset, needPragma = enc, 1
					}
				}
			}
		case "charset":
			charset, needPragma = Lookup(v), 2
		}
	}
	if needPragma == 0 || needPragma == 1 && !gotPragma || charset == "" {
		return "", true
	}
	switch charset {
	case "utf-16be", "utf-16le":
		return "utf-8", true
	case "x-user-defined":
		return "windows-1252", true
	}
	return charset, true
}

// attr reads one attribute from the position on: its lower-cased name and
// value. An empty name means the tag ended (the position is on its '>');
// ok is false when the bytes ran out first.
func (p *prescanner) attr() (name, value string, ok bool) {
	b := p.b
	for p.i < len(b) && (isSpace(b[p.i]) || b[p.i] == '/') {
		p.i++
	}
	if p.i >= len(b) {
		return "", "", false
	}
	if b[p.i] == '>' {
		return "", "", true
	}
	var n []byte
	for {
		if p.i >= len(b) {
			return "", "", false
		}
		c := b[p.i]
		if c == '=' && len(n) > 0 {
			p.i++
			break
		}
		if isSpace(c) {
			for p.i < len(b) && isSpace(b[p.i]) {
				p.i++
			}
			if p.i >= len(b) {
				return "", "", false
			}
			if b[p.i] != '=' {
				return string(n), "", true
			}
			p.i++
			break
		}
		if c == '/' || c == '>' {
			return string(n), "", true
		}
		n = append(n, lower(c))
		p.i++
	}
	for p.i < len(b) && isSpace(b[p.i]) {
		p.i++
	}
	if p.i >= len(b) {
		return "", "", false
	}
	var v []byte
	switch q := b[p.i]; q {
	case '"', '\'':
		for p.i++; p.i < len(b) && b[p.i] != q; p.i++ {
			v = append(v, lower(b[p.i]))
		}
		if p.i >= len(b) {
			return "", "", false
		}
		p.i++
		return string(n), string(v), true
	case '>':
		return string(n), "", true
	}
	for ; p.i < len(b) && !isSpace(b[p.i]) && b[p.i] != '>'; p.i++ {
		v = append(v, lower(b[p.i]))
	}
	if p.i >= len(b) {
		return "", "", false
	}
	return string(n), string(v), true
}

// charsetFromContent is the HTML standard's "extracting a character
// encoding from a meta element" on a content attribute's (lower-cased)
// value: the label after "charset=", quoted or not.
func charsetFromContent(s string) (string, bool) {
	for {
		k := strings.Index(s, "charset")
		if k < 0 {
			return "", false
		}
		s = s[k+len("charset"):]
		t := trimSpace(s)
		if t == "" || t[0] != '=' {
			s = t
			continue
		}
		t = trimSpace(t[1:])
		if t == "" {
			return "", false
		}
		if q := t[0]; q == '"' || q == '\'' {
			end := strings.Index(t[1:], string(q))
			if end < 0 {
				return "", false
			}
			return t[1 : 1+end], true
		}
		end := 0
		for end < len(t) && !isSpace(t[end]) && t[end] != ';' {
			end++
		}
		return t[:end], true
	}
}

func trimSpace(s string) string { return strings.TrimLeft(s, "\t\n\f\r ") }

func isSpace(c byte) bool {
	return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

func isLetter(c byte) bool { return 'a' <= lower(c) && lower(c) <= 'z' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

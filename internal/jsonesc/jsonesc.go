// Package jsonesc decodes JSON's \u escapes as encoding/json does, for the
// module's two JSON readers: policy/jsonc (project files) and abi/wire
// (ABI messages).
package jsonesc

import "unicode/utf8"

// Unicode decodes the \u escape at s[i:] (s[i] is the backslash, s[i+1]
// the u) and answers the rune and how many bytes it took. A high surrogate
// immediately followed by an escaped low surrogate is one rune (12 bytes);
// any other surrogate is U+FFFD (6 bytes), a following escape left to be
// read on its own. n is 0 when four hex digits do not follow the \u.
func Unicode[S ~string | ~[]byte](s S, i int) (r rune, n int) {
	r = hex4(s, i+2)
	if r < 0 {
		return 0, 0
	}
	if r < 0xD800 || r >= 0xE000 {
		return r, 6
	}
	if r < 0xDC00 && i+7 < len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
		if lo := hex4(s, i+8); lo >= 0xDC00 && lo < 0xE000 {
			return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), 12
		}
	}
	return utf8.RuneError, 6
}

// hex4 decodes the four hex digits at s[i:], or answers -1.
func hex4[S ~string | ~[]byte](s S, i int) rune {
	if i < 0 || i+4 > len(s) {
		return -1
	}
	var r rune
	for k := i; k < i+4; k++ {
		c := s[k]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

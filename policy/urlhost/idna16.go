package urlhost

import "strings"

// uts46Since16 maps the code points, assigned before Unicode 16.0, whose
// UTS #46 processing changed after the Unicode 15.0 tables golang.org/x/net/idna
// carries (on Go before 1.27), to what current UTS #46 maps them to ("" for
// code points now ignored). Each of them was disallowed by x/net, or mapped
// otherwise:
//
//   - U+1E9E LATIN CAPITAL LETTER SHARP S maps to U+00DF ß since UTS #46 15.1
//     (x/net maps it to "ss": https://FAẞ.de/ would be judged as fass.de while
//     the browser connects to xn--fa-hia.de).
//   - Unicode 16.0 mapped capital letters whose small forms were already valid
//     (U+04C0, Georgian U+10A0..U+10C5, U+2132, U+2183), made default-ignorable
//     fillers and invisible operators ignored (U+115F, U+1160, U+17B4, U+17B5,
//     U+180E, U+2061..U+2063, U+206A..U+206F, U+3164, U+FFA0,
//     U+1D173..U+1D17A), and mapped five CJK compatibility ideographs whose
//     decompositions had been corrected.
//
// The list is what Chromium 156 (Unicode 17 data) does with "a" + code point +
// "b.de" for every code point, compared with this package natively; the URL
// differential test (conformance/urlcorpus) keeps each of them in its corpus.
// Code points first assigned in Unicode 16.0 or 17.0, and U+1806 (valid since
// 16.0), are still refused here: x/net/idna's tables do not know their
// properties (see the package documentation).
var uts46Since16 = map[rune]string{
	0x04C0: "\u04CF",
	0x115F: "", 0x1160: "", 0x17B4: "", 0x17B5: "", 0x180E: "",
	0x1E9E: "\u00DF",
	0x2061: "", 0x2062: "", 0x2063: "",
	0x206A: "", 0x206B: "", 0x206C: "", 0x206D: "", 0x206E: "", 0x206F: "",
	0x2132: "\u214E",
	0x2183: "\u2184",
	0x3164: "", 0xFFA0: "",
	0x1D173: "", 0x1D174: "", 0x1D175: "", 0x1D176: "", 0x1D177: "", 0x1D178: "", 0x1D179: "", 0x1D17A: "",
	0x2F868: "\u36FC", 0x2F874: "\u5F53", 0x2F91F: "\U000243AB", 0x2F95F: "\u7AEE", 0x2F9BF: "\u45D7",
}

func init() {
	// Georgian capital letters map to the Nuskhuri small letters.
	for r := rune(0x10A0); r <= 0x10C5; r++ {
		uts46Since16[r] = string(r - 0x10A0 + 0x2D00)
	}
}

// mapSince16 applies uts46Since16 to s (non-ASCII input only).
func mapSince16(s string) string {
	for i, r := range s {
		if _, ok := uts46Since16[r]; ok {
			var b strings.Builder
			b.Grow(len(s))
			b.WriteString(s[:i])
			for _, r := range s[i:] {
				if m, ok := uts46Since16[r]; ok {
					b.WriteString(m)
				} else {
					b.WriteRune(r)
				}
			}
			return b.String()
		}
	}
	return s
}

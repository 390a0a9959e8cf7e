package wire

import (
	"math/rand/v2"
	"testing"

	"mpnet/internal/swar"
)

// TestWordPredicates holds plain and safe8 to their byte-by-byte meaning,
// on words mixing the bytes at the edges of each test with ordinary ones.
func TestWordPredicates(t *testing.T) {
	edge := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, '"', '\\', '<', '>', '&', 'a', '/', 0x7e, 0x7f, 0x80, 0x81, 0xc3, 0xfe, 0xff, '!', '#', '=', '[', ']', ';'}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 500000; n++ {
		var w [8]byte
		for k := range w {
			if r.IntN(4) == 0 {
				w[k] = edge[r.IntN(len(edge))]
			} else {
				w[k] = byte('a' + r.IntN(26))
			}
		}
		wantPlain, wantSafe := true, true
		for _, c := range w {
			if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				wantPlain, wantSafe = false, false
			}
			if c == '<' || c == '>' || c == '&' {
				wantSafe = false
			}
		}
		x := swar.Word(w[:], 0) // Word itself is internal/swar's to test
		if plain(x) != wantPlain || safe8(x) != wantSafe {
			t.Fatalf("%q: plain %v safe8 %v, want %v %v", w, plain(x), safe8(x), wantPlain, wantSafe)
		}
	}
}

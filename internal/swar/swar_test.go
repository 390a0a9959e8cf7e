package swar

import (
	"math/rand/v2"
	"testing"
)

// TestPredicates holds Word, HasZero and AllASCIIAtLeast to their
// byte-by-byte meaning on words rich in the bytes at their edges.
func TestPredicates(t *testing.T) {
	edge := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0x81, 0xfe, 0xff}
	r := rand.New(rand.NewPCG(5, 6))
	for n := 0; n < 500000; n++ {
		var w [8]byte
		for k := range w {
			if r.IntN(3) == 0 {
				w[k] = edge[r.IntN(len(edge))]
			} else {
				w[k] = byte(r.IntN(256))
			}
		}
		x := Word(w[:], 0)
		if x != Word(string(w[:]), 0) {
			t.Fatalf("%x: Word of bytes and of a string differ", w)
		}
		for k := range w {
			if byte(x>>(8*k)) != w[k] {
				t.Fatalf("%x: Word is not little-endian: %x", w, x)
			}
		}
		n := byte(1 + r.IntN(0x80))
		zero, atLeast := false, true
		for _, c := range w {
			zero = zero || c == 0
			atLeast = atLeast && c < 0x80 && c >= n
		}
		if HasZero(x) != zero || AllASCIIAtLeast(x, n) != atLeast {
			t.Fatalf("%x, n=%#x: HasZero %v AllASCIIAtLeast %v; want %v %v", w, n, HasZero(x), AllASCIIAtLeast(x, n), zero, atLeast)
		}
	}
}

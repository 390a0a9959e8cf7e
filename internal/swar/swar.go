// Package swar tests eight bytes at a time ("SIMD within a register"): the
// string loops of the hot path (abi/wire's JSON scanner and escaper,
// policy's URL authority scan) first skip runs of bytes that need no
// attention a word at a time. Under WebAssembly, where Go's wasm backend
// compiles Word's load to one i64.load, a byte-at-a-time loop was the
// largest part of a decision's cost.
package swar

// Ones has a one in every byte: Ones*c is eight bytes c.
const Ones = 0x0101010101010101

const msb = 0x8080808080808080

// Word returns s[i:i+8] as a little-endian word.
func Word[S ~string | ~[]byte](s S, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// HasZero reports whether any byte of v is zero.
func HasZero(v uint64) bool { return (v-Ones)&^v&msb != 0 }

// AllASCIIAtLeast reports whether every byte of x is ASCII and at least n
// (n <= 0x80). (Bytes minus n borrow into their top bit exactly when below
// n, once every byte is ASCII.)
func AllASCIIAtLeast(x uint64, n byte) bool { return (x|(x-Ones*uint64(n)))&msb == 0 }

package wire

import "mpnet/internal/swar"

// plain reports whether none of the eight bytes of x is a control
// character, non-ASCII, '"' or '\\': what a JSON string's scanner may skip.
func plain(x uint64) bool {
	return swar.AllASCIIAtLeast(x, 0x20) && !swar.HasZero(x^swar.Ones*'"') && !swar.HasZero(x^swar.Ones*'\\')
}

// safe8 is plain for the encoder, which also escapes '<', '>' and '&' as
// encoding/json does. Pairs are tested at once: '"' (0x22) and '&' (0x26)
// differ only in bit 2, '<' (0x3c) and '>' (0x3e) only in bit 1.
func safe8(x uint64) bool {
	return swar.AllASCIIAtLeast(x, 0x20) && !swar.HasZero((x^swar.Ones*'"')&^(swar.Ones*4)) &&
		!swar.HasZero((x^swar.Ones*'<')&^(swar.Ones*2)) && !swar.HasZero(x^swar.Ones*'\\')
}

package urlhost

import (
	"strconv"
	"strings"
)

// endsInNumber is the URL Standard's "ends in a number checker": the last
// label (ignoring one trailing empty label) is all ASCII digits, or "0x"/"0X"
// followed by zero or more ASCII hex digits.
func endsInNumber(s string) bool {
	s = strings.TrimSuffix(s, ".")
	last := s[strings.LastIndexByte(s, '.')+1:]
	if last == "" {
		return false
	}
	if allOf(last, isDigit) {
		return true
	}
	return len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') && allOf(last[2:], isHex)
}

// parseIPv4 is the URL Standard's IPv4 parser.
func parseIPv4(s string) ([4]byte, bool) {
	var out [4]byte
	parts := strings.Split(s, ".")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return out, false
	}
	var nums [4]uint64
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return out, false
		}
		nums[i] = n
	}
	last := len(parts) - 1
	for _, n := range nums[:last] {
		if n > 255 {
			return out, false
		}
	}
	if nums[last] >= 1<<(8*(5-len(parts))) {
		return out, false
	}
	v := nums[last]
	for i, n := range nums[:last] {
		v += n << (8 * (3 - i))
	}
	out[0], out[1], out[2], out[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return out, true
}

// parseIPv4Number is the URL Standard's IPv4 number parser: "0x"/"0X" prefix
// for hex, a leading "0" for octal, decimal otherwise; "0x" alone is 0. Values
// beyond 2^32 saturate (every caller rejects them).
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		s, base = s[2:], 16
	case len(s) >= 2 && s[0] == '0':
		s, base = s[1:], 8
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case isDigit(c):
			d = uint64(c - '0')
		case base == 16 && isHex(c):
			d = uint64(hexVal(c))
		default:
			return 0, false
		}
		if d >= base {
			return 0, false
		}
		if n <= 1<<32 {
			n = n*base + d
		}
	}
	return n, true
}

// parseIPv6 is the URL Standard's IPv6 parser, applied to the text between
// the brackets.
func parseIPv6(in string) ([8]uint16, bool) {
	var a [8]uint16
	piece, compress, p := 0, -1, 0
	c := func() int { // the code point at p, or -1 for EOF
		if p < len(in) {
			return int(in[p])
		}
		return -1
	}
	isD := func(c int) bool { return c >= 0 && isDigit(byte(c)) }
	if c() == ':' {
		if p+1 >= len(in) || in[p+1] != ':' {
			return a, false
		}
		p += 2
		piece++
		compress = piece
	}
	for c() != -1 {
		if piece == 8 {
			return a, false
		}
		if c() == ':' {
			if compress != -1 {
				return a, false
			}
			p++
			piece++
			compress = piece
			continue
		}
		value, length := 0, 0
		for length < 4 && c() >= 0 && isHex(byte(c())) {
			value = value*16 + int(hexVal(byte(c())))
			p++
			length++
		}
		if c() == '.' {
			// An IPv4 address in the last 32 bits.
			if length == 0 {
				return a, false
			}
			p -= length
			if piece > 6 {
				return a, false
			}
			seen := 0
			for c() != -1 {
				v4 := -1
				if seen > 0 {
					if c() == '.' && seen < 4 {
						p++
					} else {
						return a, false
					}
				}
				if !isD(c()) {
					return a, false
				}
				for isD(c()) {
					n := c() - '0'
					switch v4 {
					case -1:
						v4 = n
					case 0:
						return a, false // leading zero
					default:
						v4 = v4*10 + n
					}
					if v4 > 255 {
						return a, false
					}
					p++
				}
				a[piece] = a[piece]<<8 | uint16(v4)
				seen++
				if seen == 2 || seen == 4 {
					piece++
				}
			}
			if seen != 4 {
				return a, false
			}
			break
		}
		if c() == ':' {
			p++
			if c() == -1 {
				return a, false
			}
		} else if c() != -1 {
			return a, false
		}
		a[piece] = uint16(value)
		piece++
	}
	if compress != -1 {
		swaps := piece - compress
		piece = 7
		for piece != 0 && swaps > 0 {
			a[piece], a[compress+swaps-1] = a[compress+swaps-1], a[piece]
			piece--
			swaps--
		}
	} else if piece != 8 {
		return a, false
	}
	return a, true
}

// serializeIPv6 is the URL Standard's IPv6 serializer (without brackets):
// lower-case hex pieces, the first longest run of two or more zero pieces
// replaced by "::".
func serializeIPv6(a [8]uint16) string {
	compress, longest := -1, 1
	found, size := -1, 0
	for i, v := range a {
		if v != 0 {
			if size > longest {
				compress, longest = found, size
			}
			found, size = -1, 0
			continue
		}
		if found == -1 {
			found = i
		}
		size++
	}
	if size > longest {
		compress = found
	}
	b := make([]byte, 0, 39)
	ignore0 := false
	for i, v := range a {
		if ignore0 {
			if v == 0 {
				continue
			}
			ignore0 = false
		}
		if compress == i {
			if i == 0 {
				b = append(b, "::"...)
			} else {
				b = append(b, ':')
			}
			ignore0 = true
			continue
		}
		b = strconv.AppendUint(b, uint64(v), 16)
		if i != 7 {
			b = append(b, ':')
		}
	}
	return string(b)
}

func allOf(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

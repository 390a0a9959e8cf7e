package jsonesc

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// Each escape decodes as encoding/json decodes it.
func TestUnicodeAsEncodingJSON(t *testing.T) {
	cases := []struct {
		esc string
		n   int
	}{
		{`\u0041`, 6}, {`\u00e9x`, 6}, {`\uFFFF`, 6}, {`\ud83d\ude00`, 12}, {`\uD83D\uDE00rest`, 12},
		{`\ud800`, 6}, {`\ud800x`, 6}, {`\ud800\u0041`, 6}, {`\udc00\ud800`, 6}, {`\ud800\ud800`, 6}, {`\ud800\ude`, 6},
	}
	for _, c := range cases {
		r, n := Unicode(c.esc, 0)
		rb, nb := Unicode([]byte(c.esc), 0)
		if n != c.n || nb != n || rb != r {
			t.Errorf("%s: %U, %d bytes ([]byte: %U, %d); want %d bytes", c.esc, r, n, rb, nb, c.n)
			continue
		}
		var want string
		if err := json.Unmarshal([]byte(`"`+c.esc[:n]+`"`), &want); err != nil {
			t.Fatal(err)
		}
		if got := string(utf8.AppendRune(nil, r)); got != want {
			t.Errorf("%s: %q, encoding/json %q", c.esc, got, want)
		}
	}
	for _, bad := range []string{`\u`, `\u12`, `\u12g4`, `\uZZZZ`} {
		if _, n := Unicode(bad, 0); n != 0 {
			t.Errorf("%s: took %d bytes, want none", bad, n)
		}
	}
}

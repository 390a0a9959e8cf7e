package bytesize

import "testing"

func TestString(t *testing.T) {
	for n, want := range map[int64]string{1 << 20: "1 MiB", 64 << 20: "64 MiB", 4 << 10: "4 KiB", 100: "100 bytes", 1500: "1500 bytes", 0: "0 bytes"} {
		if got := String(n); got != want {
			t.Errorf("String(%d) = %q, want %q", n, got, want)
		}
	}
}

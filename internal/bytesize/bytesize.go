// Package bytesize writes a byte count the way limits are stated in
// messages: "4 MiB", "64 KiB", "1500 bytes".
package bytesize

import "fmt"

// String writes n in MiB or KiB when it is a whole number of them, else in
// bytes.
func String(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

//go:build !unix

package har

import "time"

// cpuTime is unavailable here; 0 makes the tests skip CPU-time reports.
func cpuTime() time.Duration { return 0 }

//go:build unix

package har

import (
	"syscall"
	"time"
)

// cpuTime returns the user+system CPU time used by this process so far.
// On a shared, busy machine it measures the reader's cost more faithfully
// than wall-clock time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

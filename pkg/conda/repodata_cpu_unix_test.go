//go:build unix

package conda

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time the process has used (user + system),
// which, unlike wall time, stays meaningful on a machine shared with other
// jobs.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

//go:build unix

package benchmarks

import "syscall"

// cpuSeconds returns the CPU time (user + system, all threads) this process
// has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

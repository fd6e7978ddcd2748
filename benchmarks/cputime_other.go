//go:build !unix

package benchmarks

func cpuSeconds() float64 { return 0 }

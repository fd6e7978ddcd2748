//go:build arm64 && !purego

package ops

// simdLevels lists the levels this machine can run, the pure-Go one first:
// every arm64 CPU has NEON (Advanced SIMD).
func simdLevels() []simdLevel { return []simdLevel{levelGo, levelNEON} }

// simdKernels: the logistic kernels run in Go on arm64.
func simdKernels(simdLevel) (simdSet, int) { return simdSet{}, 0 }

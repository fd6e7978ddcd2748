//go:build !(amd64 || arm64) || purego

package ops

func simdLevels() []simdLevel { return []simdLevel{levelGo} }

func simdKernels(simdLevel) (simdSet, int) { return simdSet{}, 0 }

//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

//go:noescape
func siluFwdAVX2(p0, p1 *float32, n int)

//go:noescape
func siluBwdAVX2(p0, p1, p2 *float32, n int)

//go:noescape
func sigmoidFwdAVX2(p0, p1 *float32, n int)

//go:noescape
func siluFwdAVX512(p0, p1 *float32, n int)

//go:noescape
func siluFwdDAVX2(p0, p1, p2 *float32, n int)

//go:noescape
func siluFwdDAVX512(p0, p1, p2 *float32, n int)

//go:noescape
func mulAVX2(p0, p1, p2 *float32, n int)

//go:noescape
func mulAVX512(p0, p1, p2 *float32, n int)

//go:noescape
func siluBwdAVX512(p0, p1, p2 *float32, n int)

//go:noescape
func sigmoidFwdAVX512(p0, p1 *float32, n int)

// simdLevels lists the levels this machine can run, the pure-Go one first.
func simdLevels() []simdLevel {
	ls := []simdLevel{levelGo}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ls = append(ls, levelAVX2)
	}
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ls = append(ls, levelAVX512)
	}
	return ls
}

func simdKernels(l simdLevel) (k simdSet, lanes int) {
	switch l {
	case levelAVX2:
		return simdSet{siluFwdAVX2, siluBwdAVX2, sigmoidFwdAVX2, siluFwdDAVX2, mulAVX2}, 8
	case levelAVX512:
		return simdSet{siluFwdAVX512, siluBwdAVX512, sigmoidFwdAVX512, siluFwdDAVX512, mulAVX512}, 16
	}
	return simdSet{}, 0
}

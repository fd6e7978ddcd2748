package ops

import (
	"strings"
	"testing"
)

// kernelState is everything setLevel and the tests switch.
type kernelState struct {
	level       simdLevel
	tiles, rows bool
}

func saveKernels() kernelState { return kernelState{level, useTiles, useRows} }

func (s kernelState) restore() {
	setLevel(s.level)
	useTiles, useRows = s.tiles, s.rows
}

// eachLevel runs f with every kernel switched to each level this machine
// supports (the portable go level included), so the tests check every
// path a CPU can take, not only the best one.
func eachLevel(t *testing.T, f func(t *testing.T, l simdLevel)) {
	t.Helper()
	defer saveKernels().restore()
	for _, l := range simdLevels() {
		setLevel(l)
		t.Run(l.String(), func(t *testing.T) { f(t, l) })
	}
}

func TestChooseLevel(t *testing.T) {
	have := []simdLevel{levelGo, levelAVX2}
	for _, c := range []struct {
		env  string
		want simdLevel
		err  string
	}{
		{"", levelAVX2, ""},
		{"go", levelGo, ""},
		{"avx2", levelAVX2, ""},
		{"avx512", levelAVX2, "EBM_SIMD=avx512: not supported by this CPU or build (it runs go, avx2)"},
		{"sse", levelAVX2, `EBM_SIMD="sse": want one of go, avx2`},
	} {
		l, err := chooseLevel(c.env, have)
		if l != c.want {
			t.Errorf("chooseLevel(%q) = %v, want %v", c.env, l, c.want)
		}
		if (err == nil) != (c.err == "") || err != nil && err.Error() != c.err {
			t.Errorf("chooseLevel(%q) error %v, want %q", c.env, err, c.err)
		}
	}
	if l, _ := chooseLevel("", []simdLevel{levelGo}); l != levelGo {
		t.Errorf("a build with only Go kernels chose %v", l)
	}
}

// TestKernelsNamesLevel checks that the start-up description follows the
// level that runs.
func TestKernelsNamesLevel(t *testing.T) {
	eachLevel(t, func(t *testing.T, l simdLevel) {
		if !strings.HasPrefix(Kernels(), l.String()+" ") || !strings.HasPrefix(SIMD(), l.String()) {
			t.Errorf("Kernels() = %q, SIMD() = %q at level %v", Kernels(), SIMD(), l)
		}
	})
}

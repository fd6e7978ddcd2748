package ops

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// kernelState is everything setLevel and the tests switch.
type kernelState struct {
	level           simdLevel
	tiles, rows, dw bool
}

func saveKernels() kernelState { return kernelState{level, useTiles, useRows, useTilesDW} }

func (s kernelState) restore() {
	setLevel(s.level)
	useTiles, useRows, useTilesDW = s.tiles, s.rows, s.dw
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

// TestEnvSIMD runs this test binary again with EBM_SIMD set, to check the
// start-up path: the level it names runs, and a value the machine cannot
// honour falls back to the best level with the reason in SIMD().
func TestEnvSIMD(t *testing.T) {
	if os.Getenv("EBM_TEST_REPORT_SIMD") != "" {
		fmt.Printf("SIMD=%s\n", SIMD())
		return
	}
	best := simdLevels()[len(simdLevels())-1].String()
	for _, c := range []struct{ env, want string }{
		{"go", "SIMD=go\n"},
		{best, "SIMD=" + best + "\n"},
		{"mmx", "SIMD=" + best + ` [EBM_SIMD="mmx": want one of `},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnvSIMD$")
		cmd.Env = append(os.Environ(), "EBM_TEST_REPORT_SIMD=1", EnvSIMD+"="+c.env)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("EBM_SIMD=%s: %v", c.env, err)
		}
		if !strings.HasPrefix(string(out), c.want) {
			t.Errorf("EBM_SIMD=%s: the child printed %q, want %q…", c.env, out, c.want)
		}
	}
}

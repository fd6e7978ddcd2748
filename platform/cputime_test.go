package platform

import (
	"runtime"
	"strings"
	"testing"
)

func TestSecondsGrowsWithWork(t *testing.T) {
	a := CPUSeconds()
	if a < 0 {
		t.Skipf("no CPU time on %s", runtime.GOOS)
	}
	x := 1.0
	for CPUSeconds()-a < 0.02 {
		for i := 0; i < 1e6; i++ {
			x = x*1.0000001 + 1e-9
		}
	}
	if b := CPUSeconds(); !(b > a) || x == 0 {
		t.Fatalf("CPU time went from %g to %g s", a, b)
	}
}

func TestKernelsSaysWhatRuns(t *testing.T) {
	k := Kernels()
	for _, want := range []string{"BLAS ", "kernels ", " threads"} {
		if !strings.Contains(k, want) {
			t.Errorf("Kernels() = %q, does not say %q", k, want)
		}
	}
}

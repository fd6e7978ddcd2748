package cputime

import (
	"runtime"
	"testing"
)

func TestSecondsGrowsWithWork(t *testing.T) {
	a := Seconds()
	if a < 0 {
		t.Skipf("no CPU time on %s", runtime.GOOS)
	}
	x := 1.0
	for Seconds()-a < 0.02 {
		for i := 0; i < 1e6; i++ {
			x = x*1.0000001 + 1e-9
		}
	}
	if b := Seconds(); !(b > a) || x == 0 {
		t.Fatalf("CPU time went from %g to %g s", a, b)
	}
}

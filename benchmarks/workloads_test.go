package benchmarks

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ebmgo/ebm/graph"
)

// TestWorkloadsRun sets every workload up and runs one operation, so a
// broken workload shows in go test, not only under -bench.
func TestWorkloadsRun(t *testing.T) {
	for _, w := range Workloads() {
		if testing.Short() && w.Name == "train/cnn" {
			continue
		}
		t.Run(w.Name, func(t *testing.T) {
			op, err := w.Setup(1)
			if err != nil {
				t.Fatal(err)
			}
			if err := op(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLangevinStaysInBox checks the UvA update: pixels stay in [−1, 1]
// and every chain moves.
func TestLangevinStaysInBox(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	lm := LangevinModels[0]
	e, err := graph.NewEnergy(lm.New(rng), graph.Config{Shape: lm.Shape})
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLangevin(rng, e, 64)
	if err != nil {
		t.Fatal(err)
	}
	x0 := append([]float64(nil), l.X...)
	for range 20 {
		if err := l.Step(); err != nil {
			t.Fatal(err)
		}
	}
	for n := range 64 {
		moved := false
		for i := range e.Dim() {
			v := l.X[n*e.Dim()+i]
			if v < -1 || v > 1 || math.IsNaN(v) {
				t.Fatalf("chain %d left the box: %v", n, v)
			}
			moved = moved || v != x0[n*e.Dim()+i]
		}
		if !moved {
			t.Fatalf("chain %d did not move", n)
		}
	}
}

func TestMeasure(t *testing.T) {
	w, _ := Lookup("langevin/toy2d")
	r, err := Measure(w, 1, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Ops < 3 || !(r.MsPerOp > 0) || math.IsInf(r.MsPerOp, 0) || r.Workload != w.Name {
		t.Fatalf("Measure gave %+v", r)
	}
}

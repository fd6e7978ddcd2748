package ais

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// LengthSchedule spreads a pilot's per-step standard deviations evenly:
// equal variances keep the pilot's spacing, variance only in the upper
// half of the path puts every new step there, and bad pilots are errors.
func TestLengthSchedule(t *testing.T) {
	pilot := must(LinearSchedule(4)) // 0, .25, .5, .75, 1
	b, err := LengthSchedule(pilot, []float64{1, 1, 1, 1}, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range b {
		if math.Abs(v-float64(i)/8) > 1e-12 {
			t.Errorf("equal variances: β[%d] = %v, want %v", i, v, float64(i)/8)
		}
	}
	b, err = LengthSchedule(pilot, []float64{0, 0, 4, 4}, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.625, 0.75, 0.875, 1}
	for i, v := range b {
		if math.Abs(v-want[i]) > 1e-12 {
			t.Errorf("variance in the upper half: %v, want %v", b, want)
			break
		}
	}
	for _, bad := range []struct {
		pilot, v []float64
		k        int
	}{
		{pilot, []float64{1, 1, 1}, 4},
		{pilot, []float64{1, 1, 1, 1}, 0},
		{pilot, []float64{0, 0, 0, 0}, 4},
		{pilot, []float64{1, math.NaN(), 1, 1}, 4},
		{pilot, []float64{1, -1, 1, 1}, 4},
		{[]float64{0.1, 1}, []float64{1}, 4},
	} {
		if _, err := LengthSchedule(bad.pilot, bad.v, bad.k); err == nil {
			t.Errorf("LengthSchedule(%v, %v, %d): no error", bad.pilot, bad.v, bad.k)
		}
	}
}

// Result.StepVar holds one variance per step, positive where the path
// moves; for a one-step path it is the variance of the log weights.
func TestStepVar(t *testing.T) {
	rbm := must(energy.NewRandomRBM(rand.New(rand.NewPCG(2, 2)), 6, 3, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	sched := must(LinearSchedule(20))
	res, err := ForwardRBM(context.Background(), rand.New(rand.NewPCG(3, 3)), rbm, 200, RBMConfig{Schedule: sched})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.StepVar) != len(sched)-1 {
		t.Fatalf("%d step variances for %d steps", len(res.StepVar), len(sched)-1)
	}
	for i, v := range res.StepVar {
		if !(v > 0) {
			t.Errorf("step %d: variance %v, want > 0", i, v)
		}
	}
	one, err := ForwardRBM(context.Background(), rand.New(rand.NewPCG(3, 4)), rbm, 200, RBMConfig{Schedule: []float64{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if v := variance(one.LogWeights); math.Abs(one.StepVar[0]-v) > 1e-9*v {
		t.Errorf("one step: StepVar %v, variance of the log weights %v", one.StepVar[0], v)
	}
	if _, err := LengthSchedule(sched, res.StepVar, 50); err != nil {
		t.Errorf("LengthSchedule on a run's StepVar: %v", err)
	}
}

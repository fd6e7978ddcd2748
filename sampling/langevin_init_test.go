package sampling

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// countingEnergy counts the energy evaluations of an isotropic Gaussian.
type countingEnergy struct {
	contIsoGaussian
	calls *int
}

func (e countingEnergy) FGrad(dst, grad, x []float64) error {
	*e.calls++
	return e.contIsoGaussian.FGrad(dst, grad, x)
}

// TestLangevinNoiseFirstInit checks the documented Init of the noise-first
// form: no energy evaluation, F and Grad NaN until the first step, a
// non-finite start rejected, and a start where f is NaN caught as a
// divergence of the first step (the chain keeps its position).
func TestLangevinNoiseFirstInit(t *testing.T) {
	calls := 0
	e := countingEnergy{contIsoGaussian{d: 2}, &calls}
	k, err := NewLangevin(e, ClippedLangevin(0.1, 0.01))
	if err != nil {
		t.Fatal(err)
	}
	x0 := []float64{0.5, -0.5, 0.25, 0}
	s, err := k.Init(x0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Errorf("Init evaluated the energy %d times; NoiseFirst needs no evaluation", calls)
	}
	for _, v := range append(append([]float64(nil), s.F...), s.Grad...) {
		if !math.IsNaN(v) {
			t.Fatalf("before the first step F = %v, Grad = %v, want NaN", s.F, s.Grad)
		}
	}
	x0[0] = 9 // Init copies x
	rng := rand.New(rand.NewPCG(1, 2))
	s, info, err := k.Step(rng, s)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || info.Divergences() != 0 {
		t.Fatalf("first step: %d evaluations, %d divergences", calls, info.Divergences())
	}
	// F and Grad are now those of the noised point y, within the noise of x.
	for c := range 2 {
		y := s.X[c*2 : c*2+2]
		for i := range y {
			if g := s.Grad[c*2+i]; math.Abs(g+y[i]) > 0.3 {
				t.Errorf("chain %d: Grad %v is not ∇f near X = %v", c, s.Grad[c*2:c*2+2], y)
			}
		}
		if f := s.F[c]; !(f <= 0) || math.Abs(f+(y[0]*y[0]+y[1]*y[1])/2) > 0.1 {
			t.Errorf("chain %d: F = %v is not f near X = %v", c, f, y)
		}
	}

	if _, err := k.Init([]float64{0, math.NaN(), 0, 0}, 2); !errors.Is(err, ErrDiverged) {
		t.Errorf("Init at a NaN position: %v, want ErrDiverged", err)
	}
	if _, err := k.Init([]float64{0, 0, 0}, 2); err == nil {
		t.Error("Init with 3 values for 2 chains of dimension 2: no error")
	}

	// f is NaN where x₀ > 1: the chain starting at x₀ = 2 diverges at every
	// step and never moves; the other one moves.
	var saw bool
	nan := contNaNRegion{d: 2, sawNonFinit: &saw}
	k, err = NewLangevin(nan, LangevinConfig{StepSize: 0.02, Noise: 0.01, NoiseFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err = k.Init([]float64{2, 0, 0, 0}, 2)
	if err != nil {
		t.Fatalf("Init does not evaluate f, so a finite start is accepted: %v", err)
	}
	for range 5 {
		if s, info, err = k.Step(rng, s); err != nil {
			t.Fatal(err)
		}
		if !info.Divergent[0] || info.Divergent[1] {
			t.Fatalf("divergent %v, want chain 0 only", info.Divergent)
		}
	}
	if s.X[0] != 2 || s.X[1] != 0 || !math.IsNaN(s.F[0]) || math.IsNaN(s.F[1]) || s.X[2] == 0 {
		t.Errorf("after 5 steps X = %v, F = %v: chain 0 should stay at (2, 0) with f unknown, chain 1 move", s.X, s.F)
	}
	if saw {
		t.Error("the energy was evaluated at a non-finite position")
	}
}

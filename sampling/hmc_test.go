package sampling

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

func TestHMCHardTargets(t *testing.T) {
	for _, tg := range contHardTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			contCheckHard(t, tg, func(e energy.Differentiable) (Kernel, error) {
				return NewHMC(e, HMCConfig{TrajectoryLength: 4, Jitter: 0.5, Adapt: AdaptConfig{TargetAccept: 0.9}})
			}, RunConfig{Warmup: 1000, Draws: 2000})
		})
	}
}

// TestLeapfrog checks the integrator on a correlated Gaussian: it is
// time-reversible (integrating back with −ε returns to the start to
// rounding), its energy error is second order (halving ε quarters it),
// and masked chains (ε = 0) do not move.
func TestLeapfrog(t *testing.T) {
	g := contGaussians(t)["5-D"]
	d := 5
	h := newHamiltonian(g, 0)
	h.ensure(3, d)
	rng := rand.New(rand.NewPCG(3, 4))
	invM := []float64{1, 0.5, 2, 1, 1}
	q0 := contStart(rng, 3, g.Mean())
	run := func(eps float64, steps int) (q, p []float64, maxErr float64) {
		q = append([]float64(nil), q0...)
		p = make([]float64, 3*d)
		g2 := make([]float64, 3*d)
		f := make([]float64, 3)
		if err := g.FGrad(f, g2, q); err != nil {
			t.Fatal(err)
		}
		prng := rand.New(rand.NewPCG(5, 6))
		h.sampleMomentum(prng, p, invM)
		h0 := -f[0] + kinetic(p[:d], invM)
		e := []float64{eps, 0, -eps}
		for range steps {
			if err := h.leapfrog(q, p, g2, f, e, invM, q0); err != nil {
				t.Fatal(err)
			}
			maxErr = math.Max(maxErr, math.Abs(-f[0]+kinetic(p[:d], invM)-h0))
		}
		// Reverse chain 0: flip its momentum and integrate back.
		for i := 0; i < d; i++ {
			p[i] = -p[i]
		}
		for range steps {
			if err := h.leapfrog(q, p, g2, f, e, invM, q0); err != nil {
				t.Fatal(err)
			}
		}
		return q, p, maxErr
	}
	q, _, err1 := run(0.1, 40)
	for i := 0; i < d; i++ {
		if math.Abs(q[i]-q0[i]) > 1e-12 {
			t.Errorf("reversed trajectory ends at %v, started at %v", q[:d], q0[:d])
			break
		}
		if q[d+i] != q0[d+i] {
			t.Errorf("masked chain moved: %v → %v", q0[d:2*d], q[d:2*d])
			break
		}
	}
	_, _, err2 := run(0.05, 80)
	if r := err1 / err2; r < 3.5 || r > 4.5 {
		t.Errorf("energy error %.3g at ε = 0.1 and %.3g at ε = 0.05: ratio %.2f, want ≈ 4", err1, err2, r)
	}
}

// TestHMCDivergentStepSize checks that a step size far beyond stability
// makes every transition divergent without moving any chain.
func TestHMCDivergentStepSize(t *testing.T) {
	g := contGaussians(t)["2-D"]
	for _, k := range []interface {
		Kernel
		SetParams(Params) error
	}{mustHMC(t, g, HMCConfig{NumSteps: 20}), mustNUTS(t, g, NUTSConfig{})} {
		if err := k.SetParams(Params{StepSize: 50}); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 1))
		s, err := k.Init(contStart(rng, 6, g.Mean()), 6)
		if err != nil {
			t.Fatal(err)
		}
		start := s.Clone()
		for range 20 {
			var info Info
			if s, info, err = k.Step(rng, s); err != nil {
				t.Fatal(err)
			}
			if info.Divergences() != 6 {
				t.Fatalf("%T: %d of 6 chains divergent at ε = 50", k, info.Divergences())
			}
			for c, a := range info.AcceptProb {
				if a > 1e-100 || info.Accepted[c] {
					t.Fatalf("%T: chain %d accepted with probability %v", k, c, a)
				}
			}
		}
		for i := range s.X {
			if s.X[i] != start.X[i] || s.Grad[i] != start.Grad[i] {
				t.Fatalf("%T: a divergent chain moved", k)
			}
		}
	}
}

func TestHMCNumSteps(t *testing.T) {
	k := mustHMC(t, contIsoGaussian{d: 1}, HMCConfig{TrajectoryLength: 1})
	for eps, want := range map[float64]int{0.3: 3, 0.5: 2, 2: 1, 1e-9: 1023} {
		if got := k.NumSteps(eps); got != want {
			t.Errorf("T = 1: NumSteps(%v) = %d, want %d", eps, got, want)
		}
	}
	if got := mustHMC(t, contIsoGaussian{d: 1}, HMCConfig{}).NumSteps(0.1); got != 10 {
		t.Errorf("default NumSteps = %d, want 10", got)
	}
	k.SetParams(Params{StepSize: 0.25})
	rng := rand.New(rand.NewPCG(1, 1))
	s, _ := k.Init([]float64{0, 1}, 2)
	_, info, err := k.Step(rng, s)
	if err != nil {
		t.Fatal(err)
	}
	if info.GradEvals != 4 || info.Leapfrogs[1] != 4 || info.StepSize != 0.25 {
		t.Errorf("T = 1, ε = 0.25: Info %+v, want 4 leapfrog steps", info)
	}
}

func TestHMCConfigErrors(t *testing.T) {
	e := contIsoGaussian{d: 2}
	for _, cfg := range []HMCConfig{
		{StepSize: -1}, {StepSize: math.NaN()}, {NumSteps: -1}, {MaxSteps: -1}, {TrajectoryLength: -1},
		{Jitter: 1}, {InvMass: []float64{1}}, {InvMass: []float64{1, 0}}, {MaxEnergyError: -1},
		{Adapt: AdaptConfig{TargetAccept: 1}}, {Adapt: AdaptConfig{Kappa: 2}}, {Adapt: AdaptConfig{Window: -1}},
	} {
		if _, err := NewHMC(e, cfg); err == nil {
			t.Errorf("NewHMC(%+v): no error", cfg)
		}
	}
	if _, err := NewNUTS(e, NUTSConfig{MaxDepth: 31}); err == nil {
		t.Error("NewNUTS with MaxDepth 31: no error")
	}
	if _, err := NewMALA(e, MALAConfig{StepSize: -1}); err == nil {
		t.Error("NewMALA with StepSize −1: no error")
	}
	if _, err := NewRWMH(e, RWMHConfig{InvMass: []float64{1, 2, 3}}); err == nil {
		t.Error("NewRWMH with 3 variances in 2-D: no error")
	}
}

func mustHMC(t *testing.T, e energy.Differentiable, cfg HMCConfig) *HMC {
	t.Helper()
	k, err := NewHMC(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustNUTS(t *testing.T, e energy.Differentiable, cfg NUTSConfig) *NUTS {
	t.Helper()
	k, err := NewNUTS(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

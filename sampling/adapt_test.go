package sampling

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// TestWarmupWindows checks Stan's schedule: for 1000 warm-up iterations
// the slow windows are 75–99, 100–149, 150–249, 250–449 and 450–949
// (25, 50, 100, 200 and the last 500 stretched to the terminal buffer).
func TestWarmupWindows(t *testing.T) {
	cases := []struct {
		warmup   int
		cfg      AdaptConfig
		ends     []int
		from, to int // first and last iteration in a window; to < from: none
	}{
		{1000, AdaptConfig{}, []int{99, 149, 249, 449, 949}, 75, 949},
		{2000, AdaptConfig{}, []int{99, 149, 249, 449, 849, 1949}, 75, 1949},
		// Stan: too short for 75 + 25 + 50, so buffers of 15% and 10%.
		{100, AdaptConfig{}, []int{89}, 15, 89},
		{150, AdaptConfig{}, []int{99}, 75, 99},
		{500, AdaptConfig{InitBuffer: 50, Window: 20, TermBuffer: 30}, []int{69, 109, 189, 469}, 50, 469},
		{19, AdaptConfig{}, nil, 1, 0},
	}
	for _, c := range cases {
		w := newWarmupWindows(c.warmup, c.cfg)
		var ends []int
		from, to := -1, -2
		for i := 0; i < c.warmup; i++ {
			if w.inWindow(i) {
				if from < 0 {
					from = i
				}
				to = i
			}
			if w.endsWindow(i) {
				ends = append(ends, i)
			}
		}
		if c.to < c.from {
			if from >= 0 || len(ends) > 0 {
				t.Errorf("warm-up %d: windows %d–%d ending at %v, want none", c.warmup, from, to, ends)
			}
			continue
		}
		if from != c.from || to != c.to || !equalInts(ends, c.ends) {
			t.Errorf("warm-up %d %+v: windows over %d–%d ending at %v, want %d–%d ending at %v", c.warmup, c.cfg, from, to, ends, c.from, c.to, c.ends)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestDualAveraging checks convergence on a model with a known answer:
// acceptance a(ε) = exp(−ε), exactly or with uniform noise ±0.1, reaches
// δ at ε* = −log δ. (Near δ = 1 noise biases ε* down, since acceptance
// statistics are capped at 1; that case is run without noise.)
func TestDualAveraging(t *testing.T) {
	cases := []struct{ target, noise, tol float64 }{
		{0.6, 0, 0.01}, {0.8, 0, 0.03}, {0.95, 0, 0.05},
		{0.6, 0.1, 0.05}, {0.8, 0.1, 0.05},
	}
	for _, c := range cases {
		want := -math.Log(c.target)
		rng := rand.New(rand.NewPCG(1, uint64(100*c.target)))
		da := DualAveraging{Target: c.target}
		eps := 1.0
		da.Restart(eps)
		var sum float64
		const n = 5000
		for i := 0; i < n; i++ {
			a := math.Min(1, math.Exp(-eps)+c.noise*(2*rng.Float64()-1))
			sum += a
			eps = da.Update(a)
		}
		if got := da.StepSize(); math.Abs(got/want-1) > c.tol {
			t.Errorf("δ = %v, noise %v: step size %.4f, want %.4f ± %.0f%%", c.target, c.noise, got, want, 100*c.tol)
		}
		// The mean acceptance converges to δ at rate O(1/√t) whatever
		// the noise: Σ(δ − a_t) = (t+t₀)·H̄_t = (t+t₀)·γ(μ − x_{t+1})/√t.
		if m := sum / n; math.Abs(m-c.target) > 0.005 {
			t.Errorf("δ = %v, noise %v: mean acceptance %.4f", c.target, c.noise, m)
		}
	}
}

// TestFindStepSize checks the initial step-size search on a kernel whose
// one-step acceptance is known: exp(−ε²) for a 1-D standard Gaussian
// leapfrog is close to 1 − ε⁴/8, so the search must stop at the first
// power of two where the acceptance crosses 0.8.
func TestFindStepSize(t *testing.T) {
	g, err := energy.NewDiagGaussian([]float64{0}, []float64{1})
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewHMC(g, HMCConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 200)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	s, err := k.Init(x, len(x))
	if err != nil {
		t.Fatal(err)
	}
	for _, start := range []float64{1e-3, 1, 64} {
		eps, evals, err := findStepSize(rng, k, s, Params{StepSize: start}, 0.8)
		if err != nil {
			t.Fatal(err)
		}
		// Mean acceptance over 200 chains falls below 0.8 between ε = 1
		// and ε = 2 (a single leapfrog step on N(0, 1) is unstable at 2).
		if eps < 0.5 || eps > 4 {
			t.Errorf("from %v: step size %v", start, eps)
		}
		if evals < 2 {
			t.Errorf("from %v: %d gradient evaluations", start, evals)
		}
	}
}

// TestAdaptedAcceptance checks the guarantee of dual averaging: over one
// stage between restarts, here the last slow window (iterations 450–949
// of 1000), the mean acceptance statistic is the target up to
// (t+t₀)/t · γ·|μ − log ε_t|/√t ≈ 0.005, for every adaptive kernel; and that the step size kept, exp(x̄), gives an acceptance near
// the target afterwards (above it, as usual: see doc.go).
func TestAdaptedAcceptance(t *testing.T) {
	g := contGaussians(t)["5-D"]
	kernels := []struct {
		name   string
		k      func() (Adaptive, error)
		target float64
	}{
		{"HMC", func() (Adaptive, error) { return NewHMC(g, HMCConfig{TrajectoryLength: 3}) }, 0.8},
		{"NUTS", func() (Adaptive, error) { return NewNUTS(g, NUTSConfig{}) }, 0.8},
		{"NUTS δ=0.95", func() (Adaptive, error) { return NewNUTS(g, NUTSConfig{Adapt: AdaptConfig{TargetAccept: 0.95}}) }, 0.95},
		{"MALA", func() (Adaptive, error) { return NewMALA(g, MALAConfig{}) }, 0.574},
		{"RWMH", func() (Adaptive, error) { return NewRWMH(g, RWMHConfig{}) }, TargetAcceptRWMH(5)},
	}
	for _, kc := range kernels {
		t.Run(kc.name, func(t *testing.T) {
			t.Parallel()
			for _, seed := range contSeeds {
				k, err := kc.k()
				if err != nil {
					t.Fatal(err)
				}
				const warmup = 1000
				var sum float64
				var n int
				res := contRun(t, k, seed, 8, g.Mean(), RunConfig{Warmup: warmup, Draws: 1000, Callback: func(it int, s State, info Info) error {
					if it >= 450 && it < 950 { // between the restarts at 449 and 949
						sum += info.MeanAccept()
						n++
					}
					return nil
				}})
				if m := sum / float64(n); math.Abs(m-kc.target) > 0.02 {
					t.Errorf("seed %d: mean acceptance over the last adaptation stage %.3f, want %.3f ± 0.02", seed, m, kc.target)
				}
				if hi := math.Min(kc.target+0.2, 0.99); res.MeanAccept < kc.target-0.05 || res.MeanAccept > hi {
					t.Errorf("seed %d: acceptance after warm-up %.3f with ε = %.3g, want %.3f – %.3f", seed, res.MeanAccept, res.Params.StepSize, kc.target-0.05, hi)
				}
			}
		})
	}
}

// TestMassMatrixAdaptation checks that the adapted M⁻¹ estimates the
// variances of a diagonal Gaussian whose scales span four orders of
// magnitude, within the error of a variance estimated from the last
// window (500 iterations × 8 chains, autocorrelated).
func TestMassMatrixAdaptation(t *testing.T) {
	vars := []float64{1e-4, 1e-2, 1, 100}
	g, err := energy.NewDiagGaussian(make([]float64, len(vars)), vars)
	if err != nil {
		t.Fatal(err)
	}
	for _, kc := range []struct {
		name string
		k    func() (Adaptive, error)
	}{
		{"HMC", func() (Adaptive, error) { return NewHMC(g, HMCConfig{}) }},
		{"NUTS", func() (Adaptive, error) { return NewNUTS(g, NUTSConfig{}) }},
		{"MALA", func() (Adaptive, error) { return NewMALA(g, MALAConfig{}) }},
		{"RWMH", func() (Adaptive, error) { return NewRWMH(g, RWMHConfig{}) }},
	} {
		for _, seed := range contSeeds[:2] {
			k, err := kc.k()
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(seed, 9))
			res, err := Run(t.Context(), rng, k, make([]float64, 8*len(vars)), 8, RunConfig{Warmup: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vars {
				if r := res.Params.InvMass[i] / v; r < 0.75 || r > 1.33 {
					t.Errorf("%s seed %d: M⁻¹[%d] = %.3g, want the variance %.3g", kc.name, seed, i, res.Params.InvMass[i], v)
				}
			}
			if got := k.Params(); got.StepSize != res.Params.StepSize {
				t.Errorf("%s: kernel step size %v, Result.Params %v", kc.name, got.StepSize, res.Params.StepSize)
			}
		}
	}
}

// TestRegularisedVariance checks Stan's shrinkage on positions with a
// known sample variance.
func TestRegularisedVariance(t *testing.T) {
	k, err := NewHMC(contIsoGaussian{d: 2}, HMCConfig{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := newWindowAdapter(k, AdaptConfig{}, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Two chains at (±1, ±3) for 5 iterations: 10 positions, sample
	// variances 10/9 and 90/9.
	s := State{N: 2, D: 2, X: []float64{1, 3, -1, -3}}
	for range 5 {
		a.addPositions(s)
	}
	got := a.regularisedVariance(nil)
	for i, v := range []float64{10.0 / 9, 10} {
		want := 10.0/15*v + 1e-3*5/15
		if math.Abs(got[i]-want) > 1e-12 {
			t.Errorf("variance %d: %v, want %v", i, got[i], want)
		}
	}
}

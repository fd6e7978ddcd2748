package sampling

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/diagnostics"
	"github.com/ebmgo/ebm/energy"
)

// runDefault runs kernel k at Run's default diagnostics on 4 chains that
// start uniformly in [−2, 2]^d, as Stan does, with warmup and draws.
func runDefault(t *testing.T, k Kernel, d int, seed uint64, warmup, draws int) Result {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 41))
	x0 := make([]float64, 4*d)
	for i := range x0 {
		x0[i] = 4*rng.Float64() - 2
	}
	res, err := Run(context.Background(), rng, k, x0, 4, RunConfig{Warmup: warmup, Draws: draws})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func kinds(ws []Warning) []WarningKind {
	var k []WarningKind
	for _, w := range ws {
		k = append(k, w.Kind)
	}
	return k
}

// TestWarningsBanana runs NUTS, adapted HMC and MALA at their default
// settings (target acceptance 0.8 for NUTS and HMC) on Haario et al.'s
// strongly twisted banana (b = 0.1, σ₁ = 10), where they are biased: the
// run must say so. NUTS and HMC diverge where the arms bend; MALA, which
// cannot diverge, mixes too slowly for its R̂ and ESS.
func TestWarningsBanana(t *testing.T) {
	banana, err := energy.NewBanana(0.1, 10)
	if err != nil {
		t.Fatal(err)
	}
	seeds := uint64(3)
	if testing.Short() {
		seeds = 1
	}
	for _, tc := range []struct {
		name        string
		k           func() (Kernel, error)
		draws       int
		mustInclude WarningKind
	}{
		{"NUTS", func() (Kernel, error) { return NewNUTS(banana, NUTSConfig{PerChain: true}) }, 2000, WarnDivergences},
		{"HMC", func() (Kernel, error) { return NewHMC(banana, HMCConfig{TrajectoryLength: 2, Jitter: 0.2}) }, 2000, WarnDivergences},
		{"MALA", func() (Kernel, error) { return NewMALA(banana, MALAConfig{}) }, 20000, WarnRHat},
	} {
		for seed := range seeds {
			k, err := tc.k()
			if err != nil {
				t.Fatal(err)
			}
			res := runDefault(t, k, 2, seed, 1000, tc.draws)
			for _, w := range res.Warnings {
				t.Logf("%s seed %d: %s", tc.name, seed, w)
			}
			if !slices.Contains(kinds(res.Warnings), tc.mustInclude) {
				t.Errorf("%s seed %d: warnings %v, want %v among them", tc.name, seed, kinds(res.Warnings), tc.mustInclude)
			}
			// The bias the warnings are about: E[x₁²] = σ₁² = 100.
			sq := res.Trace.SeriesFunc(func(x []float64) float64 { return x[0] * x[0] })
			s, err := diagnostics.Summarize(sq)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s seed %d: E[x₁²] = %.1f ± %.1f (MCSE), exact 100; %d divergences, R̂ %.3f, bulk ESS %.0f",
				tc.name, seed, s.Mean, s.MCSE, res.Divergences, res.Diagnostics.MaxRHat, res.Diagnostics.MinBulkESS)
		}
	}
}

// TestWarningsQuiet checks that a well-behaved run gives no warning: NUTS
// on a correlated Gaussian, over several seeds.
func TestWarningsQuiet(t *testing.T) {
	g, err := energy.NewGaussian([]float64{1, -1}, []float64{1, 0.8, 0.8, 2})
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(3) {
		k, err := NewNUTS(g, NUTSConfig{})
		if err != nil {
			t.Fatal(err)
		}
		res := runDefault(t, k, 2, seed, 1000, 1000)
		if len(res.Warnings) > 0 {
			t.Errorf("seed %d: warnings on a Gaussian: %v", seed, res.Warnings)
		}
		d := res.Diagnostics
		if d == nil || len(d.Coords) != 2 || d.F == nil || !(d.MinBulkESS > 400) || !(d.MaxRHat < 1.01) {
			t.Errorf("seed %d: diagnostics %+v", seed, d)
		}
	}
}

// TestWarningsTreeDepthAndStuck provokes the other warnings: NUTS limited
// to depth 2 on an ill-conditioned Gaussian, and a kernel whose chains
// never move.
func TestWarningsTreeDepthAndStuck(t *testing.T) {
	g, err := energy.NewDiagGaussian([]float64{0, 0}, []float64{1, 1e4})
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewNUTS(g, NUTSConfig{MaxDepth: 2, Adapt: AdaptConfig{FixedMass: true}})
	if err != nil {
		t.Fatal(err)
	}
	res := runDefault(t, k, 2, 1, 200, 200)
	if res.MaxDepthHits == 0 || !slices.Contains(kinds(res.Warnings), WarnTreeDepth) {
		t.Errorf("NUTS at depth 2: %d hits, warnings %v", res.MaxDepthHits, res.Warnings)
	}
	// Chains that never move from different starts disagree: R̂.
	res = runDefault(t, stuckKernel{}, 3, 1, 0, 50)
	if ks := kinds(res.Warnings); !slices.Contains(ks, WarnRHat) {
		t.Errorf("chains stuck at different points: warnings %v, want %v among them", res.Warnings, WarnRHat)
	}
	// From one point, every draw is the same: no ESS or R̂ at all.
	res, err = Run(context.Background(), rand.New(rand.NewPCG(1, 1)), stuckKernel{}, make([]float64, 4*3), 4, RunConfig{Draws: 50})
	if err != nil {
		t.Fatal(err)
	}
	if ks := kinds(res.Warnings); !slices.Contains(ks, WarnStuck) || slices.Contains(ks, WarnBulkESS) {
		t.Errorf("chains that never move: warnings %v, want %v alone", res.Warnings, WarnStuck)
	}
	if !strings.Contains(res.Warnings[0].Message, "x[0], x[1], x[2]") {
		t.Errorf("stuck warning %q does not name the coordinates", res.Warnings[0].Message)
	}
	// Too few draws for diagnostics: no ESS or R̂, and no warning for them.
	res = runDefault(t, stuckKernel{}, 3, 1, 0, 5)
	if res.Diagnostics != nil || len(res.Warnings) != 0 {
		t.Errorf("5 draws: diagnostics %+v, warnings %v", res.Diagnostics, res.Warnings)
	}
}

// TestWarningsBurnIn checks that a run keeping no draws (as EBM training
// samples) warns about divergences during its warm-up, which is all it
// does.
func TestWarningsBurnIn(t *testing.T) {
	banana, err := energy.NewBanana(0.1, 10)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewHMC(banana, HMCConfig{StepSize: 1.5, NumSteps: 10})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	res, err := Run(context.Background(), rng, k, make([]float64, 4*2), 4, RunConfig{Warmup: 200, NoAdapt: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.WarmupDivergences == 0 || !slices.Contains(kinds(res.Warnings), WarnDivergences) || res.Diagnostics != nil {
		t.Errorf("burn-in with %d divergences: warnings %v, diagnostics %v", res.WarmupDivergences, res.Warnings, res.Diagnostics)
	}
	// Adapting warm-up diverges while it searches: no warning then.
	res = runDefault(t, k, 2, 1, 200, 0)
	if slices.Contains(kinds(res.Warnings), WarnDivergences) {
		t.Errorf("adapting warm-up without draws: warnings %v", res.Warnings)
	}
}

// stuckKernel never moves its chains.
type stuckKernel struct{}

func (stuckKernel) Init(x []float64, n int) (State, error) {
	return State{N: n, D: len(x) / n, X: append([]float64(nil), x...)}, nil
}

func (stuckKernel) Step(_ *rand.Rand, s State) (State, Info, error) {
	return s, Info{AcceptProb: make([]float64, s.N), Accepted: make([]bool, s.N), Divergent: make([]bool, s.N)}, nil
}

// TestWarningStepSizeRule checks when a step size history counts as still
// shrinking: smaller at each of the last two windows and below a third of
// the first.
func TestWarningStepSizeRule(t *testing.T) {
	for _, tc := range []struct {
		h    []float64
		warn bool
	}{
		{[]float64{0.96, 0.2, 0.0935, 0.0654, 0.0623, 0.0521}, true},
		{[]float64{0.728, 0.157, 0.123, 0.0951, 0.0917, 0.0881}, true},
		{[]float64{1.03, 0.233, 0.0934, 0.0573, 0.059, 0.0563}, false}, // rose at the fifth window
		{[]float64{1.69, 1.28, 1.42, 1.37, 1.29, 1.13}, false},         // shrinking, but by less than 3×
		{[]float64{0.5, 0.1}, false},                                   // too short to say
	} {
		res := &Result{StepSizes: tc.h}
		_, ws := diagnoseRun(res, RunConfig{}, true)
		if got := slices.Contains(kinds(ws), WarnStepSize); got != tc.warn {
			t.Errorf("%v: step-size warning %v, want %v", tc.h, got, tc.warn)
		}
	}
}

func TestTraceMeanCovErrors(t *testing.T) {
	var tr Trace
	tr.Dim, tr.Chains = 2, 4
	if _, err := tr.Mean(); !errors.Is(err, energy.ErrShape) {
		t.Errorf("Mean of no draws: %v, want ErrShape", err)
	}
	if _, err := tr.Cov(); !errors.Is(err, energy.ErrShape) {
		t.Errorf("Cov of no draws: %v, want ErrShape", err)
	}
	one := Trace{Draws: 1, Chains: 1, Dim: 2, X: []float64{1, 2}}
	if m, err := one.Mean(); err != nil || m[1] != 2 {
		t.Errorf("Mean of one draw: %v, %v", m, err)
	}
	if _, err := one.Cov(); !errors.Is(err, energy.ErrShape) {
		t.Errorf("Cov of one draw: %v, want ErrShape", err)
	}
}

// TestWarningsBananaRemedy follows the divergence warning's advice on the
// banana of TestWarningsBanana: NUTS at target acceptance 0.99 gives no
// warning and E[x₁²] within 4 MCSE of the exact 100, over three seeds.
func TestWarningsBananaRemedy(t *testing.T) {
	banana, err := energy.NewBanana(0.1, 10)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(3) {
		k, err := NewNUTS(banana, NUTSConfig{PerChain: true, Adapt: AdaptConfig{TargetAccept: 0.99}})
		if err != nil {
			t.Fatal(err)
		}
		res := runDefault(t, k, 2, seed, 1000, 2000)
		if len(res.Warnings) > 0 {
			t.Errorf("seed %d: warnings at target acceptance 0.99: %v", seed, res.Warnings)
		}
		s, err := diagnostics.Summarize(res.Trace.SeriesFunc(func(x []float64) float64 { return x[0] * x[0] }))
		if err != nil {
			t.Fatal(err)
		}
		if z := (s.Mean - 100) / s.MCSE; z < -4 || z > 4 {
			t.Errorf("seed %d: E[x₁²] = %.1f ± %.1f, exact 100 (%.1f MCSE off)", seed, s.Mean, s.MCSE, z)
		}
	}
}

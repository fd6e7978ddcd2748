package sampling

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// discPMin is the p-value below which a goodness-of-fit test fails. Each
// test runs several independent seeds; with about 60 such tests in the
// package the chance of a false alarm is below 1%.
const discPMin = 1e-4

// discRun runs k for steps transitions on n chains started uniformly at
// random and returns the final positions: n independent draws that follow
// the target when the chains have mixed.
func discRun(t testing.TB, k Kernel, rng *rand.Rand, n, d int, vals []float64, steps int) []float64 {
	t.Helper()
	s, err := k.Init(discRandomStart(rng, n, d, vals), n)
	if err != nil {
		t.Fatal(err)
	}
	for range steps {
		var info Info
		s, info, err = k.Step(rng, s)
		if err != nil {
			t.Fatal(err)
		}
		if info.Divergences() > 0 {
			t.Fatalf("%d divergent chains on a finite energy", info.Divergences())
		}
	}
	return s.X
}

// isingStats are the magnetisation Σs and the bond sum Σ_<ab> s_a s_b of
// an l×l Ising configuration, as integers.
func isingStats(l int) []func(s []float64) int {
	mag := func(s []float64) int {
		m := 0.0
		for _, v := range s {
			m += v
		}
		return int(m)
	}
	bond := func(s []float64) int {
		b := 0.0
		for a := range s {
			r, c := a/l, a%l
			b += s[a] * (s[r*l+(c+1)%l] + s[((r+1)%l)*l+c])
		}
		return int(b)
	}
	return []func(s []float64) int{mag, bond}
}

// checkFit runs the chi-square test of every statistic and fails the test
// when one has a p-value below discPMin.
func checkFit(t *testing.T, name string, states, probs, x []float64, d int, stats []func([]float64) int) {
	t.Helper()
	for si, stat := range stats {
		p, chi2, df := discStatTest(t, states, probs, x, d, stat)
		if p < discPMin {
			t.Errorf("%s: statistic %d: χ² = %.1f with %d degrees of freedom, p = %.2g < %g", name, si, chi2, df, p, discPMin)
		}
	}
}

func TestGibbsIsingExact(t *testing.T) {
	ising := discIsing(t, 4, 0.3, 0.1)
	states, probs, _ := discExact(t, ising)
	stats := isingStats(4)
	for _, site := range []bool{true, false} {
		for _, scan := range []Scan{SystematicScan, PermutationScan, RandomScan} {
			var e energy.Discrete = ising
			if !site {
				e = discNoSite{ising}
			}
			g, err := NewGibbs(e, GibbsConfig{Scan: scan})
			if err != nil {
				t.Fatal(err)
			}
			for seed := range uint64(3) {
				rng := rand.New(rand.NewPCG(seed, 11))
				x := discRun(t, g, rng, 2000, 16, ising.Values(), 40)
				checkFit(t, fmt.Sprintf("SiteLogits=%v scan=%v seed=%d", site, scan, seed), states, probs, x, 16, stats)
			}
		}
	}
}

func TestGibbsPottsExact(t *testing.T) {
	// q = 3 categories, evaluated by f (discPotts has no SiteLogits).
	potts := discPotts(t, 3, 3, 0.5)
	states, probs, _ := discExact(t, potts)
	sat := func(s []float64) int {
		n := 0
		for a := range s {
			r, c := a/3, a%3
			if s[a] == s[r*3+(c+1)%3] {
				n++
			}
			if s[a] == s[((r+1)%3)*3+c] {
				n++
			}
		}
		return n
	}
	zeros := func(s []float64) int {
		n := 0
		for _, v := range s {
			if v == 0 {
				n++
			}
		}
		return n
	}
	first := func(s []float64) int { return int(s[0])*3 + int(s[4]) } // joint of two sites
	g, err := NewGibbs(potts, GibbsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 12))
		x := discRun(t, g, rng, 2000, 9, potts.Values(), 30)
		checkFit(t, fmt.Sprintf("seed %d", seed), states, probs, x, 9, []func([]float64) int{sat, zeros, first})
	}
}

// rbmJoint is the index of a visible configuration: the full joint.
func rbmJoint(s []float64) int { return discStateIndex(s, []float64{0, 1}) }

func TestGibbsRBMExact(t *testing.T) {
	for seed := range uint64(3) {
		rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(seed, 1)), 6, 4, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
		states, probs, _ := discExact(t, rbm)
		rng := rand.New(rand.NewPCG(seed, 13))
		g, err := NewGibbs(rbm, GibbsConfig{})
		if err != nil {
			t.Fatal(err)
		}
		x := discRun(t, g, rng, 4000, 6, rbm.Values(), 30)
		checkFit(t, fmt.Sprintf("Gibbs seed %d", seed), states, probs, x, 6, []func([]float64) int{rbmJoint})

		b, err := NewBlockGibbs(rbm)
		if err != nil {
			t.Fatal(err)
		}
		x = discRun(t, b, rng, 4000, 6, rbm.Values(), 30)
		checkFit(t, fmt.Sprintf("BlockGibbs seed %d", seed), states, probs, x, 6, []func([]float64) int{rbmJoint})
	}
}

// TestGibbsDetectsWrongTarget makes sure the goodness-of-fit machinery has
// power: samples of a slightly different Ising model must fail it.
func TestGibbsDetectsWrongTarget(t *testing.T) {
	ising := discIsing(t, 4, 0.3, 0.1)
	states, probs, _ := discExact(t, ising)
	other := discIsing(t, 4, 0.3, 0.2)
	g, _ := NewGibbs(other, GibbsConfig{})
	rng := rand.New(rand.NewPCG(1, 14))
	x := discRun(t, g, rng, 2000, 16, ising.Values(), 40)
	p, _, _ := discStatTest(t, states, probs, x, 16, isingStats(4)[0])
	if p > discPMin {
		t.Errorf("samples with field h = 0.2 pass the test against h = 0.1: p = %.3g", p)
	}
}

func TestGibbsFTracksEnergy(t *testing.T) {
	for _, site := range []bool{true, false} {
		ising := discIsing(t, 4, 0.4, -0.2)
		var e energy.Discrete = ising
		if !site {
			e = discNoSite{ising}
		}
		g, _ := NewGibbs(e, GibbsConfig{Scan: RandomScan, Updates: 5})
		rng := rand.New(rand.NewPCG(2, 15))
		s, err := g.Init(discRandomStart(rng, 50, 16, ising.Values()), 50)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, 50)
		for range 100 {
			s, _, _ = g.Step(rng, s)
		}
		ising.F(want, s.X)
		for c := range want {
			if math.Abs(s.F[c]-want[c]) > 1e-9 {
				t.Errorf("SiteLogits=%v chain %d: State.F = %v, f(x) = %v", site, c, s.F[c], want[c])
			}
		}
	}
}

func TestBlockGibbsHidden(t *testing.T) {
	rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(3, 3)), 5, 3, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	b, _ := NewBlockGibbs(rbm)
	rng := rand.New(rand.NewPCG(3, 16))
	s, _ := b.Init(discRandomStart(rng, 7, 5, []float64{0, 1}), 7)
	s, info, err := b.Step(rng, s)
	if err != nil {
		t.Fatal(err)
	}
	if h := b.LastHidden(); len(h) != 7*3 {
		t.Fatalf("Hidden has %d values, want 21", len(h))
	}
	for _, v := range b.LastHidden() {
		if v != 0 && v != 1 {
			t.Fatalf("hidden unit %v is not binary", v)
		}
	}
	if len(info.Accepted) != 7 || s.F != nil {
		t.Errorf("Info for %d chains, State.F = %v; want 7 chains and nil F", len(info.Accepted), s.F)
	}
}

// discNaN is an Ising model whose f is NaN wherever spin 0 is −1 and
// spin 1 is +1.
type discNaN struct{ *energy.Ising }

func (m discNaN) poison(dst, x []float64) {
	for n := range dst {
		if x[n*m.Dim()] == -1 && x[n*m.Dim()+1] == 1 {
			dst[n] = math.NaN()
		}
	}
}

func (m discNaN) F(dst, x []float64) error {
	err := m.Ising.F(dst, x)
	m.poison(dst, x)
	return err
}

func (m discNaN) FGrad(dst, grad, x []float64) error {
	err := m.Ising.FGrad(dst, grad, x)
	m.poison(dst, x)
	return err
}

func TestGibbsDivergence(t *testing.T) {
	e := discNaN{discIsing(t, 3, 0.2, 0)}
	g, _ := NewGibbs(discNoSite{e}, GibbsConfig{})
	start := make([]float64, 9)
	for i := range start {
		start[i] = 1
	}
	s, err := g.Init(start, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	div := 0
	for range 200 {
		var info Info
		s, info, err = g.Step(rng, s)
		if err != nil {
			t.Fatal(err)
		}
		div += info.Divergences()
		if s.X[0] == -1 && s.X[1] == 1 {
			t.Fatal("chain entered a state where f is NaN")
		}
		if math.IsNaN(s.F[0]) {
			t.Fatal("NaN energy propagated into the state")
		}
	}
	if div == 0 {
		t.Error("no divergence reported although spin 0 = −1 makes f NaN at spin 1 = +1")
	}
	// A NaN start is an error wrapping ErrDiverged.
	start[0], start[1] = -1, 1
	if _, err := g.Init(start, 1); !errors.Is(err, ErrDiverged) {
		t.Errorf("Init at a NaN energy: error %v, want ErrDiverged", err)
	}
}

func TestDiscreteBadInput(t *testing.T) {
	ising := discIsing(t, 3, 0.2, 0)
	g, _ := NewGibbs(ising, GibbsConfig{})
	if _, err := g.Init(make([]float64, 9), 1); err == nil {
		t.Error("Gibbs.Init accepted spins of value 0 for a ±1 model")
	}
	if _, err := g.Init(make([]float64, 8), 1); !errors.Is(err, energy.ErrShape) {
		t.Errorf("Gibbs.Init with 8 values for 9 variables: %v, want ErrShape", err)
	}
	if _, err := NewGibbs(ising, GibbsConfig{Updates: -1}); err == nil {
		t.Error("NewGibbs accepted Updates = −1")
	}
	if _, err := NewGibbs(ising, GibbsConfig{Scan: 7}); err == nil {
		t.Error("NewGibbs accepted an unknown scan")
	}
	if _, err := NewGWG(discPottsDiff{discPotts(t, 2, 3, 1)}); err == nil {
		t.Error("NewGWG accepted a 3-valued energy")
	}
	w, _ := NewGWG(ising)
	if _, err := w.Init([]float64{1, 1, 1, 1, 1, 1, 1, 1, 0.5}, 1); err == nil {
		t.Error("GWG.Init accepted a spin of 0.5")
	}
	defer func() {
		if recover() == nil {
			t.Error("Step with a nil rng did not panic")
		}
	}()
	s, _ := g.Init(discRandomStart(rand.New(rand.NewPCG(1, 1)), 1, 9, ising.Values()), 1)
	g.Step(nil, s)
}

// discPottsDiff gives discPotts a (meaningless) gradient so that NewGWG can
// be handed a categorical energy.
type discPottsDiff struct{ *energy.Potts }

func (m discPottsDiff) FGrad(dst, grad, x []float64) error { return m.F(dst, x) }

func TestDiscreteStepAllocs(t *testing.T) {
	ising := discIsing(t, 4, 0.3, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	x := discRandomStart(rng, 10, 16, ising.Values())
	mk := map[string]func() Kernel{
		"Gibbs":            func() Kernel { g, _ := NewGibbs(ising, GibbsConfig{Scan: PermutationScan}); return g },
		"Gibbs(no logits)": func() Kernel { g, _ := NewGibbs(discNoSite{ising}, GibbsConfig{Scan: RandomScan}); return g },
		"GWG":              func() Kernel { g, _ := NewGWG(ising); return g },
	}
	for name, f := range mk {
		k := f()
		s, err := k.Init(x, 10)
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() { s, _, _ = k.Step(rng, s) }); a > 0 {
			t.Errorf("%s.Step allocates %.1f times per step", name, a)
		}
	}
}

func benchGibbs(b *testing.B, e energy.Discrete, chains int) {
	g, err := NewGibbs(e, GibbsConfig{})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	s, err := g.Init(discRandomStart(rng, chains, e.Dim(), e.Values()), chains)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if s, _, err = g.Step(rng, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sweeps/s")
	b.ReportMetric(float64(b.N*chains*e.Dim())/b.Elapsed().Seconds(), "sites/s")
}

func BenchmarkGibbsIsing32x32(b *testing.B) { benchGibbs(b, discIsing(b, 32, 0.4, 0), 100) }
func BenchmarkGibbsIsing32x32NoLogits(b *testing.B) {
	benchGibbs(b, discNoSite{discIsing(b, 32, 0.4, 0)}, 100)
}
func BenchmarkGibbsRBM784x64(b *testing.B) {
	benchGibbs(b, testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 784, 64, energy.RBMInit{WeightScale: 0.01, BiasScale: 0.01})), 100)
}

func BenchmarkBlockGibbsRBM784x500(b *testing.B) {
	rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 784, 500, energy.RBMInit{WeightScale: 0.01, BiasScale: 0.01}))
	k, _ := NewBlockGibbs(rbm)
	rng := rand.New(rand.NewPCG(1, 1))
	s, _ := k.Init(discRandomStart(rng, 100, 784, rbm.Values()), 100)
	var err error
	for b.Loop() {
		if s, _, err = k.Step(rng, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}

// testRBM returns r, or panics on err: for RBMs drawn with settings that
// are valid by construction.
func testRBM(r *energy.RBM, err error) *energy.RBM {
	if err != nil {
		panic(err)
	}
	return r
}

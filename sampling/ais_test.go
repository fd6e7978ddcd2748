package sampling

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/gradcheck"
)

// aisRWMH is a minimal batched random-walk Metropolis kernel for the AIS
// tests, independent of the package's own continuous kernels.
type aisRWMH struct {
	e     energy.Energy
	scale float64
	xp    []float64
	fp    []float64
	info  Info
}

func (k *aisRWMH) Init(x []float64, n int) (State, error) {
	s := State{N: n, D: k.e.Dim(), X: append([]float64(nil), x...), F: make([]float64, n)}
	k.xp, k.fp = make([]float64, len(x)), make([]float64, n)
	k.info = Info{AcceptProb: make([]float64, n), Accepted: make([]bool, n), Divergent: make([]bool, n)}
	return s, k.e.F(s.F, s.X)
}

func (k *aisRWMH) Step(rng *rand.Rand, s State) (State, Info, error) {
	for j := range s.X {
		k.xp[j] = s.X[j] + k.scale*rng.NormFloat64()
	}
	if err := k.e.F(k.fp, k.xp); err != nil {
		return s, k.info, err
	}
	for c := range s.N {
		a := math.Min(1, math.Exp(k.fp[c]-s.F[c]))
		k.info.AcceptProb[c] = a
		k.info.Accepted[c] = rng.Float64() < a
		if k.info.Accepted[c] {
			copy(s.X[c*s.D:(c+1)*s.D], k.xp[c*s.D:(c+1)*s.D])
			s.F[c] = k.fp[c]
		}
	}
	return s, k.info, nil
}

// aisCheckEstimates checks AIS estimates from independent seeds against
// the exact log Z: each within 4 standard errors, their mean within 3
// standard errors of the mean, and the mean of the standard errors
// consistent with the spread of the estimates (ratio within [0.5, 2]).
func aisCheckEstimates(t *testing.T, name string, est, se []float64, exact float64) {
	t.Helper()
	var mean, v, se2 float64
	t.Logf("%s: est %.4f se %.4f exact %.4f", name, est, se, exact)
	for i := range est {
		if math.Abs(est[i]-exact) > 4*se[i] {
			t.Errorf("%s seed %d: log Z = %.5f ± %.5f, exact %.5f (%.1f SE off)", name, i, est[i], se[i], exact, (est[i]-exact)/se[i])
		}
		mean += est[i] / float64(len(est))
		se2 += se[i] * se[i]
	}
	for _, e := range est {
		v += (e - mean) * (e - mean) / float64(len(est)-1)
	}
	seMean := math.Sqrt(se2) / float64(len(est))
	if math.Abs(mean-exact) > 3*seMean {
		t.Errorf("%s: mean log Z over %d seeds %.5f ± %.5f, exact %.5f", name, len(est), mean, seMean, exact)
	}
	if r := math.Sqrt(v) / math.Sqrt(se2/float64(len(est))); r < 0.3 || r > 3 {
		t.Errorf("%s: spread of estimates %.4g vs reported SE %.4g (ratio %.2f)", name, math.Sqrt(v), math.Sqrt(se2/float64(len(est))), r)
	}
}

func TestAISGaussian(t *testing.T) {
	kernels := map[string]func(e energy.Energy, beta float64) (Kernel, error){
		"RWMH (test's own)": func(e energy.Energy, beta float64) (Kernel, error) {
			return &aisRWMH{e: e, scale: 1.2}, nil
		},
		"MALA": func(e energy.Energy, beta float64) (Kernel, error) {
			return NewMALA(e.(energy.Differentiable), MALAConfig{StepSize: 0.4})
		},
	}
	for name, kernel := range kernels {
		t.Run(name, func(t *testing.T) { testAISGaussian(t, kernel) })
	}
}

func testAISGaussian(t *testing.T, kernel func(e energy.Energy, beta float64) (Kernel, error)) {
	base, err := energy.NewDiagGaussian([]float64{0, 0}, []float64{4, 4})
	if err != nil {
		t.Fatal(err)
	}
	target, err := energy.NewGaussian([]float64{1, -1}, []float64{1, 0.5, 0.5, 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg := AISConfig{
		Schedule: SigmoidSchedule(200, 4),
		Kernel:   kernel,
		Steps:    2,
	}
	const seeds = 6
	var fwd, fse, rev, rse []float64
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 31))
		res, err := AIS(context.Background(), rng, base, target, 200, cfg)
		if err != nil {
			t.Fatal(err)
		}
		fwd, fse = append(fwd, res.LogZ), append(fse, res.StdErr)
		if res.ESS < 100 {
			t.Errorf("seed %d: weight ESS %.1f of 200", seed, res.ESS)
		}
		x := make([]float64, 200*2)
		if err := target.Sample(rng, x); err != nil {
			t.Fatal(err)
		}
		rres, err := ReverseAIS(context.Background(), rng, base, target, x, cfg)
		if err != nil {
			t.Fatal(err)
		}
		rev, rse = append(rev, rres.LogZ), append(rse, rres.StdErr)
		// The sandwich: reverse AIS is an upper bound, forward a lower
		// bound, each up to its noise.
		if rres.LogZ < target.LogZ()-3*rres.StdErr {
			t.Errorf("seed %d: reverse AIS %.5f ± %.5f below the exact %.5f", seed, rres.LogZ, rres.StdErr, target.LogZ())
		}
		if res.LogZ > target.LogZ()+3*res.StdErr {
			t.Errorf("seed %d: forward AIS %.5f ± %.5f above the exact %.5f", seed, res.LogZ, res.StdErr, target.LogZ())
		}
	}
	aisCheckEstimates(t, "forward", fwd, fse, target.LogZ())
	aisCheckEstimates(t, "reverse", rev, rse, target.LogZ())
}

func TestAISIsingGibbsAndGWG(t *testing.T) {
	ising := discIsing(t, 4, 0.3, 0.1)
	exact, err := ising.LogZ() // transfer matrix
	if err != nil {
		t.Fatal(err)
	}
	if _, _, enum := discExact(t, ising); math.Abs(enum-exact) > 1e-9 {
		t.Fatalf("log Z: enumeration %v, energy.Ising.LogZ %v", enum, exact)
	}
	base, err := NewBinaryBase(-1, 1, make([]float64, 16))
	if err != nil {
		t.Fatal(err)
	}
	kernels := map[string]func(e energy.Energy, beta float64) (Kernel, error){
		"Gibbs": func(e energy.Energy, _ float64) (Kernel, error) {
			return NewGibbs(e.(energy.Discrete), GibbsConfig{})
		},
		"GWG": func(e energy.Energy, _ float64) (Kernel, error) {
			return NewGWG(e.(DiscreteDifferentiable))
		},
	}
	for name, k := range kernels {
		var est, se []float64
		for seed := range uint64(4) {
			rng := rand.New(rand.NewPCG(seed, 32))
			steps := 1
			if name == "GWG" {
				steps = 8
			}
			res, err := AIS(context.Background(), rng, base, ising, 200, AISConfig{Schedule: LinearSchedule(100), Kernel: k, Steps: steps})
			if err != nil {
				t.Fatal(err)
			}
			est, se = append(est, res.LogZ), append(se, res.StdErr)
		}
		aisCheckEstimates(t, name, est, se, exact)
	}
}

// discExactDraws returns n exact draws from the enumerated distribution.
func discExactDraws(rng *rand.Rand, states, probs []float64, d, n int) []float64 {
	cdf := make([]float64, len(probs))
	var s float64
	for i, p := range probs {
		s += p
		cdf[i] = s
	}
	x := make([]float64, 0, n*d)
	for range n {
		u := rng.Float64() * s
		i := 0
		for i < len(cdf)-1 && cdf[i] <= u {
			i++
		}
		x = append(x, states[i*d:(i+1)*d]...)
	}
	return x
}

func TestRBMAIS(t *testing.T) {
	for _, size := range [][2]int{{10, 6}, {4, 9}} {
		nv, nh := size[0], size[1]
		var est, se, rest, rse []float64
		for seed := range uint64(4) {
			rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(seed, 7)), nv, nh, energy.RBMInit{WeightScale: 0.8, BiasScale: 0.8}))
			states, probs, _ := discExact(t, rbm)
			exact, err := rbm.LogZ()
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(seed, 33))
			// Base biases from exact draws, as one would from data.
			data := discExactDraws(rng, states, probs, nv, 500)
			cfg := RBMAISConfig{
				Schedule: PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, []int{50, 200, 500}),
				BaseBias: BaseRateBias(data, nv, 1),
			}
			res, err := RBMAIS(context.Background(), rng, rbm, 100, cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Shift the estimates by the exact value so that seeds with
			// different RBMs pool.
			est, se = append(est, res.LogZ-exact), append(se, res.StdErr)
			rres, err := RBMReverseAIS(context.Background(), rng, rbm, discExactDraws(rng, states, probs, nv, 100), cfg)
			if err != nil {
				t.Fatal(err)
			}
			rest, rse = append(rest, rres.LogZ-exact), append(rse, rres.StdErr)
			if rres.LogZ < exact-3*rres.StdErr {
				t.Errorf("%d×%d seed %d: reverse AIS %.5f ± %.5f below the exact %.5f", nv, nh, seed, rres.LogZ, rres.StdErr, exact)
			}
		}
		aisCheckEstimates(t, fmt.Sprintf("RBMAIS %d×%d", nv, nh), est, se, 0)
		aisCheckEstimates(t, fmt.Sprintf("RBMReverseAIS %d×%d", nv, nh), rest, rse, 0)
	}
}

// TestRBMAISMatchesGenericAIS runs the generic AIS with block-Gibbs-free
// single-site Gibbs on the same path (a BinaryBase is the base-rate RBM
// without hidden units, so its log Z differs by nh·log 2) and checks both
// estimators agree with the exact value; it ties the RBM path's formulas to
// Anneal's.
func TestRBMAISMatchesGenericAIS(t *testing.T) {
	rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(9, 9)), 8, 5, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	_, _, exact := discExact(t, rbm)
	bias := []float64{0.5, -0.5, 0, 1, -1, 0.2, 0.3, -0.2}
	base, _ := NewBinaryBase(0, 1, bias)
	var est, se []float64
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 34))
		res, err := AIS(context.Background(), rng, base, rbm, 100, AISConfig{
			Schedule: LinearSchedule(300),
			Kernel: func(e energy.Energy, _ float64) (Kernel, error) {
				return NewGibbs(e.(energy.Discrete), GibbsConfig{})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		est, se = append(est, res.LogZ), append(se, res.StdErr)
	}
	aisCheckEstimates(t, "generic AIS on an RBM", est, se, exact)
}

// aisShifted is a Gaussian energy plus a constant.
type aisShifted struct {
	*energy.Gaussian
	shift float64
}

func (e aisShifted) F(dst, x []float64) error {
	if err := e.Gaussian.F(dst, x); err != nil {
		return err
	}
	for i := range dst {
		dst[i] += e.shift
	}
	return nil
}

func TestAISLargeEnergies(t *testing.T) {
	g, _ := energy.NewDiagGaussian([]float64{0, 0, 0}, []float64{1, 2, 3})
	for _, shift := range []float64{1e4, -1e4} {
		cfg := AISConfig{Schedule: LinearSchedule(10), Kernel: func(e energy.Energy, _ float64) (Kernel, error) {
			return &aisRWMH{e: e, scale: 0.5}, nil
		}}
		res, err := AIS(context.Background(), rand.New(rand.NewPCG(1, 1)), g, aisShifted{g, shift}, 50, cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := g.LogZ() + shift
		if math.Abs(res.LogZ-want) > 1e-9*math.Abs(want) || res.StdErr > 1e-9 || math.Abs(res.ESS-50) > 1e-9 {
			t.Errorf("shift %g: log Z = %v ± %v, ESS %v; want %v ± 0, ESS 50", shift, res.LogZ, res.StdErr, res.ESS, want)
		}
	}
	// Log weights of magnitude 1e4 spread over hundreds of nats.
	l := []float64{1e4, 1e4 - 1, 1e4 - 300, -1e4}
	se, ess := weightStats(l)
	want := 1e4 + math.Log((1+math.Exp(-1)+math.Exp(-300)+0)/4)
	if got := logMeanExp(l); math.Abs(got-want) > 1e-9 || math.IsNaN(se) || math.IsInf(se, 0) || !(ess > 1 && ess < 2) {
		t.Errorf("logMeanExp = %v (want %v), SE %v, ESS %v", got, want, se, ess)
	}
}

func TestSchedules(t *testing.T) {
	for name, b := range map[string][]float64{
		"linear":    LinearSchedule(7),
		"geometric": GeometricSchedule(20, 1e-4),
		"sigmoid":   SigmoidSchedule(50, 4),
		"piecewise": PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, []int{500, 4000, 10000}),
	} {
		if err := checkSchedule(name, b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for i := 1; i < len(b); i++ {
			if !(b[i] > b[i-1]) {
				t.Errorf("%s: β_%d = %v does not rise above %v", name, i, b[i], b[i-1])
			}
		}
	}
	if b := PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, []int{500, 4000, 10000}); len(b) != 14501 || math.Abs(b[500]-0.5) > 0 || math.Abs(b[4500]-0.9) > 0 {
		t.Errorf("Salakhutdinov–Murray schedule: %d values, β_500 = %v, β_4500 = %v", len(b), b[500], b[4500])
	}
	g := GeometricSchedule(5, 1e-4)
	if math.Abs(g[1]-1e-4) > 1e-18 || math.Abs(g[3]-1e-2) > 1e-15 {
		t.Errorf("geometric schedule %v", g)
	}
	s := SigmoidSchedule(10, 3)
	for i := range s {
		if math.Abs(s[i]+s[10-i]-1) > 1e-12 {
			t.Errorf("sigmoid schedule not symmetric: β_%d + β_%d = %v", i, 10-i, s[i]+s[10-i])
		}
	}
}

func TestAISCancel(t *testing.T) {
	g, _ := energy.NewDiagGaussian([]float64{0}, []float64{1})
	ctx, cancel := context.WithCancel(context.Background())
	cfg := AISConfig{Schedule: LinearSchedule(100), Kernel: func(e energy.Energy, beta float64) (Kernel, error) {
		if beta > 0.5 {
			cancel()
		}
		return &aisRWMH{e: e, scale: 1}, nil
	}}
	_, err := AIS(ctx, rand.New(rand.NewPCG(1, 1)), g, g, 4, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AIS after cancel: %v, want context.Canceled", err)
	}
	rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 3, 2, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := RBMAIS(ctx, rand.New(rand.NewPCG(1, 1)), rbm, 4, RBMAISConfig{Schedule: LinearSchedule(10)}); !errors.Is(err, context.Canceled) {
		t.Errorf("RBMAIS after cancel: %v, want context.Canceled", err)
	}
	if _, err := AIS(context.Background(), rand.New(rand.NewPCG(1, 1)), g, g, 4, AISConfig{Schedule: []float64{0, 0.7, 0.5, 1}, Kernel: cfg.Kernel}); err == nil {
		t.Error("AIS accepted a decreasing schedule")
	}
}

func TestAnneal(t *testing.T) {
	g0, _ := energy.NewDiagGaussian([]float64{0, 0}, []float64{4, 4})
	g1, _ := energy.NewGaussian([]float64{1, -1}, []float64{1, 0.5, 0.5, 2})
	e, err := Anneal(g0, g1, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	de, ok := e.(energy.Differentiable)
	if !ok {
		t.Fatal("Anneal of two Gaussians is not Differentiable")
	}
	x := []float64{0.3, -0.7}
	f, grad := make([]float64, 1), make([]float64, 2)
	if err := de.FGrad(f, grad, x); err != nil {
		t.Fatal(err)
	}
	fx := func(x []float64) float64 {
		a, b := make([]float64, 1), make([]float64, 1)
		g0.F(a, x)
		g1.F(b, x)
		return 0.7*a[0] + 0.3*b[0]
	}
	if math.Abs(f[0]-fx(x)) > 1e-12 {
		t.Errorf("f_0.3 = %v, want %v", f[0], fx(x))
	}
	if err := gradcheck.Check("Anneal", fx, x, grad, 1e-5, 1e-7); err != nil {
		t.Error(err)
	}
	// Discrete: SiteLogits mix, Values pass through.
	ising := discIsing(t, 3, 0.4, 0.2)
	base, _ := NewBinaryBase(-1, 1, []float64{1, -1, 0.5, 0, 0, 0, 0, 0, 2})
	ea, err := Anneal(base, ising, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := ea.(energy.SiteConditional)
	if !ok {
		t.Fatal("Anneal of two site-conditional energies has no SiteLogits")
	}
	if _, ok := ea.(DiscreteDifferentiable); !ok {
		t.Fatal("Anneal of two differentiable discrete energies is not DiscreteDifferentiable")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	xs := discRandomStart(rng, 5, 9, ising.Values())
	logits := make([]float64, 10)
	fa, fb := make([]float64, 5), make([]float64, 5)
	for i := range 9 {
		sc.SiteLogits(logits, xs, i)
		ea.F(fa, xs)
		for n := range 5 {
			for k, v := range []float64{-1, 1} {
				old := xs[n*9+i]
				xs[n*9+i] = v
				ea.F(fb, xs)
				xs[n*9+i] = old
				if want := fb[n] - fa[n]; math.Abs(logits[2*n+k]-want) > 1e-12 {
					t.Errorf("variable %d sample %d value %v: logit %v, want %v", i, n, v, logits[2*n+k], want)
				}
			}
		}
	}
	if _, err := Anneal(base, discPotts(t, 3, 2, 1), 0.5); err == nil {
		t.Error("Anneal accepted energies over {−1, 1} and {0, 1}")
	}
	if _, err := Anneal(g0, g1, 1.5); err == nil {
		t.Error("Anneal accepted β = 1.5")
	}
}

func TestBinaryBase(t *testing.T) {
	logits := []float64{0.3, -1.2, 2}
	b, err := NewBinaryBase(0, 1, logits)
	if err != nil {
		t.Fatal(err)
	}
	_, probs, logZ := discExact(t, b)
	if math.Abs(logZ-b.LogZ()) > 1e-12 {
		t.Errorf("LogZ = %v, enumeration gives %v", b.LogZ(), logZ)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	const n = 20000
	x := make([]float64, n*3)
	b.Sample(rng, x)
	counts := make([]float64, 8)
	for c := range n {
		counts[discStateIndex(x[c*3:(c+1)*3], b.Values())]++
	}
	var chi2 float64
	for s, p := range probs {
		chi2 += (counts[s] - n*p) * (counts[s] - n*p) / (n * p)
	}
	if p := discChi2Sf(chi2, 7); p < discPMin {
		t.Errorf("BinaryBase.Sample: χ² = %.1f, p = %.2g", chi2, p)
	}
}

// BenchmarkRBMAIS784x500 measures one temperature of RBM AIS (block Gibbs
// step plus weight update) on the 784×500 RBM of Salakhutdinov and Murray
// with 100 chains, the unit of their 14,500-temperature run.
func BenchmarkRBMAIS784x500(b *testing.B) {
	rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 784, 500, energy.RBMInit{WeightScale: 0.01, BiasScale: 0.01}))
	rng := rand.New(rand.NewPCG(2, 2))
	const temps = 20
	cfg := RBMAISConfig{Schedule: LinearSchedule(temps)}
	for b.Loop() {
		if _, err := RBMAIS(context.Background(), rng, rbm, 100, cfg); err != nil {
			b.Fatal(err)
		}
	}
	perTemp := b.Elapsed().Seconds() / float64(b.N*temps)
	b.ReportMetric(1/perTemp, "temps/s")
	b.ReportMetric(14500*perTemp, "s/14500-run")
}

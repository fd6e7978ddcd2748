package ais

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/gradcheck"
	"github.com/ebmgo/ebm/internal/mathx"
	"github.com/ebmgo/ebm/sampling"
)

// aisRWMH is a minimal batched random-walk Metropolis kernel for the AIS
// tests, independent of the package's own continuous kernels.
type aisRWMH struct {
	e     energy.Energy
	scale float64
	xp    []float64
	fp    []float64
	info  sampling.Info
}

func (k *aisRWMH) Init(x []float64, n int) (sampling.State, error) {
	s := sampling.State{N: n, D: k.e.Dim(), X: append([]float64(nil), x...), F: make([]float64, n)}
	k.xp, k.fp = make([]float64, len(x)), make([]float64, n)
	k.info = sampling.Info{AcceptProb: make([]float64, n), Accepted: make([]bool, n), Divergent: make([]bool, n)}
	return s, k.e.F(s.F, s.X)
}

func (k *aisRWMH) Step(rng *rand.Rand, s sampling.State) (sampling.State, sampling.Info, error) {
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
	kernels := map[string]func(e energy.Energy, beta float64) (sampling.Kernel, error){
		"RWMH (test's own)": func(e energy.Energy, beta float64) (sampling.Kernel, error) {
			return &aisRWMH{e: e, scale: 1.2}, nil
		},
		"MALA": func(e energy.Energy, beta float64) (sampling.Kernel, error) {
			return sampling.NewMALA(e.(energy.Differentiable), sampling.MALAConfig{StepSize: 0.4})
		},
	}
	for name, kernel := range kernels {
		t.Run(name, func(t *testing.T) { testAISGaussian(t, kernel) })
	}
}

func testAISGaussian(t *testing.T, kernel func(e energy.Energy, beta float64) (sampling.Kernel, error)) {
	base, err := energy.NewDiagGaussian([]float64{0, 0}, []float64{4, 4})
	if err != nil {
		t.Fatal(err)
	}
	target, err := energy.NewGaussian([]float64{1, -1}, []float64{1, 0.5, 0.5, 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Schedule: must(SigmoidSchedule(200, 4)),
		Kernel:   kernel,
		Steps:    2,
	}
	const seeds = 6
	var fwd, fse, rev, rse []float64
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 31))
		res, err := Forward(context.Background(), rng, base, target, 200, cfg)
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
		rres, err := Reverse(context.Background(), rng, base, target, x, cfg)
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
	ising := must(energy.NewIsing(4, 0.3, 0.1))
	exact, err := ising.LogZ() // transfer matrix
	if err != nil {
		t.Fatal(err)
	}
	if _, _, enum := exactStates(t, ising); math.Abs(enum-exact) > 1e-9 {
		t.Fatalf("log Z: enumeration %v, energy.Ising.LogZ %v", enum, exact)
	}
	base, err := NewBinaryBase(-1, 1, make([]float64, 16))
	if err != nil {
		t.Fatal(err)
	}
	kernels := map[string]func(e energy.Energy, beta float64) (sampling.Kernel, error){
		"Gibbs": func(e energy.Energy, _ float64) (sampling.Kernel, error) {
			return sampling.NewGibbs(e.(energy.Discrete), sampling.GibbsConfig{})
		},
		"GWG": func(e energy.Energy, _ float64) (sampling.Kernel, error) {
			return sampling.NewGWG(e.(sampling.DiscreteDifferentiable))
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
			res, err := Forward(context.Background(), rng, base, ising, 200, Config{Schedule: must(LinearSchedule(100)), Kernel: k, Steps: steps})
			if err != nil {
				t.Fatal(err)
			}
			est, se = append(est, res.LogZ), append(se, res.StdErr)
		}
		aisCheckEstimates(t, name, est, se, exact)
	}
}

// exactDraws returns n exact draws from the enumerated distribution.
func exactDraws(rng *rand.Rand, states, probs []float64, d, n int) []float64 {
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
		cfg := Config{Schedule: must(LinearSchedule(10)), Kernel: func(e energy.Energy, _ float64) (sampling.Kernel, error) {
			return &aisRWMH{e: e, scale: 0.5}, nil
		}}
		res, err := Forward(context.Background(), rand.New(rand.NewPCG(1, 1)), g, aisShifted{g, shift}, 50, cfg)
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
	if got := mathx.LogMeanExp(l); math.Abs(got-want) > 1e-9 || math.IsNaN(se) || math.IsInf(se, 0) || !(ess > 1 && ess < 2) {
		t.Errorf("logMeanExp = %v (want %v), SE %v, ESS %v", got, want, se, ess)
	}
}

func TestSchedules(t *testing.T) {
	for name, b := range map[string][]float64{
		"linear":    must(LinearSchedule(7)),
		"geometric": must(GeometricSchedule(20, 1e-4)),
		"sigmoid":   must(SigmoidSchedule(50, 4)),
		"piecewise": must(PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, []int{500, 4000, 10000})),
		"rbm":       must(RBMSchedule(1000)),
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
	if b := must(RBMSchedule(14500)); len(b) != 14501 || b[500] != 0.5 || b[4500] != 0.9 {
		t.Errorf("Salakhutdinov–Murray schedule: %d values, β_500 = %v, β_4500 = %v", len(b), b[500], b[4500])
	}
	if b := must(RBMSchedule(1000)); len(b) != 1001 || b[34] != 0.5 || b[34+276] != 0.9 {
		t.Errorf("RBMSchedule(1000): %d values, β_34 = %v, β_310 = %v", len(b), b[34], b[310])
	}
	g := must(GeometricSchedule(5, 1e-4))
	if math.Abs(g[1]-1e-4) > 1e-18 || math.Abs(g[3]-1e-2) > 1e-15 {
		t.Errorf("geometric schedule %v", g)
	}
	s := must(SigmoidSchedule(10, 3))
	for i := range s {
		if math.Abs(s[i]+s[10-i]-1) > 1e-12 {
			t.Errorf("sigmoid schedule not symmetric: β_%d + β_%d = %v", i, 10-i, s[i]+s[10-i])
		}
	}
	for name, f := range map[string]func() ([]float64, error){
		"linear 0":           func() ([]float64, error) { return LinearSchedule(0) },
		"geometric from 0":   func() ([]float64, error) { return GeometricSchedule(5, 0) },
		"geometric 1 step":   func() ([]float64, error) { return GeometricSchedule(1, 0.1) },
		"sigmoid δ NaN":      func() ([]float64, error) { return SigmoidSchedule(5, math.NaN()) },
		"piecewise no steps": func() ([]float64, error) { return PiecewiseSchedule([]float64{0, 1}, []int{0}) },
		"piecewise not to 1": func() ([]float64, error) { return PiecewiseSchedule([]float64{0, 0.5}, []int{3}) },
		"piecewise falling":  func() ([]float64, error) { return PiecewiseSchedule([]float64{0, 0.6, 0.5, 1}, []int{1, 1, 1}) },
		"rbm 2 steps":        func() ([]float64, error) { return RBMSchedule(2) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestAISCancel(t *testing.T) {
	g, _ := energy.NewDiagGaussian([]float64{0}, []float64{1})
	ctx, cancel := context.WithCancel(context.Background())
	cfg := Config{Schedule: must(LinearSchedule(100)), Kernel: func(e energy.Energy, beta float64) (sampling.Kernel, error) {
		if beta > 0.5 {
			cancel()
		}
		return &aisRWMH{e: e, scale: 1}, nil
	}}
	_, err := Forward(ctx, rand.New(rand.NewPCG(1, 1)), g, g, 4, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Forward after cancel: %v, want context.Canceled", err)
	}
	rbm := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 3, 2, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := ForwardRBM(ctx, rand.New(rand.NewPCG(1, 1)), rbm, 4, RBMConfig{Schedule: must(LinearSchedule(10))}); !errors.Is(err, context.Canceled) {
		t.Errorf("ForwardRBM after cancel: %v, want context.Canceled", err)
	}
	for name, c := range map[string]Config{
		"a decreasing schedule": {Schedule: []float64{0, 0.7, 0.5, 1}, Kernel: cfg.Kernel},
		"negative steps":        {Schedule: must(LinearSchedule(3)), Kernel: cfg.Kernel, Steps: -1},
	} {
		if _, err := Forward(context.Background(), rand.New(rand.NewPCG(1, 1)), g, g, 4, c); err == nil {
			t.Errorf("Forward accepted %s", name)
		}
	}
	if _, err := Forward(context.Background(), rand.New(rand.NewPCG(1, 1)), g, g, 0, cfg); err == nil {
		t.Error("Forward accepted 0 chains")
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
	ising := must(energy.NewIsing(3, 0.4, 0.2))
	base, _ := NewBinaryBase(-1, 1, []float64{1, -1, 0.5, 0, 0, 0, 0, 0, 2})
	ea, err := Anneal(base, ising, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := ea.(energy.SiteConditional)
	if !ok {
		t.Fatal("Anneal of two site-conditional energies has no SiteLogits")
	}
	if _, ok := ea.(sampling.DiscreteDifferentiable); !ok {
		t.Fatal("Anneal of two differentiable discrete energies is not DiscreteDifferentiable")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	xs := make([]float64, 5*9)
	for i := range xs {
		xs[i] = float64(2*rng.IntN(2) - 1)
	}
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
	if _, err := Anneal(base, must(energy.NewPotts(3, 2, 1)), 0.5); err == nil {
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
	_, probs, logZ := exactStates(t, b)
	if math.Abs(logZ-b.LogZ()) > 1e-12 {
		t.Errorf("LogZ = %v, enumeration gives %v", b.LogZ(), logZ)
	}
	const n = 20000
	for seed := range uint64(3) {
		x := make([]float64, n*3)
		if err := b.Sample(rand.New(rand.NewPCG(seed, 3)), x); err != nil {
			t.Fatal(err)
		}
		counts := make([]float64, 8)
		for c := range n {
			s := 0
			for i := range 3 {
				s |= int(x[c*3+i]) << i
			}
			counts[s]++
		}
		for s, p := range probs {
			if se := math.Sqrt(p * (1 - p) / n); math.Abs(counts[s]/n-p) > 4.5*se {
				t.Errorf("seed %d: state %03b frequency %.4f, probability %.4f", seed, s, counts[s]/n, p)
			}
		}
	}
	f, g := make([]float64, 2), make([]float64, 6)
	x := []float64{1, 0, 1, 0, 1, 1}
	if err := b.FGrad(f, g, x); err != nil {
		t.Fatal(err)
	}
	if math.Abs(f[0]-2.3) > 1e-15 || g[1] != -1.2 {
		t.Errorf("FGrad: f %v, ∇f %v", f, g)
	}
	if err := b.FGrad(f, nil, x); !errors.Is(err, energy.ErrShape) {
		t.Errorf("FGrad with a nil gradient: %v, want ErrShape (as every energy)", err)
	}
	for _, bad := range [][3]float64{{1, 1, 0}, {0, math.Inf(1), 0}, {0, 1, math.NaN()}} {
		if _, err := NewBinaryBase(bad[0], bad[1], []float64{bad[2]}); err == nil {
			t.Errorf("NewBinaryBase(%v, %v, [%v]) accepted", bad[0], bad[1], bad[2])
		}
	}
}

// must returns v, or panics on err: for values that are valid by
// construction.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// exactStates enumerates all K^D states of e (D ≤ 20) and returns them,
// row major (state s has value index s's base-K digits, lowest first),
// with their exact probabilities and log Z.
func exactStates(t testing.TB, e energy.Discrete) (states, probs []float64, logZ float64) {
	t.Helper()
	d, vals := e.Dim(), e.Values()
	k := len(vals)
	total := 1
	for range d {
		total *= k
	}
	states = make([]float64, total*d)
	for s := range total {
		r := s
		for i := range d {
			states[s*d+i] = vals[r%k]
			r /= k
		}
	}
	f := make([]float64, total)
	if err := e.F(f, states); err != nil {
		t.Fatal(err)
	}
	logZ = mathx.LogSumExp(f)
	probs = make([]float64, total)
	for s, v := range f {
		probs[s] = math.Exp(v - logZ)
	}
	return states, probs, logZ
}

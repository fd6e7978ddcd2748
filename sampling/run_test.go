package sampling

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// Helpers for the tests of the continuous kernels (prefix cont).

// contSeeds are the seeds every statistical test runs over. None was
// chosen to make a test pass.
var contSeeds = []uint64{1, 2, 3, 4}

// contZ is how many Monte Carlo standard errors an estimate may be off.
// With about a thousand comparisons in the package, a correct sampler
// fails one with probability ~1e-2 at z = 4.5 under normality; batch-means
// standard errors carry some extra spread, which this allows for.
const contZ = 4.5

// contBatchMeans returns the mean of all draws of series (chains × draws)
// and its Monte Carlo standard error by the method of batch means: every
// chain is cut into nb consecutive batches, and the standard error is the
// standard deviation of the batch means over √(chains·nb). Batches must be
// longer than the autocorrelation time for the estimate to be honest;
// shorter ones make it too small, so the tests err on the strict side.
func contBatchMeans(series [][]float64, nb int) (mean, se float64) {
	var means []float64
	for _, ch := range series {
		size := len(ch) / nb
		for b := 0; b < nb; b++ {
			var s float64
			for _, v := range ch[b*size : (b+1)*size] {
				s += v
			}
			means = append(means, s/float64(size))
		}
	}
	var m float64
	for _, v := range means {
		m += v
	}
	m /= float64(len(means))
	var ss float64
	for _, v := range means {
		ss += (v - m) * (v - m)
	}
	k := float64(len(means))
	return m, math.Sqrt(ss / (k - 1) / k)
}

// contCheckExpect checks that the draws' mean of g is within contZ
// standard errors of want, and returns the deviation in standard errors.
func contCheckExpect(t *testing.T, what string, tr *Trace, g func(x []float64) float64, want float64) float64 {
	t.Helper()
	m, se := contBatchMeans(tr.SeriesFunc(g), 20)
	z := (m - want) / se
	if !(math.Abs(z) <= contZ) {
		t.Errorf("%s = %.4g ± %.2g (MCSE), want %.4g: off by %.1f standard errors", what, m, se, want, z)
	}
	return z
}

// contCheckMoments checks every mean and every covariance, the latter as
// E[(x_i − μ_i)(x_j − μ_j)] with the true μ.
func contCheckMoments(t *testing.T, label string, tr *Trace, mean, cov []float64) {
	t.Helper()
	d := len(mean)
	for i := 0; i < d; i++ {
		contCheckExpect(t, label+": E[x"+itoa(i)+"]", tr, func(x []float64) float64 { return x[i] }, mean[i])
		for j := i; j < d; j++ {
			contCheckExpect(t, label+": Cov[x"+itoa(i)+", x"+itoa(j)+"]", tr, func(x []float64) float64 {
				return (x[i] - mean[i]) * (x[j] - mean[j])
			}, cov[i*d+j])
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + itoa(i%10)
}

// contStart returns n starting points around centre, each coordinate
// uniform within ±2 of it, as Stan initialises chains.
func contStart(rng *rand.Rand, n int, centre []float64) []float64 {
	d := len(centre)
	x := make([]float64, n*d)
	for i := range x {
		x[i] = centre[i%d] + 4*rng.Float64() - 2
	}
	return x
}

// contRun runs k on n chains from contStart and fails the test on error.
func contRun(t *testing.T, k Kernel, seed uint64, n int, centre []float64, cfg RunConfig) Result {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	res, err := Run(context.Background(), rng, k, contStart(rng, n, centre), n, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// contGaussians returns the test Gaussians: a correlated 2-D one and a
// 5-D one with condition number 10 in a random rotation.
func contGaussians(t *testing.T) map[string]*energy.Gaussian {
	g2, err := energy.NewGaussian([]float64{1, -1}, []float64{1, 0.8, 0.8, 2})
	if err != nil {
		t.Fatal(err)
	}
	g5, err := energy.NewIllConditionedGaussian(5, 10, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	m := g5.Mean()
	for i := range m {
		m[i] = float64(i) - 2
	}
	g5, err = energy.NewGaussian(m, g5.Cov())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*energy.Gaussian{"2-D": g2, "5-D": g5}
}

// contKernel names a kernel constructor for the table-driven tests.
type contKernel struct {
	name  string
	new   func(e energy.Differentiable) (Kernel, error)
	draws int // kept draws per chain for moment tests
	thin  int
}

// contExactKernels are the kernels whose stationary density is exactly
// exp(f).
func contExactKernels() []contKernel {
	return []contKernel{
		{"HMC", func(e energy.Differentiable) (Kernel, error) {
			return NewHMC(e, HMCConfig{TrajectoryLength: 3, Jitter: 0.5})
		}, 2000, 1},
		{"NUTS", func(e energy.Differentiable) (Kernel, error) { return NewNUTS(e, NUTSConfig{}) }, 2000, 1},
		{"NUTS/PerChain", func(e energy.Differentiable) (Kernel, error) {
			return NewNUTS(e, NUTSConfig{PerChain: true})
		}, 2000, 1},
		{"MALA", func(e energy.Differentiable) (Kernel, error) { return NewMALA(e, MALAConfig{}) }, 4000, 2},
		{"RWMH", func(e energy.Differentiable) (Kernel, error) { return NewRWMH(e, RWMHConfig{}) }, 4000, 4},
	}
}

func TestExactKernelsGaussian(t *testing.T) {
	for name, g := range contGaussians(t) {
		for _, kc := range contExactKernels() {
			t.Run(kc.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				for _, seed := range contSeeds {
					k, err := kc.new(g)
					if err != nil {
						t.Fatal(err)
					}
					res := contRun(t, k, seed, 8, g.Mean(), RunConfig{Warmup: 1000, Draws: kc.draws, Thin: kc.thin})
					contCheckMoments(t, "seed "+itoa(int(seed)), &res.Trace, g.Mean(), g.Cov())
					if res.Divergences > 0 {
						t.Errorf("seed %d: %d divergences on a Gaussian", seed, res.Divergences)
					}
				}
			})
		}
	}
}

// contReplicates holds, for every statistic, one estimate per independent
// chain: the method of independent replications, which gives an honest
// standard error where within-chain estimates (batch means, ESS) do not.
// MALA is not geometrically ergodic on targets with tails lighter than
// Gaussian (Roberts & Tweedie 1996) — the banana and Rosenbrock have
// quartic terms — and there its batch-means errors come out too small.
// Chains of one run share the adapted parameters but are independent
// given them, and every run starts from its own seed.
type contReplicates struct {
	names []string
	want  []float64
	stats []func(x []float64) float64
	est   [][]float64 // est[k] = per-chain estimates of statistic k
}

func (r *contReplicates) add(name string, want float64, g func(x []float64) float64) {
	r.names = append(r.names, name)
	r.want = append(r.want, want)
	r.stats = append(r.stats, g)
	r.est = append(r.est, nil)
}

// addSecondMoments adds every mean and every E[(x_i − μ_i)(x_j − μ_j)].
func (r *contReplicates) addSecondMoments(mean, cov []float64) {
	d := len(mean)
	for i := 0; i < d; i++ {
		r.add("E[x"+itoa(i)+"]", mean[i], func(x []float64) float64 { return x[i] })
		for j := i; j < d; j++ {
			r.add("Cov[x"+itoa(i)+", x"+itoa(j)+"]", cov[i*d+j], func(x []float64) float64 {
				return (x[i] - mean[i]) * (x[j] - mean[j])
			})
		}
	}
}

// record adds the per-chain estimates of a run.
func (r *contReplicates) record(tr *Trace) {
	for k, g := range r.stats {
		for _, ch := range tr.SeriesFunc(g) {
			var s float64
			for _, v := range ch {
				s += v
			}
			r.est[k] = append(r.est[k], s/float64(len(ch)))
		}
	}
}

// check fails the test for every statistic whose mean over replicates is
// more than contZ standard errors from its true value.
func (r *contReplicates) check(t *testing.T, label string) {
	t.Helper()
	for k, e := range r.est {
		m, se := contBatchMeans([][]float64{e}, len(e))
		z := (m - r.want[k]) / se
		if !(math.Abs(z) <= contZ) {
			t.Errorf("%s: %s = %.4g ± %.2g (MCSE over %d chains), want %.4g: off by %.1f standard errors", label, r.names[k], m, se, len(e), r.want[k], z)
		}
	}
}

// contHardTarget is a non-Gaussian test target with settings under which
// the kernels are expected to be exact within Monte Carlo error.
type contHardTarget struct {
	name   string
	e      energy.Analytic
	funnel bool // check the marginal of v = x₀ only
}

// contHardTargets returns the banana (b = 0.1, σ₁ = 3: Var x₂ = 2.62),
// the Rosenbrock distribution with a = 1, b = 3, s = ½ (x₁ ~ N(1, 1),
// x₂ | x₁ ~ N(x₁², ⅓)) and Neal's funnel in 10 dimensions with σ = 1.5
// (v spans e^{±4.5}: scales of x differ ~90-fold between neck and mouth).
// The classical σ = 3 funnel defeats every kernel here, NUTS included: a
// diagonal metric cannot follow the neck, and v's mean comes out ~+0.8
// with hundreds of divergences, as in Stan without reparametrisation.
func contHardTargets(t *testing.T) []contHardTarget {
	ban, err := energy.NewBanana(0.1, 3)
	if err != nil {
		t.Fatal(err)
	}
	ros, err := energy.NewRosenbrockScaled(1, 3, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	fun, err := energy.NewFunnel(10, 1.5)
	if err != nil {
		t.Fatal(err)
	}
	return []contHardTarget{{"banana", ban, false}, {"Rosenbrock", ros, false}, {"funnel", fun, true}}
}

// contCheckHard runs a fresh kernel from newK on the target for every seed
// and checks the second moments (the funnel: E[v] and Var v) by
// independent replications over chains and seeds.
func contCheckHard(t *testing.T, tg contHardTarget, newK func(e energy.Differentiable) (Kernel, error), cfg RunConfig) {
	t.Helper()
	var r contReplicates
	mean, cov := tg.e.Mean(), tg.e.Cov()
	if tg.funnel {
		r.add("E[v]", 0, func(x []float64) float64 { return x[0] })
		r.add("Var v", cov[0], func(x []float64) float64 { return x[0] * x[0] })
	} else {
		r.addSecondMoments(mean, cov)
	}
	divs, n := 0, 0
	for _, seed := range contSeeds {
		k, err := newK(tg.e)
		if err != nil {
			t.Fatal(err)
		}
		res := contRun(t, k, seed, 8, mean, cfg)
		r.record(&res.Trace)
		divs += res.Divergences
		n += res.Trace.Draws * res.Trace.Chains
	}
	r.check(t, tg.name)
	t.Logf("%s: %d divergences in %d transitions", tg.name, divs, n)
}

// contIsoGaussian is N(0, σ²I) in d dimensions (σ = 0 means 1), an energy
// that allocates nothing.
type contIsoGaussian struct {
	d     int
	sigma float64
}

func (g contIsoGaussian) Dim() int { return g.d }

func (g contIsoGaussian) F(dst, x []float64) error {
	return g.FGrad(dst, nil, x)
}

func (g contIsoGaussian) FGrad(dst, grad, x []float64) error {
	if _, err := energy.CheckBatch(g.d, dst, x); err != nil {
		return err
	}
	p := 1.0
	if g.sigma != 0 {
		p = 1 / (g.sigma * g.sigma)
	}
	for n := range dst {
		var f float64
		for i, v := range x[n*g.d : (n+1)*g.d] {
			f -= 0.5 * p * v * v
			if grad != nil {
				grad[n*g.d+i] = -p * v
			}
		}
		dst[n] = f
	}
	return nil
}

// contAllKernels returns a constructor for every continuous kernel, with
// settings fit for a standard normal.
func contAllKernels() []contKernel {
	ks := contExactKernels()
	ks = append(ks, contKernel{"Langevin", func(e energy.Differentiable) (Kernel, error) { return NewULA(e, 0.05) }, 2000, 1})
	return ks
}

// contNaNRegion is the standard normal in d dimensions, except that f
// (or, with gradOnly, ∇f alone) is NaN where x₀ > 1. It records whether
// it was ever asked to evaluate a non-finite position.
type contNaNRegion struct {
	d           int
	gradOnly    bool
	sawNonFinit *bool
}

func (e contNaNRegion) Dim() int { return e.d }
func (e contNaNRegion) F(dst, x []float64) error {
	return e.FGrad(dst, make([]float64, len(x)), x)
}
func (e contNaNRegion) FGrad(dst, grad, x []float64) error {
	if err := (contIsoGaussian{d: e.d}).FGrad(dst, grad, x); err != nil {
		return err
	}
	if !finiteRow(x) {
		*e.sawNonFinit = true
	}
	for n := range dst {
		if x[n*e.d] > 1 {
			if e.gradOnly {
				grad[n*e.d] = math.NaN()
			} else {
				dst[n] = math.NaN()
			}
		}
	}
	return nil
}

// TestDivergencesNeverCorruptChains runs every kernel on a standard normal
// whose energy is NaN for x₀ > 1: divergences must be counted, no NaN may
// enter a chain, no chain may enter the region, the energy must never be
// asked about a non-finite position, and the exact kernels must sample the
// normal truncated to x₀ ≤ 1 (E[x₀] = −φ(1)/Φ(1), E[x₀²] = 1 − φ(1)/Φ(1)).
func TestDivergencesNeverCorruptChains(t *testing.T) {
	const lambda = 0.24197072451914337 / 0.8413447460685429 // φ(1)/Φ(1)
	for _, gradOnly := range []bool{false, true} {
		for _, kc := range contAllKernels() {
			if gradOnly && kc.name == "RWMH" {
				continue // RWMH never asks for ∇f
			}
			if kc.name == "HMC" {
				// A fixed trajectory length T = 3 crosses the wall from
				// most points near it whatever ε, so adaptation drives ε
				// down until ⌊T/ε⌋ hits MaxSteps; a fixed L suits walls.
				kc.new = func(e energy.Differentiable) (Kernel, error) { return NewHMC(e, HMCConfig{Jitter: 0.5}) }
			}
			name := kc.name + "/f"
			if gradOnly {
				name = kc.name + "/grad"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var saw bool
				e := contNaNRegion{d: 2, gradOnly: gradOnly, sawNonFinit: &saw}
				for _, seed := range contSeeds[:2] {
					k, err := kc.new(e)
					if err != nil {
						t.Fatal(err)
					}
					res := contRun(t, k, seed, 8, []float64{-1, 0}, RunConfig{Warmup: 1000, Draws: kc.draws, Thin: kc.thin})
					if res.Divergences+res.WarmupDivergences == 0 {
						t.Errorf("seed %d: no divergence counted", seed)
					}
					for i, v := range res.Trace.X {
						if !isFiniteF(v) || (i%2 == 0 && v > 1) {
							t.Fatalf("seed %d: draw value %v at %d", seed, v, i)
						}
					}
					for _, f := range res.Trace.F {
						if !isFiniteF(f) {
							t.Fatalf("seed %d: f = %v in the trace", seed, f)
						}
					}
					if kc.name != "Langevin" {
						contCheckExpect(t, "E[x₀]", &res.Trace, func(x []float64) float64 { return x[0] }, -lambda)
						contCheckExpect(t, "E[x₀²]", &res.Trace, func(x []float64) float64 { return x[0] * x[0] }, 1-lambda)
					}
				}
				if saw {
					t.Error("the energy was evaluated at a non-finite position")
				}
			})
		}
	}
}

// TestInitDiverged checks that a chain starting where f or ∇f is NaN is an
// error wrapping ErrDiverged, and a wrong number of values one wrapping
// energy.ErrShape.
func TestInitDiverged(t *testing.T) {
	for _, gradOnly := range []bool{false, true} {
		var saw bool
		e := contNaNRegion{d: 2, gradOnly: gradOnly, sawNonFinit: &saw}
		for _, kc := range contAllKernels() {
			if gradOnly && kc.name == "RWMH" {
				continue
			}
			k, err := kc.new(e)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.Init([]float64{0, 0, 2, 0}, 2); !errors.Is(err, ErrDiverged) {
				t.Errorf("%s: Init at a NaN point: %v, want ErrDiverged", kc.name, err)
			}
			if _, err := k.Init([]float64{0, 0, 0}, 2); !errors.Is(err, energy.ErrShape) {
				t.Errorf("%s: Init with 3 values: %v, want ErrShape", kc.name, err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			if _, err := Run(context.Background(), rng, k, []float64{2, 0}, 1, RunConfig{Draws: 1}); !errors.Is(err, ErrDiverged) {
				t.Errorf("%s: Run from a NaN point: %v, want ErrDiverged", kc.name, err)
			}
		}
	}
}

// TestKernelsDeterministic checks that a run, warm-up adaptation
// included, is a function of the seed.
func TestKernelsDeterministic(t *testing.T) {
	g := contGaussians(t)["5-D"]
	for _, kc := range contAllKernels() {
		run := func(seed uint64) Result {
			k, err := kc.new(g)
			if err != nil {
				t.Fatal(err)
			}
			return contRun(t, k, seed, 4, g.Mean(), RunConfig{Warmup: 200, Draws: 50})
		}
		a, b, c := run(7), run(7), run(8)
		same := func(x, y []float64) bool {
			for i := range x {
				if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
					return false
				}
			}
			return len(x) == len(y)
		}
		if !same(a.Trace.X, b.Trace.X) || !same(a.Trace.F, b.Trace.F) || a.Params.StepSize != b.Params.StepSize || a.GradEvals != b.GradEvals {
			t.Errorf("%s: two runs with seed 7 differ", kc.name)
		}
		if same(a.Trace.X, c.Trace.X) {
			t.Errorf("%s: seeds 7 and 8 give the same draws", kc.name)
		}
	}
}

// TestKernelsDoNotAllocate checks that steps allocate nothing once the
// kernel's buffers exist.
func TestKernelsDoNotAllocate(t *testing.T) {
	e := contIsoGaussian{d: 3}
	for _, kc := range contAllKernels() {
		k, err := kc.new(e)
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := k.(Adaptive); ok {
			p := a.Params()
			p.StepSize = 0.5
			if err := a.(interface{ SetParams(Params) error }).SetParams(p); err != nil {
				t.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		s, err := k.Init(contStart(rng, 4, make([]float64, 3)), 4)
		if err != nil {
			t.Fatal(err)
		}
		for range 300 {
			if s, _, err = k.Step(rng, s); err != nil {
				t.Fatal(err)
			}
		}
		if n := testing.AllocsPerRun(200, func() { s, _, _ = k.Step(rng, s) }); n != 0 {
			t.Errorf("%s: %v allocations per step", kc.name, n)
		}
	}
}

// contCounter is a deterministic kernel for testing Run: every step adds
// 1 to every coordinate, sets F to the first coordinate, accepts with
// probability ½, costs 2 gradient evaluations and marks chain 0
// divergent.
type contCounter struct{ d int }

func (k contCounter) Init(x []float64, n int) (State, error) {
	if len(x) != n*k.d {
		return State{}, energy.ErrShape
	}
	s := State{N: n, D: k.d, X: append([]float64(nil), x...), F: make([]float64, n)}
	for c := range s.F {
		s.F[c] = s.X[c*k.d]
	}
	return s, nil
}

func (k contCounter) Step(rng *rand.Rand, s State) (State, Info, error) {
	info := Info{AcceptProb: make([]float64, s.N), Accepted: make([]bool, s.N), Divergent: make([]bool, s.N), GradEvals: 2}
	for i := range s.X {
		s.X[i]++
	}
	for c := range s.F {
		s.F[c] = s.X[c*k.d]
		info.AcceptProb[c], info.Accepted[c] = 0.5, true
	}
	info.Divergent[0] = true
	return s, info, nil
}

func TestRunTraceAndCounts(t *testing.T) {
	x0 := []float64{0, 10, 100, 1000}
	var iters []int
	rng := rand.New(rand.NewPCG(1, 1))
	res, err := Run(context.Background(), rng, contCounter{d: 2}, x0, 2, RunConfig{Warmup: 5, Draws: 4, Thin: 3,
		Callback: func(it int, s State, info Info) error {
			iters = append(iters, it)
			if s.X[0] != float64(it+1) {
				t.Errorf("callback %d sees x = %v", it, s.X[0])
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(iters) != 17 || iters[0] != 0 || iters[16] != 16 {
		t.Errorf("callback iterations %v, want 0…16", iters)
	}
	tr := res.Trace
	if tr.Draws != 4 || tr.Chains != 2 || tr.Dim != 2 || len(tr.X) != 16 || len(tr.F) != 8 {
		t.Fatalf("trace %d×%d×%d with %d values and %d f", tr.Draws, tr.Chains, tr.Dim, len(tr.X), len(tr.F))
	}
	// Draws are kept after sampling transitions 3, 6, 9, 12: 8, 11, 14 and
	// 17 transitions in all.
	for d, n := range []float64{8, 11, 14, 17} {
		for c := 0; c < 2; c++ {
			for i := 0; i < 2; i++ {
				if got, want := tr.At(d, c)[i], x0[c*2+i]+n; got != want {
					t.Errorf("draw %d chain %d [%d] = %v, want %v", d, c, i, got, want)
				}
			}
		}
	}
	if s := tr.Series(1); len(s) != 2 || len(s[1]) != 4 || s[1][0] != 1008 || s[0][3] != 27 {
		t.Errorf("Series(1) = %v", s)
	}
	if f := tr.FSeries(); f[1][2] != 114 || f[0][0] != 8 {
		t.Errorf("FSeries = %v", f)
	}
	if m, err := tr.Mean(); err != nil || m[0] != (12.5+112.5)/2 {
		t.Errorf("Mean = %v", m)
	}
	// Cov of x₀ over {8, 11, 14, 17, 108, 111, 114, 117}: mean 62.5.
	var want float64
	for _, v := range []float64{8, 11, 14, 17, 108, 111, 114, 117} {
		want += (v - 62.5) * (v - 62.5) / 7
	}
	if c, err := tr.Cov(); err != nil || math.Abs(c[0]-want) > 1e-9 || c[1] != c[2] {
		t.Errorf("Cov = %v, want [0][0] = %v", c, want)
	}
	if res.Iterations != 17 || res.GradEvals != 34 || res.Accepted != 24 || res.MeanAccept != 0.5 ||
		res.Divergences != 12 || res.WarmupDivergences != 5 {
		t.Errorf("Result %+v", res)
	}
	if res.Final.X[3] != 1017 {
		t.Errorf("Final = %v", res.Final.X)
	}
}

func TestRunStops(t *testing.T) {
	x0 := []float64{0, 0}
	rng := rand.New(rand.NewPCG(1, 1))
	stopAt := func(at int, err error) RunConfig {
		return RunConfig{Warmup: 5, Draws: 10, Callback: func(it int, s State, info Info) error {
			if it == at {
				return err
			}
			return nil
		}}
	}
	// ErrStop: no error, the draws so far.
	res, err := Run(context.Background(), rng, contCounter{d: 2}, x0, 1, stopAt(8, ErrStop))
	if err != nil || res.Trace.Draws != 4 || res.Iterations != 9 {
		t.Errorf("ErrStop at 8: %v, %d draws, %d iterations", err, res.Trace.Draws, res.Iterations)
	}
	// Another error is returned wrapped, with the draws so far.
	boom := errors.New("boom")
	res, err = Run(context.Background(), rng, contCounter{d: 2}, x0, 1, stopAt(2, boom))
	if !errors.Is(err, boom) || res.Trace.Draws != 0 || res.Final.X[0] != 3 {
		t.Errorf("error at 2: %v, %d draws, final %v", err, res.Trace.Draws, res.Final.X)
	}
	// Cancellation is noticed before the next transition.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := stopAt(-1, nil)
	cfg.Callback = func(it int, s State, info Info) error {
		if it == 9 {
			cancel()
		}
		return nil
	}
	res, err = Run(ctx, rng, contCounter{d: 2}, x0, 1, cfg)
	if !errors.Is(err, context.Canceled) || res.Trace.Draws != 5 || res.Iterations != 10 {
		t.Errorf("cancel at 9: %v, %d draws, %d iterations", err, res.Trace.Draws, res.Iterations)
	}
	// No draws kept: Final is where the chains ended.
	res, err = Run(context.Background(), rng, contCounter{d: 2}, x0, 1, RunConfig{Warmup: 60})
	if err != nil || res.Trace.Draws != 0 || res.Final.X[1] != 60 {
		t.Errorf("Warmup only: %v, %d draws, final %v", err, res.Trace.Draws, res.Final.X)
	}
}

// TestRunAdaptation checks that Run adapts Adaptive kernels, stops doing
// so with NoAdapt, reports the parameters, and leaves adapted parameters
// in the kernel when a run is cancelled during warm-up.
func TestRunAdaptation(t *testing.T) {
	g := contGaussians(t)["2-D"]
	k, err := NewNUTS(g, NUTSConfig{StepSize: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	res := contRun(t, k, 1, 4, g.Mean(), RunConfig{Warmup: 200, NoAdapt: true})
	if res.Params.StepSize != 0.3 || res.Params.InvMass != nil {
		t.Errorf("NoAdapt: parameters %+v changed", res.Params)
	}
	res = contRun(t, k, 1, 4, g.Mean(), RunConfig{Warmup: 200})
	if res.Params.StepSize == 0.3 || len(res.Params.InvMass) != 2 {
		t.Errorf("adapted parameters %+v", res.Params)
	}
	if p := k.Params(); p.StepSize != res.Params.StepSize || p.InvMass[1] != res.Params.InvMass[1] {
		t.Errorf("kernel parameters %+v, Result.Params %+v", p, res.Params)
	}
	if err := k.SetParams(Params{StepSize: 0.3}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rng := rand.New(rand.NewPCG(1, 1))
	res, err = Run(ctx, rng, k, make([]float64, 8), 4, RunConfig{Warmup: 200, Draws: 10, Callback: func(it int, s State, info Info) error {
		if it == 50 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) || res.Params.StepSize == 0.3 || k.Params().StepSize != res.Params.StepSize {
		t.Errorf("cancelled warm-up: %v, Result.Params %+v, kernel %+v", err, res.Params, k.Params())
	}
}

// TestRunPanics checks the panic policy: programmer errors (nil
// arguments, a state not made by the kernel's Init) panic; values a user
// sets (chain counts, RunConfig counts, kernel parameters) are errors.
func TestRunPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	k := contCounter{d: 1}
	for name, f := range map[string]func(){
		"nil rng":    func() { Run(context.Background(), nil, k, []float64{0}, 1, RunConfig{}) },
		"nil kernel": func() { Run(context.Background(), rng, nil, []float64{0}, 1, RunConfig{}) },
		"nil rng Step": func() {
			h, _ := NewHMC(contIsoGaussian{d: 1}, HMCConfig{})
			s, _ := h.Init([]float64{0}, 1)
			h.Step(nil, s)
		},
	} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || len(s) < 10 || s[:10] != "sampling: " {
					t.Errorf("%s: recovered %v, want a \"sampling: …\" panic", name, r)
				}
			}()
			f()
		}()
	}
	h, _ := NewHMC(contIsoGaussian{d: 1}, HMCConfig{})
	for name, f := range map[string]func() error{
		"no chains": func() error {
			_, err := Run(context.Background(), rng, k, nil, 0, RunConfig{})
			return err
		},
		"negative draws": func() error {
			_, err := Run(context.Background(), rng, k, []float64{0}, 1, RunConfig{Draws: -1})
			return err
		},
		"negative warm-up": func() error {
			_, err := Run(context.Background(), rng, h, []float64{0}, 1, RunConfig{Warmup: -5})
			return err
		},
		"bad params": func() error { return h.SetParams(Params{StepSize: 1, InvMass: []float64{1, 2}}) },
		"zero step size": func() error {
			s, _ := h.Init([]float64{0}, 1)
			_, _, err := h.StepWith(rng, s, Params{})
			return err
		},
		"negative adapter warm-up": func() error {
			_, err := h.NewAdapter(-1)
			return err
		},
		"HMC.Init of no chains": func() error {
			_, err := h.Init(nil, 0)
			return err
		},
	} {
		if err := f(); err == nil || !strings.HasPrefix(err.Error(), "sampling: ") {
			t.Errorf("%s: error %v, want a \"sampling: …\" error", name, err)
		}
	}
	if p := h.Params(); p.StepSize != 1 || p.InvMass != nil {
		t.Errorf("a rejected SetParams changed the parameters to %+v", p)
	}
	if _, err := Run(context.Background(), rng, k, []float64{0, 0}, 1, RunConfig{}); !errors.Is(err, energy.ErrShape) {
		t.Errorf("Init error: %v, want it wrapped", err)
	}
}

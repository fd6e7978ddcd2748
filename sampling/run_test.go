package sampling

import (
	"context"
	"math"
	"math/rand/v2"
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

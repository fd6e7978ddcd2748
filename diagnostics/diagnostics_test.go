package diagnostics

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/mathx"
)

// val returns a function that returns v, failing the test on err.
func val(t *testing.T) func(v float64, err error) float64 {
	return func(v float64, err error) float64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// diagTestGen is a splitmix64 generator with an explicit normal transform,
// so that the reference data below are reproducible on any platform and Go
// version (the reference numbers were computed from the same data by the R
// package posterior 1.4.0).
type diagTestGen struct{ s uint64 }

func (g *diagTestGen) u() float64 {
	g.s += 0x9e3779b97f4a7c15
	z := g.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return (float64(z>>11) + 0.5) / (1 << 53)
}

func (g *diagTestGen) norm() float64 {
	return math.Sqrt(-2*math.Log(g.u())) * math.Cos(2*math.Pi*g.u())
}

// diagRefData returns the draws of reference case kind.
func diagRefData(kind int) [][]float64 {
	g := &diagTestGen{uint64(kind)*1000 + 7}
	switch kind {
	case 0: // AR(1) with ρ = 0.9, chain means shifted by 0.1 c
		ch := make([][]float64, 4)
		for c := range ch {
			x := 0.0
			for range 1000 {
				x = 0.9*x + math.Sqrt(1-0.81)*g.norm()
				ch[c] = append(ch[c], x+0.1*float64(c))
			}
		}
		return ch
	case 1: // Cauchy draws, odd number of draws
		ch := make([][]float64, 4)
		for c := range ch {
			for range 101 {
				ch[c] = append(ch[c], math.Tan(math.Pi*(g.u()-0.5)))
			}
		}
		return ch
	case 2: // one antithetic AR(1) chain, ρ = −0.7
		x := 0.0
		var ch []float64
		for range 500 {
			x = -0.7*x + g.norm()
			ch = append(ch, x)
		}
		return [][]float64{ch}
	case 3: // sticky three-state chains: many ties
		ch := make([][]float64, 3)
		for c := range ch {
			s := float64(c % 3)
			for range 200 {
				if g.u() < 0.3 {
					s = math.Floor(3 * g.u())
				}
				ch[c] = append(ch[c], s)
			}
		}
		return ch
	}
	panic("no such case")
}

// Values from posterior 1.4.0 (R): ess_bulk, ess_tail, ess_basic, rhat,
// mcse_mean, ess_quantile(x, 0.05), and autocorrelation of chain 1 at lags
// 1, 2 and 5, on the data of diagRefData.
var diagRef = []struct {
	bulk, tail, basic, rhat, mcse, q05 float64
	ac                                 [3]float64
}{
	{205.36165848, 414.571102988, 204.16315353, 1.02573648044, 0.0673307840054, 414.571102988, [3]float64{0.896350970909, 0.805028877012, 0.614968900623}},
	{387.445715933, 345.905137321, 406.08475693, 0.997368018867, 0.555189528826, 413.959170665, [3]float64{-0.0182274183722, -0.104648030507, -0.0143585956901}},
	{1349.48500217, 194.431011449, 1349.48500217, 1.00275148725, 0.0404185502341, 283.675128401, [3]float64{-0.730112562843, 0.556632535365, -0.243853536331}},
	{82.7093536883, math.NaN(), 82.7048652589, 1.04388301627, 0.0892616085378, 82.1708329658, [3]float64{0.611028151775, 0.412080783354, 0.20905752754}},
}

func diagClose(got, want, rel float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestDiagnosticsMatchPosterior(t *testing.T) {
	for k, ref := range diagRef {
		x := diagRefData(k)
		ac, err := Autocorr(make([]float64, 6), x[0])
		if err != nil {
			t.Fatal(err)
		}
		q05, err := ESSQuantile(x, 0.05)
		sum, serr := Summarize(x)
		if err != nil || serr != nil {
			t.Fatal(err, serr)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"ESS", val(t)(ESS(x)), ref.bulk},
			{"ESSTail", val(t)(ESSTail(x)), ref.tail},
			{"ESSMean", val(t)(ESSMean(x)), ref.basic},
			{"SplitRHat", val(t)(SplitRHat(x)), ref.rhat},
			{"MCSE", val(t)(MCSE(x)), ref.mcse},
			{"ESSQuantile(0.05)", q05, ref.q05},
			{"Summary.BulkESS", sum.BulkESS, ref.bulk},
			{"Summary.TailESS", sum.TailESS, ref.tail},
			{"Summary.RHat", sum.RHat, ref.rhat},
			{"Summary.MCSE", sum.MCSE, ref.mcse},
			{"Autocorr[1]", ac[1], ref.ac[0]},
			{"Autocorr[2]", ac[2], ref.ac[1]},
			{"Autocorr[5]", ac[5], ref.ac[2]},
		} {
			// The reference values are printed to 12 significant digits.
			if !diagClose(c.got, c.want, 1e-9) {
				t.Errorf("case %d: %s = %.12g, posterior gives %.12g", k, c.name, c.got, c.want)
			}
		}
	}
}

// TestAutocorrDirect checks the FFT autocorrelation against the direct sum
// at every lag, for lengths that are and are not powers of two.
func TestAutocorrDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 7, 64, 100, 257} {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.NormFloat64() + 3
		}
		got, err := Autocorr(nil, x)
		if err != nil {
			t.Fatal(err)
		}
		var mean float64
		for _, v := range x {
			mean += v
		}
		mean /= float64(n)
		g := func(t int) float64 {
			var s float64
			for i := 0; i+t < n; i++ {
				s += (x[i] - mean) * (x[i+t] - mean)
			}
			return s
		}
		for lag := range n {
			want := g(lag) / g(0)
			if math.Abs(got[lag]-want) > 1e-12 {
				t.Errorf("n=%d lag %d: Autocorr %.15g, direct %.15g", n, lag, got[lag], want)
			}
		}
	}
}

// diagAR1 returns m chains of n draws of a stationary AR(1) series with
// coefficient rho and unit marginal variance, plus shift[c] per chain.
func diagAR1(rng *rand.Rand, m, n int, rho float64, shift func(c int) float64) [][]float64 {
	ch := make([][]float64, m)
	s := math.Sqrt(1 - rho*rho)
	for c := range ch {
		ch[c] = make([]float64, n)
		x := rng.NormFloat64()
		for t := range ch[c] {
			x = rho*x + s*rng.NormFloat64()
			ch[c][t] = x + shift(c)
		}
	}
	return ch
}

// TestESSAR1 checks ESS/N against the asymptotic value (1−ρ)/(1+ρ) of an
// AR(1) process, with a tolerance from the spread over independent seeds.
func TestESSAR1(t *testing.T) {
	const seeds, m, n = 8, 4, 5000
	for _, rho := range []float64{-0.5, 0, 0.5, 0.9} {
		want := (1 - rho) / (1 + rho)
		if rho < 0 {
			// Antithetic chains: ESS above N, up to the cap N·log10(N).
			want = math.Min(want, math.Log10(m*n))
		}
		for _, est := range []struct {
			name string
			f    func([][]float64) (float64, error)
		}{{"ESS", ESS}, {"ESSMean", ESSMean}} {
			var r []float64
			for seed := range uint64(seeds) {
				rng := rand.New(rand.NewPCG(seed, 99))
				x := diagAR1(rng, m, n, rho, func(int) float64 { return 0 })
				r = append(r, val(t)(est.f(x))/(m*n))
			}
			mean, v := mathx.MeanVar(r)
			se := math.Sqrt(v / seeds)
			// 4 standard errors, plus 2% for the O(1/N) truncation bias of
			// Geyer's estimator and the rank transform.
			if math.Abs(mean-want) > 4*se+0.02*want {
				t.Errorf("ρ=%v: %s/N = %.4f ± %.4f over %d seeds, want %.4f", rho, est.name, mean, se, seeds, want)
			}
		}
	}
}

// TestMCSECoverage checks that MCSE is the standard deviation of the mean
// of an AR(1) chain: the z-scores of the means over many seeds have unit
// variance.
func TestMCSECoverage(t *testing.T) {
	const seeds = 200
	var z2 float64
	for seed := range uint64(seeds) {
		rng := rand.New(rand.NewPCG(seed, 5))
		x := diagAR1(rng, 2, 1000, 0.8, func(int) float64 { return 0 })
		m, _ := mathx.MeanVar(flatten(x))
		z := m / val(t)(MCSE(x))
		z2 += z * z
	}
	// Σz² is χ²(200) if MCSE is right: mean 200, sd 20.
	if z2 < seeds-4*20 || z2 > seeds+4*20 {
		t.Errorf("Σ z² = %.1f over %d seeds, want χ²(%d): within %d ± 80", z2, seeds, seeds, seeds)
	}
}

func TestSplitRHat(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 3))
		same := diagAR1(rng, 4, 2000, 0.5, func(int) float64 { return 0 })
		if r := val(t)(SplitRHat(same)); r > 1.01 || r < 0.99 {
			t.Errorf("seed %d: chains of one AR(1) process have R̂ = %.4f, want ≈ 1", seed, r)
		}
		// The same chain four times: identical chains.
		ident := [][]float64{same[0], same[0], same[0], same[0]}
		if r := val(t)(SplitRHat(ident)); r > 1.01 {
			t.Errorf("seed %d: identical chains have R̂ = %.4f, want ≈ 1", seed, r)
		}
		shifted := diagAR1(rng, 4, 2000, 0.5, func(c int) float64 { return float64(c) })
		if r := val(t)(SplitRHat(shifted)); r < 1.1 {
			t.Errorf("seed %d: chains with means 0,1,2,3 have R̂ = %.4f, want > 1.1", seed, r)
		}
		// Same mean, different scales: the folded (tail) R̂ sees it.
		scaled := diagAR1(rng, 4, 2000, 0.5, func(int) float64 { return 0 })
		for c := range scaled {
			for i := range scaled[c] {
				scaled[c][i] *= float64(1 + 2*c)
			}
		}
		if r := val(t)(SplitRHat(scaled)); r < 1.1 {
			t.Errorf("seed %d: chains with scales 1,3,5,7 have R̂ = %.4f, want > 1.1", seed, r)
		}
	}
}

func TestDiagnosticsDegenerate(t *testing.T) {
	constant := [][]float64{{1, 1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 1}}
	withNaN := [][]float64{{1, 2, 3, 4, 5, 6, 7, math.NaN()}}
	short := [][]float64{{1, 2, 3, 4, 5}}
	if r := val(t)(SplitRHat(short)); math.Abs(r-1.932362) > 1e-6 {
		t.Errorf("SplitRHat(1…5) = %.7g, posterior gives 1.932362", r)
	}
	for name, x := range map[string][][]float64{"constant": constant, "NaN": withNaN, "short": short} {
		for fname, f := range map[string]func([][]float64) (float64, error){"ESS": ESS, "ESSTail": ESSTail, "ESSMean": ESSMean, "SplitRHat": SplitRHat, "MCSE": MCSE} {
			if name == "short" && fname == "SplitRHat" {
				continue // 2 draws per half chain suffice for R̂ (posterior gives 1.932362 for 1…5)
			}
			if v := val(t)(f(x)); !math.IsNaN(v) {
				t.Errorf("%s of %s draws = %v, want NaN", fname, name, v)
			}
		}
	}
}

// TestDiagnosticsBadShapes checks that ragged, empty and draw-less input
// and a probability outside [0, 1] are errors, not panics.
func TestDiagnosticsBadShapes(t *testing.T) {
	fns := map[string]func([][]float64) (float64, error){"ESS": ESS, "ESSTail": ESSTail, "ESSMean": ESSMean, "SplitRHat": SplitRHat, "MCSE": MCSE,
		"Summarize": func(x [][]float64) (float64, error) { s, err := Summarize(x); return s.BulkESS, err }}
	for name, x := range map[string][][]float64{"ragged": {{1, 2, 3}, {1, 2}}, "no chains": nil, "no draws": {{}, {}}} {
		for fname, f := range fns {
			if _, err := f(x); !errors.Is(err, energy.ErrShape) {
				t.Errorf("%s of %s input: %v, want ErrShape", fname, name, err)
			}
		}
	}
	if _, err := ESSQuantile([][]float64{{1, 2, 3}}, 1.5); err == nil {
		t.Error("ESSQuantile at probability 1.5: no error")
	}
	if _, err := Autocorr(make([]float64, 4), []float64{1, 2, 3}); !errors.Is(err, energy.ErrShape) {
		t.Errorf("Autocorr of 4 lags from 3 values: %v, want ErrShape", err)
	}
}

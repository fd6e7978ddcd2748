package energy_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/gradcheck"
)

type analyticCase struct {
	name string
	e    interface {
		energy.Analytic
	}
	// box for quadrature checks (nil: not integrable on a grid)
	lo, hi []float64
	n      []int
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func analyticCases() []analyticCase {
	rng := rand.New(rand.NewPCG(7, 7))
	full := must(energy.NewGaussian([]float64{0.5, -1}, []float64{2, 0.8, 0.8, 1}))
	diag := must(energy.NewDiagGaussian([]float64{1, 2, -3}, []float64{0.5, 2, 4}))
	ill := must(energy.NewIllConditionedGaussian(5, 1e4, rng))
	ill2 := must(energy.NewIllConditionedGaussian(2, 100, rng))
	illAxis := must(energy.NewIllConditionedGaussian(4, 1e3, nil))
	c1 := must(energy.NewGaussian([]float64{-2, 0}, []float64{1, 0.3, 0.3, 0.5}))
	c2 := must(energy.NewDiagGaussian([]float64{3, 1}, []float64{0.4, 2}))
	mix := must(energy.NewMixture([]float64{1, 3}, []*energy.Gaussian{c1, c2}))
	return []analyticCase{
		{"Gaussian2", full, []float64{-12, -12}, []float64{12, 12}, []int{512, 512}},
		{"DiagGaussian3", diag, nil, nil, nil},
		{"IllConditioned5", ill, nil, nil, nil},
		{"IllConditioned2", ill2, []float64{-10, -10}, []float64{10, 10}, []int{1024, 1024}},
		{"IllConditionedAxis4", illAxis, nil, nil, nil},
		{"Mixture2", mix, []float64{-12, -12}, []float64{12, 12}, []int{512, 512}},
		{"Banana", must(energy.NewBanana(0.1, 2)), []float64{-20, -60}, []float64{20, 20}, []int{512, 2048}},
		{"Banana4", must(energy.NewBananaDim(4, 0.03, 10)), nil, nil, nil},
		{"Rosenbrock", must(energy.NewRosenbrock(1, 100)), []float64{-30, -10}, []float64{32, 1000}, []int{256, 8192}},
		{"RosenbrockUnscaled", must(energy.NewRosenbrockScaled(1, 5, 1)), []float64{-5, -5}, []float64{7, 40}, []int{512, 2048}},
		{"Funnel2", must(energy.NewFunnel(2, 0.5)), []float64{-5, -70}, []float64{5, 70}, []int{256, 8192}},
		{"Funnel10", must(energy.NewFunnel(10, 3)), nil, nil, nil},
		{"DoubleWell1", must(energy.NewDoubleWell(1, 4, 0.5)), []float64{-4}, []float64{4}, []int{2048}},
		{"DoubleWell2", must(energy.NewDoubleWell(2, 1, 0)), []float64{-4, -4}, []float64{4, 4}, []int{512, 512}},
	}
}

// TestGradients checks FGrad against central differences of F, and that
// FGrad's f equals F's, at random points of a batch.
func TestGradients(t *testing.T) {
	for _, tc := range analyticCases() {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			d := tc.e.Dim()
			const n = 5
			x := make([]float64, n*d)
			for i := range x {
				x[i] = 1.5 * rng.NormFloat64()
			}
			f := make([]float64, n)
			f2 := make([]float64, n)
			g := make([]float64, n*d)
			if err := tc.e.FGrad(f, g, x); err != nil {
				t.Fatal(err)
			}
			if err := tc.e.F(f2, x); err != nil {
				t.Fatal(err)
			}
			for s := 0; s < n; s++ {
				if f[s] != f2[s] {
					t.Errorf("sample %d: FGrad f = %v, F f = %v", s, f[s], f2[s])
				}
				one := func(p []float64) float64 {
					var v [1]float64
					if err := tc.e.F(v[:], p); err != nil {
						t.Fatal(err)
					}
					return v[0]
				}
				xs := append([]float64(nil), x[s*d:(s+1)*d]...)
				if err := gradcheck.Check(fmt.Sprintf("%s sample %d", tc.name, s), one, xs, g[s*d:(s+1)*d], 1e-5, 1e-6); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestQuadratureMatchesClosedForms integrates every 1-D and 2-D energy on
// a grid and compares log Z, the mean and the covariance with the closed
// forms.
func TestQuadratureMatchesClosedForms(t *testing.T) {
	for _, tc := range analyticCases() {
		if tc.lo == nil {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			r, err := energy.Quadrature(t.Context(), tc.e, energy.Grid{Lo: tc.lo, Hi: tc.hi, N: tc.n})
			if err != nil {
				t.Fatal(err)
			}
			want := tc.e.LogZ()
			if math.Abs(r.LogZ-want) > 1e-6 {
				t.Errorf("log Z: quadrature %.12g, closed form %.12g (diff %.3g, err est %.3g, edge %.3g)", r.LogZ, want, r.LogZ-want, r.Err, r.EdgeMass)
			}
			t.Logf("log Z diff %.2g, err est %.2g, edge %.2g, %d points", r.LogZ-want, r.Err, r.EdgeMass, r.Points)
			if r.EdgeMass > 1e-10 {
				t.Errorf("edge mass %.3g: box too small", r.EdgeMass)
			}
			if r.Err > 1e-6 {
				t.Errorf("error estimate %.3g above 1e-6", r.Err)
			}
			mean, cov := tc.e.Mean(), tc.e.Cov()
			for i := range mean {
				if math.Abs(r.Mean[i]-mean[i]) > 1e-6*math.Max(1, math.Abs(mean[i])) {
					t.Errorf("mean[%d]: quadrature %.10g, closed form %.10g", i, r.Mean[i], mean[i])
				}
			}
			for i := range cov {
				if math.Abs(r.Cov[i]-cov[i]) > 1e-6*math.Max(1, math.Abs(cov[i])) {
					t.Errorf("cov[%d]: quadrature %.10g, closed form %.10g", i, r.Cov[i], cov[i])
				}
			}
		})
	}
}

// TestSampleMoments draws exact samples and checks their mean and
// variance against the closed forms, over several seeds, with tolerances
// of 4.5 Monte Carlo standard errors (per coordinate; the chance that a
// correct implementation fails one of these checks is below 1e-4 in all).
func TestSampleMoments(t *testing.T) {
	for _, tc := range analyticCases() {
		s, ok := tc.e.(energy.ExactSampler)
		if !ok {
			continue
		}
		if tc.name == "Funnel10" {
			continue // heavy-tailed x: see TestFunnelMarginal
		}
		t.Run(tc.name, func(t *testing.T) {
			d := tc.e.Dim()
			mean, cov := tc.e.Mean(), tc.e.Cov()
			const n = 20000
			for seed := uint64(1); seed <= 3; seed++ {
				rng := rand.New(rand.NewPCG(seed, 99))
				x := make([]float64, n*d)
				if err := s.Sample(rng, x); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < d; i++ {
					var m1, m2, m4 float64
					for k := 0; k < n; k++ {
						v := x[k*d+i] - mean[i]
						m1 += v
						m2 += v * v
						m4 += v * v * v * v
					}
					m1 /= n
					m2 /= n
					m4 /= n
					vi := cov[i*d+i]
					if se := math.Sqrt(vi / n); math.Abs(m1) > 4.5*se {
						t.Errorf("seed %d: mean[%d] off by %.4g, %.1f standard errors", seed, i, m1, m1/se)
					}
					// Standard error of the second central moment: √((μ4 − σ⁴)/n).
					if se := math.Sqrt(math.Max(m4-vi*vi, 0) / n); math.Abs(m2-vi) > 4.5*se {
						t.Errorf("seed %d: var[%d] = %.5g, want %.5g (%.1f standard errors)", seed, i, m2, vi, (m2-vi)/se)
					}
				}
			}
		})
	}
}

// TestFunnelMarginal checks the funnel's v-marginal N(0, σ²) and the
// variance of x at σ = 1 from exact samples.
func TestFunnelMarginal(t *testing.T) {
	for _, sigma := range []float64{1, 3} {
		f := must(energy.NewFunnel(4, sigma))
		const n = 40000
		for seed := uint64(1); seed <= 3; seed++ {
			rng := rand.New(rand.NewPCG(seed, 5))
			x := make([]float64, n*4)
			if err := f.Sample(rng, x); err != nil {
				t.Fatal(err)
			}
			// P(v ≤ σ) = Φ(1) ≈ 0.841345.
			c := 0
			var sx2 float64
			for k := 0; k < n; k++ {
				if x[4*k] <= sigma {
					c++
				}
				sx2 += x[4*k+1] * x[4*k+1]
			}
			p := 0.5 * math.Erfc(-1/math.Sqrt2)
			if se := math.Sqrt(p * (1 - p) / n); math.Abs(float64(c)/n-p) > 4.5*se {
				t.Errorf("σ=%g seed %d: P(v ≤ σ) = %.4f, want %.4f", sigma, seed, float64(c)/n, p)
			}
			if sigma == 1 {
				// E x² = e^{1/2}, Var x² = E x⁴ − (E x²)² = 3e² − e.
				want := math.Exp(0.5)
				se := math.Sqrt((3*math.Exp(2) - math.E) / n)
				if got := sx2 / n; math.Abs(got-want) > 4.5*se {
					t.Errorf("seed %d: E x² = %.4f, want %.4f", seed, got, want)
				}
			}
		}
	}
}

// TestSampleDensity checks exact samples against f with a histogram-free
// test: for a Gaussian, E[f(x)] = −d/2 and Var f = d/2 exactly.
func TestGaussianEnergyOfSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	g := must(energy.NewIllConditionedGaussian(6, 1e4, rng))
	const n = 20000
	x := make([]float64, n*6)
	if err := g.Sample(rng, x); err != nil {
		t.Fatal(err)
	}
	f := make([]float64, n)
	if err := g.F(f, x); err != nil {
		t.Fatal(err)
	}
	var m float64
	for _, v := range f {
		m += v
	}
	m /= n
	if se := math.Sqrt(3.0 / n); math.Abs(m+3) > 4.5*se {
		t.Errorf("E f = %.4f, want −3 ± %.3f", m, se)
	}
}

// TestIllConditioned checks the spectrum: Σ·Σ⁻¹ = I (through F's
// gradient), trace Σ = Σ λ, and log Z = (d/2) log 2π + ½ Σ log λ.
func TestIllConditioned(t *testing.T) {
	const d = 8
	const cond = 1e4
	for _, rng := range []*rand.Rand{nil, rand.New(rand.NewPCG(11, 12))} {
		g := must(energy.NewIllConditionedGaussian(d, cond, rng))
		cov := g.Cov()
		var tr, sumLog float64
		for k := 0; k < d; k++ {
			l := math.Pow(cond, -float64(k)/(d-1))
			tr += l
			sumLog += math.Log(l)
		}
		var gotTr float64
		for i := 0; i < d; i++ {
			gotTr += cov[i*d+i]
		}
		if math.Abs(gotTr-tr) > 1e-12*tr {
			t.Errorf("trace %v, want %v", gotTr, tr)
		}
		if want := 0.5*d*math.Log(2*math.Pi) + 0.5*sumLog; math.Abs(g.LogZ()-want) > 1e-12 {
			t.Errorf("log Z %v, want %v", g.LogZ(), want)
		}
		// −∇f at x = Σ e_j is Σ⁻¹ Σ e_j = e_j.
		x := make([]float64, d*d)
		for j := 0; j < d; j++ {
			for i := 0; i < d; i++ {
				x[j*d+i] = cov[i*d+j]
			}
		}
		f := make([]float64, d)
		gr := make([]float64, d*d)
		if err := g.FGrad(f, gr, x); err != nil {
			t.Fatal(err)
		}
		for j := 0; j < d; j++ {
			for i := 0; i < d; i++ {
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(-gr[j*d+i]-want) > 1e-9 {
					t.Errorf("(Σ⁻¹Σ)[%d][%d] = %v, want %v", i, j, -gr[j*d+i], want)
				}
			}
		}
	}
}

func TestMixtureFarFromModes(t *testing.T) {
	c1 := must(energy.NewDiagGaussian([]float64{-50}, []float64{1}))
	c2 := must(energy.NewDiagGaussian([]float64{50}, []float64{1}))
	m := must(energy.NewMixture([]float64{0.5, 0.5}, []*energy.Gaussian{c1, c2}))
	f := make([]float64, 3)
	g := make([]float64, 3)
	if err := m.FGrad(f, g, []float64{0, 1000, -1000}); err != nil {
		t.Fatal(err)
	}
	// At 0 both components are equal: f = −½·50² − ½ log 2π, gradient 0.
	if want := -1250 - 0.5*math.Log(2*math.Pi); math.Abs(f[0]-want) > 1e-9 || math.Abs(g[0]) > 1e-12 {
		t.Errorf("f(0) = %v, grad %v; want %v, 0", f[0], g[0], want)
	}
	// At 1000 component 2 dominates: f = log ½ − ½·950² − ½ log 2π.
	if want := math.Log(0.5) - 0.5*950*950 - 0.5*math.Log(2*math.Pi); math.Abs(f[1]-want) > 1e-6 || math.Abs(g[1]+950) > 1e-9 {
		t.Errorf("f(1000) = %v, grad %v; want %v, −950", f[1], g[1], want)
	}
	if math.IsInf(f[2], 0) || math.IsNaN(g[2]) {
		t.Errorf("f(−1000) = %v, grad %v: not finite", f[2], g[2])
	}
}

func TestBadParameters(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	g1 := must(energy.NewDiagGaussian([]float64{0}, []float64{1}))
	g2 := must(energy.NewDiagGaussian([]float64{0, 0}, []float64{1, 1}))
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"non-PD", second(energy.NewGaussian([]float64{0, 0}, []float64{1, 2, 2, 1})), energy.ErrParameter},
		{"asymmetric", second(energy.NewGaussian([]float64{0, 0}, []float64{1, 0.5, 0.2, 1})), energy.ErrParameter},
		{"cov size", second(energy.NewGaussian([]float64{0, 0}, []float64{1, 0, 1})), energy.ErrShape},
		{"empty mean", second(energy.NewGaussian(nil, nil)), energy.ErrParameter},
		{"NaN mean", second(energy.NewGaussian([]float64{math.NaN()}, []float64{1})), energy.ErrParameter},
		{"negative variance", second(energy.NewDiagGaussian([]float64{0, 0}, []float64{1, -1})), energy.ErrParameter},
		{"zero variance", second(energy.NewDiagGaussian([]float64{0}, []float64{0})), energy.ErrParameter},
		{"variance count", second(energy.NewDiagGaussian([]float64{0, 0}, []float64{1})), energy.ErrShape},
		{"ill d=0", second(energy.NewIllConditionedGaussian(0, 10, rng)), energy.ErrParameter},
		{"ill cond<1", second(energy.NewIllConditionedGaussian(3, 0.5, rng)), energy.ErrParameter},
		{"ill cond inf", second(energy.NewIllConditionedGaussian(3, math.Inf(1), rng)), energy.ErrParameter},
		{"mixture dims", second(energy.NewMixture([]float64{1, 1}, []*energy.Gaussian{g1, g2})), energy.ErrShape},
		{"mixture weights", second(energy.NewMixture([]float64{1}, []*energy.Gaussian{g1, g1})), energy.ErrShape},
		{"mixture negative weight", second(energy.NewMixture([]float64{1, -1}, []*energy.Gaussian{g1, g1})), energy.ErrParameter},
		{"mixture empty", second(energy.NewMixture(nil, nil)), energy.ErrParameter},
		{"banana sigma", second(energy.NewBanana(0.1, -1)), energy.ErrParameter},
		{"banana d", second(energy.NewBananaDim(1, 0.1, 1)), energy.ErrParameter},
		{"rosenbrock b", second(energy.NewRosenbrock(1, 0)), energy.ErrParameter},
		{"rosenbrock scale", second(energy.NewRosenbrockScaled(1, 100, -1)), energy.ErrParameter},
		{"funnel d", second(energy.NewFunnel(1, 3)), energy.ErrParameter},
		{"funnel sigma", second(energy.NewFunnel(3, 0)), energy.ErrParameter},
		{"double well a", second(energy.NewDoubleWell(1, -1, 0)), energy.ErrParameter},
		{"double well d", second(energy.NewDoubleWell(0, 1, 0)), energy.ErrParameter},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: error %v, want one wrapping %v", tc.name, tc.err, tc.want)
		} else {
			t.Logf("%s: %v", tc.name, tc.err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestBatchShapeErrors(t *testing.T) {
	for _, tc := range analyticCases() {
		d := tc.e.Dim()
		if err := tc.e.F(make([]float64, 2), make([]float64, 2*d+1)); !errors.Is(err, energy.ErrShape) {
			t.Errorf("%s: F with a ragged batch: %v, want ErrShape", tc.name, err)
		}
		if err := tc.e.FGrad(make([]float64, 2), make([]float64, 2*d-1), make([]float64, 2*d)); !errors.Is(err, energy.ErrShape) {
			t.Errorf("%s: FGrad with a short gradient: %v, want ErrShape", tc.name, err)
		}
		if err := tc.e.FGrad(make([]float64, 2), nil, make([]float64, 2*d)); !errors.Is(err, energy.ErrShape) {
			t.Errorf("%s: FGrad with a nil gradient: %v, want ErrShape (F gives values alone)", tc.name, err)
		}
		if s, ok := tc.e.(energy.ExactSampler); ok && d > 1 {
			if err := s.Sample(rand.New(rand.NewPCG(1, 1)), make([]float64, d+1)); !errors.Is(err, energy.ErrShape) {
				t.Errorf("%s: Sample with a ragged batch: %v, want ErrShape", tc.name, err)
			}
		}
	}
}

// Many samples at once (one matrix product by the Cholesky factor) are the
// samples drawn one at a time from the same generator.
func TestGaussianSampleBatchMatchesOneByOne(t *testing.T) {
	g := must(energy.NewIllConditionedGaussian(7, 100, rand.New(rand.NewPCG(1, 2))))
	const n = 33
	all := make([]float64, n*7)
	if err := g.Sample(rand.New(rand.NewPCG(5, 6)), all); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	one := make([]float64, 7)
	for s := range n {
		if err := g.Sample(rng, one); err != nil {
			t.Fatal(err)
		}
		for i, v := range one {
			if w := all[s*7+i]; math.Abs(v-w) > 1e-12*(1+math.Abs(v)) {
				t.Fatalf("sample %d, coordinate %d: %v at once, %v alone", s, i, w, v)
			}
		}
	}
}

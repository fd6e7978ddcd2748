package datasets

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/gradcheck"
)

// The toys are built once and shared, so that each computes its entropy
// once per test binary.
var (
	toysOnce  sync.Once
	testToys  []*Toy
	testSeeds = []uint64{1, 2, 3, 4}
)

func allToys() []*Toy {
	toysOnce.Do(func() {
		for _, n := range ToyNames() {
			d, err := ToyByName(n)
			if err != nil {
				panic(err)
			}
			testToys = append(testToys, d)
		}
	})
	return testToys
}

func isCurve(d *Toy) bool {
	switch d.Name() {
	case "moons", "swissroll", "2spirals":
		return true
	}
	return false
}

func TestToyNames(t *testing.T) {
	want := "2spirals 8gaussians checkerboard moons pinwheel rings swissroll"
	if got := strings.Join(ToyNames(), " "); got != want {
		t.Errorf("ToyNames = %s, want %s", got, want)
	}
	for _, d := range allToys() {
		if d.Dim() != 2 {
			t.Errorf("%s: Dim = %d", d.Name(), d.Dim())
		}
	}
	_, err := ToyByName("circles")
	if err == nil || !strings.Contains(err.Error(), "8gaussians") {
		t.Errorf("unknown name: err = %v, want one listing the names", err)
	}
}

// Each density integrates to 1 over its bounding box, by the midpoint rule
// on a grid of the entropy's spacing aligned with the chi-square bins.
func TestToyDensityIntegratesToOne(t *testing.T) {
	for _, d := range allToys() {
		probs := toyBinProbs(d)
		var mass float64
		for _, p := range probs[:len(probs)-1] {
			mass += p
		}
		if math.Abs(mass-1) > 1e-6 {
			t.Errorf("%s: ∫p = %.12f over %+v, want 1 ± 1e-6", d.Name(), mass, d.Bounds())
		}
	}
}

// The quadrature entropy has converged: halving the grid spacing changes it
// by less than 1e-6 nats (the brief asks for 0.005).
func TestToyEntropyConverged(t *testing.T) {
	for _, d := range allToys() {
		if d.entropy != nil {
			continue
		}
		if testing.Short() && isCurve(d) {
			continue
		}
		h := d.Entropy()
		fine := d.quadEntropy(d.h / 2)
		if math.Abs(h-fine) > 1e-6 {
			t.Errorf("%s: entropy %.9f on spacing %.4g, %.9f on half of it", d.Name(), h, d.h, fine)
		}
	}
}

// Sampler and density agree in the mean: E[−log p(X)] over samples X from
// the sampler equals the entropy within Monte Carlo error, for each of
// several seeds and pooled.
func TestToySamplerMeanLogDensity(t *testing.T) {
	n := 20000
	for _, d := range allToys() {
		if isCurve(d) {
			n = 5000 // their densities cost ~20 µs each
		}
		H := d.Entropy()
		var pooled, pooledVar float64
		for _, seed := range testSeeds {
			rng := rand.New(rand.NewPCG(seed, 7))
			x := d.SampleN(rng, n)
			var s, s2 float64
			for i := 0; i < n; i++ {
				l := -d.LogDensity(x[2*i : 2*i+2])
				if math.IsInf(l, 0) || math.IsNaN(l) {
					t.Fatalf("%s: sample (%v, %v) has log density %v", d.Name(), x[2*i], x[2*i+1], -l)
				}
				s += l
				s2 += l * l
			}
			mean := s / float64(n)
			v := (s2/float64(n) - mean*mean) / float64(n)
			if d.Name() == "checkerboard" {
				if math.Abs(mean-H) > 1e-12 {
					t.Errorf("checkerboard: E[−log p] = %v, want log 32", mean)
				}
				continue
			}
			if z := (mean - H) / math.Sqrt(v); math.Abs(z) > 4 {
				t.Errorf("%s seed %d: E[−log p] = %.5f ± %.5f, entropy %.5f (z = %.2f)", d.Name(), seed, mean, math.Sqrt(v), H, z)
			}
			pooled += mean
			pooledVar += v
		}
		k := float64(len(testSeeds))
		if d.Name() != "checkerboard" {
			if z := (pooled/k - H) / (math.Sqrt(pooledVar) / k); math.Abs(z) > 4 {
				t.Errorf("%s pooled: E[−log p] = %.5f, entropy %.5f (z = %.2f)", d.Name(), pooled/k, H, z)
			}
		}
	}
}

// Sampler and density agree in distribution: a chi-square test of sample
// counts in an 8×8 grid of bins over the bounding box against the
// probabilities the density gives them (see toyBinProbs). Bins expecting
// fewer than 5 points are pooled, with the outside of the box.
// The critical value is df + 5√(2df), a false-alarm rate near 10⁻⁵.
func TestToySamplerChiSquare(t *testing.T) {
	const nb, n = chiBins, 40000
	for _, d := range allToys() {
		probs := toyBinProbs(d)
		for _, seed := range testSeeds[:2] {
			rng := rand.New(rand.NewPCG(seed, 11))
			x := d.SampleN(rng, n)
			counts := make([]float64, nb*nb+1) // last: outside the box
			b := d.Bounds()
			for i := 0; i < n; i++ {
				bx := int(math.Floor((x[2*i] - b.XMin) / (b.XMax - b.XMin) * nb))
				by := int(math.Floor((x[2*i+1] - b.YMin) / (b.YMax - b.YMin) * nb))
				if bx < 0 || bx >= nb || by < 0 || by >= nb {
					counts[nb*nb]++
				} else {
					counts[by*nb+bx]++
				}
			}
			var chi2, pooledE, pooledO float64
			df := -1
			for i, p := range probs {
				e := p * n
				if e < 5 {
					pooledE += e
					pooledO += counts[i]
					continue
				}
				chi2 += (counts[i] - e) * (counts[i] - e) / e
				df++
			}
			if pooledE > 0 {
				chi2 += (pooledO - pooledE) * (pooledO - pooledE) / math.Max(pooledE, 1)
				df++
			}
			crit := float64(df) + 5*math.Sqrt(2*float64(df))
			if chi2 > crit {
				t.Errorf("%s seed %d: χ² = %.1f with %d degrees of freedom (critical %.1f)", d.Name(), seed, chi2, df, crit)
			}
		}
	}
}

const chiBins = 8

var binProbCache sync.Map // *Toy → []float64

// toyBinProbs returns the probability of each bin of a chiBins×chiBins grid
// over the bounding box by the midpoint rule on cells of side at most the
// entropy grid's spacing (so the checkerboard's squares align with cells),
// and last the probability outside the box, 1 − the sum.
func toyBinProbs(d *Toy) []float64 {
	if p, ok := binProbCache.Load(d); ok {
		return p.([]float64)
	}
	const nb = chiBins
	b := d.Bounds()
	bw, bh := (b.XMax-b.XMin)/nb, (b.YMax-b.YMin)/nb
	mx, my := int(math.Ceil(bw/d.h)), int(math.Ceil(bh/d.h))
	cw, ch := bw/float64(mx), bh/float64(my)
	probs := make([]float64, nb*nb+1)
	var wg sync.WaitGroup
	for j := 0; j < nb; j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < nb; i++ {
				var s float64
				for cy := 0; cy < my; cy++ {
					for cx := 0; cx < mx; cx++ {
						x := b.XMin + float64(i)*bw + (float64(cx)+0.5)*cw
						y := b.YMin + float64(j)*bh + (float64(cy)+0.5)*ch
						s += math.Exp(d.logp(x, y, nil))
					}
				}
				probs[j*nb+i] = s * cw * ch
			}
		}()
	}
	wg.Wait()
	var in float64
	for _, p := range probs[:nb*nb] {
		in += p
	}
	probs[nb*nb] = math.Max(0, 1-in)
	binProbCache.Store(d, probs)
	return probs
}

// Gradients match central differences of the log-density.
func TestToyGradients(t *testing.T) {
	for _, d := range allToys() {
		if d.Name() == "checkerboard" {
			continue
		}
		rng := rand.New(rand.NewPCG(5, 5))
		pts := d.SampleN(rng, 20)
		b := d.Bounds()
		pts = append(pts, 0.3, -0.2, b.XMax, b.YMax, 0.5*b.XMin, 0.8*b.YMax)
		for i := 0; i < len(pts); i += 2 {
			x := []float64{pts[i], pts[i+1]}
			g := make([]float64, 2)
			lp := d.LogDensityGrad(x, g)
			if lp != d.LogDensity(x) {
				t.Errorf("%s: LogDensityGrad and LogDensity disagree at %v", d.Name(), x)
			}
			if err := gradcheck.Check(d.Name(), d.LogDensity, x, g, 1e-5, 2e-6); err != nil {
				t.Errorf("at %v: %v", x, err)
			}
		}
	}
}

// F and FGrad are the batch forms of LogDensity and LogDensityGrad and
// reject wrong shapes with energy.ErrShape.
func TestToyEnergyInterface(t *testing.T) {
	d := allToys()[0]
	x := []float64{0.1, 0.2, 1, -1, 3, 0}
	f := make([]float64, 3)
	g := make([]float64, 6)
	if err := d.FGrad(f, g, x); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 3; n++ {
		gn := make([]float64, 2)
		if lp := d.LogDensityGrad(x[2*n:2*n+2], gn); lp != f[n] || gn[0] != g[2*n] || gn[1] != g[2*n+1] {
			t.Errorf("FGrad[%d] = %v %v, LogDensityGrad = %v %v", n, f[n], g[2*n:2*n+2], lp, gn)
		}
	}
	f2 := make([]float64, 3)
	if err := d.F(f2, x); err != nil || f2[1] != f[1] {
		t.Errorf("F = %v, %v", f2, err)
	}
	if err := d.F(f2, x[:5]); !errors.Is(err, energy.ErrShape) {
		t.Errorf("F with 5 values: %v", err)
	}
	if err := d.FGrad(f, g[:4], x); !errors.Is(err, energy.ErrShape) {
		t.Errorf("FGrad with short gradient: %v", err)
	}
	lr, err := energy.LogRatio(d, x[:2], x[2:4])
	if err != nil || math.Abs(lr-(f[0]-f[1])) > 1e-12 {
		t.Errorf("LogRatio = %v, %v", lr, err)
	}
}

func TestCheckerboardValues(t *testing.T) {
	d := mustToy(t, Checkerboard{}.Toy)
	in := -math.Log(32)
	for _, tc := range []struct {
		x, y, want float64
	}{
		{0.5, 0.5, in}, {-0.5, -0.5, in}, {2.5, 0.5, math.Inf(-1)}, {-3, -3, in}, {3.9, 3.9, in},
		{-1, 1, math.Inf(-1)}, {4, 0, math.Inf(-1)}, {0, 4, math.Inf(-1)}, {-4, -4, in}, {10, 10, math.Inf(-1)},
	} {
		if got := d.LogDensity([]float64{tc.x, tc.y}); got != tc.want {
			t.Errorf("log p(%v, %v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	if d.Entropy() != math.Log(32) {
		t.Errorf("entropy %v", d.Entropy())
	}
}

// EightGaussians against a direct evaluation of the mixture formula.
func TestEightGaussiansFormula(t *testing.T) {
	d := mustToy(t, EightGaussians{}.Toy)
	r, s := 4/1.414, 0.5/1.414
	for _, x := range [][2]float64{{0, 0}, {r, 0}, {1, 2}, {-7, 3}} {
		var p float64
		for k := 0; k < 8; k++ {
			mx, my := r*math.Cos(float64(k)*math.Pi/4), r*math.Sin(float64(k)*math.Pi/4)
			p += math.Exp(-((x[0]-mx)*(x[0]-mx)+(x[1]-my)*(x[1]-my))/(2*s*s)) / (2 * math.Pi * s * s) / 8
		}
		if got := d.LogDensity(x[:]); math.Abs(got-math.Log(p)) > 1e-12 {
			t.Errorf("log p(%v) = %.15g, want %.15g", x, got, math.Log(p))
		}
	}
	// Far away the log-density stays finite and exact.
	if got, want := d.LogDensity([]float64{100, 0}), -math.Pow(100-r, 2)/(2*s*s)-math.Log(8*2*math.Pi*s*s); math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("log p(100, 0) = %v, want %v", got, want)
	}
}

// Pinwheel against a direct change of variables, with the Jacobian
// determinant computed by finite differences of the forward map rather than
// taken from the derivation.
func TestPinwheelChangeOfVariables(t *testing.T) {
	pw := Pinwheel{}
	d := mustToy(t, pw.Toy)
	rs, ts, rate := 0.3, 0.1, 0.25
	forward := func(k int, f0, f1 float64) (float64, float64) {
		a := 2*math.Pi*float64(k)/5 + rate*math.Exp(math.Hypot(f0, f1))
		return 2 * (math.Cos(a)*f0 + math.Sin(a)*f1), 2 * (-math.Sin(a)*f0 + math.Cos(a)*f1)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 20; i++ {
		// A feature vector and arm; map it forward, then compare the
		// density at the image with N(f)·|det ∂y/∂f|⁻¹ summed over arms
		// (the other arms' preimages are rotations of y, found by
		// inverting).
		f0, f1 := 1+rs*rng.NormFloat64(), ts*rng.NormFloat64()
		y0, y1 := forward(rng.IntN(5), f0, f1)
		var p float64
		for k := 0; k < 5; k++ {
			// Invert arm k: f = R(α)y/2 with α from |y|.
			a := 2*math.Pi*float64(k)/5 + rate*math.Exp(math.Hypot(y0, y1)/2)
			g0, g1 := (math.Cos(a)*y0-math.Sin(a)*y1)/2, (math.Sin(a)*y0+math.Cos(a)*y1)/2
			if z0, z1 := forward(k, g0, g1); math.Abs(z0-y0)+math.Abs(z1-y1) > 1e-12 {
				t.Fatalf("inverse of arm %d is wrong: %v %v → %v %v", k, y0, y1, z0, z1)
			}
			const h = 1e-6
			a0, a1 := forward(k, g0+h, g1)
			b0, b1 := forward(k, g0-h, g1)
			c0, c1 := forward(k, g0, g1+h)
			e0, e1 := forward(k, g0, g1-h)
			det := ((a0-b0)*(c1-e1) - (a1-b1)*(c0-e0)) / (4 * h * h)
			nf := math.Exp(-(g0-1)*(g0-1)/(2*rs*rs)-g1*g1/(2*ts*ts)) / (2 * math.Pi * rs * ts)
			p += nf / math.Abs(det) / 5
		}
		if got := d.LogDensity([]float64{y0, y1}); math.Abs(got-math.Log(p)) > 1e-7 {
			t.Errorf("log p(%v, %v) = %.10f, change of variables gives %.10f", y0, y1, got, math.Log(p))
		}
	}
}

// bruteCurve integrates a curve mixture's density with a fixed fine
// composite rule in scaled arithmetic: the reference for the adaptive
// integrator.
func bruteCurve(cm *curveMix, x, y float64) float64 {
	const pieces = 40000
	var terms []float64
	for _, cu := range cm.curves {
		h := (cu.t1 - cu.t0) / pieces
		for p := 0; p < pieces; p++ {
			a := cu.t0 + float64(p)*h
			for i := range gl8x {
				t := a + h/2*(1+gl8x[i])
				cx, cy := cu.pos(t)
				w := h / 2 * gl8w[i] * cu.w * cu.dens(t)
				if w > 0 {
					terms = append(terms, math.Log(w)-((cx-x)*(cx-x)+(cy-y)*(cy-y))/(2*cm.v))
				}
			}
		}
	}
	// log Σ exp(terms), summed with compensation: 640 000 terms would
	// otherwise lose ~1e-10 to rounding.
	m := math.Inf(-1)
	for _, v := range terms {
		m = max(m, v)
	}
	var s, c float64
	for _, v := range terms {
		e := math.Exp(v-m) - c
		t := s + e
		c = (t - s) - e
		s = t
	}
	return cm.lnorm + m + math.Log(s)
}

// The adaptive curve integrator agrees with brute-force quadrature to 1e-9
// in log-density (relative density), near the curves, between them, and
// far away.
func TestCurveDensityAgainstBruteForce(t *testing.T) {
	std := map[string]float64{"moons": 0.2, "swissroll": 0.2, "2spirals": 0.1}
	for _, tc := range []struct {
		name string
		cm   *curveMix
	}{
		{"moons", moonsMix(std["moons"])},
		{"swissroll", swissRollMix(std["swissroll"])},
		{"2spirals", spiralsMix(std["2spirals"])},
	} {
		rng := rand.New(rand.NewPCG(9, 9))
		pts := [][2]float64{{0, 0}, {0.01, -0.02}, {1, 1}, {-2.5, 0.3}, {6, -4}, {30, 20}, {-200, 150}}
		if testing.Short() {
			pts = pts[:4]
		}
		for i := 0; i < 4; i++ {
			var p [2]float64
			tc.cm.point(rng, p[:])
			pts = append(pts, p)
		}
		for _, p := range pts {
			got, want := tc.cm.logp(p[0], p[1], nil), bruteCurve(tc.cm, p[0], p[1])
			if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: log p(%v) = %.12f, brute force %.12f", tc.name, p, got, want)
			}
		}
	}
}

// Rings' Bessel closed form agrees with the curve integrator run on
// circles.
func TestRingsClosedFormMatchesCurveIntegral(t *testing.T) {
	radii, std := []float64{0.75, 1.5, 2.25, 3}, 0.08
	var cs []curve
	for _, r := range radii {
		cs = append(cs, curve{
			w: 0.25, t0: 0, t1: 2 * math.Pi,
			pos: func(t float64) (float64, float64) {
				s, c := math.Sincos(t)
				return r * c, r * s
			},
			dens:  func(float64) float64 { return 1 / (2 * math.Pi) },
			quant: func(u float64) float64 { return 2 * math.Pi * u },
		})
	}
	cm := newCurveMix(std, cs)
	d := mustToy(t, Rings{}.Toy)
	for _, p := range [][2]float64{{0, 0}, {0.75, 0}, {1, 1}, {2.1, -0.4}, {3.3, 0.2}, {0, -2.25}, {10, 5}, {-40, 30}} {
		g1, g2 := make([]float64, 2), make([]float64, 2)
		got, want := d.LogDensityGrad(p[:], g1), cm.logp(p[0], p[1], g2)
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("log p(%v): Bessel %.12f, curve integral %.12f", p, got, want)
		}
		for i := range g1 {
			if math.Abs(g1[i]-g2[i]) > 1e-7*math.Max(1, math.Abs(g2[i])) {
				t.Errorf("∇ log p(%v): Bessel %v, curve integral %v", p, g1, g2)
			}
		}
	}
}

func moonsMix(std float64) *curveMix     { return validToy(Moons{Std: std}.Toy).cm }
func swissRollMix(std float64) *curveMix { return validToy(SwissRoll{Std: std}.Toy).cm }
func spiralsMix(std float64) *curveMix   { return validToy(TwoSpirals{Std: std}.Toy).cm }

// validToy calls a Toy method with parameters known to be valid.
func validToy(toy func() (*Toy, error)) *Toy {
	d, err := toy()
	if err != nil {
		panic(err)
	}
	return d
}

func TestBessel(t *testing.T) {
	// Reference values of I₀ and I₁ (mpmath.besseli at 30 digits),
	// scaled by e^{−z}.
	for _, tc := range []struct{ z, i0, i1 float64 }{
		{0, 1, 0},
		{1, 1.2660658777520082, 0.5651591039924851},
		{10, 2815.7166284662545, 2670.9883037012546},
	} {
		e := math.Exp(-tc.z)
		if got := besselI0e(tc.z); math.Abs(got-tc.i0*e) > 1e-14*tc.i0*e {
			t.Errorf("I0e(%v) = %.17g, want %.17g", tc.z, got, tc.i0*e)
		}
		if got := besselI1e(tc.z); math.Abs(got-tc.i1*e) > 1e-14*max(tc.i1*e, 1e-300) {
			t.Errorf("I1e(%v) = %.17g, want %.17g", tc.z, got, tc.i1*e)
		}
	}
	// Against the integral e^{−z}I_ν(z) = (1/π)∫₀^π e^{z(cos θ − 1)} cos νθ dθ,
	// by the trapezoid rule, exponentially accurate for periodic analytic
	// integrands, on both sides of the series/asymptotic switch.
	for _, z := range []float64{0.5, 3, 24.9, 25, 25.1, 40, 300, 5000} {
		const m = 20000
		var s0, s1 float64
		for k := 0; k <= m; k++ {
			th := math.Pi * float64(k) / m
			w := 1.0
			if k == 0 || k == m {
				w = 0.5
			}
			f := math.Exp(z * (math.Cos(th) - 1))
			s0 += w * f
			s1 += w * f * math.Cos(th)
		}
		i0, i1 := s0/m, s1/m
		if got := besselI0e(z); math.Abs(got-i0) > 1e-13*i0 {
			t.Errorf("I0e(%v) = %.17g, integral %.17g", z, got, i0)
		}
		if got := besselI1e(z); math.Abs(got-i1) > 1e-13*i1 {
			t.Errorf("I1e(%v) = %.17g, integral %.17g", z, got, i1)
		}
	}
}

func TestGaussLegendre(t *testing.T) {
	for n := 1; n <= 16; n++ {
		x, w := gaussLegendre(n)
		// Exact for x^k up to k = 2n − 1: ∫₋₁¹ x^k = 2/(k+1) for even k, 0 for odd.
		for k := 0; k < 2*n; k++ {
			var s float64
			for i := range x {
				s += w[i] * math.Pow(x[i], float64(k))
			}
			want := 0.0
			if k%2 == 0 {
				want = 2 / float64(k+1)
			}
			if math.Abs(s-want) > 1e-14 {
				t.Errorf("n=%d: ∫x^%d = %.16g, want %.16g", n, k, s, want)
			}
		}
	}
}

// Parameters a user sets are errors naming them; programmer errors (a nil
// generator, an odd-length buffer) panic.
func TestToyParameterErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		toy  func() (*Toy, error)
		want string
	}{
		"negative std":  {Moons{Std: -1}.Toy, "Moons.Std is -1"},
		"NaN std":       {SwissRoll{Std: math.NaN()}.Toy, "SwissRoll.Std is NaN"},
		"zero radius":   {Rings{Radii: []float64{1, 0}}.Toy, "Rings.Radii[1] is 0"},
		"empty radii":   {Rings{Radii: []float64{}}.Toy, "Rings.Radii is empty"},
		"negative arms": {Pinwheel{Arms: -2}.Toy, "Pinwheel.Arms is -2"},
		"infinite rate": {Pinwheel{Rate: math.Inf(1)}.Toy, "Pinwheel.Rate is +Inf"},
		"negative 8g":   {EightGaussians{Radius: -1}.Toy, "EightGaussians.Radius is -1"},
	} {
		if d, err := tc.toy(); d != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, %v; want an error containing %q", name, d, err, tc.want)
		}
	}
	moons := mustToy(t, Moons{}.Toy)
	for name, f := range map[string]func(){
		"nil rng": func() { moons.Sample(nil, make([]float64, 2)) },
		"odd dst": func() { moons.Sample(rand.New(rand.NewPCG(1, 1)), make([]float64, 3)) },
	} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "datasets: ") {
					t.Errorf("%s: recovered %v, want a datasets panic", name, r)
				}
			}()
			f()
		}()
	}
}

// mustToy calls a Toy method whose parameters the test knows are valid.
func mustToy(t testing.TB, toy func() (*Toy, error)) *Toy {
	t.Helper()
	d, err := toy()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Non-default parameters change the distribution as they should: a wider
// noise gives a larger entropy, and the entropy of a single ring with
// small noise approaches that of a uniform circle blurred in one
// direction, log(2πR) + ½log(2πeσ²).
func TestToyParameters(t *testing.T) {
	R, s := 2.0, 0.05
	d := mustToy(t, Rings{Radii: []float64{R}, Std: s}.Toy)
	approx := math.Log(2*math.Pi*R) + 0.5*math.Log(2*math.Pi*math.E*s*s)
	if got := d.Entropy(); math.Abs(got-approx) > 0.01 {
		t.Errorf("one ring: entropy %.5f, thin-ring approximation %.5f", got, approx)
	}
	g1, g2 := mustToy(t, EightGaussians{Std: 0.3}.Toy).Entropy(), mustToy(t, EightGaussians{Std: 0.6}.Toy).Entropy()
	if !(g2 > g1) {
		t.Errorf("entropy does not grow with the noise: %v, %v", g1, g2)
	}
}

func benchLogDensity(b *testing.B, name string) {
	d, err := ToyByName(name)
	if err != nil {
		b.Fatal(err)
	}
	x := d.SampleN(rand.New(rand.NewPCG(1, 1)), 1024)
	g := make([]float64, 2)
	i := 0
	for b.Loop() {
		j := 2 * (i % 1024)
		d.LogDensityGrad(x[j:j+2], g)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

func BenchmarkLogDensity8Gaussians(b *testing.B)   { benchLogDensity(b, "8gaussians") }
func BenchmarkLogDensityRings(b *testing.B)        { benchLogDensity(b, "rings") }
func BenchmarkLogDensityMoons(b *testing.B)        { benchLogDensity(b, "moons") }
func BenchmarkLogDensityCheckerboard(b *testing.B) { benchLogDensity(b, "checkerboard") }
func BenchmarkLogDensitySwissRoll(b *testing.B)    { benchLogDensity(b, "swissroll") }
func BenchmarkLogDensityPinwheel(b *testing.B)     { benchLogDensity(b, "pinwheel") }
func BenchmarkLogDensity2Spirals(b *testing.B)     { benchLogDensity(b, "2spirals") }

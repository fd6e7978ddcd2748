package sampling

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// contInv returns the inverse of the d×d matrix a by Gauss–Jordan
// elimination with partial pivoting (test sizes only).
func contInv(a []float64, d int) []float64 {
	m := append([]float64(nil), a...)
	inv := make([]float64, d*d)
	for i := 0; i < d; i++ {
		inv[i*d+i] = 1
	}
	for c := 0; c < d; c++ {
		p := c
		for r := c + 1; r < d; r++ {
			if math.Abs(m[r*d+c]) > math.Abs(m[p*d+c]) {
				p = r
			}
		}
		for j := 0; j < d; j++ {
			m[c*d+j], m[p*d+j] = m[p*d+j], m[c*d+j]
			inv[c*d+j], inv[p*d+j] = inv[p*d+j], inv[c*d+j]
		}
		piv := m[c*d+c]
		for j := 0; j < d; j++ {
			m[c*d+j] /= piv
			inv[c*d+j] /= piv
		}
		for r := 0; r < d; r++ {
			if r == c {
				continue
			}
			f := m[r*d+c]
			for j := 0; j < d; j++ {
				m[r*d+j] -= f * m[c*d+j]
				inv[r*d+j] -= f * inv[c*d+j]
			}
		}
	}
	return inv
}

func contMatMul(a, b []float64, d int) []float64 {
	c := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for k := 0; k < d; k++ {
			for j := 0; j < d; j++ {
				c[i*d+j] += a[i*d+k] * b[k*d+j]
			}
		}
	}
	return c
}

// langevinStationaryCov returns the exact stationary covariance of
// Langevin dynamics on N(μ, Σ): with P = Σ⁻¹ and A = I − (ε/2)P, the
// chain is x' − μ = A(x − μ) + σξ, so V = σ²(I − A²)⁻¹; with NoiseFirst
// it is x' − μ = A(x − μ + σξ), so V = σ²A²(I − A²)⁻¹.
func langevinStationaryCov(cov []float64, d int, eps, sigma float64, noiseFirst bool) []float64 {
	p := contInv(cov, d)
	a := make([]float64, d*d)
	for i := range a {
		a[i] = -eps / 2 * p[i]
	}
	for i := 0; i < d; i++ {
		a[i*d+i]++
	}
	a2 := contMatMul(a, a, d)
	m := make([]float64, d*d)
	for i := range m {
		m[i] = -a2[i]
	}
	for i := 0; i < d; i++ {
		m[i*d+i]++
	}
	v := contInv(m, d)
	if noiseFirst {
		v = contMatMul(a2, v, d)
	}
	for i := range v {
		v[i] *= sigma * sigma
	}
	return v
}

// TestLangevinGaussian checks that unadjusted Langevin dynamics has the
// stationary law it must have on a Gaussian target, N(μ, V) with V from
// langevinStationaryCov, for the textbook ULA, for a noise σ ≠ √ε and for
// the tutorial's noise-first order. For the ULA step sizes used, V is
// within 5% of Σ: the kernel recovers the target up to its known
// discretisation bias.
func TestLangevinGaussian(t *testing.T) {
	for name, g := range contGaussians(t) {
		mean, cov := g.Mean(), g.Cov()
		d := len(mean)
		cases := []struct {
			name string
			cfg  LangevinConfig
		}{
			{"ULA", LangevinConfig{StepSize: 2 * 0.02}},
			{"σ≠√ε", LangevinConfig{StepSize: 0.05, Noise: 0.15}},
			{"NoiseFirst", LangevinConfig{StepSize: 0.05, Noise: 0.3, NoiseFirst: true}},
		}
		for _, c := range cases {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				k, err := NewLangevin(g, c.cfg)
				if err != nil {
					t.Fatal(err)
				}
				sigma := k.Config().Noise
				v := langevinStationaryCov(cov, d, c.cfg.StepSize, sigma, c.cfg.NoiseFirst)
				if c.name == "ULA" {
					for i := range v {
						if math.Abs(v[i]-cov[i]) > 0.05*math.Sqrt(cov[i/d*d+i/d]*cov[i%d*d+i%d]) {
							t.Fatalf("ULA's stationary covariance %v is not within 5%% of Σ = %v", v, cov)
						}
					}
				}
				for _, seed := range contSeeds {
					k, _ := NewLangevin(g, c.cfg)
					res := contRun(t, k, seed, 8, mean, RunConfig{Warmup: 2000, Draws: 2000, Thin: 10})
					contCheckMoments(t, "seed "+itoa(int(seed)), &res.Trace, mean, v)
				}
			})
		}
	}
}

// TestNewULA checks that the textbook form is the documented Langevin
// configuration.
func TestNewULA(t *testing.T) {
	k, err := NewULA(contIsoGaussian{d: 1}, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if c := k.Config(); c.StepSize != 0.02 || math.Abs(c.Noise-math.Sqrt(0.02)) > 1e-15 {
		t.Errorf("NewULA(0.01): %+v, want StepSize 0.02 and Noise √0.02", c)
	}
	// Info reports the step size the caller set: h for NewULA, ε for
	// NewLangevin.
	s, err := k.Init([]float64{0.5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, info, err := k.Step(rand.New(rand.NewPCG(1, 2)), s); err != nil || info.StepSize != 0.01 {
		t.Errorf("NewULA(0.01): Info.StepSize %v (%v), want 0.01", info.StepSize, err)
	}
	l, _ := NewLangevin(contIsoGaussian{d: 1}, LangevinConfig{StepSize: 0.3})
	s, _ = l.Init([]float64{0.5}, 1)
	if _, info, _ := l.Step(rand.New(rand.NewPCG(1, 2)), s); info.StepSize != 0.3 {
		t.Errorf("NewLangevin(ε = 0.3): Info.StepSize %v, want 0.3", info.StepSize)
	}
	if _, err := NewULA(contIsoGaussian{d: 1}, -1); err == nil {
		t.Error("NewULA(-1) gave no error")
	}
}

// contSteep is N(μ, s²) per coordinate with a tiny s, so that gradients
// are huge away from μ.
type contSteep struct {
	mean []float64
	s    float64
}

func (e contSteep) Dim() int                 { return len(e.mean) }
func (e contSteep) F(dst, x []float64) error { return e.FGrad(dst, make([]float64, len(x)), x) }
func (e contSteep) FGrad(dst, g, x []float64) error {
	d := len(e.mean)
	for n := range dst {
		dst[n] = 0
		for i := 0; i < d; i++ {
			u := (x[n*d+i] - e.mean[i]) / e.s
			dst[n] -= u * u / 2
			g[n*d+i] = -u / e.s
		}
	}
	return nil
}

// TestLangevinClipAndClamp checks single updates against the documented
// formulas, with a noise of 1e-12 so that the drift is seen alone.
func TestLangevinClipAndClamp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	steep := contSteep{mean: []float64{0, 0, 0}, s: 1e-2}
	x0 := []float64{0.5, -0.3, 0.9}

	// Clipping: ∇f = −x/s² is ±thousands; clipped to ±0.03, the step is
	// (ε/2)·0.03 towards the mean. State.Grad keeps the true gradient.
	k, err := NewLangevin(steep, LangevinConfig{StepSize: 0.2, Noise: 1e-12, GradClip: 0.03})
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.Init(x0, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, info, err := k.Step(rng, s)
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range x0 {
		want := x - math.Copysign(0.1*0.03, x)
		if math.Abs(s.X[i]-want) > 1e-9 {
			t.Errorf("clipped step: x[%d] = %.12f, want %.12f", i, s.X[i], want)
		}
		if g := -s.X[i] / 1e-4; math.Abs(s.Grad[i]-g) > 1e-6*math.Abs(g) {
			t.Errorf("State.Grad[%d] = %v, want the unclipped %v", i, s.Grad[i], g)
		}
	}
	if info.GradEvals != 1 || !info.Accepted[0] || info.AcceptProb[0] != 1 || info.Divergent[0] {
		t.Errorf("Info %+v", info)
	}

	// Clamping: a drift of ±0.2 out of [−1, 1] stops at the boundary.
	far := contSteep{mean: []float64{5, -5, 0.95}, s: 1}
	k, err = NewLangevin(far, LangevinConfig{StepSize: 0.1, Noise: 1e-12, Min: -1, Max: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, _ = k.Init([]float64{0.999, -0.999, 0.9}, 1)
	s, _, _ = k.Step(rng, s)
	if want := []float64{1, -1, 0.9 + 0.05*0.05}; math.Abs(s.X[0]-want[0]) > 0 || math.Abs(s.X[1]-want[1]) > 0 || math.Abs(s.X[2]-want[2]) > 1e-9 {
		t.Errorf("clamped step: %v, want %v", s.X, want)
	}

	// The tutorial's form: y = clamp(x + σξ), x ← clamp(y + λ·clip(∇f(y))).
	cfg := ClippedLangevin(10, 1e-12)
	if want := (LangevinConfig{StepSize: 20, Noise: 1e-12, GradClip: 0.03, Min: -1, Max: 1, NoiseFirst: true}); cfg != want {
		t.Fatalf("ClippedLangevin(10, σ) = %+v, want %+v", cfg, want)
	}
	k, err = NewLangevin(far, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, _ = k.Init([]float64{0.999, 0.5, 0.9}, 1)
	s, _, _ = k.Step(rng, s)
	// ∇f = μ − x = (4.001, −5.5, 0.05): clipped to (0.03, −0.03, 0.03),
	// times λ = 10: (1.299 → 1, 0.2, 1.2 → 1).
	if want := []float64{1, 0.2, 1}; math.Abs(s.X[0]-want[0]) > 1e-9 || math.Abs(s.X[1]-want[1]) > 1e-9 || math.Abs(s.X[2]-want[2]) > 1e-9 {
		t.Errorf("tutorial step: %v, want %v", s.X, want)
	}
	// With NoiseFirst, F and Grad are those of the noised point y ≈ x.
	if math.Abs(s.Grad[1]-(-5.5)) > 1e-9 {
		t.Errorf("NoiseFirst: State.Grad = %v, want ∇f at the noised point (…, −5.5, …)", s.Grad)
	}
}

// TestLangevinClampRun checks that a long run in a box never leaves it and
// does reach its walls when the target puts mass outside.
func TestLangevinClampRun(t *testing.T) {
	g, err := energy.NewDiagGaussian([]float64{1.5, -0.5}, []float64{1, 0.01})
	if err != nil {
		t.Fatal(err)
	}
	for _, noiseFirst := range []bool{false, true} {
		k, err := NewLangevin(g, LangevinConfig{StepSize: 0.01, Min: -1, Max: 1, NoiseFirst: noiseFirst})
		if err != nil {
			t.Fatal(err)
		}
		res := contRun(t, k, 1, 16, []float64{0, 0}, RunConfig{Warmup: 100, Draws: 2000})
		atWall := 0
		for _, v := range res.Trace.X {
			if !(v >= -1 && v <= 1) {
				t.Fatalf("NoiseFirst %v: draw %v outside [−1, 1]", noiseFirst, v)
			}
			if v == 1 || v == -1 {
				atWall++
			}
		}
		if atWall == 0 {
			t.Errorf("NoiseFirst %v: no draw at the wall x₀ = 1, though P(x₀ > 1) = 0.69", noiseFirst)
		}
	}
}

func TestLangevinConfigErrors(t *testing.T) {
	e := contIsoGaussian{d: 2}
	for _, cfg := range []LangevinConfig{
		{},
		{StepSize: -1},
		{StepSize: math.Inf(1)},
		{StepSize: 1, Noise: -1},
		{StepSize: 1, GradClip: -1},
		{StepSize: 1, Min: 1, Max: -1},
		{StepSize: 1, Min: 1, Max: 1},
		{StepSize: 1, Min: math.NaN(), Max: 1},
	} {
		if _, err := NewLangevin(e, cfg); err == nil {
			t.Errorf("NewLangevin(%+v): no error", cfg)
		}
	}
	if _, err := NewLangevin(e, LangevinConfig{StepSize: 1, Min: math.Inf(-1), Max: 0}); err != nil {
		t.Errorf("one-sided box: %v", err)
	}
	k, _ := NewLangevin(e, LangevinConfig{StepSize: 1})
	if _, err := k.Init(make([]float64, 3), 2); !errors.Is(err, energy.ErrShape) {
		t.Errorf("Init with 3 values for 2 chains of dimension 2: %v, want ErrShape", err)
	}
}

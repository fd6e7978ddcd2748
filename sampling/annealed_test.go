package sampling

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// smoothed is N(μ, s0²I) convolved with N(0, σ²I): the exact noise-
// conditional energy f(x; σ) = −‖x − μ‖²/(2v), v = s0² + σ², of data
// N(μ, s0²I) noised at level σ.
type smoothed struct {
	mu, s0, sigma float64
	d             int
	set           bool
}

func (s *smoothed) Dim() int { return s.d }
func (s *smoothed) SetNoise(sigma float64) error {
	if !(sigma > 0) {
		return fmt.Errorf("bad σ %v", sigma)
	}
	s.sigma, s.set = sigma, true
	return nil
}
func (s *smoothed) F(dst, x []float64) error { return s.FGrad(dst, make([]float64, len(x)), x) }
func (s *smoothed) FGrad(dst, grad, x []float64) error {
	if !s.set {
		return errors.New("SetNoise not called")
	}
	v := s.s0*s.s0 + s.sigma*s.sigma
	for c := range dst {
		f := 0.0
		for i := c * s.d; i < (c+1)*s.d; i++ {
			r := x[i] - s.mu
			f -= r * r / (2 * v)
			grad[i] = -r / v
		}
		dst[c] = f
	}
	return nil
}

// stationaryVar is the exact stationary variance of the kernel's update
// on N(μ, v): y = x + √α ξ, x' = μ + (1 − a)(y − μ), a = α/(2v), so
// V = (1−a)²(V + α).
func stationaryVar(alpha, v float64) float64 {
	b := (1 - alpha/(2*v)) * (1 - alpha/(2*v))
	return b * alpha / (1 - b)
}

// TestAnnealedLangevinGaussian runs the schedule on smoothed Gaussians
// and checks, over several seeds, that the chains' mean and variance at
// the end are within 4 Monte Carlo standard errors of the exact
// stationary law of the discretised last level (the schedule has run long
// enough to forget the start), and that each level ran with its σ and
// αᵢ = ε σᵢ²/σ_L².
func TestAnnealedLangevinGaussian(t *testing.T) {
	const n, d = 2000, 2
	sigmas := []float64{1, 0.5, 0.25, 0.1}
	for seed := range uint64(3) {
		e := &smoothed{mu: 1.5, s0: 0.3, d: d}
		k, err := NewAnnealedLangevin(e, AnnealedLangevinConfig{Sigmas: sigmas, StepsPerLevel: 60, StepSize: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 77))
		x := make([]float64, n*d)
		for i := range x {
			x[i] = 4 * rng.NormFloat64() // far from the target
		}
		s, err := k.Init(x, n)
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; !k.Done(); step++ {
			lvl := k.Level()
			var info Info
			s, info, err = k.Step(rng, s)
			if err != nil {
				t.Fatal(err)
			}
			want := 0.01 * sigmas[lvl] * sigmas[lvl] / (0.1 * 0.1)
			if lvl != step/60 || e.sigma != sigmas[lvl] || math.Abs(info.StepSize-want) > 1e-12*want {
				t.Fatalf("step %d: level %d, σ %v, step size %v (want level %d, α %v)", step, lvl, e.sigma, info.StepSize, step/60, want)
			}
		}
		v := 0.3*0.3 + 0.1*0.1
		wantVar := stationaryVar(0.01, v)
		var m, m2 float64
		for _, xi := range s.X {
			m += xi
			m2 += xi * xi
		}
		m /= float64(n * d)
		variance := m2/float64(n*d) - m*m
		seMean := math.Sqrt(wantVar / float64(n*d))
		seVar := wantVar * math.Sqrt(2/float64(n*d))
		if math.Abs(m-1.5) > 4*seMean || math.Abs(variance-wantVar) > 4*seVar {
			t.Errorf("seed %d: mean %.4f (want 1.5 ± %.4f), variance %.5f (want %.5f ± %.5f)", seed, m, seMean, variance, wantVar, seVar)
		}
		// Tweedie's step: x + σ²∇f = μ + (1 − σ²/v)(x − μ), exactly.
		before := append([]float64(nil), s.X...)
		if err := k.Denoise(s); err != nil {
			t.Fatal(err)
		}
		for i, xi := range s.X {
			want := 1.5 + (1-0.01/v)*(before[i]-1.5)
			if math.Abs(xi-want) > 1e-12 {
				t.Fatalf("Denoise: %v, want %v", xi, want)
			}
		}
	}
}

func TestAnnealedLangevinConfig(t *testing.T) {
	e := &smoothed{mu: 0, s0: 1, d: 1}
	for _, cfg := range []AnnealedLangevinConfig{
		{StepSize: 0.1},
		{Sigmas: []float64{0.1, 1}, StepSize: 0.1},
		{Sigmas: []float64{1, -1}, StepSize: 0.1},
		{Sigmas: []float64{1}, StepSize: 0},
		{Sigmas: []float64{1}, StepSize: 0.1, StepsPerLevel: -1},
		{Sigmas: []float64{1}, StepSize: 0.1, Min: 1, Max: -1},
	} {
		if _, err := NewAnnealedLangevin(e, cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
	k, err := NewAnnealedLangevin(e, AnnealedLangevinConfig{Sigmas: []float64{1}, StepSize: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if k.Steps() != 100 {
		t.Errorf("default schedule of %d steps, want 100", k.Steps())
	}
	if _, err := k.Init([]float64{math.NaN()}, 1); !errors.Is(err, ErrDiverged) {
		t.Errorf("Init at NaN: %v", err)
	}
}

var _ NoiseConditional = (*smoothed)(nil)
var _ energy.Differentiable = (*smoothed)(nil)

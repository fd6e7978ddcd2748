package energy

import (
	"math"
	"math/rand/v2"
)

// Banana is the twisted Gaussian of Haario, Saksman & Tamminen (1999),
// in their form: the density f ∘ φ_b of N(0, diag(σ₁², 1, …, 1)) composed
// with φ_b(x) = (x₁, x₂ + b(x₁² − σ₁²), x₃, …, x_d). In d ≥ 2 dimensions,
//
//	x₁ ~ N(0, σ₁²),   x₂ | x₁ ~ N(−b(x₁² − σ₁²), 1),   x₃…x_d ~ N(0, 1),
//
//	f(x) = −x₁²/(2σ₁²) − (x₂ + b(x₁² − σ₁²))²/2 − Σ_{i≥3} x_i²/2,
//	log Z = log(2π σ₁) + ((d−2)/2) log 2π.
//
// For b > 0 the banana's arms point towards negative x₂. The moments are
// exact: E[x] = 0, Var x₁ = σ₁², Var x₂ = 1 + 2b²σ₁⁴, Var x_i = 1 for
// i ≥ 3, and all covariances vanish (Cov(x₁, x₂) = −b E[x₁(x₁² − σ₁²)] = 0);
// the third moment E[x₂³] = −8b³σ₁⁶ (for b > 0) is negative. The classical
// settings are σ₁ = 10 with b = 0.03 (moderately) or b = 0.1 (strongly
// twisted).
type Banana struct {
	d         int
	b, sigma1 float64
}

var (
	_ Analytic     = (*Banana)(nil)
	_ ExactSampler = (*Banana)(nil)
)

// NewBanana returns the 2-D banana with twist b and scale σ₁ = sigma1.
func NewBanana(b, sigma1 float64) (*Banana, error) { return NewBananaDim(2, b, sigma1) }

// NewBananaDim returns the banana in d ≥ 2 dimensions, the coordinates
// after the second being independent standard normals.
func NewBananaDim(d int, b, sigma1 float64) (*Banana, error) {
	if d < 2 {
		return nil, paramErrorf("NewBanana: dimension %d, need ≥ 2", d)
	}
	if !isFinite(b) {
		return nil, paramErrorf("NewBanana: twist b = %g is not finite", b)
	}
	if !(sigma1 > 0) || math.IsInf(sigma1, 0) {
		return nil, paramErrorf("NewBanana: sigma1 = %g, want a positive finite value", sigma1)
	}
	return &Banana{d: d, b: b, sigma1: sigma1}, nil
}

// Dim returns d.
func (e *Banana) Dim() int { return e.d }

// F sets dst[n] = f(x_n).
func (e *Banana) F(dst, x []float64) error { return e.eval(dst, nil, x) }

// FGrad sets dst[n] = f(x_n) and, with u = x₂ + b(x₁² − σ₁²),
// ∂f/∂x₁ = −x₁/σ₁² − 2b x₁ u, ∂f/∂x₂ = −u, ∂f/∂x_i = −x_i (i ≥ 3).
func (e *Banana) FGrad(dst, grad, x []float64) error {
	if _, err := checkGrad(e.d, dst, grad, x); err != nil {
		return err
	}
	return e.eval(dst, grad, x)
}

func (e *Banana) eval(dst, grad, x []float64) error {
	n, err := CheckBatch(e.d, dst, x)
	if err != nil {
		return err
	}
	d, s2 := e.d, e.sigma1*e.sigma1
	for s := 0; s < n; s++ {
		xs := x[s*d : (s+1)*d]
		x1 := xs[0]
		u := xs[1] + e.b*(x1*x1-s2)
		f := -0.5*x1*x1/s2 - 0.5*u*u
		for _, v := range xs[2:] {
			f -= 0.5 * v * v
		}
		dst[s] = f
		if grad != nil {
			gs := grad[s*d : (s+1)*d]
			gs[0] = -x1/s2 - 2*e.b*x1*u
			gs[1] = -u
			for i := 2; i < d; i++ {
				gs[i] = -xs[i]
			}
		}
	}
	return nil
}

// LogZ returns log(2π σ₁) + ((d−2)/2) log 2π.
func (e *Banana) LogZ() float64 {
	return log2Pi + math.Log(e.sigma1) + 0.5*float64(e.d-2)*log2Pi
}

// Mean returns the zero vector.
func (e *Banana) Mean() []float64 { return make([]float64, e.d) }

// Cov returns diag(σ₁², 1 + 2b²σ₁⁴, 1, …, 1).
func (e *Banana) Cov() []float64 {
	c := make([]float64, e.d*e.d)
	for i := 0; i < e.d; i++ {
		c[i*e.d+i] = 1
	}
	s2 := e.sigma1 * e.sigma1
	c[0] = s2
	c[e.d+1] = 1 + 2*e.b*e.b*s2*s2
	return c
}

// Sample fills x with exact draws, by the definition of the twist.
func (e *Banana) Sample(rng *rand.Rand, x []float64) error {
	n, err := checkSample("Banana", e.d, rng, x)
	if err != nil {
		return err
	}
	s2 := e.sigma1 * e.sigma1
	for s := 0; s < n; s++ {
		xs := x[s*e.d : (s+1)*e.d]
		x1 := e.sigma1 * rng.NormFloat64()
		xs[0] = x1
		xs[1] = -e.b*(x1*x1-s2) + rng.NormFloat64()
		for i := 2; i < e.d; i++ {
			xs[i] = rng.NormFloat64()
		}
	}
	return nil
}

package energy

import (
	"math"
	"math/rand/v2"
)

// Rosenbrock is the "Rosenbrock distribution" (Goodman & Weare 2010;
// Pagani, Wiegand & Nadarajah 2022): the Rosenbrock function, scaled, as a
// negative log-density with its long curved ridge x₂ ≈ x₁²:
//
//	f(x) = −s [(a − x₁)² + b (x₂ − x₁²)²],
//
// which factorises as x₁ ~ N(a, 1/(2s)), x₂ | x₁ ~ N(x₁², 1/(2sb)). With
// σ² = 1/(2s) and τ² = 1/(2sb) everything is exact:
//
//	log Z = log π − log s − ½ log b,
//	E[x₁] = a,   E[x₂] = a² + σ²,
//	Var x₁ = σ²,   Var x₂ = 2σ⁴ + 4a²σ² + τ²,   Cov(x₁, x₂) = 2aσ².
//
// NewRosenbrock uses s = 1/20, the scaling of Goodman & Weare and of
// Pagani et al.'s 2-D benchmark (with a = 1, b = 100).
type Rosenbrock struct {
	a, b, s float64
}

var (
	_ Analytic     = (*Rosenbrock)(nil)
	_ ExactSampler = (*Rosenbrock)(nil)
)

// NewRosenbrock returns the Rosenbrock distribution with scale s = 1/20;
// a = 1, b = 100 is the classical choice.
func NewRosenbrock(a, b float64) (*Rosenbrock, error) { return NewRosenbrockScaled(a, b, 1.0/20) }

// NewRosenbrockScaled returns the Rosenbrock distribution with scale s:
// f(x) = −s [(a − x₁)² + b (x₂ − x₁²)²]. b and s must be positive.
func NewRosenbrockScaled(a, b, scale float64) (*Rosenbrock, error) {
	if !isFinite(a) {
		return nil, paramErrorf("NewRosenbrock: a = %g is not finite", a)
	}
	if !(b > 0) || math.IsInf(b, 0) {
		return nil, paramErrorf("NewRosenbrock: b = %g, want a positive finite value (b ≤ 0 is not normalisable)", b)
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		return nil, paramErrorf("NewRosenbrock: scale = %g, want a positive finite value", scale)
	}
	return &Rosenbrock{a: a, b: b, s: scale}, nil
}

// Dim returns 2.
func (e *Rosenbrock) Dim() int { return 2 }

// F sets dst[n] = f(x_n).
func (e *Rosenbrock) F(dst, x []float64) error { return e.eval(dst, nil, x) }

// FGrad sets dst[n] = f(x_n) and ∂f/∂x₁ = 2s(a − x₁) + 4sb x₁ (x₂ − x₁²),
// ∂f/∂x₂ = −2sb (x₂ − x₁²).
func (e *Rosenbrock) FGrad(dst, grad, x []float64) error {
	if _, err := checkGrad(2, dst, grad, x); err != nil {
		return err
	}
	return e.eval(dst, grad, x)
}

func (e *Rosenbrock) eval(dst, grad, x []float64) error {
	n, err := CheckBatch(2, dst, x)
	if err != nil {
		return err
	}
	for s := 0; s < n; s++ {
		x1, x2 := x[2*s], x[2*s+1]
		p, q := e.a-x1, x2-x1*x1
		dst[s] = -e.s * (p*p + e.b*q*q)
		if grad != nil {
			grad[2*s] = 2*e.s*p + 4*e.s*e.b*x1*q
			grad[2*s+1] = -2 * e.s * e.b * q
		}
	}
	return nil
}

func (e *Rosenbrock) variances() (sigma2, tau2 float64) {
	return 1 / (2 * e.s), 1 / (2 * e.s * e.b)
}

// LogZ returns log π − log s − ½ log b.
func (e *Rosenbrock) LogZ() float64 { return logPi - math.Log(e.s) - 0.5*math.Log(e.b) }

// Mean returns (a, a² + σ²).
func (e *Rosenbrock) Mean() []float64 {
	s2, _ := e.variances()
	return []float64{e.a, e.a*e.a + s2}
}

// Cov returns [[σ², 2aσ²], [2aσ², 2σ⁴ + 4a²σ² + τ²]].
func (e *Rosenbrock) Cov() []float64 {
	s2, t2 := e.variances()
	c := 2 * e.a * s2
	return []float64{s2, c, c, 2*s2*s2 + 4*e.a*e.a*s2 + t2}
}

// Sample fills x with exact draws from the factorisation.
func (e *Rosenbrock) Sample(rng *rand.Rand, x []float64) error {
	n, err := checkSample("Rosenbrock", 2, rng, x)
	if err != nil {
		return err
	}
	s2, t2 := e.variances()
	sd, td := math.Sqrt(s2), math.Sqrt(t2)
	for s := 0; s < n; s++ {
		x1 := e.a + sd*rng.NormFloat64()
		x[2*s] = x1
		x[2*s+1] = x1*x1 + td*rng.NormFloat64()
	}
	return nil
}

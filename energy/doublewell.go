package energy

import (
	"math"
)

// DoubleWell is a product of d independent one-dimensional double wells,
//
//	f(x) = Σ_i [−a (x_i² − 1)² + c x_i],
//
// with modes near x_i = ±1 separated by a barrier of height a at 0 (for
// c = 0), and a tilt c that makes the well at +1 (c > 0) or −1 (c < 0)
// the heavier one. It tests how a sampler crosses between modes and
// whether it weights them right: for large a a local sampler stays in the
// well it starts in.
//
// log Z = d log z₁, E[x_i] and Var x_i come from the one-dimensional
// integrals z₁ = ∫ exp(−a(t²−1)² + ct) dt, ∫ t·…, ∫ t²·…, computed at
// construction by the trapezoidal rule on a range that holds all but
// e^{−800} of the mass, halving the step until the results agree to 1e−14
// relative. For this analytic, rapidly decaying integrand the rule
// converges geometrically, so LogZ, Mean and Cov are accurate to about
// 1e−13. The coordinates are independent: Cov is diagonal.
type DoubleWell struct {
	d      int
	a, c   float64
	logZ1  float64
	m1, v1 float64
}

var _ Analytic = (*DoubleWell)(nil)

// NewDoubleWell returns the d-dimensional double well with barrier a > 0
// and tilt c.
func NewDoubleWell(d int, a, c float64) (*DoubleWell, error) {
	if d < 1 {
		return nil, paramErrorf("NewDoubleWell: dimension %d, need ≥ 1", d)
	}
	if !(a > 0) || math.IsInf(a, 0) {
		return nil, paramErrorf("NewDoubleWell: barrier a = %g, want a positive finite value", a)
	}
	if !isFinite(c) {
		return nil, paramErrorf("NewDoubleWell: tilt c = %g is not finite", c)
	}
	e := &DoubleWell{d: d, a: a, c: c}
	logZ, m1, m2, err := integrate1D(e.f1, math.Max(1, 4*a*(1+math.Abs(c))))
	if err != nil {
		return nil, err
	}
	e.logZ1, e.m1, e.v1 = logZ, m1, m2-m1*m1
	return e, nil
}

func (e *DoubleWell) f1(t float64) float64 {
	u := t*t - 1
	return -e.a*u*u + e.c*t
}

// Dim returns d.
func (e *DoubleWell) Dim() int { return e.d }

// F sets dst[n] = Σ_i −a(x_i² − 1)² + c x_i.
func (e *DoubleWell) F(dst, x []float64) error { return e.eval(dst, nil, x) }

// FGrad sets dst as F does and ∂f/∂x_i = −4a x_i (x_i² − 1) + c.
func (e *DoubleWell) FGrad(dst, grad, x []float64) error {
	if _, err := checkGrad(e.d, dst, grad, x); err != nil {
		return err
	}
	return e.eval(dst, grad, x)
}

func (e *DoubleWell) eval(dst, grad, x []float64) error {
	n, err := CheckBatch(e.d, dst, x)
	if err != nil {
		return err
	}
	for s := 0; s < n; s++ {
		var f float64
		for i := s * e.d; i < (s+1)*e.d; i++ {
			t := x[i]
			u := t*t - 1
			f += -e.a*u*u + e.c*t
			if grad != nil {
				grad[i] = -4*e.a*t*u + e.c
			}
		}
		dst[s] = f
	}
	return nil
}

// LogZ returns d log z₁ (to about 1e−13, by quadrature).
func (e *DoubleWell) LogZ() float64 { return float64(e.d) * e.logZ1 }

// Mean returns E[x_i] for every coordinate (0 when c = 0).
func (e *DoubleWell) Mean() []float64 {
	m := make([]float64, e.d)
	for i := range m {
		m[i] = e.m1
	}
	return m
}

// Cov returns the diagonal covariance Var x_i · I.
func (e *DoubleWell) Cov() []float64 {
	c := make([]float64, e.d*e.d)
	for i := 0; i < e.d; i++ {
		c[i*e.d+i] = e.v1
	}
	return c
}

// integrate1D returns log ∫ e^{φ(t)} dt and the first two moments of the
// density ∝ e^φ, for a smooth φ → −∞ at least quadratically in both
// directions. curv is a rough bound on −φ” near the modes, setting the
// first step. It widens the range until φ at its ends is 800 below the
// largest value seen, then halves the step of the trapezoidal rule until
// two successive results agree to 1e−14.
func integrate1D(phi func(float64) float64, curv float64) (logZ, m1, m2 float64, err error) {
	ref := math.Max(phi(0), math.Max(phi(1), phi(-1)))
	lo, hi := -2.0, 2.0
	for i := 0; phi(lo) > ref-800 || phi(lo-1) > phi(lo); i++ {
		if i > 200 {
			return 0, 0, 0, paramErrorf("integrate1D: integrand does not decay to the left")
		}
		lo *= 1.5
	}
	for i := 0; phi(hi) > ref-800 || phi(hi+1) > phi(hi); i++ {
		if i > 200 {
			return 0, 0, 0, paramErrorf("integrate1D: integrand does not decay to the right")
		}
		hi *= 1.5
	}
	n := max(64, int(math.Ceil((hi-lo)*math.Sqrt(curv)*4)))
	prevZ, prevM1, prevM2 := math.NaN(), math.NaN(), math.NaN()
	for level := 0; level < 24; level++ {
		h := (hi - lo) / float64(n)
		// Reference value for the exponent: the maximum on this grid.
		m := math.Inf(-1)
		for k := 0; k <= n; k++ {
			m = math.Max(m, phi(lo+float64(k)*h))
		}
		var s0, s1, s2 float64
		for k := 0; k <= n; k++ {
			t := lo + float64(k)*h
			w := math.Exp(phi(t) - m)
			if k == 0 || k == n {
				w /= 2
			}
			s0 += w
			s1 += w * t
			s2 += w * t * t
		}
		z := m + math.Log(s0*h)
		mu1, mu2 := s1/s0, s2/s0
		if level > 0 && math.Abs(z-prevZ) < 1e-14*math.Max(1, math.Abs(z)) &&
			math.Abs(mu1-prevM1) < 1e-14*math.Sqrt(mu2) && math.Abs(mu2-prevM2) < 1e-14*mu2 {
			return z, mu1, mu2, nil
		}
		prevZ, prevM1, prevM2 = z, mu1, mu2
		n *= 2
	}
	return prevZ, prevM1, prevM2, nil
}

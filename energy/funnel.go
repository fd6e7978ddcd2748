package energy

import (
	"math"
	"math/rand/v2"
)

// Funnel is Neal's funnel (Neal 2003, "Slice sampling"), the standard test
// of a sampler's behaviour under a scale that varies over many orders of
// magnitude. Coordinate 0 is v, coordinates 1…d−1 are x_i:
//
//	v ~ N(0, σ²),   x_i | v ~ N(0, e^v),
//
//	f(v, x) = −v²/(2σ²) − ½ log(2πσ²) − ((d−1)/2)(v + log 2π) − ½ e^{−v} Σ x_i²,
//
// the normalised log-density, so log Z = 0. The moments are exact:
// E = 0, Var v = σ², Var x_i = E[e^v] = e^{σ²/2}, and all covariances
// vanish. The marginal of v is N(0, σ²), a sharper check than the moments
// of x, whose fourth moment 3e^{2σ²} makes sample variances slow to
// converge. Neal used d = 10, σ = 3.
type Funnel struct {
	d     int
	sigma float64
	c     float64 // the constant in f
}

var (
	_ Analytic     = (*Funnel)(nil)
	_ ExactSampler = (*Funnel)(nil)
)

// NewFunnel returns the funnel in d ≥ 2 dimensions (v and d−1 x's) with
// scale σ = sigma for v.
func NewFunnel(d int, sigma float64) (*Funnel, error) {
	if d < 2 {
		return nil, paramErrorf("NewFunnel: dimension %d, need ≥ 2 (v and at least one x)", d)
	}
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return nil, paramErrorf("NewFunnel: sigma = %g, want a positive finite value", sigma)
	}
	c := -0.5*(log2Pi+2*math.Log(sigma)) - 0.5*float64(d-1)*log2Pi
	return &Funnel{d: d, sigma: sigma, c: c}, nil
}

// Dim returns d.
func (e *Funnel) Dim() int { return e.d }

// F sets dst[n] = f(v, x) for each sample (v, x) = x_n.
func (e *Funnel) F(dst, x []float64) error { return e.eval(dst, nil, x) }

// FGrad sets dst[n] = f and ∂f/∂v = −v/σ² − (d−1)/2 + ½ e^{−v} Σ x_i²,
// ∂f/∂x_i = −e^{−v} x_i.
func (e *Funnel) FGrad(dst, grad, x []float64) error {
	if _, err := checkGrad(e.d, dst, grad, x); err != nil {
		return err
	}
	return e.eval(dst, grad, x)
}

func (e *Funnel) eval(dst, grad, x []float64) error {
	n, err := CheckBatch(e.d, dst, x)
	if err != nil {
		return err
	}
	d, s2, m := e.d, e.sigma*e.sigma, float64(e.d-1)
	for s := 0; s < n; s++ {
		xs := x[s*d : (s+1)*d]
		v := xs[0]
		ev := math.Exp(-v)
		var ss float64
		for _, xi := range xs[1:] {
			ss += xi * xi
		}
		dst[s] = e.c - 0.5*v*v/s2 - 0.5*m*v - 0.5*ev*ss
		if grad != nil {
			gs := grad[s*d : (s+1)*d]
			gs[0] = -v/s2 - 0.5*m + 0.5*ev*ss
			for i := 1; i < d; i++ {
				gs[i] = -ev * xs[i]
			}
		}
	}
	return nil
}

// LogZ returns 0: f is normalised.
func (e *Funnel) LogZ() float64 { return 0 }

// Mean returns the zero vector.
func (e *Funnel) Mean() []float64 { return make([]float64, e.d) }

// Cov returns diag(σ², e^{σ²/2}, …, e^{σ²/2}).
func (e *Funnel) Cov() []float64 {
	c := make([]float64, e.d*e.d)
	vx := math.Exp(e.sigma * e.sigma / 2)
	c[0] = e.sigma * e.sigma
	for i := 1; i < e.d; i++ {
		c[i*e.d+i] = vx
	}
	return c
}

// Sample fills x with exact draws: v first, then each x_i given v.
func (e *Funnel) Sample(rng *rand.Rand, x []float64) error {
	n, err := checkSample("Funnel", e.d, rng, x)
	if err != nil {
		return err
	}
	for s := 0; s < n; s++ {
		xs := x[s*e.d : (s+1)*e.d]
		v := e.sigma * rng.NormFloat64()
		xs[0] = v
		sd := math.Exp(v / 2)
		for i := 1; i < e.d; i++ {
			xs[i] = sd * rng.NormFloat64()
		}
	}
	return nil
}

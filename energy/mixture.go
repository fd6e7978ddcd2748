package energy

import (
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/internal/mathx"
)

// Mixture is a finite mixture of Gaussians,
//
//	f(x) = log Σ_k w_k N(x; μ_k, Σ_k),   log Z = log Σ_k w_k,
//
// evaluated in log-sum-exp form so that far-away points do not underflow.
// With π_k = w_k / Σ w, the moments are exact:
//
//	E[x] = Σ_k π_k μ_k,   Cov[x] = Σ_k π_k (Σ_k + μ_k μ_kᵀ) − E[x] E[x]ᵀ.
//
// Mixtures with well-separated modes test whether a sampler finds every
// mode with the right weight.
type Mixture struct {
	d       int
	logW    []float64 // log w_k
	pi      []float64 // normalised weights
	comps   []*Gaussian
	logZ    float64
	mean    []float64
	cov     []float64
	cumProb []float64
}

var (
	_ Analytic     = (*Mixture)(nil)
	_ ExactSampler = (*Mixture)(nil)
)

// NewMixture returns the mixture Σ_k w_k N(μ_k, Σ_k). The weights need not
// sum to one (log Z = log Σ w) but must be positive and finite; all
// components must have the same dimension.
func NewMixture(weights []float64, comps []*Gaussian) (*Mixture, error) {
	if len(comps) == 0 {
		return nil, paramErrorf("NewMixture: no components")
	}
	if len(weights) != len(comps) {
		return nil, shapeErrorf("NewMixture: %d weights for %d components", len(weights), len(comps))
	}
	d := 0
	for k, c := range comps {
		if c == nil {
			return nil, paramErrorf("NewMixture: component %d is nil", k)
		}
		if k == 0 {
			d = c.Dim()
		} else if c.Dim() != d {
			return nil, shapeErrorf("NewMixture: component %d has dimension %d, component 0 has %d", k, c.Dim(), d)
		}
	}
	var total float64
	for k, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, paramErrorf("NewMixture: weight[%d] = %g, want a positive finite value", k, w)
		}
		total += w
	}
	m := &Mixture{d: d, comps: append([]*Gaussian(nil), comps...), logZ: math.Log(total),
		mean: make([]float64, d), cov: make([]float64, d*d)}
	var cum float64
	for k, w := range weights {
		m.logW = append(m.logW, math.Log(w))
		p := w / total
		m.pi = append(m.pi, p)
		cum += p
		m.cumProb = append(m.cumProb, cum)
		for i := 0; i < d; i++ {
			m.mean[i] += p * comps[k].mean[i]
		}
	}
	for k, c := range comps {
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				m.cov[i*d+j] += m.pi[k] * (c.cov[i*d+j] + c.mean[i]*c.mean[j])
			}
		}
	}
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			m.cov[i*d+j] -= m.mean[i] * m.mean[j]
		}
	}
	return m, nil
}

// Dim returns the dimension of the components.
func (m *Mixture) Dim() int { return m.d }

// F sets dst[n] = log Σ_k w_k N(x_n; μ_k, Σ_k).
func (m *Mixture) F(dst, x []float64) error { return m.eval(dst, nil, x) }

// FGrad sets dst as F does and grad[n] = Σ_k r_k(x_n) ∇ log N(x_n; μ_k, Σ_k)
// = −Σ_k r_k Σ_k⁻¹ (x_n − μ_k), with responsibilities r_k ∝ w_k N(x_n; μ_k, Σ_k).
func (m *Mixture) FGrad(dst, grad, x []float64) error {
	if _, err := checkGrad(m.d, dst, grad, x); err != nil {
		return err
	}
	return m.eval(dst, grad, x)
}

func (m *Mixture) eval(dst, grad, x []float64) error {
	n, err := CheckBatch(m.d, dst, x)
	if err != nil {
		return err
	}
	d, nk := m.d, len(m.comps)
	lp := make([]float64, nk*n) // log w_k N_k(x_s), component-major
	var cg []float64            // component gradients, component-major
	if grad != nil {
		cg = make([]float64, nk*n*d)
	}
	for k, c := range m.comps {
		var err error
		if grad != nil {
			err = c.FGrad(lp[k*n:(k+1)*n], cg[k*n*d:(k+1)*n*d], x)
		} else {
			err = c.F(lp[k*n:(k+1)*n], x)
		}
		if err != nil {
			return err
		}
		for s := 0; s < n; s++ {
			lp[k*n+s] += m.logW[k] - c.logZ
		}
	}
	v := make([]float64, nk)
	for s := 0; s < n; s++ {
		for k := range v {
			v[k] = lp[k*n+s]
		}
		f := mathx.LogSumExp(v)
		dst[s] = f
		if grad == nil {
			continue
		}
		gs := grad[s*d : (s+1)*d]
		clear(gs)
		for k := range v {
			r := math.Exp(v[k] - f)
			if math.IsNaN(r) {
				r = 0 // f = −Inf: every component underflowed
			}
			for i := range gs {
				gs[i] += r * cg[(k*n+s)*d+i]
			}
		}
	}
	return nil
}

// LogZ returns log Σ_k w_k.
func (m *Mixture) LogZ() float64 { return m.logZ }

// Mean returns Σ_k π_k μ_k.
func (m *Mixture) Mean() []float64 { return clone(m.mean) }

// Cov returns Σ_k π_k (Σ_k + μ_k μ_kᵀ) − E[x] E[x]ᵀ, d×d row-major.
func (m *Mixture) Cov() []float64 { return clone(m.cov) }

// Weights returns the normalised mixture weights π_k = w_k / Σ w.
func (m *Mixture) Weights() []float64 { return clone(m.pi) }

// Components returns the mixture's components; they must not be modified.
func (m *Mixture) Components() []*Gaussian { return append([]*Gaussian(nil), m.comps...) }

// Sample fills x with independent draws: a component k with probability
// π_k, then a draw from N(μ_k, Σ_k).
func (m *Mixture) Sample(rng *rand.Rand, x []float64) error {
	n, err := checkSample("Mixture", m.d, rng, x)
	if err != nil {
		return err
	}
	for s := 0; s < n; s++ {
		u := rng.Float64()
		k := 0
		for k < len(m.cumProb)-1 && u >= m.cumProb[k] {
			k++
		}
		if err := m.comps[k].Sample(rng, x[s*m.d:(s+1)*m.d]); err != nil {
			return err
		}
	}
	return nil
}

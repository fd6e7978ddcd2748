package energy

import (
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/internal/blas"
)

// blockedSamples is the number of samples from which Gaussian.Sample
// multiplies by the Cholesky factor as one matrix product.
const blockedSamples = 8

// Gaussian is the multivariate normal N(μ, Σ) as an energy:
//
//	f(x) = −½ (x−μ)ᵀ Σ⁻¹ (x−μ),   log Z = (d/2) log 2π + ½ log det Σ.
//
// f is 0 at the mean; LogZ, Mean and Cov are exact. A Gaussian is safe for
// concurrent use.
type Gaussian struct {
	d    int
	mean []float64
	cov  []float64 // d×d
	chol []float64 // lower Cholesky factor of cov; nil when diagonal
	prec []float64 // cov⁻¹; nil when diagonal
	vars []float64 // diagonal of cov when the covariance is diagonal, else nil
	sd   []float64 // √vars when diagonal
	logZ float64
}

var (
	_ Analytic     = (*Gaussian)(nil)
	_ ExactSampler = (*Gaussian)(nil)
)

// NewGaussian returns N(mean, cov) for a d×d row-major covariance, d =
// len(mean). It returns an error wrapping ErrShape if len(cov) ≠ d², and
// one wrapping ErrParameter if cov is not symmetric, not positive definite
// (Cholesky fails; the error names the pivot) or holds a non-finite value.
func NewGaussian(mean, cov []float64) (*Gaussian, error) {
	d := len(mean)
	if d < 1 {
		return nil, paramErrorf("NewGaussian: mean is empty, need dimension ≥ 1")
	}
	if len(cov) != d*d {
		return nil, shapeErrorf("NewGaussian: covariance has %d values for a mean of dimension %d, want %d×%d = %d", len(cov), d, d, d, d*d)
	}
	if i := allFinite(mean); i >= 0 {
		return nil, paramErrorf("NewGaussian: mean[%d] = %g is not finite", i, mean[i])
	}
	if i := allFinite(cov); i >= 0 {
		return nil, paramErrorf("NewGaussian: cov[%d][%d] = %g is not finite", i/d, i%d, cov[i])
	}
	for i := 0; i < d; i++ {
		for j := 0; j < i; j++ {
			a, b := cov[i*d+j], cov[j*d+i]
			if math.Abs(a-b) > 1e-12*math.Max(math.Abs(a), math.Abs(b)) {
				return nil, paramErrorf("NewGaussian: covariance is not symmetric: cov[%d][%d] = %g but cov[%d][%d] = %g", i, j, a, j, i, b)
			}
		}
	}
	l, bad, ok := cholesky(cov, d)
	if !ok {
		return nil, paramErrorf("NewGaussian: %d×%d covariance is not positive definite (Cholesky pivot %d is not positive)", d, d, bad)
	}
	g := &Gaussian{d: d, mean: clone(mean), cov: clone(cov), chol: l, prec: choleskyInverse(l, d)}
	g.logZ = 0.5 * float64(d) * log2Pi
	for i := 0; i < d; i++ {
		g.logZ += math.Log(l[i*d+i])
	}
	return g, nil
}

// NewDiagGaussian returns N(mean, diag(variance)), evaluated in O(d) per
// sample. Variances must be positive and finite.
func NewDiagGaussian(mean, variance []float64) (*Gaussian, error) {
	d := len(mean)
	if d < 1 {
		return nil, paramErrorf("NewDiagGaussian: mean is empty, need dimension ≥ 1")
	}
	if len(variance) != d {
		return nil, shapeErrorf("NewDiagGaussian: %d variances for a mean of dimension %d", len(variance), d)
	}
	if i := allFinite(mean); i >= 0 {
		return nil, paramErrorf("NewDiagGaussian: mean[%d] = %g is not finite", i, mean[i])
	}
	g := &Gaussian{d: d, mean: clone(mean), cov: make([]float64, d*d), vars: clone(variance), sd: make([]float64, d)}
	g.logZ = 0.5 * float64(d) * log2Pi
	for i, v := range variance {
		if !(v > 0) || math.IsInf(v, 0) {
			return nil, paramErrorf("NewDiagGaussian: variance[%d] = %g, want a positive finite value", i, v)
		}
		g.cov[i*d+i] = v
		g.sd[i] = math.Sqrt(v)
		g.logZ += 0.5 * math.Log(v)
	}
	return g, nil
}

// NewIllConditionedGaussian returns a zero-mean Gaussian in d dimensions
// whose covariance has eigenvalues log-spaced from 1 down to 1/cond,
// λ_k = cond^(−k/(d−1)) for k = 0…d−1, so that its condition number is
// cond. With rng != nil the eigenvectors are a uniformly random rotation
// (Σ = Q Λ Qᵀ, Q Haar-distributed); with rng == nil the covariance is
// diagonal, Σ = Λ. cond must be finite and ≥ 1; values up to ~1e10 keep
// the Cholesky factor accurate. This is the standard stress test for step
// size and mass-matrix adaptation.
func NewIllConditionedGaussian(d int, cond float64, rng *rand.Rand) (*Gaussian, error) {
	if d < 1 {
		return nil, paramErrorf("NewIllConditionedGaussian: dimension %d, need ≥ 1", d)
	}
	if !(cond >= 1) || math.IsInf(cond, 0) {
		return nil, paramErrorf("NewIllConditionedGaussian: condition number %g, want a finite value ≥ 1", cond)
	}
	lambda := make([]float64, d)
	for k := range lambda {
		if d == 1 {
			lambda[k] = 1
			continue
		}
		lambda[k] = math.Pow(cond, -float64(k)/float64(d-1))
	}
	mean := make([]float64, d)
	if rng == nil {
		return NewDiagGaussian(mean, lambda)
	}
	q := randomOrthogonal(d, rng)
	cov := make([]float64, d*d)
	prec := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j <= i; j++ {
			var s, p float64
			for k := 0; k < d; k++ {
				s += q[i*d+k] * lambda[k] * q[j*d+k]
				p += q[i*d+k] / lambda[k] * q[j*d+k]
			}
			cov[i*d+j], cov[j*d+i] = s, s
			prec[i*d+j], prec[j*d+i] = p, p
		}
	}
	g, err := NewGaussian(mean, cov)
	if err != nil {
		return nil, err
	}
	// The precision built from the eigendecomposition is more accurate
	// than the Cholesky inverse, and log det Σ is known exactly.
	g.prec = prec
	g.logZ = 0.5 * float64(d) * log2Pi
	for _, l := range lambda {
		g.logZ += 0.5 * math.Log(l)
	}
	return g, nil
}

// Dim returns the dimension d.
func (g *Gaussian) Dim() int { return g.d }

// F sets dst[n] = −½ (x_n−μ)ᵀ Σ⁻¹ (x_n−μ).
func (g *Gaussian) F(dst, x []float64) error {
	return g.eval(dst, nil, x)
}

// FGrad sets dst as F does and grad[n] = −Σ⁻¹ (x_n − μ).
func (g *Gaussian) FGrad(dst, grad, x []float64) error {
	if _, err := checkGrad(g.d, dst, grad, x); err != nil {
		return err
	}
	return g.eval(dst, grad, x)
}

func (g *Gaussian) eval(dst, grad, x []float64) error {
	n, err := CheckBatch(g.d, dst, x)
	if err != nil {
		return err
	}
	d := g.d
	if g.vars != nil {
		for s := 0; s < n; s++ {
			xs := x[s*d : (s+1)*d]
			var f float64
			for i, v := range xs {
				r := (v - g.mean[i]) / g.vars[i]
				f -= 0.5 * r * (v - g.mean[i])
				if grad != nil {
					grad[s*d+i] = -r
				}
			}
			dst[s] = f
		}
		return nil
	}
	r := make([]float64, d)
	for s := 0; s < n; s++ {
		xs := x[s*d : (s+1)*d]
		for i := range r {
			r[i] = xs[i] - g.mean[i]
		}
		var f float64
		for i := 0; i < d; i++ {
			row := g.prec[i*d : (i+1)*d]
			var pr float64
			for j, rj := range r {
				pr += row[j] * rj
			}
			f -= 0.5 * r[i] * pr
			if grad != nil {
				grad[s*d+i] = -pr
			}
		}
		dst[s] = f
	}
	return nil
}

// LogZ returns (d/2) log 2π + ½ log det Σ.
func (g *Gaussian) LogZ() float64 { return g.logZ }

// Mean returns a copy of μ.
func (g *Gaussian) Mean() []float64 { return clone(g.mean) }

// Cov returns a copy of Σ, d×d row-major.
func (g *Gaussian) Cov() []float64 { return clone(g.cov) }

// Sample fills x with independent draws μ + L z, z ~ N(0, I), where
// Σ = L Lᵀ is the Cholesky factorisation.
func (g *Gaussian) Sample(rng *rand.Rand, x []float64) error {
	n, err := checkSample("Gaussian", g.d, rng, x)
	if err != nil {
		return err
	}
	d := g.d
	if g.vars == nil && n >= blockedSamples {
		// Many samples: x = μ + z·Lᵀ as one matrix product (the same
		// normal draws, in the same order, as one sample at a time).
		z := make([]float64, n*d)
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		blas.Dgemm(false, true, n, d, d, 1, z, d, g.chol, d, 0, x[:n*d], d)
		for s := 0; s < n; s++ {
			xs := x[s*d : (s+1)*d]
			for i, m := range g.mean {
				xs[i] += m
			}
		}
		return nil
	}
	z := make([]float64, d)
	for s := 0; s < n; s++ {
		xs := x[s*d : (s+1)*d]
		if g.vars != nil {
			for i := range xs {
				xs[i] = g.mean[i] + g.sd[i]*rng.NormFloat64()
			}
			continue
		}
		for i := range z {
			z[i] = rng.NormFloat64()
		}
		for i := 0; i < d; i++ {
			v := g.mean[i]
			for k := 0; k <= i; k++ {
				v += g.chol[i*d+k] * z[k]
			}
			xs[i] = v
		}
	}
	return nil
}

// logDensity returns log N(x; μ, Σ) for one sample, f(x) − log Z.
func (g *Gaussian) logDensity(x []float64) float64 {
	var f [1]float64
	_ = g.eval(f[:], nil, x)
	return f[0] - g.logZ
}

func clone(v []float64) []float64 { return append([]float64(nil), v...) }

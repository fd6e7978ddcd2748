package quality

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ErrInput is wrapped by the errors for inputs that cannot be scored: a
// batch of the wrong length, a NaN or infinite value, too few samples.
var ErrInput = errors.New("quality: bad input")

// Gaussian is the Gaussian fit N(Mean, Cov) of a set of feature vectors.
// It is safe for concurrent use while nothing changes its fields.
type Gaussian struct {
	// N is the number of vectors the fit is made from.
	N int
	// Mean is the sample mean, of length d.
	Mean []float64
	// Cov is the unbiased sample covariance, Σ(x−μ)(x−μ)ᵀ/(N−1), d×d.
	Cov *mat.SymDense
}

// Dim returns d, the dimension of the vectors.
func (g *Gaussian) Dim() int { return len(g.Mean) }

// FitGaussian returns the sample mean and the unbiased sample covariance
// of the n vectors of dimension d in x (row-major, n·d values). It needs
// n ≥ 2, d ≥ 1 and finite values; anything else is an error wrapping
// ErrInput.
//
// The covariance is accumulated around the mean in two passes, so large
// common offsets do not cancel catastrophically.
func FitGaussian(x []float64, n, d int) (*Gaussian, error) {
	if d <= 0 {
		return nil, fmt.Errorf("quality: FitGaussian: dimension %d is not positive: %w", d, ErrInput)
	}
	if n < 2 {
		return nil, fmt.Errorf("quality: FitGaussian: %d vectors; a covariance needs at least 2: %w", n, ErrInput)
	}
	if len(x) != n*d {
		return nil, fmt.Errorf("quality: FitGaussian: %d values for %d vectors of dimension %d, want %d: %w", len(x), n, d, n*d, ErrInput)
	}
	mean := make([]float64, d)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("quality: FitGaussian: vector %d, component %d is %v: %w", i, j, v, ErrInput)
			}
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	centred := make([]float64, n*d)
	for i := range n {
		for j := range d {
			centred[i*d+j] = x[i*d+j] - mean[j]
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), mat.NewDense(n, d, centred).T())
	return &Gaussian{N: n, Mean: mean, Cov: cov}, nil
}

// FrechetDistance returns the Fréchet (2-Wasserstein squared) distance
// between the Gaussians N(μ₁, C₁) and N(μ₂, C₂):
//
//	d² = ‖μ₁ − μ₂‖² + tr(C₁ + C₂ − 2·(C₁^½ C₂ C₁^½)^½).
//
// Both square roots are taken of symmetric positive semi-definite matrices
// through their eigendecompositions (mat.EigenSym), with eigenvalues that
// rounding made slightly negative set to zero; tr (C₁^½ C₂ C₁^½)^½ is the
// sum of the square roots of the eigenvalues of C₁^½ C₂ C₁^½. This avoids
// the complex intermediate results of a general matrix square root of
// C₁C₂. The result is clamped at zero. It returns an error wrapping
// ErrInput if the dimensions differ, and an error if an eigendecomposition
// fails.
func FrechetDistance(a, b *Gaussian) (float64, error) {
	d := a.Dim()
	if b.Dim() != d || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("quality: FrechetDistance: dimensions %d (cov %d) and %d (cov %d) differ: %w",
			a.Dim(), a.Cov.SymmetricDim(), b.Dim(), b.Cov.SymmetricDim(), ErrInput)
	}
	mean := 0.0
	for i, v := range a.Mean {
		diff := v - b.Mean[i]
		mean += diff * diff
	}
	s1, err := sqrtSym(a.Cov)
	if err != nil {
		return 0, err
	}
	var t, u mat.Dense
	t.Mul(s1, b.Cov)
	u.Mul(&t, s1)
	m := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			m.SetSym(i, j, 0.5*(u.At(i, j)+u.At(j, i)))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(m, false) {
		return 0, fmt.Errorf("quality: FrechetDistance: eigendecomposition of C₁^½ C₂ C₁^½ did not converge")
	}
	cross := 0.0
	for _, l := range eig.Values(nil) {
		if l > 0 {
			cross += math.Sqrt(l)
		}
	}
	tr := 0.0
	for i := range d {
		tr += a.Cov.At(i, i) + b.Cov.At(i, i)
	}
	return max(0, mean+tr-2*cross), nil
}

// sqrtSym returns the symmetric square root V·diag(√max(λ, 0))·Vᵀ of the
// symmetric matrix c = V·diag(λ)·Vᵀ.
func sqrtSym(c *mat.SymDense) (*mat.SymDense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(c, true) {
		return nil, fmt.Errorf("quality: FrechetDistance: eigendecomposition of a covariance did not converge")
	}
	vals := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	d := len(vals)
	// Scale column k of V by λ_k^¼; then V'·V'ᵀ = V·diag(√λ)·Vᵀ.
	for k, l := range vals {
		s := math.Sqrt(math.Sqrt(max(l, 0)))
		for i := range d {
			v.Set(i, k, v.At(i, k)*s)
		}
	}
	out := mat.NewSymDense(d, nil)
	out.SymOuterK(1, &v)
	return out, nil
}

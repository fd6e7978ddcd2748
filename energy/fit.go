package energy

import (
	"math"

	"github.com/ebmgo/ebm/internal/blas"
)

// FitGaussian returns the Gaussian N(μ, Σ + ridge·v̄·I) fitted to the n
// samples of x (n×d row-major): μ and Σ are the sample mean and the
// unbiased sample covariance, v̄ is the mean of the d variances, and the
// ridge keeps Σ positive definite where some coordinates never vary (the
// corner pixels of MNIST) or n ≤ d. Samples of it are the "informative
// initialisation" of image EBMs' chains: smooth shapes with the data's
// mean and pixel correlations rather than uniform noise.
//
// It returns an error wrapping ErrShape if len(x) is not n·d with n ≥ 2
// and d ≥ 1, and one wrapping ErrParameter if ridge is negative or not
// finite, if x holds a non-finite value, or if the data do not vary at
// all. The covariance is one matrix product (OpenBLAS where available);
// the Gaussian's Cholesky factor and inverse cost O(d³).
func FitGaussian(x []float64, n int, ridge float64) (*Gaussian, error) {
	if n < 2 || len(x) < n || len(x)%n != 0 {
		return nil, shapeErrorf("FitGaussian: %d values for %d samples: want n ≥ 2 samples of the same dimension ≥ 1", len(x), n)
	}
	if ridge < 0 || math.IsNaN(ridge) || math.IsInf(ridge, 0) {
		return nil, paramErrorf("FitGaussian: ridge = %g, want ≥ 0 and finite", ridge)
	}
	if i := allFinite(x); i >= 0 {
		return nil, paramErrorf("FitGaussian: sample %d holds %g", i/(len(x)/n), x[i])
	}
	d := len(x) / n
	mean := make([]float64, d)
	for s := range n {
		for i, v := range x[s*d : (s+1)*d] {
			mean[i] += v
		}
	}
	for i := range mean {
		mean[i] /= float64(n)
	}
	centred := make([]float64, len(x))
	for s := range n {
		for i, v := range x[s*d : (s+1)*d] {
			centred[s*d+i] = v - mean[i]
		}
	}
	cov := make([]float64, d*d)
	blas.Dgemm(true, false, d, d, n, 1/float64(n-1), centred, d, centred, d, 0, cov, d)
	avg := 0.0
	for i := range d {
		avg += cov[i*d+i]
	}
	avg /= float64(d)
	if !(avg > 0) {
		return nil, paramErrorf("FitGaussian: the %d samples do not vary: no covariance to fit", n)
	}
	for i := range d {
		cov[i*d+i] += ridge * avg
		for j := range i { // exact symmetry, which NewGaussian checks
			v := (cov[i*d+j] + cov[j*d+i]) / 2
			cov[i*d+j], cov[j*d+i] = v, v
		}
	}
	return NewGaussian(mean, cov)
}

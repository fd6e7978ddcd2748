package energy

import "math/rand/v2"

// Analytic is a continuous energy whose normalising constant and first two
// moments are known, in closed form or to near machine precision. It is
// what samplers and estimators are tested against. Every continuous energy
// in this package implements it.
type Analytic interface {
	Differentiable
	// LogZ returns log Z = log ∫ exp(f(x)) dx.
	LogZ() float64
	// Mean returns E[x] (length Dim) in a new slice.
	Mean() []float64
	// Cov returns the covariance of x as a Dim×Dim row-major matrix in a
	// new slice.
	Cov() []float64
}

// ExactSampler is an energy that can draw independent exact samples from
// p(x) = exp(f(x))/Z, as reference draws for tests of samplers and
// estimators.
type ExactSampler interface {
	Energy
	// Sample fills x, a batch of len(x)/Dim() samples stored row-major,
	// with independent draws from p using rng. It returns an error wrapping
	// ErrShape if len(x) is not a multiple of Dim(), and panics if rng is
	// nil.
	Sample(rng *rand.Rand, x []float64) error
}

// checkSample validates the arguments of a Sample method and returns the
// number of samples.
func checkSample(name string, dim int, rng *rand.Rand, x []float64) (int, error) {
	if rng == nil {
		panic("energy: " + name + ".Sample: nil rng")
	}
	if len(x)%dim != 0 {
		return 0, shapeErrorf("%s.Sample: %d values is not a whole number of samples of dimension %d", name, len(x), dim)
	}
	return len(x) / dim, nil
}

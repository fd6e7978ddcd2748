package energy

import "errors"

// Energy is an unnormalised log-density over batches of samples:
// p(x) = exp(f(x)) / Z with Z = ∫ exp(f(x)) dx unknown in general.
//
// A batch of N samples is stored row-major in one []float64 of length
// N*Dim(): sample n occupies x[n*Dim() : (n+1)*Dim()]. Discrete variables
// are stored as float64 values too (see [Discrete]).
//
// Implementations are not required to be safe for concurrent use. The
// analytic energies of this package (Gaussian, Mixture, Banana,
// Rosenbrock, Funnel, DoubleWell, Ising, Potts) keep no state beyond
// their parameters, fixed at construction, and are safe for concurrent
// use; so is an RBM while SetParams is not called (its Gibbs cache has a
// lock). A graph.Energy is not.
type Energy interface {
	// Dim is the number of scalar variables in one sample: the product of
	// the event shape.
	Dim() int
	// F sets dst[n] = f(x_n) for each of the len(dst) samples in x.
	// len(x) must equal len(dst)*Dim(); otherwise F returns an error
	// wrapping [ErrShape]. A non-finite f is written as is: callers decide
	// what a NaN or Inf means (samplers count it as a divergence).
	F(dst, x []float64) error
}

// Differentiable is an Energy that also gives its gradient with respect to
// the input, as Langevin dynamics, MALA, HMC and Gibbs-with-Gradients need.
type Differentiable interface {
	Energy
	// FGrad sets dst[n] = f(x_n) and grad[n*Dim()+i] = ∂f(x_n)/∂x_{n,i}.
	// len(grad) must equal len(x), or FGrad returns an error wrapping
	// [ErrShape]; a nil grad is such an error for a non-empty batch (F
	// gives the values alone).
	FGrad(dst, grad, x []float64) error
}

// ErrShape is wrapped by errors that report a batch or parameter of the
// wrong size.
var ErrShape = errors.New("energy: wrong shape")

// LogRatio returns log p(x1) − log p(x2) = f(x1) − f(x2) for single samples
// x1 and x2; the partition function cancels.
func LogRatio(e Energy, x1, x2 []float64) (float64, error) {
	var f [2]float64
	x := make([]float64, 2*e.Dim())
	if len(x1) != e.Dim() || len(x2) != e.Dim() {
		return 0, shapeErrorf("LogRatio: samples have %d and %d values, want %d", len(x1), len(x2), e.Dim())
	}
	copy(x, x1)
	copy(x[e.Dim():], x2)
	if err := e.F(f[:], x); err != nil {
		return 0, err
	}
	return f[0] - f[1], nil
}

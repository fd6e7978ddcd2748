package energy

import (
	"errors"
	"fmt"
)

// shapeErrorf returns an error wrapping ErrShape with a formatted message.
func shapeErrorf(format string, args ...any) error {
	return fmt.Errorf("energy: "+format+": %w", append(args, ErrShape)...)
}

// CheckBatch returns the number of samples in x for an energy of dimension
// dim, or an error wrapping ErrShape if len(x) is not len(dst)*dim. Energy
// implementations call it at the top of F and FGrad.
func CheckBatch(dim int, dst, x []float64) (int, error) {
	n := len(dst)
	if dim <= 0 {
		return 0, shapeErrorf("dimension %d is not positive", dim)
	}
	if len(x) != n*dim {
		return 0, shapeErrorf("batch of %d values with %d outputs, want %d×%d = %d values", len(x), n, n, dim, n*dim)
	}
	return n, nil
}

// ErrParameter is wrapped by errors that report an invalid model parameter
// at construction: a negative variance, a covariance that is not positive
// definite, a dimension below 1, a non-finite value.
var ErrParameter = errors.New("energy: invalid parameter")

// ErrTooLarge is wrapped by errors from exact computations (enumeration,
// transfer matrices, quadrature) whose cost is above the documented limit.
// Callers can fall back to an estimator such as annealed importance
// sampling.
var ErrTooLarge = errors.New("energy: too large for an exact computation")

// paramErrorf returns an error wrapping ErrParameter with a formatted message.
func paramErrorf(format string, args ...any) error {
	return fmt.Errorf("energy: "+format+": %w", append(args, ErrParameter)...)
}

// tooLargeErrorf returns an error wrapping ErrTooLarge with a formatted message.
func tooLargeErrorf(format string, args ...any) error {
	return fmt.Errorf("energy: "+format+": %w", append(args, ErrTooLarge)...)
}

// checkGrad is CheckBatch for FGrad: it also checks that grad is laid out
// like x.
func checkGrad(dim int, dst, grad, x []float64) (int, error) {
	n, err := CheckBatch(dim, dst, x)
	if err != nil {
		return 0, err
	}
	if len(grad) != len(x) {
		return 0, shapeErrorf("gradient buffer has %d values for a batch of %d values", len(grad), len(x))
	}
	return n, nil
}

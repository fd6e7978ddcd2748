package energy

import "fmt"

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

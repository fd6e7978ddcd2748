package gradcheck

import (
	"fmt"
	"math"
)

// Compare returns the largest error between analytic gradient g and the
// central-difference gradient of f at x, with step h, measured as
// |g − fd| / max(1, |fd|) — absolute for small values, relative for large.
// It restores x before returning.
func Compare(f func(x []float64) float64, x, g []float64, h float64) (maxErr float64, at int) {
	at = -1
	for i := range x {
		old := x[i]
		x[i] = old + h
		fp := f(x)
		x[i] = old - h
		fm := f(x)
		x[i] = old
		fd := (fp - fm) / (2 * h)
		e := math.Abs(g[i]-fd) / math.Max(1, math.Abs(fd))
		if e > maxErr || math.IsNaN(e) {
			maxErr, at = e, i
		}
	}
	return maxErr, at
}

// Check is Compare that returns an error when the largest error exceeds tol.
func Check(name string, f func(x []float64) float64, x, g []float64, h, tol float64) error {
	e, at := Compare(f, x, g, h)
	if e > tol || math.IsNaN(e) {
		return fmt.Errorf("%s: gradient error %.3g at index %d exceeds %.3g (analytic %.10g)", name, e, at, tol, g[at])
	}
	return nil
}

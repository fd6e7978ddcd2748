package gradcheck_test

import (
	"fmt"
	"math"

	"github.com/ebmgo/ebm/internal/gradcheck"
)

// Check the gradient of f(x) = sin(x₀)·x₁², and catch a wrong one.
func ExampleCheck() {
	f := func(x []float64) float64 { return math.Sin(x[0]) * x[1] * x[1] }
	x := []float64{0.3, -1.2}
	good := []float64{math.Cos(x[0]) * x[1] * x[1], 2 * math.Sin(x[0]) * x[1]}
	bad := []float64{good[0], math.Sin(x[0]) * x[1]} // forgot the 2
	fmt.Println(gradcheck.Check("good", f, x, good, 1e-6, 1e-6))
	fmt.Println(gradcheck.Check("bad", f, x, bad, 1e-6, 1e-6) != nil)
	// Output:
	// <nil>
	// true
}

// Package gradcheck compares analytic gradients with central differences,
//
//	∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h,
//
// whose error is O(h²) plus rounding of order ε·|f|/h: in float64 with
// h = 1e−6 both are near 1e−10 for well-scaled functions, so an analytic
// gradient that disagrees by more than ~1e−6 is wrong. Tests use it in
// float64 only; float32 finite differences are noise.
package gradcheck

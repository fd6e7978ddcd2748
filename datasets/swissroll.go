package datasets

import "math"

// SwissRoll is FFJORD's "swissroll": scikit-learn's make_swiss_roll
// (noise=1) projected on its first and third coordinates and divided by 5.
// A point lies on the spiral
//
//	c(t) = (t cos t, t sin t)/5,  t uniform on [3π/2, 9π/2],
//
// plus N(0, σ²I) noise, so
//
//	p(x) = (1/3π) ∫ N(x; c(t), σ²I) dt,
//
// computed by adaptive quadrature along the spiral.
type SwissRoll struct {
	// Std is the noise standard deviation σ; 0 means 0.2 (make_swiss_roll's
	// noise 1 divided by 5).
	Std float64
}

// Toy returns the distribution, or an error naming a negative or
// non-finite Std.
func (s SwissRoll) Toy() (*Toy, error) {
	std, err := positiveOr("SwissRoll.Std", s.Std, 0.2)
	if err != nil {
		return nil, err
	}
	t0, t1 := 1.5*math.Pi, 4.5*math.Pi
	c := curve{
		w: 1, t0: t0, t1: t1,
		pos: func(t float64) (float64, float64) {
			s, c := math.Sincos(t)
			return t * c / 5, t * s / 5
		},
		dens:  func(float64) float64 { return 1 / (t1 - t0) },
		quant: func(u float64) float64 { return t0 + (t1-t0)*u },
	}
	return newCurveMix(std, []curve{c}).toy("swissroll"), nil
}

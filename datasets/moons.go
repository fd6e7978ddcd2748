package datasets

import "math"

// Moons is FFJORD's "moons": scikit-learn's make_moons(noise=0.1) scaled by
// 2 and shifted by (−1, −0.2). With equal probability a point lies on the
// upper arc
//
//	c₁(t) = (−1 + 2 cos t, −0.2 + 2 sin t)
//
// or the lower arc
//
//	c₂(t) = (1 − 2 cos t, 0.8 − 2 sin t),
//
// with t uniform on [0, π], plus N(0, σ²I) noise. The density is
//
//	p(x) = ½ Σ_k (1/π) ∫₀^π N(x; c_k(t), σ²I) dt,
//
// computed by adaptive quadrature along the arcs. make_moons spaces t
// evenly; here it is uniform, the distribution that grid discretises.
type Moons struct {
	// Std is the noise standard deviation σ; 0 means 0.2 (make_moons's
	// 0.1 times FFJORD's factor 2).
	Std float64
}

// Toy returns the distribution, or an error naming a negative or
// non-finite Std.
func (m Moons) Toy() (*Toy, error) {
	std, err := positiveOr("Moons.Std", m.Std, 0.2)
	if err != nil {
		return nil, err
	}
	arc := func(cx, cy, sign float64) curve {
		return curve{
			w: 0.5, t0: 0, t1: math.Pi,
			pos: func(t float64) (float64, float64) {
				s, c := math.Sincos(t)
				return cx + sign*2*c, cy + sign*2*s
			},
			dens:  func(float64) float64 { return 1 / math.Pi },
			quant: func(u float64) float64 { return math.Pi * u },
		}
	}
	return newCurveMix(std, []curve{arc(-1, -0.2, 1), arc(1, 0.8, -1)}).toy("moons"), nil
}

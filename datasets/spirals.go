package datasets

import "math"

// TwoSpirals is FFJORD's "2spirals": two interleaved spirals of equal
// weight,
//
//	c₁(n) = (−n cos n, n sin n)/3,  c₂(n) = −c₁(n),
//
// with n = 3π√u for u uniform on [0, 1] (so n has density 2n/(3π)² on
// [0, 3π] and points spread evenly along the arc), plus N(0, σ²I) noise:
//
//	p(x) = ½ Σ_k ∫₀^{3π} (2n/9π²) N(x; c_k(n), σ²I) dn,
//
// computed by adaptive quadrature along the spirals. FFJORD also adds
// uniform jitter in [0, 1/6]² to each point before the Gaussian noise; it
// is left out here so that the density is a Gaussian blur of the curves,
// exact and smooth everywhere.
type TwoSpirals struct {
	// Std is the noise standard deviation σ; 0 means FFJORD's 0.1.
	Std float64
}

// Toy returns the distribution, or an error naming a negative or
// non-finite Std.
func (s TwoSpirals) Toy() (*Toy, error) {
	std, err := positiveOr("TwoSpirals.Std", s.Std, 0.1)
	if err != nil {
		return nil, err
	}
	nmax := 3 * math.Pi
	arm := func(sign float64) curve {
		return curve{
			w: 0.5, t0: 0, t1: nmax,
			pos: func(n float64) (float64, float64) {
				s, c := math.Sincos(n)
				return -sign * n * c / 3, sign * n * s / 3
			},
			dens:  func(n float64) float64 { return 2 * n / (nmax * nmax) },
			quant: func(u float64) float64 { return nmax * math.Sqrt(u) },
		}
	}
	return newCurveMix(std, []curve{arm(1), arm(-1)}).toy("2spirals"), nil
}

package datasets

import (
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/internal/mathx"
)

// EightGaussians is FFJORD's "8gaussians": an equal mixture of eight
// isotropic Gaussians N(μ_k, σ²I) whose means sit on a circle,
//
//	μ_k = Radius·(cos(kπ/4), sin(kπ/4)),  k = 0..7,
//	p(x) = (1/8) Σ_k exp(−|x − μ_k|²/2σ²) / (2πσ²).
//
// The zero value gives FFJORD's parameters, which divide the points by
// 1.414 after placing them: Radius 4/1.414 ≈ 2.829 and σ = 0.5/1.414 ≈
// 0.354.
type EightGaussians struct {
	// Radius is the distance of the means from the origin; 0 means 4/1.414.
	Radius float64
	// Std is each component's standard deviation σ; 0 means 0.5/1.414.
	Std float64
}

// Toy returns the distribution, or an error naming a negative or
// non-finite parameter.
func (g EightGaussians) Toy() (*Toy, error) {
	radius, err := positiveOr("EightGaussians.Radius", g.Radius, 4/1.414)
	if err != nil {
		return nil, err
	}
	std, err := positiveOr("EightGaussians.Std", g.Std, 0.5/1.414)
	if err != nil {
		return nil, err
	}
	var mu [8][2]float64
	for k := range mu {
		s, c := math.Sincos(float64(k) * math.Pi / 4)
		mu[k] = [2]float64{radius * c, radius * s}
	}
	v := std * std
	lnorm := -math.Log(8) - log2pi - math.Log(v)
	e := radius + 10*std
	return &Toy{
		name: "8gaussians",
		box:  Box{-e, e, -e, e},
		h:    std / 6,
		point: func(rng *rand.Rand, p []float64) {
			m := mu[rng.IntN(8)]
			p[0] = m[0] + std*rng.NormFloat64()
			p[1] = m[1] + std*rng.NormFloat64()
		},
		logp: func(x, y float64, grad []float64) float64 {
			var a [8]float64
			for k, m := range mu {
				dx, dy := x-m[0], y-m[1]
				a[k] = -(dx*dx + dy*dy) / (2 * v)
			}
			lse := mathx.LogSumExp(a[:])
			if grad != nil {
				// ∇ log p = Σ_k r_k (μ_k − x)/σ², r_k the responsibilities.
				var gx, gy float64
				for k, m := range mu {
					r := math.Exp(a[k] - lse)
					gx += r * (m[0] - x)
					gy += r * (m[1] - y)
				}
				grad[0], grad[1] = gx/v, gy/v
			}
			return lnorm + lse
		},
	}, nil
}

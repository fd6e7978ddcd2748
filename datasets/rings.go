package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ebmgo/ebm/internal/mathx"
)

// Rings is FFJORD's "rings": concentric circles of equal weight, each a
// point uniform on a circle of radius R_k blurred by N(0, σ²I). Averaging
// the Gaussian over the circle gives a closed form with the modified
// Bessel function I₀ (r = |x|):
//
//	p_k(x) = (1/2π) ∫₀^{2π} N(x; R_k(cos θ, sin θ), σ²I) dθ
//	       = exp(−(r² + R_k²)/2σ²) · I₀(r R_k/σ²) / (2πσ²),
//	p(x)   = (1/K) Σ_k p_k(x),
//
// evaluated as exp(−(r − R_k)²/2σ²)·I₀e(rR_k/σ²) with I₀e(z) = e^{−z}I₀(z)
// so that it neither overflows nor underflows. ∂/∂r log p_k =
// −(r − R_k)/σ² + (R_k/σ²)(I₁/I₀ − 1).
//
// FFJORD places its points at evenly spaced angles; here the angle is
// uniform, which is the distribution those grids discretise.
// Rings{Radii: []float64{1.5, 3}, Std: 0.24} is FFJORD's "circles"
// (scikit-learn's make_circles(factor=0.5, noise=0.08) scaled by 3).
type Rings struct {
	// Radii are the circles' radii; nil means FFJORD's 0.75, 1.5, 2.25, 3.
	Radii []float64
	// Std is the noise standard deviation σ; 0 means 0.08.
	Std float64
}

// Toy returns the distribution, or an error for an empty list of radii,
// a non-positive radius or a negative Std.
func (rg Rings) Toy() (*Toy, error) {
	radii := slices.Clone(rg.Radii)
	if radii == nil {
		radii = []float64{0.75, 1.5, 2.25, 3}
	}
	if len(radii) == 0 {
		return nil, fmt.Errorf("datasets: Rings.Radii is empty")
	}
	for i, r := range radii {
		if !(r > 0) || math.IsInf(r, 1) {
			return nil, fmt.Errorf("datasets: Rings.Radii[%d] is %v; radii must be positive and finite", i, r)
		}
	}
	std, err := positiveOr("Rings.Std", rg.Std, 0.08)
	if err != nil {
		return nil, err
	}
	v := std * std
	k := float64(len(radii))
	lnorm := -math.Log(k) - log2pi - math.Log(v)
	e := slices.Max(radii) + 10*std
	return &Toy{
		name: "rings",
		box:  Box{-e, e, -e, e},
		h:    std / 2,
		point: func(rng *rand.Rand, p []float64) {
			r := radii[rng.IntN(len(radii))]
			s, c := math.Sincos(2 * math.Pi * rng.Float64())
			p[0] = r*c + std*rng.NormFloat64()
			p[1] = r*s + std*rng.NormFloat64()
		},
		logp: func(x, y float64, grad []float64) float64 {
			r := math.Hypot(x, y)
			var buf [16]float64
			ab := buf[:]
			if 2*len(radii) > len(buf) {
				ab = make([]float64, 2*len(radii))
			}
			a, dr := ab[:len(radii)], ab[len(radii):2*len(radii)]
			for i, R := range radii {
				z := r * R / v
				i0 := besselI0e(z)
				a[i] = -(r-R)*(r-R)/(2*v) + math.Log(i0)
				if grad != nil {
					dr[i] = (R*(besselI1e(z)/i0-1) - (r - R)) / v
				}
			}
			lse := mathx.LogSumExp(a)
			if grad != nil {
				// ∇ log p = (∂ log p/∂r)·x/r, with ∂ log p/∂r the
				// responsibility-weighted ∂ log p_k/∂r; at the origin p is
				// smooth and symmetric and its gradient is 0.
				var g float64
				for i := range radii {
					g += math.Exp(a[i]-lse) * dr[i]
				}
				grad[0], grad[1] = 0, 0
				if r > 0 {
					grad[0], grad[1] = g*x/r, g*y/r
				}
			}
			return lnorm + lse
		},
	}, nil
}

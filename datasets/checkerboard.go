package datasets

import (
	"math"
	"math/rand/v2"
)

// Checkerboard is FFJORD's "checkerboard": the uniform distribution on the
// eight dark squares of a 4×4 board of 2×2 squares covering [−4, 4)²,
// those whose lower left corner (2i, 2j) has i + j even:
//
//	p(x) = 1/32 if ⌊x₀/2⌋ + ⌊x₁/2⌋ is even and x ∈ [−4, 4)², else 0.
//
// Its entropy is log 32 exactly. The density is piecewise constant, so its
// gradient is zero wherever it exists and log p is −Inf off the squares.
type Checkerboard struct{}

// Toy returns the distribution.
func (Checkerboard) Toy() (*Toy, error) {
	lp := -math.Log(32)
	return &Toy{
		name: "checkerboard",
		box:  Box{-4, 4, -4, 4},
		h:    0.05, // any grid aligned with the squares is exact
		point: func(rng *rand.Rand, p []float64) {
			// FFJORD's construction: a column, then one of the two
			// squares of that column.
			x1 := 4*rng.Float64() - 2
			x2 := rng.Float64() - 2*float64(rng.IntN(2)) + float64(int(math.Floor(x1))&1)
			p[0], p[1] = 2*x1, 2*x2
		},
		logp: func(x, y float64, grad []float64) float64 {
			if grad != nil {
				grad[0], grad[1] = 0, 0
			}
			if !(x >= -4 && x < 4 && y >= -4 && y < 4) {
				return math.Inf(-1)
			}
			if (int(math.Floor(x/2))+int(math.Floor(y/2)))&1 != 0 {
				return math.Inf(-1)
			}
			return lp
		},
		entropy: func() float64 { return math.Log(32) },
	}, nil
}

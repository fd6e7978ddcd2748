package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/internal/mathx"
)

// Pinwheel is FFJORD's "pinwheel" (from Johnson et al. 2016): Gaussian
// blobs twisted into spiral arms. A point is made from a feature vector
// f ~ N((1, 0), diag(σ_r², σ_t²)) and an arm k uniform in 0..K−1 by
//
//	α = 2πk/K + rate·exp(|f|),   y = 2·R(−α)·f,
//
// where R(θ) rotates by θ. The map f ↦ y is a twist (a rotation by an
// angle that depends only on |f| = |y|/2) followed by a scaling by 2, so it
// is invertible, f = R(α(|y|/2))·y/2, and its Jacobian determinant is 4
// (twists preserve area). The change of variables gives the exact density
//
//	p(y) = (1/4K) Σ_k N(R(2πk/K + rate·e^{|y|/2})·y/2; (1, 0), diag(σ_r², σ_t²)).
//
// FFJORD twists by exp(f₀) rather than exp(|f|); since
// |f| − f₀ ≈ f₁²/2f₀ ≈ 0.005 the samples are indistinguishable, and only
// this form is an invertible map with a closed-form density. Beyond
// |y| ≈ 60 the twist angle exceeds 2⁵³ and cannot be represented, so far
// out in the tails LogDensity is finite but not meaningful to the digit.
type Pinwheel struct {
	// Arms is the number of arms K; 0 means 5.
	Arms int
	// RadialStd is σ_r, the spread along an arm; 0 means 0.3.
	RadialStd float64
	// TangentialStd is σ_t, the arms' width; 0 means 0.1.
	TangentialStd float64
	// Rate is the twist rate; 0 means 0.25.
	Rate float64
}

// Toy returns the distribution, or an error naming a negative or
// non-finite parameter.
func (pw Pinwheel) Toy() (*Toy, error) {
	arms := pw.Arms
	if arms == 0 {
		arms = 5
	}
	if arms < 0 {
		return nil, fmt.Errorf("datasets: Pinwheel.Arms is %d; want a positive number of arms", arms)
	}
	rs, err := positiveOr("Pinwheel.RadialStd", pw.RadialStd, 0.3)
	if err != nil {
		return nil, err
	}
	ts, err := positiveOr("Pinwheel.TangentialStd", pw.TangentialStd, 0.1)
	if err != nil {
		return nil, err
	}
	rate, err := positiveOr("Pinwheel.Rate", pw.Rate, 0.25)
	if err != nil {
		return nil, err
	}
	theta := make([]float64, arms)
	for k := range theta {
		theta[k] = 2 * math.Pi * float64(k) / float64(arms)
	}
	lnorm := -math.Log(4*float64(arms)) - log2pi - math.Log(rs*ts)
	e := 2 * math.Hypot(1+7*rs, 7*ts)
	return &Toy{
		name: "pinwheel",
		box:  Box{-e, e, -e, e},
		h:    min(rs, ts) / 5,
		point: func(rng *rand.Rand, p []float64) {
			f0 := 1 + rs*rng.NormFloat64()
			f1 := ts * rng.NormFloat64()
			a := theta[rng.IntN(arms)] + rate*math.Exp(math.Hypot(f0, f1))
			s, c := math.Sincos(a)
			p[0] = 2 * (c*f0 + s*f1)
			p[1] = 2 * (-s*f0 + c*f1)
		},
		logp: func(x, y float64, grad []float64) float64 {
			r := math.Hypot(x, y)
			tw := rate * math.Exp(r/2)
			if math.IsInf(tw, 1) {
				tw = 0 // far beyond representable angles; see the type's doc
			}
			var buf [8]float64
			ab := buf[:]
			if arms > len(buf) {
				ab = make([]float64, arms)
			}
			a := ab[:arms]
			for k := range a {
				s, c := math.Sincos(theta[k] + tw)
				f0, f1 := (c*x-s*y)/2, (s*x+c*y)/2
				a[k] = -(f0-1)*(f0-1)/(2*rs*rs) - f1*f1/(2*ts*ts)
			}
			lse := mathx.LogSumExp(a)
			if grad != nil {
				// ∇_y log N(f(y)) = Jᵀg with g = ∇_f log N and
				// J = ½[R(α) + R'(α)·y·∇αᵀ], ∇α = ½·tw·y/|y|.
				var gx, gy float64
				for k := range a {
					w := math.Exp(a[k] - lse)
					if w == 0 {
						continue
					}
					s, c := math.Sincos(theta[k] + tw)
					f0, f1 := (c*x-s*y)/2, (s*x+c*y)/2
					g0, g1 := -(f0-1)/(rs*rs), -f1/(ts*ts)
					// R = [[c, −s], [s, c]], R' = [[−s, −c], [c, −s]].
					jx, jy := (c*g0+s*g1)/2, (-s*g0+c*g1)/2 // ½ Rᵀg
					if r > 0 {
						rpy0, rpy1 := -s*x-c*y, c*x-s*y // R'·y
						d := (g0*rpy0 + g1*rpy1) / 2 * tw / 2 / r
						jx += d * x
						jy += d * y
					}
					gx += w * jx
					gy += w * jy
				}
				grad[0], grad[1] = gx, gy
			}
			return lnorm + lse
		},
	}, nil
}

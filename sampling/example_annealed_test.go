package sampling_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/sampling"
)

// noisyGaussian is the data N(2, 0.5²) in one dimension smoothed by noise
// of level σ: f(x; σ) = −(x − 2)²/(2(0.25 + σ²)), the family a noise-
// conditional score model learns.
type noisyGaussian struct{ sigma float64 }

func (g *noisyGaussian) Dim() int                     { return 1 }
func (g *noisyGaussian) SetNoise(sigma float64) error { g.sigma = sigma; return nil }
func (g *noisyGaussian) F(dst, x []float64) error     { return g.FGrad(dst, make([]float64, len(x)), x) }
func (g *noisyGaussian) FGrad(dst, grad, x []float64) error {
	v := 0.25 + g.sigma*g.sigma
	for i, xi := range x {
		dst[i] = -(xi - 2) * (xi - 2) / (2 * v)
		grad[i] = -(xi - 2) / v
	}
	return nil
}

// Annealed Langevin dynamics walks 1,000 chains from far away down a
// ladder of five noise levels and ends near the data distribution.
func ExampleAnnealedLangevin() {
	k, err := sampling.NewAnnealedLangevin(&noisyGaussian{}, sampling.AnnealedLangevinConfig{
		Sigmas:        []float64{3, 1, 0.3, 0.1, 0.03},
		StepsPerLevel: 100,
		StepSize:      0.002,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 1000)
	for i := range x {
		x[i] = -10 + 20*rng.Float64()
	}
	s, err := k.Init(x, len(x))
	if err != nil {
		fmt.Println(err)
		return
	}
	for !k.Done() {
		if s, _, err = k.Step(rng, s); err != nil {
			fmt.Println(err)
			return
		}
	}
	var m, m2 float64
	for _, v := range s.X {
		m += v / 1000
		m2 += v * v / 1000
	}
	fmt.Printf("%d steps: mean %.1f, standard deviation %.1f (data: 2.0, 0.5)\n", k.Steps(), m, math.Sqrt(m2-m*m))
	// Output:
	// 500 steps: mean 2.0, standard deviation 0.5 (data: 2.0, 0.5)
}

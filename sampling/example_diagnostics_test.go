package sampling_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/sampling"
)

// Diagnostics of four AR(1) chains x_t = ρ x_{t−1} + √(1−ρ²) ε_t with
// ρ = 0.5, for which ESS/N tends to (1−ρ)/(1+ρ) = 1/3, and of the same
// chains with their means pulled apart.
func ExampleESS() {
	rng := rand.New(rand.NewPCG(1, 2))
	const chains, draws, rho = 4, 5000, 0.5
	x := make([][]float64, chains)
	for c := range x {
		v := rng.NormFloat64()
		for range draws {
			v = rho*v + math.Sqrt(1-rho*rho)*rng.NormFloat64()
			x[c] = append(x[c], v)
		}
	}
	fmt.Printf("bulk ESS/N %.2f, tail ESS/N %.2f, R-hat %.3f\n",
		sampling.ESS(x)/(chains*draws), sampling.ESSTail(x)/(chains*draws), sampling.SplitRHat(x))
	fmt.Printf("autocorrelation at lag 1: %.2f\n", sampling.Autocorr(make([]float64, 2), x[0])[1])
	fmt.Printf("mean %.3f ± %.3f (MCSE)\n", exampleMean(x), sampling.MCSE(x))
	for c := range x {
		for t := range x[c] {
			x[c][t] += float64(c)
		}
	}
	fmt.Printf("shifted chains: R-hat %.2f\n", sampling.SplitRHat(x))
	// Output:
	// bulk ESS/N 0.33, tail ESS/N 0.56, R-hat 1.001
	// autocorrelation at lag 1: 0.48
	// mean 0.001 ± 0.012 (MCSE)
	// shifted chains: R-hat 1.53
}

func exampleMean(x [][]float64) float64 {
	var s float64
	var n int
	for _, ch := range x {
		for _, v := range ch {
			s += v
			n++
		}
	}
	return s / float64(n)
}

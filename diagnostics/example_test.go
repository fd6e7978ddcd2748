package diagnostics_test

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/diagnostics"
)

// Diagnostics of four AR(1) chains x_t = ρ x_{t−1} + √(1−ρ²) ε_t with
// ρ = 0.5, for which ESS/N tends to (1−ρ)/(1+ρ) = 1/3, and of the same
// chains with their means pulled apart.
func Example() {
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
	s, err := diagnostics.Summarize(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("bulk ESS/N %.2f, tail ESS/N %.2f, R-hat %.3f\n", s.BulkESS/(chains*draws), s.TailESS/(chains*draws), s.RHat)
	fmt.Printf("mean %.3f ± %.3f (MCSE)\n", s.Mean, s.MCSE)
	ac, _ := diagnostics.Autocorr(make([]float64, 2), x[0])
	fmt.Printf("autocorrelation at lag 1: %.2f\n", ac[1])
	for c := range x {
		for t := range x[c] {
			x[c][t] += float64(c)
		}
	}
	rhat, _ := diagnostics.SplitRHat(x)
	fmt.Printf("shifted chains: R-hat %.2f\n", rhat)
	_, err = diagnostics.ESS([][]float64{{1, 2, 3}, {1, 2}})
	fmt.Println(err)
	// Output:
	// bulk ESS/N 0.33, tail ESS/N 0.56, R-hat 1.001
	// mean 0.001 ± 0.012 (MCSE)
	// autocorrelation at lag 1: 0.48
	// shifted chains: R-hat 1.53
	// diagnostics: ESS: chain 1 has 2 draws, chain 0 has 3: energy: wrong shape
}

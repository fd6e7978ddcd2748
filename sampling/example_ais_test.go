package sampling_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
)

// Annealed importance sampling of a 4×4 Ising model from the uniform
// distribution over spins, with a Gibbs sweep at each of 200 inverse
// temperatures; reverse AIS from exact draws is not available here, so
// only the forward estimate (a stochastic lower bound) is shown.
func ExampleAIS() {
	ising, err := energy.NewIsing(4, 0.3, 0.1)
	if err != nil {
		panic(err)
	}
	uniform, err := sampling.NewBinaryBase(-1, 1, make([]float64, ising.Dim()))
	if err != nil {
		panic(err)
	}
	cfg := sampling.AISConfig{
		Schedule: sampling.LinearSchedule(200),
		Kernel: func(e energy.Energy, beta float64) (sampling.Kernel, error) {
			// e is Anneal(uniform, ising, beta): Discrete with SiteLogits.
			return sampling.NewGibbs(e.(energy.Discrete), sampling.GibbsConfig{})
		},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	res, err := sampling.AIS(context.Background(), rng, uniform, ising, 500, cfg)
	if err != nil {
		panic(err)
	}
	exact, err := ising.LogZ()
	if err != nil {
		panic(err)
	}
	fmt.Printf("log Z: AIS %.3f ± %.3f, exact %.3f; weight ESS %.0f of 500\n", res.LogZ, res.StdErr, exact, res.ESS)
	// Output:
	// log Z: AIS 13.208 ± 0.011, exact 13.207; weight ESS 471 of 500
}

// RBM AIS (Salakhutdinov and Murray 2008) with a base-rate RBM fitted to
// draws from the model, sandwiched by reverse AIS from exact draws.
func ExampleRBMAIS() {
	rbm, err := energy.NewRandomRBM(rand.New(rand.NewPCG(3, 3)), 12, 8, energy.RBMInit{WeightScale: 1, BiasScale: 1})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))

	// Exact draws from the RBM for the base rates and for reverse AIS: a
	// long block Gibbs run stands in for them on a model too big to
	// enumerate.
	gibbs, _ := sampling.NewBlockGibbs(rbm)
	const n = 200
	s, _ := gibbs.Init(make([]float64, n*rbm.Dim()), n)
	for range 1000 {
		s, _, _ = gibbs.Step(rng, s)
	}
	cfg := sampling.RBMAISConfig{
		Schedule: sampling.PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, []int{100, 400, 1000}),
		BaseBias: sampling.BaseRateBias(s.X, rbm.Dim(), 1),
	}
	fwd, err := sampling.RBMAIS(context.Background(), rng, rbm, n, cfg)
	if err != nil {
		panic(err)
	}
	rev, err := sampling.RBMReverseAIS(context.Background(), rng, rbm, s.X, cfg)
	if err != nil {
		panic(err)
	}
	exact, _ := rbm.LogZ()
	fmt.Printf("AIS         %.3f ± %.3f\n", fwd.LogZ, fwd.StdErr)
	fmt.Printf("exact       %.3f\n", exact)
	fmt.Printf("reverse AIS %.3f ± %.3f\n", rev.LogZ, rev.StdErr)
	// Output:
	// AIS         28.711 ± 0.002
	// exact       28.712
	// reverse AIS 28.708 ± 0.002
}

// The AIS sandwich on a correlated Gaussian, whose log Z is known: forward
// AIS from a broad Gaussian base (a stochastic lower bound) and reverse AIS
// from exact target draws (a stochastic upper bound), both moving with
// MALA at each of 100 inverse temperatures.
func ExampleReverseAIS() {
	base, _ := energy.NewDiagGaussian([]float64{0, 0}, []float64{4, 4})
	target, _ := energy.NewGaussian([]float64{1, -1}, []float64{1, 0.5, 0.5, 2})
	cfg := sampling.AISConfig{
		Schedule: sampling.SigmoidSchedule(100, 4),
		Kernel: func(e energy.Energy, beta float64) (sampling.Kernel, error) {
			// e is Anneal(base, target, beta), Differentiable like both.
			return sampling.NewMALA(e.(energy.Differentiable), sampling.MALAConfig{StepSize: 0.4})
		},
		Steps: 2,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 500
	fwd, err := sampling.AIS(context.Background(), rng, base, target, n, cfg)
	if err != nil {
		panic(err)
	}
	draws := make([]float64, n*target.Dim())
	if err := target.Sample(rng, draws); err != nil {
		panic(err)
	}
	rev, err := sampling.ReverseAIS(context.Background(), rng, base, target, draws, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Printf("AIS         %.3f ± %.3f (weight ESS %.0f of %d, acceptance %.2f)\n", fwd.LogZ, fwd.StdErr, fwd.ESS, n, fwd.MeanAccept)
	fmt.Printf("exact       %.3f\n", target.LogZ())
	fmt.Printf("reverse AIS %.3f ± %.3f\n", rev.LogZ, rev.StdErr)
	// Output:
	// AIS         2.121 ± 0.015 (weight ESS 449 of 500, acceptance 0.95)
	// exact       2.118
	// reverse AIS 2.122 ± 0.016
}

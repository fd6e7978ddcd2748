package ais_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/ais"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
)

// Annealed importance sampling of a 4×4 Ising model from the uniform
// distribution over spins, with a Gibbs sweep at each of 200 inverse
// temperatures; reverse AIS from exact draws is not available here, so
// only the forward estimate (a stochastic lower bound) is shown.
func ExampleForward() {
	ising, err := energy.NewIsing(4, 0.3, 0.1)
	if err != nil {
		panic(err)
	}
	uniform, err := ais.NewBinaryBase(-1, 1, make([]float64, ising.Dim()))
	if err != nil {
		panic(err)
	}
	schedule, err := ais.LinearSchedule(200)
	if err != nil {
		panic(err)
	}
	cfg := ais.Config{
		Schedule: schedule,
		Kernel: func(e energy.Energy, beta float64) (sampling.Kernel, error) {
			// e is ais.Anneal(uniform, ising, beta): Discrete with SiteLogits.
			return sampling.NewGibbs(e.(energy.Discrete), sampling.GibbsConfig{})
		},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	res, err := ais.Forward(context.Background(), rng, uniform, ising, 500, cfg)
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

// The AIS sandwich on a correlated Gaussian, whose log Z is known: forward
// AIS from a broad Gaussian base (a stochastic lower bound) and reverse AIS
// from exact target draws (a stochastic upper bound), both moving with
// MALA at each of 100 inverse temperatures.
func ExampleReverse() {
	base, _ := energy.NewDiagGaussian([]float64{0, 0}, []float64{4, 4})
	target, _ := energy.NewGaussian([]float64{1, -1}, []float64{1, 0.5, 0.5, 2})
	schedule, err := ais.SigmoidSchedule(100, 4)
	if err != nil {
		panic(err)
	}
	cfg := ais.Config{
		Schedule: schedule,
		Kernel: func(e energy.Energy, beta float64) (sampling.Kernel, error) {
			// e is ais.Anneal(base, target, beta), Differentiable like both.
			return sampling.NewMALA(e.(energy.Differentiable), sampling.MALAConfig{StepSize: 0.4})
		},
		Steps: 2,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 500
	fwd, err := ais.Forward(context.Background(), rng, base, target, n, cfg)
	if err != nil {
		panic(err)
	}
	draws := make([]float64, n*target.Dim())
	if err := target.Sample(rng, draws); err != nil {
		panic(err)
	}
	rev, err := ais.Reverse(context.Background(), rng, base, target, draws, cfg)
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

// RBM AIS (Salakhutdinov and Murray 2008) from the base-rate RBM of
// samples of the model, sandwiched by reverse AIS from exact samples, on an
// RBM small enough for its exact log Z. The estimates are printed with
// their distance from the exact value in standard errors.
func ExampleForwardRBM() {
	rbm, err := energy.NewRandomRBM(rand.New(rand.NewPCG(3, 3)), 12, 8, energy.RBMInit{WeightScale: 1, BiasScale: 1})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Exact samples (energy.RBM.Sample enumerates the 2⁸ hidden states)
	// stand in for training data and start reverse AIS.
	const n = 200
	samples := make([]float64, n*rbm.Visible())
	if err := rbm.Sample(rng, samples); err != nil {
		panic(err)
	}
	base, err := energy.NewBaseRateRBM(samples, rbm.Visible(), rbm.Hidden())
	if err != nil {
		panic(err)
	}
	schedule, err := ais.RBMSchedule(1500)
	if err != nil {
		panic(err)
	}
	cfg := ais.RBMConfig{Schedule: schedule, Base: base}
	fwd, err := ais.ForwardRBM(context.Background(), rng, rbm, n, cfg)
	if err != nil {
		panic(err)
	}
	rev, err := ais.ReverseRBM(context.Background(), rng, rbm, samples, cfg)
	if err != nil {
		panic(err)
	}
	exact, err := rbm.LogZ()
	if err != nil {
		panic(err)
	}
	fmt.Printf("exact       %.3f\n", exact)
	fmt.Printf("AIS         %.3f ± %.3f (%+.1f SE), weight ESS %.0f of %d\n", fwd.LogZ, fwd.StdErr, (fwd.LogZ-exact)/fwd.StdErr, fwd.ESS, n)
	fmt.Printf("reverse AIS %.3f ± %.3f (%+.1f SE), weight ESS %.0f of %d\n", rev.LogZ, rev.StdErr, (rev.LogZ-exact)/rev.StdErr, rev.ESS, n)
	// Output:
	// exact       28.712
	// AIS         28.715 ± 0.003 (+1.0 SE), weight ESS 200 of 200
	// reverse AIS 28.715 ± 0.003 (+1.1 SE), weight ESS 200 of 200
}

// RAISE estimates the mean log-likelihood of held-out points from reverse
// chains that start at the points themselves, with no samples of the
// model; with forward AIS it brackets the true value.
func ExampleRAISERBM() {
	rbm, err := energy.NewRandomRBM(rand.New(rand.NewPCG(3, 3)), 12, 8, energy.RBMInit{WeightScale: 1, BiasScale: 1})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// Exact samples stand in for training and held-out data.
	const n = 300
	train, test := make([]float64, n*12), make([]float64, n*12)
	if err := rbm.Sample(rng, train); err != nil {
		panic(err)
	}
	if err := rbm.Sample(rng, test); err != nil {
		panic(err)
	}
	base, err := energy.NewBaseRateRBM(train, 12, 8)
	if err != nil {
		panic(err)
	}
	schedule, err := ais.RBMSchedule(1500)
	if err != nil {
		panic(err)
	}
	cfg := ais.RBMConfig{Schedule: schedule, Base: base}
	raise, err := ais.RAISERBM(context.Background(), rng, rbm, test, 1, cfg)
	if err != nil {
		panic(err)
	}
	fwd, err := ais.ForwardRBM(context.Background(), rng, rbm, 100, cfg)
	if err != nil {
		panic(err)
	}
	exact, err := rbm.LogZ()
	if err != nil {
		panic(err)
	}
	f := make([]float64, n)
	if err := rbm.F(f, test); err != nil {
		panic(err)
	}
	var meanF float64
	for _, x := range f {
		meanF += x / n
	}
	fmt.Printf("test log-likelihood, exact log Z %.3f\n", meanF-exact)
	fmt.Printf("RAISE (log Z %.3f ± %.3f)   %.3f\n", raise.LogZ, raise.LogZStdErr, meanF-raise.LogZ)
	fmt.Printf("forward AIS (log Z %.3f)     %.3f\n", fwd.LogZ, meanF-fwd.LogZ)
	// Output:
	// test log-likelihood, exact log Z -3.840
	// RAISE (log Z 28.712 ± 0.002)   -3.840
	// forward AIS (log Z 28.712)     -3.840
}

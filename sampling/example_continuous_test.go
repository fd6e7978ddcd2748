package sampling_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/diagnostics"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
)

// NUTS with Stan's warm-up on a correlated Gaussian: 4 chains, 1000
// warm-up iterations that tune the step size and the diagonal mass
// matrix, then 1000 kept draws per chain, checked with the diagnostics.
func ExampleNUTS() {
	target, _ := energy.NewGaussian([]float64{1, -1}, []float64{1, 0.8, 0.8, 2})
	k, err := sampling.NewNUTS(target, sampling.NUTSConfig{})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x0 := make([]float64, 4*2) // 4 chains starting at the origin
	res, err := sampling.Run(context.Background(), rng, k, x0, 4, sampling.RunConfig{Warmup: 1000, Draws: 1000})
	if err != nil {
		panic(err)
	}
	m, err := res.Trace.Mean()
	if err != nil {
		panic(err)
	}
	c, err := res.Trace.Cov()
	if err != nil {
		panic(err)
	}
	fmt.Printf("mean %.1f %.1f, variances %.1f %.1f, covariance %.1f\n", m[0], m[1], c[0], c[3], c[1])
	d, err := diagnostics.Summarize(res.Trace.Series(0))
	if err != nil {
		panic(err)
	}
	fmt.Printf("divergences: %d, R̂ < 1.01: %v, ESS > 1000: %v\n", res.Divergences, d.RHat < 1.01, d.BulkESS > 1000)
	// Output:
	// mean 1.0 -1.0, variances 1.0 2.0, covariance 0.8
	// divergences: 0, R̂ < 1.01: true, ESS > 1000: true
}

// HMC with a fixed integration time T = 3 (⌊T/ε⌋ leapfrog steps as the
// step size adapts) and jittered steps, on the banana.
func ExampleHMC() {
	banana, _ := energy.NewBanana(0.1, 3) // Var x₂ = 1 + 2b²σ₁⁴ = 2.62
	k, err := sampling.NewHMC(banana, sampling.HMCConfig{TrajectoryLength: 3, Jitter: 0.5,
		Adapt: sampling.AdaptConfig{TargetAccept: 0.9}})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	res, err := sampling.Run(context.Background(), rng, k, make([]float64, 8*2), 8,
		sampling.RunConfig{Warmup: 1000, Draws: 2000})
	if err != nil {
		panic(err)
	}
	c, err := res.Trace.Cov()
	if err != nil {
		panic(err)
	}
	exact := banana.Cov()
	fmt.Printf("Var x1 %.1f (exact %.1f), Var x2 %.1f (exact %.2f)\n", c[0], exact[0], c[3], exact[3])
	fmt.Printf("adapted M⁻¹ ≈ variances: %.1f %.1f\n", res.Params.InvMass[0], res.Params.InvMass[1])
	// Output:
	// Var x1 9.1 (exact 9.0), Var x2 2.7 (exact 2.62)
	// adapted M⁻¹ ≈ variances: 9.5 2.8
}

// MALA tunes its step size towards an acceptance of 0.574.
func ExampleMALA() {
	target, _ := energy.NewDiagGaussian([]float64{0, 0, 0}, []float64{1, 4, 9})
	k, err := sampling.NewMALA(target, sampling.MALAConfig{})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	res, err := sampling.Run(context.Background(), rng, k, make([]float64, 8*3), 8,
		sampling.RunConfig{Warmup: 1000, Draws: 2000})
	if err != nil {
		panic(err)
	}
	c, err := res.Trace.Cov()
	if err != nil {
		panic(err)
	}
	fmt.Printf("variances %.0f %.0f %.0f, acceptance %.1f\n", c[0], c[4], c[8], res.MeanAccept)
	// Output:
	// variances 1 4 9, acceptance 0.6
}

// Random-walk Metropolis needs f only; its scale adapts towards an
// acceptance of 0.44 in one dimension.
func ExampleRWMH() {
	target, _ := energy.NewDiagGaussian([]float64{3}, []float64{0.25})
	k, err := sampling.NewRWMH(target, sampling.RWMHConfig{})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	res, err := sampling.Run(context.Background(), rng, k, make([]float64, 8), 8,
		sampling.RunConfig{Warmup: 1000, Draws: 4000})
	if err != nil {
		panic(err)
	}
	m, err := res.Trace.Mean()
	if err != nil {
		panic(err)
	}
	c, err := res.Trace.Cov()
	if err != nil {
		panic(err)
	}
	fmt.Printf("mean %.1f, sd %.1f, acceptance %.2f (target %.2f)\n", m[0], math.Sqrt(c[0]), res.MeanAccept, sampling.TargetAcceptRWMH(1))
	// Output:
	// mean 3.0, sd 0.5, acceptance 0.42 (target 0.44)
}

// The textbook unadjusted Langevin algorithm x ← x + h∇f + √(2h)ξ. Without
// a Metropolis correction it samples N(0, σ²/(1 − h/(2σ²))) on N(0, σ²):
// 1.0256 for h = 0.05.
func ExampleNewULA() {
	target, _ := energy.NewDiagGaussian([]float64{0}, []float64{1})
	k, err := sampling.NewULA(target, 0.05)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	res, err := sampling.Run(context.Background(), rng, k, make([]float64, 64), 64,
		sampling.RunConfig{Warmup: 200, Draws: 2000, Thin: 5})
	if err != nil {
		panic(err)
	}
	c, err := res.Trace.Cov()
	if err != nil {
		panic(err)
	}
	fmt.Printf("variance %.2f\n", c[0])
	// Output:
	// variance 1.03
}

// Langevin dynamics as image EBMs are sampled: the UvA tutorial's recipe
// (noise, then a clipped gradient step of λ = 10, pixels clamped to
// [−1, 1]), 60 steps from uniform noise, keeping only where the chains end.
func ExampleClippedLangevin() {
	cfg := sampling.ClippedLangevin(10, 0.005)
	fmt.Printf("%+v\n", cfg)

	// A stand-in for a trained model over 4 "pixels": a broad Gaussian
	// with its mode at ±0.5. Each step moves a pixel by at most
	// λ·0.03 = 0.3, towards the mode.
	model, _ := energy.NewDiagGaussian([]float64{0.5, -0.5, 0.5, -0.5}, []float64{25, 25, 25, 25})
	k, err := sampling.NewLangevin(model, cfg)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 16
	x0 := make([]float64, n*4)
	for i := range x0 {
		x0[i] = 2*rng.Float64() - 1
	}
	res, err := sampling.Run(context.Background(), rng, k, x0, n, sampling.RunConfig{Warmup: 60})
	if err != nil {
		panic(err)
	}
	fmt.Printf("first sample after 60 steps: %.1f\n", res.Final.Chain(0))
	// Output:
	// {StepSize:20 Noise:0.005 GradClip:0.03 Min:-1 Max:1 NoiseFirst:true}
	// first sample after 60 steps: [0.5 -0.5 0.5 -0.5]
}

// A callback sees every transition; returning ErrStop ends the run early
// with the draws made so far, and a context bounds a run's time.
func ExampleRun() {
	target, _ := energy.NewDiagGaussian([]float64{0, 0}, []float64{1, 1})
	k, _ := sampling.NewHMC(target, sampling.HMCConfig{})
	rng := rand.New(rand.NewPCG(13, 14))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := sampling.Run(ctx, rng, k, make([]float64, 2*2), 2, sampling.RunConfig{
		Warmup: 100, Draws: 1000,
		Callback: func(iter int, s sampling.State, info sampling.Info) error {
			if iter == 149 {
				return sampling.ErrStop
			}
			return nil
		},
	})
	fmt.Println(err, res.Iterations, res.Trace.Draws)

	cancel()
	_, err = sampling.Run(ctx, rng, k, make([]float64, 2*2), 2, sampling.RunConfig{Draws: 1000})
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// <nil> 150 50
	// true
}

// DualAveraging on its own: tuning a step size against an acceptance
// curve a(ε) = exp(−ε) for a target of 0.8, reached at ε = −log 0.8.
func ExampleDualAveraging() {
	da := sampling.DualAveraging{Target: 0.8}
	eps := 1.0
	da.Restart(eps)
	for range 5000 {
		eps = da.Update(math.Exp(-eps))
	}
	fmt.Printf("%.2f (−log 0.8 = %.2f)\n", da.StepSize(), -math.Log(0.8))
	// Output:
	// 0.22 (−log 0.8 = 0.22)
}

// Run warns when its draws may not be trusted. NUTS at its default target
// acceptance (0.8) on Haario et al.'s strongly twisted banana diverges
// where the arms bend and misses their tips: E[x₁²] should be 100.
func ExampleResult_warnings() {
	banana, _ := energy.NewBanana(0.1, 10)
	k, err := sampling.NewNUTS(banana, sampling.NUTSConfig{})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x0 := make([]float64, 4*2)
	for i := range x0 {
		x0[i] = 4*rng.Float64() - 2 // Stan's initialisation
	}
	res, err := sampling.Run(context.Background(), rng, k, x0, 4, sampling.RunConfig{Warmup: 1000, Draws: 2000})
	if err != nil {
		panic(err)
	}
	sq, err := diagnostics.Summarize(res.Trace.SeriesFunc(func(x []float64) float64 { return x[0] * x[0] }))
	if err != nil {
		panic(err)
	}
	fmt.Printf("E[x₁²] = %.0f ± %.0f (MCSE), exact 100\n", sq.Mean, sq.MCSE)
	for _, w := range res.Warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// E[x₁²] = 64 ± 6 (MCSE), exact 100
	// warning: 90 of 8000 transitions after warm-up diverged (1.1%): the chains avoid where their trajectories diverged, so the draws can be biased; raise the target acceptance (AdaptConfig.TargetAccept 0.95 or 0.99, a smaller step size) or reparameterise the target
	// warning: bulk ESS 134 (x[0]) is below 400: means, their MCSE and R̂ are unreliable; run longer (more Draws) or use a kernel that moves further per step
	// warning: tail ESS 78 (x[1]) is below 400: quantiles and intervals are unreliable; run longer (more Draws)
	// warning: split R̂ 1.021 (x[0]) is above 1.01: the chains disagree; run longer, and if it persists the target may be multimodal or some chains stuck
}

package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/diagnostics"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/platform"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

func main() {
	ctx, stop := platform.NotifyContext(context.Background())
	err := run(ctx, os.Stdout, 3000)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		if code, ok := platform.ExitCode(ctx); ok {
			os.Exit(code)
		}
		os.Exit(1)
	}
}

// run is the whole tour; iterations sets the length of training.
func run(ctx context.Context, out io.Writer, iterations int) error {
	rng := rand.New(rand.NewPCG(1, 2))

	// 1. Data: 20 000 training points of a toy density with an exact log p.
	toy, err := datasets.ToyByName("8gaussians")
	if err != nil {
		return err
	}
	train := toy.SampleN(rng, 20000)
	data, err := datasets.NewBatches(train, 2, datasets.BatchConfig{Size: 128, Seed: 1})
	if err != nil {
		return err
	}

	// 2. The energy network f_θ: ℝ² → ℝ, PyTorch's layer conventions.
	model := nn.NewMLP(rng, nn.SiLU, 2, 64, 64, 1)

	// 3. Train by contrastive divergence: chains from a replay buffer,
	// 20 steps of MALA each iteration (5% of chains restart from data), Adam.
	tr, err := trainer.New(model, data, trainer.Config{
		Shape:      []int{2},
		Iterations: iterations,
		Steps:      20,
		Kernel: func(e energy.Differentiable) (sampling.Kernel, error) {
			return sampling.NewMALA(e, sampling.MALAConfig{StepSize: 0.005})
		},
		Noise: func(rng *rand.Rand, x []float64) { // restart chains from training points
			for i := 0; i < len(x); i += 2 {
				copy(x[i:i+2], train[2*rng.IntN(len(train)/2):])
			}
		},
		Adam:     optim.AdamConfig{LR: 3e-3, Beta1: 0.9, Beta2: 0.999},
		Schedule: optim.Schedule{Kind: "cosine", Total: iterations, MinLR: 1e-4},
		Alpha:    0.01,
		Seed:     1,
	})
	if err != nil {
		return err
	}
	defer tr.Close()
	if err := tr.Run(ctx); err != nil {
		return err
	}
	last := tr.History()[len(tr.History())-1]
	fmt.Fprintf(out, "trained %d iterations: mean f(data) %.3f, mean f(samples) %.3f\n",
		tr.Iteration(), last.FPos, last.FNeg)

	// 4. Compile the trained network into an energy: f(x) and ∇x f(x) on a
	// batch, row-major. Machines are built once and reused.
	e, err := graph.NewEnergy(tr.Model(), graph.Config{Shape: []int{2}})
	if err != nil {
		return err
	}
	x := []float64{2 * math.Sqrt2, 0, 0, 0} // a mode of the data, and the empty centre
	f := make([]float64, 2)
	grad := make([]float64, 4)
	if err := e.FGrad(f, grad, x); err != nil {
		return err
	}
	fmt.Fprintf(out, "f(mode) = %.3f, f(centre) = %.3f, ∇f(centre) = (%.3f, %.3f)\n", f[0], f[1], grad[2], grad[3])
	fmt.Fprintf(out, "p(mode)/p(centre) = exp(f(mode) − f(centre)) = %.3g (no Z needed)\n", math.Exp(f[0]-f[1]))

	// 5. log Z by quadrature on a grid over the data's box, then the test
	// negative log-likelihood against the data's exact entropy.
	b := toy.Bounds()
	q, err := energy.Quadrature(ctx, e, energy.Grid{Lo: []float64{b.XMin, b.YMin}, Hi: []float64{b.XMax, b.YMax}})
	if err != nil {
		return err
	}
	test := toy.SampleN(rng, 10000)
	ft := make([]float64, 10000)
	if err := e.F(ft, test); err != nil {
		return err
	}
	var nll float64
	for _, v := range ft {
		nll += (q.LogZ - v) / float64(len(ft))
	}
	fmt.Fprintf(out, "log Z = %.4f ± %.1g; test NLL %.3f nats, data entropy %.3f: KL(data‖model) ≈ %.3f\n",
		q.LogZ, q.Err, nll, toy.Entropy(), nll-toy.Entropy())

	// 6. Sample the model with MALA: 8 chains, step size and metric adapted
	// in warm-up, then diagnostics.
	x0 := make([]float64, 8*2)
	for i := range x0 {
		x0[i] = 4*rng.Float64() - 2
	}
	k, err := sampling.NewMALA(e, sampling.MALAConfig{})
	if err != nil {
		return err
	}
	res, err := sampling.Run(ctx, rng, k, x0, 8, sampling.RunConfig{Warmup: 500, Draws: 2000})
	if err != nil {
		return err
	}
	radius := res.Trace.SeriesFunc(func(x []float64) float64 { return math.Hypot(x[0], x[1]) })
	d, err := diagnostics.Summarize(radius)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "MALA: acceptance %.2f, E|x| = %.3f (data %.3f), bulk ESS of |x| %.0f, split R̂ %.3f\n",
		res.MeanAccept, d.Mean, 2*math.Sqrt2, d.BulkESS, d.RHat)
	// Run's warnings say when the draws should not be trusted (divergences,
	// low ESS, R̂ above 1.01) and what to do.
	for _, w := range res.Warnings {
		fmt.Fprintln(out, "warning:", w)
	}
	return nil
}

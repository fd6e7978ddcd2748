//go:build torch

package torch_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/torch"
	"github.com/ebmgo/ebm/trainer"
)

// Run Langevin dynamics for a network energy on the GPU when there is one:
// the chains go to the device once and come back once.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	model := nn.NewMLP(rng, nn.SiLU, 2, 64, 64, 1)
	m, err := torch.NewModel(model, []int{2}, torch.DefaultDevice())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	torch.ManualSeed(1)
	const chains = 512
	x := make([]float64, chains*2) // every chain starts at the origin
	st, err := m.Langevin(context.Background(), x, chains, sampling.LangevinConfig{StepSize: 0.01}, 200)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("divergences:", st.Divergences, "gradient evaluations per chain:", st.GradEvals)
	// Output:
	// divergences: 0 gradient evaluations per chain: 200
}

// The torch model is an energy.Differentiable with the Gorgonia graph's
// values.
func ExampleModel_FGrad() {
	rng := rand.New(rand.NewPCG(3, 4))
	model := nn.NewMNISTCNN(rng, 8)
	graph.Cast(model, graph.Float64)
	shape := []int{1, 28, 28}
	m, err := torch.NewModel(model, shape, torch.CPU)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	g, err := graph.NewEnergy(model, graph.Config{Shape: shape})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := make([]float64, 2*784)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	ft, gt := make([]float64, 2), make([]float64, len(x))
	fg, gg := make([]float64, 2), make([]float64, len(x))
	m.FGrad(ft, gt, x)
	g.FGrad(fg, gg, x)
	fmt.Printf("f: torch %.9f, Gorgonia %.9f\n", ft[0], fg[0])
	// Output:
	// f: torch 0.084277082, Gorgonia 0.084277082
}

// Train with the whole contrastive-divergence step on the device.
func ExampleBackend() {
	rng := rand.New(rand.NewPCG(1, 2))
	toy, _ := datasets.ToyByName("moons")
	data, err := datasets.NewBatches(toy.SampleN(rng, 2000), 2, datasets.BatchConfig{Size: 64, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	model := nn.NewMLP(rng, nn.SiLU, 2, 32, 32, 1)
	backend := torch.NewBackend(torch.BackendConfig{
		Device:  torch.DefaultDevice(),
		Sampler: torch.LangevinSampler{Config: sampling.LangevinConfig{StepSize: 0.02}},
	})
	tr, err := trainer.New(model, data, trainer.Config{
		Shape: []int{2}, Iterations: 50, Steps: 20,
		Adam: optim.AdamConfig{LR: 1e-3}, Alpha: 0.1, Seed: 1,
		Backend: backend,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tr.Close()
	if err := tr.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	last := tr.History()[len(tr.History())-1]
	fmt.Println("iterations:", tr.Iteration())
	fmt.Println("data more probable than samples:", last.FPos > last.FNeg)
	// Output:
	// iterations: 50
	// data more probable than samples: true
}

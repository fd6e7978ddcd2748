package trainer_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/trainer"
)

// Train a small energy on two moons with replay-buffer Langevin sampling.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	toy, _ := datasets.ToyByName("moons")
	data, err := datasets.NewBatches(toy.SampleN(rng, 5000), 2, datasets.BatchConfig{Size: 64, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	model := nn.NewMLP(rng, nn.SiLU, 2, 32, 32, 1)

	tr, err := trainer.New(model, data, trainer.Config{
		Shape:      []int{2},
		Iterations: 50,
		Steps:      20,
		Kernel:     toyKernel, // Langevin with step size 0.02
		Adam:       optim.AdamConfig{LR: 1e-3},
		Alpha:      0.1,
		Seed:       1,
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

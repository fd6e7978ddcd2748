package monitor_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/trainer"
	"github.com/ebmgo/ebm/trainer/monitor"
)

// Draw the energy landscape of a 2-D model every 10 iterations, and the
// loss and energy curves at every checkpoint, into the run folder.
func ExamplePictures() {
	dir, _ := os.MkdirTemp("", "monitor-example")
	defer os.RemoveAll(dir)
	rng := rand.New(rand.NewPCG(1, 2))
	toy, _ := datasets.ToyByName("8gaussians")
	data, err := datasets.NewBatches(toy.SampleN(rng, 2000), 2, datasets.BatchConfig{Size: 64, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, err := trainer.New(nn.NewMLP(rng, nn.SiLU, 2, 32, 1), data, trainer.Config{
		Shape: []int{2}, Iterations: 20, Steps: 10, Adam: optim.AdamConfig{LR: 1e-3},
		Dir: dir, CheckpointEvery: 20, Seed: 1,
		Monitors: []trainer.Monitor{&monitor.Pictures{Every: 10}},
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
	for _, name := range []string{"landscape/000010.png", "landscape/000020.png", "loss.png", "energy.png"} {
		_, err := os.Stat(filepath.Join(dir, name))
		fmt.Println(name, err == nil)
	}
	// Output:
	// landscape/000010.png true
	// landscape/000020.png true
	// loss.png true
	// energy.png true
}

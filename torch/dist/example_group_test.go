//go:build torch

package dist_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/torch/dist"
	"github.com/ebmgo/ebm/trainer"
)

// A group of one process on this host, and an all-reduce that averages a
// gradient over its ranks. Under torchrun, NewFromEnv joins the run the
// environment describes instead.
func Example() {
	ctx := context.Background()
	port, err := dist.FreePort("127.0.0.1")
	if err != nil {
		fmt.Println(err)
		return
	}
	rz := dist.Rendezvous{MasterAddr: "127.0.0.1", MasterPort: port, Rank: 0, WorldSize: 1}
	g, err := dist.New(ctx, rz, dist.Config{Backend: "gloo", Timeout: 30 * time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()
	grad := []float32{0.5, -1, 2}
	if err := g.AllReduceFloat32(ctx, grad); err != nil {
		fmt.Println(err)
		return
	}
	for i := range grad {
		grad[i] /= float32(g.Size())
	}
	fmt.Println(g, grad)
	// Output:
	// rank 0 of 1 (gloo) [0.5 -1 2]
}

// A data-parallel training program: start it with
//
//	torchrun --nproc_per_node 4 --no_python ./program
//
// (or dist.Launch). Each rank trains on its own shard of the data; the
// trainer averages the gradients over the ranks and rank 0 writes the
// run folder.
func ExampleNewFromEnv() {
	ctx := context.Background()
	g, err := dist.NewFromEnv(ctx, dist.Config{Backend: "gloo"})
	if err != nil {
		fmt.Println(err) // e.g. not started by torchrun
		return
	}
	defer g.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	toy, _ := datasets.ToyByName("moons")
	all := toy.SampleN(rng, 4096)
	var shard []float64 // rows rank, rank+N, rank+2N, ...
	for i := g.Rank(); i < len(all)/2; i += g.Size() {
		shard = append(shard, all[2*i:2*i+2]...)
	}
	data, err := datasets.NewBatches(shard, 2, datasets.BatchConfig{Size: 64, Seed: uint64(g.Rank())})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, err := trainer.New(nn.NewMLP(rng, nn.SiLU, 2, 64, 64, 1), data, trainer.Config{
		Shape: []int{2}, Iterations: 1000, Adam: optim.AdamConfig{LR: 1e-3},
		Dir: "runs/moons", Seed: 1, Collective: g,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tr.Close()
	if err := tr.Run(ctx); err != nil {
		fmt.Println(err)
	}
}

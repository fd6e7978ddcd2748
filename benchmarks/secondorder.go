package benchmarks

import (
	"context"
	"math/rand/v2"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/trainer"
)

// DSMSigma is the noise level of the dsm/cnn workload.
const DSMSigma = 0.1

func init() {
	register(Workload{
		Name: "dsm/cnn", Desc: "MNIST CNN: denoising score matching step (σ 0.1), ∇θ of ‖σ∇x f + z‖² + Adam, batch 128",
		Unit: "iters/s", Units: 1, Torch: true,
		Setup: func(seed uint64) (func() error, error) {
			rng := rand.New(rand.NewPCG(seed, 5))
			return dsmOp(rng, nn.NewMNISTCNN(rng, 32), []int{1, 28, 28}, 128)
		},
	})
}

// dsmOp is one iteration of denoising score matching as users run it:
// trainer.Trainer.Step with trainer.DenoisingScoreMatching{Sigma:
// DSMSigma}: a data batch, x̃ = x + σz, the loss ½σ²‖∇x f(x̃) + z/σ‖²
// with its θ-gradient (a second derivative of f, compiled once by
// graph.NewSecondOrderLoss), an Adam update. The data are a fixed random
// set of TrainDataSize images.
func dsmOp(rng *rand.Rand, m graph.Model, shape []int, batch int) (func() error, error) {
	dim := 1
	for _, d := range shape {
		dim *= d
	}
	data := make([]float64, TrainDataSize*dim)
	for i := range data {
		data[i] = 2*rng.Float64() - 1
	}
	batches, err := datasets.NewBatches(data, dim, datasets.BatchConfig{Size: batch, Seed: rng.Uint64()})
	if err != nil {
		return nil, err
	}
	tr, err := trainer.New(m, batches, trainer.Config{
		Shape: shape, Iterations: 1,
		Objective: trainer.DenoisingScoreMatching{Sigma: DSMSigma},
		Adam:      optim.AdamConfig{LR: TrainLR, Beta1: 0, Beta2: 0.999},
		Seed:      rng.Uint64(),
	})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	return func() error {
		_, err := tr.Step(ctx)
		return err
	}, nil
}

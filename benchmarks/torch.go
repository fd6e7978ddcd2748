//go:build torch

package benchmarks

import (
	"math/rand/v2"

	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/torch"
)

// With the torch tag every langevin/* workload also runs on the libtorch
// backend (package torch, on torch.DefaultDevice(): the GPU when there is
// one) as langevin/NAME@torch: the same model, weights and Langevin loop,
// with f and ∇x f computed by libtorch through torch.Model.FGrad
// (Model.Langevin, which keeps the chains on the device, is faster still).
func init() {
	for i, lm := range LangevinModels {
		register(Workload{
			Name: "langevin/" + lm.Name + "@torch", Desc: lm.Desc + ", libtorch backend", Unit: "steps/s", Units: 1, Torch: true,
			Setup: func(seed uint64) (func() error, error) {
				rng := rand.New(rand.NewPCG(seed, uint64(i+1)))
				tm, err := torch.NewModel(lm.New(rng), lm.Shape, torch.DefaultDevice())
				if err != nil {
					return nil, err
				}
				l, err := NewLangevin(rng, tm, lm.Batch)
				if err != nil {
					return nil, err
				}
				return l.Step, nil
			},
		})
	}
	// train/cnn@torch is train/cnn with the whole iteration on the
	// libtorch backend (torch.Backend): the 60 Langevin steps in
	// torch.Model.Langevin, the CD loss, ∇θ and Adam in torch.Trainer.
	register(Workload{
		Name: "train/cnn@torch", Desc: "MNIST CNN: 60 Langevin steps + CD loss, ∇θ + Adam, batch 128, libtorch backend", Unit: "iters/s", Units: 1, Torch: true,
		Setup: func(seed uint64) (func() error, error) {
			rng := rand.New(rand.NewPCG(seed, 4))
			b := torch.NewBackend(torch.BackendConfig{Device: torch.DefaultDevice()})
			return trainOp(rng, nn.NewMNISTCNN(rng, 32), []int{1, 28, 28}, 128, b)
		},
	})
}

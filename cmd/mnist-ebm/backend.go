package main

import (
	"fmt"

	"github.com/ebmgo/ebm/internal/blas"
	"github.com/ebmgo/ebm/internal/ops"
	"github.com/ebmgo/ebm/trainer"
)

// torchBackend is set by backend_torch.go in builds with -tags torch;
// localRank picks the GPU of a data-parallel rank.
var torchBackend func(cfg Config, localRank int) (trainer.Backend, string, error)

// newBackend returns the trainer backend -backend asks for — nil (the
// trainer's default, pure Go) for "go" — and says what does the arithmetic,
// for the start-up line.
func newBackend(cfg Config, localRank int) (trainer.Backend, string, error) {
	if cfg.Backend == "go" {
		return nil, "go (Gorgonia), kernels " + ops.Kernels() + ", BLAS " + blas.Name(), nil
	}
	if torchBackend == nil {
		return nil, "", fmt.Errorf("-backend torch: this binary was built without the libtorch backend; build with -tags torch after scripts/torch/setup.sh (see torch/README.md): %w", errUsage)
	}
	b, dev, err := torchBackend(cfg, localRank)
	return b, "torch (libtorch) on " + dev, err
}

package main

import (
	"fmt"

	"github.com/ebmgo/ebm/internal/blas"
	"github.com/ebmgo/ebm/trainer"
)

// torchBackend is set by backend_torch.go in builds with -tags torch.
var torchBackend func(cfg Config) (trainer.Backend, string, error)

// newBackend returns the trainer backend -backend asks for: nil (the
// trainer's default, pure Go) for "go".
func newBackend(cfg Config) (trainer.Backend, error) {
	if cfg.Backend == "go" {
		return nil, nil
	}
	if torchBackend == nil {
		return nil, fmt.Errorf("-backend torch: this binary was built without the libtorch backend; build with -tags torch after scripts/torch/setup.sh (see torch/README.md): %w", errUsage)
	}
	b, _, err := torchBackend(cfg)
	return b, err
}

// computeInfo says what does the arithmetic, for the start-up line.
func computeInfo() string {
	return "BLAS " + blas.Name()
}

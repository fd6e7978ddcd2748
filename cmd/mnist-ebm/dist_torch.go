//go:build torch

package main

import (
	"context"

	"github.com/ebmgo/ebm/torch"
	"github.com/ebmgo/ebm/torch/dist"
)

// In builds with -tags torch, a rank joins its run through c10d: NCCL
// when the training runs in libtorch on CUDA (-backend torch), Gloo
// otherwise, unless -dist-backend says.
func init() {
	joinGroup = func(ctx context.Context, cfg Config) (rankGroup, error) {
		backend := cfg.DistBackend
		if backend == "auto" {
			backend = "gloo"
			if cfg.Backend == "torch" && cfg.Device != "cpu" && torch.CUDAAvailable() {
				backend = "nccl"
			}
		}
		g, err := dist.NewFromEnv(ctx, dist.Config{Backend: backend, Timeout: cfg.DistTimeout})
		if err != nil {
			return nil, err
		}
		return g, nil
	}
}

//go:build torch

package main

import (
	"fmt"
	"runtime"

	"github.com/ebmgo/ebm/torch"
	"github.com/ebmgo/ebm/trainer"
)

// In builds with -tags torch, -backend torch runs sampling and the whole
// training step in libtorch, on the GPU when there is one (-device auto).
func init() {
	torchBackend = func(cfg Config) (trainer.Backend, string, error) {
		var dev torch.Device
		switch cfg.Device {
		case "auto":
			dev = torch.DefaultDevice()
		case "cuda":
			if !torch.CUDAAvailable() {
				return nil, "", fmt.Errorf("-device cuda: libtorch sees no CUDA device: %w", errUsage)
			}
			dev = torch.CUDA(0)
		}
		b := torch.NewBackend(torch.BackendConfig{
			Device:  dev,
			Sampler: torch.LangevinSampler{Config: cfg.langevin()},
			Threads: runtime.GOMAXPROCS(0),
		})
		return b, dev.String(), nil
	}
}

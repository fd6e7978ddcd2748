//go:build torch

package main

import (
	"fmt"
	"runtime"

	"github.com/ebmgo/ebm/torch"
	"github.com/ebmgo/ebm/trainer"
)

// In builds with -tags torch, -backend torch runs sampling and the whole
// training step in libtorch, on the GPU when there is one (-device auto):
// a data-parallel rank's GPU is the one of its LOCAL_RANK.
func init() {
	torchBackend = func(cfg Config, localRank int) (trainer.Backend, string, error) {
		var dev torch.Device
		switch cfg.Device {
		case "auto", "cuda":
			n := torch.CUDADeviceCount()
			switch {
			case n == 0 && cfg.Device == "cuda":
				return nil, "", fmt.Errorf("-device cuda: libtorch sees no CUDA device: %w", errUsage)
			case n == 0:
				dev = torch.CPU
			case localRank >= n:
				return nil, "", fmt.Errorf("-device %s: this rank's LOCAL_RANK is %d but libtorch sees %d CUDA devices (one rank per GPU): %w", cfg.Device, localRank, n, errUsage)
			default:
				dev = torch.CUDA(localRank)
			}
		}
		b := torch.NewBackend(torch.BackendConfig{
			Device:  dev,
			Sampler: torch.LangevinSampler{Config: cfg.langevin()},
			Threads: runtime.GOMAXPROCS(0),
		})
		return b, dev.String(), nil
	}
}

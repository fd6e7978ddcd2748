package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/platform"
	"github.com/ebmgo/ebm/torch/dist"
	"github.com/ebmgo/ebm/trainer"
)

// Data-parallel training: mnist-ebm is one rank of a run when torchrun's
// environment variables are set (torchrun --nproc_per_node N --no_python
// ./mnist-ebm ..., or the workers that -nproc N starts), and then trains
// with the other ranks through libtorch's c10d (package torch/dist).

// joinGroup is set by dist_torch.go in builds with -tags torch: it joins
// the run the environment describes, with the c10d backend -dist-backend
// chooses for the training backend.
var joinGroup func(ctx context.Context, cfg Config) (g rankGroup, err error)

// rankGroup is this process's membership in a run.
type rankGroup interface {
	trainer.Collective
	LocalRank() int
	Backend() string
	Close() error
}

// launchRanks runs mnist-ebm -nproc N: it starts N copies of this program
// on this host as the ranks of one run and waits for them, and returns
// the exit code.
func launchRanks(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) int {
	if joinGroup == nil {
		fmt.Fprintf(stderr, "mnist-ebm: -nproc %d: this binary was built without the libtorch backend, whose c10d runs data-parallel training; build with -tags torch after scripts/torch/setup.sh (see torch/README.md)\n", cfg.NProc)
		return 2
	}
	err := dist.Launch(ctx, dist.LaunchConfig{
		NProc: cfg.NProc, Args: args, MasterPort: cfg.MasterPort,
		Stdout: stdout, Stderr: stderr,
	})
	var ee *dist.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		fmt.Fprintf(stderr, "mnist-ebm: rank %d of %d failed (%v); the other ranks were stopped\n", ee.Rank, cfg.NProc, ee.Err)
		return ee.ExitCode()
	case ctx.Err() != nil:
		if code, ok := platform.ExitCode(ctx); ok {
			fmt.Fprintf(stderr, "mnist-ebm: stopped: %v; the ranks stopped with a checkpoint\n", context.Cause(ctx))
			return code
		}
		return 130
	default:
		fmt.Fprintf(stderr, "mnist-ebm: %v\n", err)
		return 1
	}
}

// joinRun joins the data-parallel run torchrun's environment describes,
// or returns nil when this process trains alone.
func joinRun(ctx context.Context, cfg Config) (rankGroup, error) {
	if !dist.InEnv() {
		return nil, nil
	}
	rz, err := dist.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, errUsage)
	}
	if cfg.NProc > 1 && cfg.NProc != rz.WorldSize {
		return nil, fmt.Errorf("-nproc %d, but WORLD_SIZE is %d (under torchrun, leave -nproc out): %w", cfg.NProc, rz.WorldSize, errUsage)
	}
	if joinGroup == nil {
		return nil, fmt.Errorf("started as rank %d of %d (RANK and WORLD_SIZE are set), but this binary was built without the libtorch backend, whose c10d runs data-parallel training; build with -tags torch after scripts/torch/setup.sh (see torch/README.md): %w", rz.Rank, rz.WorldSize, errUsage)
	}
	// Each rank takes its share of the host's cores, as torchrun gives
	// each worker one OpenMP thread, unless GOMAXPROCS says otherwise.
	if _, set := os.LookupEnv("GOMAXPROCS"); !set && rz.LocalWorldSize > 1 {
		runtime.GOMAXPROCS(max(1, runtime.NumCPU()/rz.LocalWorldSize))
	}
	return joinGroup(ctx, cfg)
}

// shard returns rank's share of the images, rows rank, rank+world,
// rank+2·world, ..., and the seed of its batches: rank 0 keeps the run's
// seed, so that a world of one is the one-process run.
func shard(images []float64, dim, rank, world int, seed uint64) ([]float64, uint64) {
	if world <= 1 {
		return images, seed
	}
	n := len(images) / dim
	out := make([]float64, 0, (n/world+1)*dim)
	for i := rank; i < n; i += world {
		out = append(out, images[i*dim:(i+1)*dim]...)
	}
	return out, seed + uint64(rank)*0x9e3779b97f4a7c15
}

// rankData is rank's data stream: its shard of the images, in batches of
// -batch.
func rankData(images *datasets.ImageSet, cfg Config, g rankGroup) (*datasets.Batches, error) {
	rows, seed := images.Images, cfg.Seed
	if g != nil {
		rows, seed = shard(images.Images, images.Dim(), g.Rank(), g.Size(), cfg.Seed)
		if len(rows) < images.Dim()*cfg.Batch {
			return nil, fmt.Errorf("%s: %d images shared by %d ranks leave %d to rank %d, fewer than a batch of %d", images.Source, images.N, g.Size(), len(rows)/images.Dim(), g.Rank(), cfg.Batch)
		}
	}
	b, err := datasets.NewBatches(rows, images.Dim(), datasets.BatchConfig{Size: cfg.Batch, Seed: seed})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", images.Source, err)
	}
	return b, nil
}

// quiet is where ranks other than 0 write what rank 0 reports.
func quiet(g rankGroup, w io.Writer) io.Writer {
	if g != nil && g.Rank() != 0 {
		return io.Discard
	}
	return w
}

// localRank is the GPU index of this rank (0 alone).
func localRank(g rankGroup) int {
	if g == nil {
		return 0
	}
	return g.LocalRank()
}

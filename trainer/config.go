package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
)

// Chains says where each iteration's negative chains start.
type Chains int

const (
	// Replay starts each chain from a replay-buffer sample, or from fresh
	// noise with probability ReinitProb, and puts the chains' end points
	// back into the buffer (Du & Mordatch 2019). The default.
	Replay Chains = iota
	// PCD continues the same BatchSize chains from one iteration to the
	// next (persistent contrastive divergence, Tieleman 2008); they start
	// from noise.
	PCD
	// CD starts the chains at the data batch itself: CD-k with k = Steps
	// (Hinton 2002).
	CD
	// ShortRun starts every chain of every iteration from fresh noise
	// (Config.Noise) and runs Steps transitions: short-run, non-persistent
	// MCMC (Nijkamp, Hill, Zhu & Wu 2019). Nothing persists between
	// iterations, so the model is trained with exactly the sampler that
	// draws its samples afterwards: noise, then Steps transitions of
	// Config.Kernel. BufferSize and ReinitProb are unused.
	ShortRun
)

func (c Chains) String() string {
	switch c {
	case Replay:
		return "replay"
	case PCD:
		return "pcd"
	case CD:
		return "cd"
	case ShortRun:
		return "short-run"
	}
	return fmt.Sprintf("Chains(%d)", int(c))
}

// ParseChains reads "replay", "pcd", "cd" or "short-run".
func ParseChains(s string) (Chains, error) {
	for _, c := range []Chains{Replay, PCD, CD, ShortRun} {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("trainer: unknown chain mode %q (want replay, pcd, cd or short-run)", s)
}

// DivergePolicy says what training does when it diverges.
type DivergePolicy int

const (
	// Stop returns an error wrapping sampling.ErrDiverged that names the iteration.
	Stop DivergePolicy = iota
	// Rollback restores the last good checkpoint, multiplies the learning
	// rate by RollbackFactor and goes on, up to MaxRollbacks times.
	Rollback
)

// KernelFunc makes the MCMC kernel that draws model samples from an
// energy; the trainer calls it once per compiled energy.
type KernelFunc func(e energy.Differentiable) (sampling.Kernel, error)

// Config configures training. Zero values give the recipe of published
// image EBMs (Du & Mordatch 2019; the UvA deep-learning tutorial 8) where
// a zero is not itself meaningful; fields where zero is a valid choice say
// so.
type Config struct {
	// Shape is the shape of one sample, e.g. {1, 28, 28} or {2}. Required.
	Shape []int
	// Iterations is the number of parameter updates. Required.
	Iterations int
	// Alpha weighs the energy regulariser α·mean(f(x⁺)² + f(x⁻)²) of
	// contrastive divergence. Zero disables it; the image-EBM recipe uses
	// 0.1.
	Alpha float64
	// Objective is what each iteration minimises; nil means contrastive
	// divergence (with Alpha). See Objective for score matching,
	// denoising score matching, NCE and improved CD. Objectives that draw
	// no model samples ignore the sampling settings below.
	Objective Objective
	// plan is Objective prepared by New, for the backend's Setup.
	plan *plan

	// Adam configures the optimiser; Adam.LR is required. β1 = 0 (the zero
	// value) is the image-EBM choice.
	Adam optim.AdamConfig
	// ClipGradNorm, if positive, clips the global gradient norm.
	ClipGradNorm float64
	// Schedule varies the learning rate over iterations; zero: constant.
	Schedule optim.Schedule

	// Chains selects replay-buffer, PCD, CD-k or short-run chains (zero:
	// Replay).
	Chains Chains
	// Steps is the number of MCMC transitions per iteration; 0 means 60.
	Steps int
	// Kernel makes the sampler; nil means Langevin dynamics as the UvA
	// tutorial runs it (sampling.ClippedLangevin(10, 0.005): noise
	// first, gradient clipped to ±0.03, pixels clamped to [−1, 1]).
	Kernel KernelFunc
	// BufferSize is the replay buffer's capacity; 0 means 8192.
	BufferSize int
	// ReinitProb is the probability that a chain restarts from fresh noise
	// instead of a buffer sample; 0 means 0.05, and a negative value means
	// never.
	ReinitProb float64
	// Noise draws fresh starting points; nil means uniform on [−1, 1]
	// (UniformNoise). GaussianNoise draws from a Gaussian, such as one
	// fitted to the data.
	Noise func(rng *rand.Rand, x []float64)
	// DataNoise, if positive, adds Gaussian noise of this standard
	// deviation to every data batch (the UvA recipe adds 0.005), which
	// smooths the data distribution the energy has to fit.
	DataNoise float64
	// DataMin and DataMax, if DataMin < DataMax, clamp the noised data
	// batch to [DataMin, DataMax], e.g. pixels to [−1, 1].
	DataMin, DataMax float64

	// OnDiverge chooses what a divergence does (zero: Stop). Training has
	// diverged when the loss, an energy or a gradient is NaN or Inf, or
	// when |mean f(x⁺) − mean f(x⁻)| exceeds MaxGap.
	OnDiverge DivergePolicy
	// MaxGap bounds the energy gap; 0 means no bound.
	MaxGap float64
	// RollbackFactor multiplies the learning rate at each rollback; 0 means
	// 0.5.
	RollbackFactor float64
	// MaxRollbacks bounds the rollbacks of a run; 0 means 5.
	MaxRollbacks int

	// Dir is the run folder: checkpoint.safetensors (everything needed to
	// resume), model.safetensors (parameters, loadable by PyTorch),
	// metrics.jsonl (and what Monitors write). Empty writes nothing and cannot
	// resume.
	Dir string
	// CheckpointEvery is the number of iterations between checkpoints;
	// 0 means 100. A checkpoint is also written at the end and when the
	// context is cancelled.
	CheckpointEvery int
	// Progress, if not nil, is called after every iteration (after the
	// monitors), for progress displays. In a data-parallel run Progress
	// and Monitors run on rank 0 only.
	Progress func(Progress)
	// Monitors are called in order after every iteration; see Monitor.
	// Package trainer/monitor draws sample grids, curves and landscapes.
	Monitors []Monitor
	// Seed seeds the trainer's random generator (buffer choices, noise,
	// MCMC).
	Seed uint64
	// Backend runs sampling and updates; nil means the Go backend
	// (Gorgonia graphs, package sampling, package optim).
	Backend Backend
	// Collective, if not nil and of more than one rank, makes this
	// trainer one rank of a data-parallel run (see the package
	// documentation): every rank trains a replica on its own data stream,
	// with its own chains and random stream, and gradients are averaged
	// over the ranks before each update. Nil (or a world of one) trains
	// in this process alone. torch/dist.Group is one, over c10d.
	Collective Collective
}

func (c *Config) defaults() {
	if c.Steps == 0 {
		c.Steps = 60
	}
	if c.BufferSize == 0 {
		c.BufferSize = 8192
	}
	if c.ReinitProb == 0 {
		c.ReinitProb = 0.05
	} else if c.ReinitProb < 0 {
		c.ReinitProb = 0
	}
	if c.RollbackFactor == 0 {
		c.RollbackFactor = 0.5
	}
	if c.MaxRollbacks == 0 {
		c.MaxRollbacks = 5
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = 100
	}
	if c.Noise == nil {
		c.Noise = UniformNoise
	}
	if c.Kernel == nil {
		c.Kernel = DefaultKernel
	}
}

func (c *Config) validate() error {
	switch {
	case len(c.Shape) == 0:
		return fmt.Errorf("trainer: Config.Shape is empty")
	case c.Iterations <= 0:
		return fmt.Errorf("trainer: Config.Iterations = %d, want > 0", c.Iterations)
	case !(c.Adam.LR > 0):
		return fmt.Errorf("trainer: Config.Adam.LR = %g, want > 0", c.Adam.LR)
	case c.Alpha < 0 || c.ClipGradNorm < 0 || c.MaxGap < 0 || c.DataNoise < 0:
		return fmt.Errorf("trainer: Alpha, ClipGradNorm, MaxGap and DataNoise must not be negative")
	case c.DataMin > c.DataMax:
		return fmt.Errorf("trainer: DataMin %g > DataMax %g", c.DataMin, c.DataMax)
	case c.Steps < 0 || c.BufferSize < 0 || c.ReinitProb > 1:
		return fmt.Errorf("trainer: Steps %d, BufferSize %d, ReinitProb %g out of range", c.Steps, c.BufferSize, c.ReinitProb)
	case c.Chains < Replay || c.Chains > ShortRun:
		return fmt.Errorf("trainer: unknown Chains %d", c.Chains)
	case !(c.RollbackFactor > 0 && c.RollbackFactor < 1):
		return fmt.Errorf("trainer: RollbackFactor %g, want in (0, 1)", c.RollbackFactor)
	}
	for _, d := range c.Shape {
		if d <= 0 {
			return fmt.Errorf("trainer: Config.Shape %v has a non-positive dimension", c.Shape)
		}
	}
	return c.Schedule.Validate()
}

// UniformNoise fills x with draws from U(−1, 1), the fresh starting
// points of image EBMs.
func UniformNoise(rng *rand.Rand, x []float64) {
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
}

// GaussianNoise returns a Config.Noise that draws fresh starting points
// from g and clamps them to [lo, hi] when lo < hi (pixels to [−1, 1]).
// With g fitted to the data by energy.FitGaussian, chains start from
// smooth shapes with the data's mean and pixel correlations instead of
// uniform noise ("informative initialisation"). It panics if g is nil,
// and the function it returns panics if asked for values that are not
// whole samples of g's dimension: g must be of the trained sample size.
func GaussianNoise(g *energy.Gaussian, lo, hi float64) func(rng *rand.Rand, x []float64) {
	if g == nil {
		panic("trainer: GaussianNoise: nil Gaussian")
	}
	return func(rng *rand.Rand, x []float64) {
		if err := g.Sample(rng, x); err != nil {
			panic(fmt.Sprintf("trainer: GaussianNoise: %v (the Gaussian has dimension %d)", err, g.Dim()))
		}
		if lo < hi {
			for i, v := range x {
				x[i] = math.Max(lo, math.Min(hi, v))
			}
		}
	}
}

// DefaultKernel is the sampler of the UvA tutorial: Langevin dynamics with
// step size 10 and noise 0.005, noise first, gradients clipped to ±0.03 and
// values clamped to [−1, 1].
func DefaultKernel(e energy.Differentiable) (sampling.Kernel, error) {
	return sampling.NewLangevin(e, sampling.ClippedLangevin(10, 0.005))
}

//go:build torch

package torch

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

// Sampler is an MCMC sampler whose loop runs on a Model's device.
type Sampler interface {
	// Sample runs steps transitions on the n chains in x (row-major,
	// updated in place).
	Sample(ctx context.Context, m *Model, x []float64, n, steps int) (trainer.SampleStats, error)
}

// LangevinSampler runs Model.Langevin with Config.
type LangevinSampler struct{ Config sampling.LangevinConfig }

// Sample implements Sampler.
func (s LangevinSampler) Sample(ctx context.Context, m *Model, x []float64, n, steps int) (trainer.SampleStats, error) {
	return m.Langevin(ctx, x, n, s.Config, steps)
}

// MALASampler runs Model.MALA with Config.
type MALASampler struct{ Config sampling.MALAConfig }

// Sample implements Sampler.
func (s MALASampler) Sample(ctx context.Context, m *Model, x []float64, n, steps int) (trainer.SampleStats, error) {
	return m.MALA(ctx, x, n, s.Config, steps)
}

// HMCSampler runs Model.HMC with Config.
type HMCSampler struct{ Config sampling.HMCConfig }

// Sample implements Sampler.
func (s HMCSampler) Sample(ctx context.Context, m *Model, x []float64, n, steps int) (trainer.SampleStats, error) {
	return m.HMC(ctx, x, n, s.Config, steps)
}

// BackendConfig configures a Backend.
type BackendConfig struct {
	// Device is where the model runs; the zero value is the CPU. Use
	// DefaultDevice() for the first GPU when there is one.
	Device Device
	// Sampler draws the model samples on the device. Nil means the
	// trainer's default, Langevin dynamics as the UvA tutorial runs it:
	// LangevinSampler{sampling.ClippedLangevin(10, 0.005)}. The
	// trainer's Config.Kernel, a Go kernel, is not used by this backend.
	Sampler Sampler
	// SampleOnly runs only the sampling on the device; the parameter
	// updates run in Go (graph.Loss and optim.Adam, as the Go backend),
	// and the parameters are copied to the device before each sampling
	// run. The zero value runs the whole training step on the device.
	SampleOnly bool
	// Threads, if positive, sets libtorch's CPU thread count
	// (SetNumThreads); zero keeps the package's default, GOMAXPROCS
	// unless OMP_NUM_THREADS is set. Negative is an error.
	Threads int
}

// Backend is a trainer.Backend that runs sampling, and by default the
// whole training step, in libtorch:
//
//	cfg.Backend = torch.NewBackend(torch.BackendConfig{Device: torch.DefaultDevice()})
//
// Per iteration only the chains' start and end points, the data batch and
// a few statistics cross between Go and the device. The device's noise is
// seeded from the trainer's random generator at every sampling run, so a
// run is reproducible for a given seed, device and libtorch build. A
// Backend serves one trainer and is not safe for concurrent use.
type Backend struct {
	cfg     BackendConfig
	tcfg    *trainer.Config
	model   *Model
	train   *Trainer
	goSide  trainer.Backend // SampleOnly: the Go backend does the updates
	sampler Sampler
	// The objective's own parameters (NCE's log Z), kept and updated on
	// the host by their own Adam with the trainer's settings.
	extra     []*graph.Param
	extraAdam *optim.Adam
}

var _ trainer.Backend = (*Backend)(nil)

// NewBackend returns a Backend; the trainer calls its Setup.
func NewBackend(cfg BackendConfig) *Backend { return &Backend{cfg: cfg} }

// Model returns the device model (nil before Setup).
func (b *Backend) Model() *Model { return b.model }

// Setup implements trainer.Backend.
func (b *Backend) Setup(model graph.Model, cfg *trainer.Config, batch int) error {
	if b.model != nil {
		return fmt.Errorf("torch: Backend.Setup called twice")
	}
	if b.cfg.Threads < 0 {
		return fmt.Errorf("torch: Backend: Threads %d: want 0 (libtorch's default) or a positive count", b.cfg.Threads)
	}
	if b.cfg.Threads > 0 {
		if err := SetNumThreads(b.cfg.Threads); err != nil {
			return err
		}
	}
	b.tcfg = cfg
	b.sampler = b.cfg.Sampler
	if b.sampler == nil {
		b.sampler = LangevinSampler{sampling.ClippedLangevin(10, 0.005)}
	}
	m, err := NewModel(model, cfg.Shape, b.cfg.Device)
	if err != nil {
		return fmt.Errorf("torch: Backend: %w", err)
	}
	b.model = m
	if b.cfg.SampleOnly {
		b.goSide = trainer.NewGoBackend()
		if err := b.goSide.Setup(model, cfg, batch); err != nil {
			b.Close()
			return err
		}
		return nil
	}
	b.train, err = NewTrainer(m, TrainConfig{Alpha: cfg.Alpha, Adam: cfg.Adam, ClipGradNorm: cfg.ClipGradNorm, Collective: cfg.Collective})
	if err != nil {
		b.Close()
		return fmt.Errorf("torch: Backend: %w", err)
	}
	if b.extra = cfg.ObjectiveParams(); len(b.extra) > 0 {
		if b.extraAdam, err = optim.NewAdam(b.extra, cfg.Adam); err != nil {
			b.Close()
			return fmt.Errorf("torch: Backend: %w", err)
		}
	}
	return nil
}

// Sample implements trainer.Backend: cfg.Steps transitions of the
// device sampler, its noise seeded from rng.
func (b *Backend) Sample(ctx context.Context, rng *rand.Rand, x []float64, n int) (trainer.SampleStats, error) {
	if b.cfg.SampleOnly {
		if err := b.model.SyncFromGraph(); err != nil {
			return trainer.SampleStats{}, err
		}
	}
	ManualSeed(int64(rng.Uint64() >> 1))
	return b.sampler.Sample(ctx, b.model, x, n, b.tcfg.Steps)
}

// Update implements trainer.Backend.
func (b *Backend) Update(xpos, xneg []float64, lr float64) (trainer.UpdateStats, error) {
	if b.goSide != nil {
		return b.goSide.Update(xpos, xneg, lr)
	}
	if err := b.train.SetLR(lr); err != nil {
		return trainer.UpdateStats{}, err
	}
	st, err := b.train.Step(xpos, xneg)
	return trainer.UpdateStats{Loss: st.Loss, FPos: st.FPos, FNeg: st.FNeg, GradNorm: st.GradNorm}, err
}

// SyncParams implements trainer.Backend: it copies the device's
// parameters to the graph.Params.
func (b *Backend) SyncParams() error {
	if b.goSide != nil {
		return nil // the Go side owns the parameters
	}
	return b.model.SyncToGraph()
}

// LoadParams implements trainer.Backend: it copies the graph.Params to
// the device.
func (b *Backend) LoadParams() error { return b.model.SyncFromGraph() }

// OptimizerState implements trainer.Backend.
func (b *Backend) OptimizerState() (optim.AdamState, error) {
	if b.goSide != nil {
		return b.goSide.OptimizerState()
	}
	s, err := b.train.AdamState()
	if err != nil || b.extraAdam == nil {
		return s, err
	}
	es := b.extraAdam.State() // the objective's parameters come last
	s.M, s.V = append(s.M, es.M...), append(s.V, es.V...)
	return s, nil
}

// SetOptimizerState implements trainer.Backend.
func (b *Backend) SetOptimizerState(s optim.AdamState) error {
	if b.goSide != nil {
		return b.goSide.SetOptimizerState(s)
	}
	if b.extraAdam != nil {
		k := len(s.M) - len(b.extra)
		if k < 0 || len(s.V) != len(s.M) {
			return fmt.Errorf("torch: Backend: optimiser state of %d moments for %d objective parameters", len(s.M), len(b.extra))
		}
		es := optim.AdamState{Step: s.Step, M: s.M[k:], V: s.V[k:]}
		if err := b.extraAdam.SetState(es); err != nil {
			return err
		}
		s.M, s.V = s.M[:k], s.V[:k]
	}
	return b.train.SetAdamState(s)
}

// Close implements trainer.Backend: it frees the device memory.
func (b *Backend) Close() error {
	if b.train != nil {
		b.train.Close()
	}
	if b.goSide != nil {
		b.goSide.Close()
	}
	if b.model != nil {
		b.model.Close()
	}
	return nil
}

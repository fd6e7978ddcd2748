package trainer

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
)

// Backend runs the two halves of a training iteration: drawing model
// samples, and updating the parameters from a data batch and a sample
// batch. The default runs both in Go through Gorgonia graphs; package
// torch (build tag torch) provides one that runs them in libtorch.
type Backend interface {
	// Setup is called once by the trainer before anything else.
	Setup(model graph.Model, cfg *Config, batch int) error
	// Sample runs cfg.Steps MCMC transitions on the n chains in x
	// (row-major, updated in place) using rng. An error wrapping
	// sampling.ErrDiverged counts as a divergence of training.
	Sample(ctx context.Context, rng *rand.Rand, x []float64, n int) (SampleStats, error)
	// Update computes the CD loss on (xpos, xneg) and its gradient, clips
	// it, and applies one optimiser step with learning rate lr. A
	// non-finite loss or gradient returns an error wrapping
	// optim.ErrNonFinite and leaves the parameters unchanged.
	Update(xpos, xneg []float64, lr float64) (UpdateStats, error)
	// SyncParams makes the model's graph.Param values current (a device
	// backend copies its parameters back) before a checkpoint is written.
	SyncParams() error
	// LoadParams pushes the graph.Param values to the backend after a
	// checkpoint is restored.
	LoadParams() error
	// OptimizerState and SetOptimizerState export and restore the
	// optimiser's state for checkpoints.
	OptimizerState() (optim.AdamState, error)
	SetOptimizerState(optim.AdamState) error
	// Close releases what the backend holds.
	Close() error
}

// SampleStats summarises the MCMC of one iteration.
type SampleStats struct {
	MeanAccept  float64 // mean acceptance probability over chains and steps
	Divergences int     // divergent chain transitions
	GradEvals   int     // gradient evaluations per chain
}

// UpdateStats summarises one parameter update.
type UpdateStats struct {
	Loss       float64
	FPos, FNeg float64 // mean f over the data and the sample batch
	GradNorm   float64 // global gradient norm before clipping
}

// goBackend samples with a kernel from package sampling on a compiled
// graph.Energy, and updates with graph.Loss and optim.Adam.
type goBackend struct {
	model  graph.Model
	cfg    *Config
	energy *graph.Energy
	kernel sampling.Kernel
	loss   *graph.Loss
	adam   *optim.Adam
	flat32 []float32 // data-parallel runs: the gradients, packed for the all-reduce
	flat64 []float64
	fneg   int         // an objective's model input whose mean f is FNeg
	args   [][]float64 // an objective's loss inputs
}

// NewGoBackend returns the pure-Go backend; Config.Backend nil means it.
func NewGoBackend() Backend { return &goBackend{} }

func (g *goBackend) Setup(model graph.Model, cfg *Config, batch int) error {
	g.model, g.cfg = model, cfg
	if cfg.plan != nil {
		return g.setupObjective(model, cfg, batch)
	}
	e, err := graph.NewEnergy(model, graph.Config{Shape: cfg.Shape, Batch: batch})
	if err != nil {
		return fmt.Errorf("trainer: compiling the energy: %w", err)
	}
	g.energy = e
	if g.kernel, err = cfg.Kernel(e); err != nil {
		return fmt.Errorf("trainer: making the sampler: %w", err)
	}
	g.loss, err = graph.NewLoss(model, graph.LossConfig{Shape: cfg.Shape, Batches: []int{batch, batch}}, graph.CDLoss(cfg.Alpha))
	if err != nil {
		return fmt.Errorf("trainer: compiling the loss: %w", err)
	}
	g.adam, err = optim.NewAdam(g.loss.Params(), cfg.Adam)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

func (g *goBackend) Sample(ctx context.Context, rng *rand.Rand, x []float64, n int) (SampleStats, error) {
	var st SampleStats
	s, err := g.kernel.Init(x, n)
	if err != nil {
		return st, err
	}
	var accept float64
	for range g.cfg.Steps {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		var info sampling.Info
		if s, info, err = g.kernel.Step(rng, s); err != nil {
			return st, err
		}
		accept += info.MeanAccept()
		st.Divergences += info.Divergences()
		st.GradEvals += info.GradEvals
	}
	copy(x, s.X)
	if g.cfg.Steps > 0 {
		st.MeanAccept = accept / float64(g.cfg.Steps)
	}
	return st, nil
}

func (g *goBackend) Update(xpos, xneg []float64, lr float64) (UpdateStats, error) {
	var st UpdateStats
	l, err := g.loss.Run(xpos, xneg)
	if err != nil {
		return st, err
	}
	st.Loss, st.FPos, st.FNeg = l, mean(g.loss.F(0)), mean(g.loss.F(1))
	if c := g.cfg.Collective; c != nil && c.Size() > 1 {
		if err := g.averageOverRanks(c, &st); err != nil {
			return st, err
		}
		l = st.Loss
	}
	st.GradNorm = optim.ClipGradNorm(g.loss.Grads(), g.cfg.ClipGradNorm)
	if math.IsNaN(l) || math.IsInf(l, 0) || math.IsNaN(st.GradNorm) || math.IsInf(st.GradNorm, 0) {
		return st, fmt.Errorf("trainer: loss %g, gradient norm %g: %w", l, st.GradNorm, optim.ErrNonFinite)
	}
	g.adam.SetLR(lr)
	return st, g.adam.Step(g.loss.Grads())
}

// averageOverRanks replaces the gradients and the loss statistics by
// their means over the ranks of a data-parallel run: with equal batches on
// every rank, the gradient of the loss of the union of their batches.
// The gradients travel in their own precision, packed into one buffer.
func (g *goBackend) averageOverRanks(c Collective, st *UpdateStats) error {
	grads := g.loss.Grads()
	n := 0
	for _, d := range grads {
		n += d.Len()
	}
	scale := 1 / float64(c.Size())
	switch grads[0].Data().(type) {
	case []float32:
		if len(g.flat32) != n {
			g.flat32 = make([]float32, n)
		}
		off := 0
		for _, d := range grads {
			off += copy(g.flat32[off:], d.Data().([]float32))
		}
		if err := c.AllReduceFloat32(bg, g.flat32); err != nil {
			return fmt.Errorf("trainer: averaging the gradients over the ranks: %w", err)
		}
		off = 0
		for _, d := range grads {
			v := d.Data().([]float32)
			for i := range v {
				v[i] = float32(float64(g.flat32[off+i]) * scale)
			}
			off += len(v)
		}
	case []float64:
		if len(g.flat64) != n {
			g.flat64 = make([]float64, n)
		}
		off := 0
		for _, d := range grads {
			off += copy(g.flat64[off:], d.Data().([]float64))
		}
		if err := c.AllReduceFloat64(bg, g.flat64); err != nil {
			return fmt.Errorf("trainer: averaging the gradients over the ranks: %w", err)
		}
		off = 0
		for _, d := range grads {
			v := d.Data().([]float64)
			for i := range v {
				v[i] = g.flat64[off+i] * scale
			}
			off += len(v)
		}
	default:
		return fmt.Errorf("trainer: gradients of type %T cannot be averaged over ranks", grads[0].Data())
	}
	stats := []float64{st.Loss, st.FPos, st.FNeg}
	if err := meanOverRanks(c, stats); err != nil {
		return fmt.Errorf("trainer: averaging the loss over the ranks: %w", err)
	}
	st.Loss, st.FPos, st.FNeg = stats[0], stats[1], stats[2]
	return nil
}

func (g *goBackend) SyncParams() error                         { return nil }
func (g *goBackend) LoadParams() error                         { return nil }
func (g *goBackend) OptimizerState() (optim.AdamState, error)  { return g.adam.State(), nil }
func (g *goBackend) SetOptimizerState(s optim.AdamState) error { return g.adam.SetState(s) }
func (g *goBackend) Close() error                              { return nil }

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

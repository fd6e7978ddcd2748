package trainer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
)

// Progress reports one finished iteration.
type Progress struct {
	Iteration, Iterations int // iterations done, and in all
	Metrics               Metrics
	Elapsed               time.Duration // since this Run started
	ItPerSec              float64       // over this Run
	ETA                   time.Duration
	Resumed               int  // iteration this Run resumed from (0: fresh)
	Checkpointed          bool // a checkpoint was written after this iteration
	Rollbacks             int
}

// Trainer trains an energy model by maximum likelihood with contrastive
// divergence: each iteration draws a data batch x⁺, runs MCMC chains to get
// model samples x⁻, and takes one optimiser step on
//
//	L = mean f(x⁻) − mean f(x⁺) + α·(mean f(x⁺)² + mean f(x⁻)²).
//
// See Config for the choices and their defaults, and the package
// documentation for checkpoints and divergence handling.
//
// A Trainer is not safe for concurrent use: Run, Step, Close and the
// accessors belong to one goroutine. Monitors and Config.Progress are
// called on Run's goroutine between iterations, so they may use the
// accessors; other goroutines must not, nor run graphs of the model while
// it trains, since every update writes its parameters. A run folder serves
// one trainer at a time (cmd/mnist-ebm locks it).
type Trainer struct {
	model   graph.Model
	data    Data
	cfg     Config
	backend Backend
	batch   int
	dim     int

	coll Collective // nil unless a data-parallel run of several ranks
	src  *rand.PCG
	rng  *rand.Rand
	buf  *ReplayBuffer // Replay mode
	pcd  []float64     // PCD mode: the persistent chains

	iter      int     // iterations completed
	lrScale   float64 // product of rollback factors
	rollbacks int
	resumed   int
	history   []Metrics
	lastGood  []byte // the last checkpoint, encoded, for rollbacks

	xpos, xneg []float64
	plan       *plan     // Config.Objective prepared for this run; nil for plain CD
	augBuf     []float64 // scratch of ImprovedCD.Augment
	metrics    *metricsLog
}

// New returns a trainer for model on the data stream (whose batch size is
// the training batch size; *datasets.Batches is the usual one). If cfg.Dir
// holds a checkpoint, New restores it, so Run resumes where the earlier run
// stopped; Resumed reports it.
func New(model graph.Model, data Data, cfg Config) (*Trainer, error) {
	if model == nil || data == nil {
		return nil, fmt.Errorf("trainer: New: model and data are required")
	}
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if data.Size() <= 0 {
		return nil, fmt.Errorf("trainer: data batches of %d samples, want > 0", data.Size())
	}
	dim := 1
	for _, d := range cfg.Shape {
		dim *= d
	}
	if data.Dim() != dim {
		return nil, fmt.Errorf("trainer: data rows have %d values but Config.Shape %v has %d", data.Dim(), cfg.Shape, dim)
	}
	if err := graph.CheckNames(model.Params()); err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	t := &Trainer{model: model, data: data, cfg: cfg, batch: data.Size(), dim: dim, lrScale: 1}
	if c := cfg.Collective; c != nil && c.Size() > 1 {
		if r := c.Rank(); r < 0 || r >= c.Size() {
			return nil, fmt.Errorf("trainer: Config.Collective: rank %d outside [0, %d)", r, c.Size())
		}
		t.coll = c
	}
	t.src = NewRankSource(cfg.Seed, t.rank())
	t.rng = rand.New(t.src)
	switch {
	case !cfg.sampled(): // no chains
	case cfg.Chains == Replay:
		buf, err := NewReplayBuffer(cfg.BufferSize, dim)
		if err != nil {
			return nil, err
		}
		t.buf = buf
	case cfg.Chains == PCD:
		t.pcd = make([]float64, t.batch*dim)
		cfg.Noise(t.rng, t.pcd)
	}
	t.xpos = make([]float64, t.batch*dim)
	t.xneg = make([]float64, t.batch*dim)
	t.backend = cfg.Backend
	if t.backend == nil {
		t.backend = NewGoBackend()
	}
	if err := t.preparePlan(); err != nil {
		return nil, err
	}
	if err := t.backend.Setup(model, &t.cfg, t.batch); err != nil {
		return nil, err
	}
	if cfg.Dir != "" && t.coll == nil {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("trainer: run folder: %w", err)
		}
	}
	if t.coll != nil {
		if err := t.setupParallel(); err != nil {
			return nil, err
		}
	} else if cfg.Dir != "" {
		if err := t.resume(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Resumed returns the iteration restored from a checkpoint by New, or 0.
func (t *Trainer) Resumed() int { return t.resumed }

// Iteration returns the number of iterations completed.
func (t *Trainer) Iteration() int { return t.iter }

// Model returns the model being trained.
func (t *Trainer) Model() graph.Model { return t.model }

// Buffer returns the replay buffer (nil unless Chains is Replay and the
// objective draws model samples).
func (t *Trainer) Buffer() *ReplayBuffer { return t.buf }

// History returns the metrics of the iterations done so far, the earlier
// runs' of a resumed run included (read back from metrics.jsonl).
func (t *Trainer) History() []Metrics { return t.history }

// Samples returns the model samples x⁻ of the last iteration (batch×dim);
// the slice is reused. For an objective that draws no model samples it
// holds what the loss contrasted the data with: the noised data of
// denoising score matching, NCE's first batch of noise samples, the data
// themselves for exact and sliced score matching.
func (t *Trainer) Samples() []float64 { return t.xneg }

// DataBatch returns the data batch x⁺ of the last iteration (batch×dim,
// after Config.DataNoise); the slice is reused.
func (t *Trainer) DataBatch() []float64 { return t.xpos }

// Config returns the trainer's configuration, defaults filled in.
func (t *Trainer) Config() Config { return t.cfg }

// SyncModel makes the parameters of Model() current: a device backend
// keeps them on the device and copies them back here. Call it before
// reading the parameters (to draw, evaluate or save the model) while
// training with such a backend; with the Go backend it does nothing.
func (t *Trainer) SyncModel() error { return t.backend.SyncParams() }

// Close releases the backend.
func (t *Trainer) Close() error {
	if t.metrics != nil {
		t.metrics.close()
	}
	return t.backend.Close()
}

// Run trains until cfg.Iterations iterations are done. Cancelling ctx ends
// the run after writing a checkpoint of the last finished iteration; Run
// then returns ctx's error.
func (t *Trainer) Run(ctx context.Context) error {
	start := time.Now()
	startIter := t.iter
	if t.cfg.Dir != "" && t.metrics == nil && t.rank() == 0 {
		m, hist, err := openMetrics(t.cfg.Dir, t.iter)
		if err != nil {
			return err
		}
		t.metrics, t.history = m, hist
	}
	if t.lastGood == nil {
		b, err := t.encode()
		if err != nil {
			return err
		}
		t.lastGood = b
	}
	for t.iter < t.cfg.Iterations {
		// The ranks of a data-parallel run stop together: a cancelled
		// context is noticed when they compare notes after sampling.
		if err := ctx.Err(); err != nil && t.coll == nil {
			return t.stop(err)
		}
		m, err := t.step(ctx)
		if err != nil {
			if t.coll == nil && ctx.Err() != nil {
				return t.stop(ctx.Err())
			}
			if t.coll != nil && (err == errPeerStopped || (ctx.Err() != nil && err == ctx.Err())) {
				return t.stop(err)
			}
			if !errors.Is(err, sampling.ErrDiverged) {
				return err
			}
			if rerr := t.rollback(err); rerr != nil {
				return rerr
			}
			continue
		}
		t.history = append(t.history, m)
		if t.metrics != nil {
			if err := t.metrics.write(m); err != nil {
				return err
			}
		}
		ckpt := t.iter%t.cfg.CheckpointEvery == 0 || t.iter == t.cfg.Iterations
		if ckpt {
			if err := t.checkpoint(); err != nil {
				return err
			}
		}
		el := time.Since(start)
		p := Progress{Iteration: t.iter, Iterations: t.cfg.Iterations, Metrics: m, Elapsed: el,
			Resumed: t.resumed, Checkpointed: ckpt, Rollbacks: t.rollbacks}
		if done := t.iter - startIter; done > 0 && el > 0 {
			p.ItPerSec = float64(done) / el.Seconds()
			p.ETA = time.Duration(float64(t.cfg.Iterations-t.iter) / p.ItPerSec * float64(time.Second))
		}
		if t.rank() != 0 {
			continue // only rank 0 reports
		}
		for _, mon := range t.cfg.Monitors {
			if err := mon.Observe(t, p); err != nil {
				return fmt.Errorf("trainer: iteration %d: monitor: %w", t.iter, err)
			}
		}
		if t.cfg.Progress != nil {
			t.cfg.Progress(p)
		}
	}
	return nil
}

// Step runs one training iteration by itself, outside Run: no checkpoint,
// metrics file, picture or rollback, and no bound from Config.Iterations.
// A divergence is returned as an error wrapping sampling.ErrDiverged, with the
// trainer left as it was before the iteration. It is for callers that
// drive training themselves, and for benchmarks.
func (t *Trainer) Step(ctx context.Context) (Metrics, error) {
	m, err := t.step(ctx)
	if err == nil {
		t.history = append(t.history, m)
	}
	return m, err
}

// stop writes a checkpoint of the last finished iteration and returns err.
func (t *Trainer) stop(err error) error {
	if t.cfg.Dir != "" {
		if cerr := t.checkpoint(); cerr != nil {
			return errors.Join(err, cerr)
		}
	}
	return err
}

// step runs one iteration. On any error the trainer's state is as it was
// before the iteration, so that a checkpoint or rollback can follow.
func (t *Trainer) step(ctx context.Context) (Metrics, error) {
	it := t.iter + 1
	m := Metrics{Iter: it}
	rngState, _ := t.src.MarshalBinary()
	dataState, _ := t.data.MarshalBinary()
	undo := func() {
		_ = t.src.UnmarshalBinary(rngState)
		_ = t.data.UnmarshalBinary(dataState)
	}
	t0 := time.Now()
	if n := t.data.Next(t.xpos, nil); n != t.batch {
		undo()
		return m, fmt.Errorf("trainer: iteration %d: the data gave a batch of %d samples, want %d (a short last batch needs datasets.Wrap or DropLast)", it, n, t.batch)
	}
	if sd := t.cfg.DataNoise; sd > 0 {
		lo, hi := t.cfg.DataMin, t.cfg.DataMax
		for i, v := range t.xpos {
			v += sd * t.rng.NormFloat64()
			if lo < hi {
				v = math.Max(lo, math.Min(hi, v))
			}
			t.xpos[i] = v
		}
	}
	sampled := t.cfg.sampled()
	var ss SampleStats
	var err error
	if sampled {
		switch t.cfg.Chains {
		case Replay:
			m.Fresh = t.buf.Init(t.rng, t.xneg, t.batch, t.cfg.ReinitProb, t.cfg.Noise)
		case PCD:
			copy(t.xneg, t.pcd)
		case CD:
			copy(t.xneg, t.xpos)
		case ShortRun:
			t.cfg.Noise(t.rng, t.xneg)
			m.Fresh = t.batch
		}
		t.augment()
		ss, err = t.backend.Sample(ctx, t.rng, t.xneg, t.batch)
		if err != nil && !(ctx.Err() != nil && t.coll == nil) {
			err = fmt.Errorf("trainer: iteration %d: sampling: %w", it, err)
		}
	}
	t1 := time.Now()
	m.Accept, m.Divergences, m.GradEvals = ss.MeanAccept, ss.Divergences, ss.GradEvals
	m.SampleSec = t1.Sub(t0).Seconds()
	if t.coll != nil {
		// All ranks go on, or none: sampling statistics and failures of
		// every rank, summed.
		err = t.agree(ctx, it, &m, ss, err)
	}
	if err != nil {
		undo()
		return m, err
	}
	m.LR = t.cfg.Schedule.LR(t.cfg.Adam.LR, t.iter) * t.lrScale
	var us UpdateStats
	if t.plan == nil {
		us, err = t.backend.Update(t.xpos, t.xneg, m.LR)
	} else {
		us, err = t.updateObjective(m.LR)
		m.LogZ = t.plan.logZ()
	}
	m.Loss, m.FPos, m.FNeg, m.GradNorm = us.Loss, us.FPos, us.FNeg, us.GradNorm
	if sampled || t.plan.fneg >= 0 { // score matching has no second batch to compare with
		m.Gap = us.FPos - us.FNeg
	}
	m.UpdateSec = time.Since(t1).Seconds()
	if t.coll != nil && err == nil {
		times := []float64{m.UpdateSec}
		if err = meanOverRanks(t.coll, times); err != nil {
			err = fmt.Errorf("trainer: iteration %d: %w", it, err)
		}
		m.UpdateSec = times[0]
	}
	switch {
	case errors.Is(err, optim.ErrNonFinite):
		undo()
		return m, fmt.Errorf("trainer: iteration %d: %w: %w", it, err, sampling.ErrDiverged)
	case err != nil:
		undo()
		return m, fmt.Errorf("trainer: iteration %d: update: %w", it, err)
	case !finite(m.FPos) || !finite(m.FNeg):
		// The update was applied with finite gradients but the energies are
		// not finite; treat as divergence (a rollback restores θ).
		undo()
		return m, fmt.Errorf("trainer: iteration %d: mean energies %g (data) and %g (samples) are not finite: %w", it, m.FPos, m.FNeg, sampling.ErrDiverged)
	case sampled && t.cfg.MaxGap > 0 && math.Abs(m.Gap) > t.cfg.MaxGap:
		undo()
		return m, fmt.Errorf("trainer: iteration %d: energy gap %g exceeds %g: %w", it, m.Gap, t.cfg.MaxGap, sampling.ErrDiverged)
	}
	switch {
	case !sampled:
	case t.cfg.Chains == Replay:
		t.buf.Push(t.xneg, t.batch)
	case t.cfg.Chains == PCD:
		copy(t.pcd, t.xneg)
	}
	t.iter = it
	return m, nil
}

// rollback restores the last good checkpoint with a smaller learning rate,
// or returns the divergence error under the Stop policy.
func (t *Trainer) rollback(cause error) error {
	if t.cfg.OnDiverge == Stop {
		return cause
	}
	if t.rollbacks >= t.cfg.MaxRollbacks {
		return fmt.Errorf("%w (after %d rollbacks)", cause, t.rollbacks)
	}
	n := t.rollbacks
	if err := t.decode(t.lastGood); err != nil {
		return fmt.Errorf("trainer: rolling back: %w", err)
	}
	t.rollbacks = n + 1
	t.lrScale *= t.cfg.RollbackFactor
	t.history = t.history[:min(len(t.history), t.iter)]
	if t.metrics != nil {
		if err := t.metrics.truncate(t.iter); err != nil {
			return err
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

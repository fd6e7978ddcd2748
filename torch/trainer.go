//go:build torch

package torch

import (
	"fmt"
	"math"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/trainer"
)

// TrainConfig configures a Trainer.
type TrainConfig struct {
	// Alpha weighs the energy regulariser α·(mean f(x⁺)² + mean f(x⁻)²);
	// zero disables it (image EBMs use 0.1).
	Alpha float64
	// Adam configures the optimiser, with the meaning and zero values of
	// optim.AdamConfig: LR is required, β1 = 0 (the zero value) disables
	// momentum, β2 = 0 means 0.999, ε = 0 means 1e-8.
	Adam optim.AdamConfig
	// ClipGradNorm, if positive, scales the gradient so that its global
	// norm is at most ClipGradNorm, as optim.ClipGradNorm does.
	ClipGradNorm float64
	// Collective, if not nil and of more than one rank, makes each Step
	// one step of data-parallel training (see package trainer): the
	// gradient and the loss statistics are averaged over the ranks
	// before clipping and the update. A *dist.Group all-reduces the
	// gradients on the device (Gloo for CPU tensors, NCCL for CUDA ones);
	// another trainer.Collective, through host memory.
	Collective trainer.Collective
}

// StepStats reports one training step.
type StepStats struct {
	Loss       float64
	FPos, FNeg float64 // mean f over the data batch x⁺ and the sample batch x⁻
	GradNorm   float64 // global gradient norm, before clipping
}

// Trainer takes contrastive-divergence steps on a Model's device
// parameters: the loss of graph.CDLoss,
//
//	L = mean f(x⁻) − mean f(x⁺) + α·(mean f(x⁺)² + mean f(x⁻)²),
//
// its gradient by libtorch's autograd, clipping as optim.ClipGradNorm, and
// the update of optim.Adam (PyTorch's Adam, β1 = 0 allowed, decoupled
// weight decay), whose moments live on the device in float64. Parameters
// stay on the device: call Model.SyncToGraph to copy them to the
// graph.Params (for a checkpoint), and AdamState / SetAdamState to save
// and restore the optimiser. A Trainer is not safe for concurrent use.
type Trainer struct {
	mod    *Model
	cfg    TrainConfig
	m, v   []handle // Adam's moments, float64, on the device
	step   int
	closed bool
}

// NewTrainer returns a Trainer for mod. The configuration is checked as
// optim.NewAdam checks it.
func NewTrainer(mod *Model, cfg TrainConfig) (*Trainer, error) {
	if mod == nil {
		panic("torch: NewTrainer: nil model")
	}
	if mod.closed {
		return nil, ErrClosed
	}
	if len(mod.params) == 0 {
		return nil, fmt.Errorf("torch: NewTrainer: the model has no parameters to train")
	}
	if cfg.Alpha < 0 || cfg.ClipGradNorm < 0 || math.IsNaN(cfg.Alpha) || math.IsNaN(cfg.ClipGradNorm) {
		return nil, fmt.Errorf("torch: NewTrainer: Alpha %g and ClipGradNorm %g must not be negative", cfg.Alpha, cfg.ClipGradNorm)
	}
	a, err := optim.NewAdam(nil, cfg.Adam)
	if err != nil {
		return nil, fmt.Errorf("torch: NewTrainer: %w", err)
	}
	cfg.Adam = a.Config()
	t := &Trainer{mod: mod, cfg: cfg}
	defer lockThread()()
	e := newExec()
	defer e.close()
	for _, p := range mod.pd {
		t.m = append(t.m, e.take(e.zerosLike(e.toKind(p, mod.dev.c(), kindFloat64))))
		t.v = append(t.v, e.take(e.zerosLike(e.toKind(p, mod.dev.c(), kindFloat64))))
	}
	if e.err != nil {
		t.Close()
		return nil, fmt.Errorf("torch: NewTrainer: %w", e.err)
	}
	return t, nil
}

// Config returns the configuration in use (defaults filled in).
func (t *Trainer) Config() TrainConfig { return t.cfg }

// SetLR sets Adam's learning rate, for schedules. It returns an error,
// and keeps the rate, unless lr is positive and finite.
func (t *Trainer) SetLR(lr float64) error {
	if !(lr > 0) || math.IsInf(lr, 1) {
		return fmt.Errorf("torch: Trainer.SetLR(%g): the learning rate must be positive and finite", lr)
	}
	t.cfg.Adam.LR = lr
	return nil
}

// Steps returns the number of updates applied.
func (t *Trainer) Steps() int { return t.step }

// Close frees the optimiser's device memory (not the Model's).
func (t *Trainer) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	for i := range t.m {
		free(t.m[i])
		free(t.v[i])
	}
	t.m, t.v = nil, nil
	return nil
}

// Step takes one training step on the data batch xpos and the model
// samples xneg (row-major, any batch sizes). Only the two batches go to
// the device and four numbers come back. A non-finite loss or gradient
// returns an error wrapping optim.ErrNonFinite and changes nothing.
func (t *Trainer) Step(xpos, xneg []float64) (StepStats, error) {
	var st StepStats
	if t.closed || t.mod.closed {
		return st, ErrClosed
	}
	mod := t.mod
	npos, nneg := len(xpos)/mod.dim, len(xneg)/mod.dim
	if npos == 0 || nneg == 0 || len(xpos) != npos*mod.dim || len(xneg) != nneg*mod.dim {
		return st, fmt.Errorf("torch: Trainer.Step: batches of %d and %d values for samples of shape %v (dimension %d): %w",
			len(xpos), len(xneg), mod.shape, mod.dim, energy.ErrShape)
	}
	defer lockThread()()
	e := mod.exec()
	defer e.close()
	dev := mod.dev.c()
	xp := e.fromFloat64s(xpos, mod.batchShape(npos), mod.kind, dev)
	xn := e.fromFloat64s(xneg, mod.batchShape(nneg), mod.kind, dev)
	fp := mod.forward(e, xp, mod.p, npos)
	fn := mod.forward(e, xn, mod.p, nneg)
	mp, mn := e.mean(fp), e.mean(fn)
	loss := e.sub(mn, mp)
	if t.cfg.Alpha != 0 {
		reg := e.add(e.mean(e.square(fp)), e.mean(e.square(fn)))
		loss = e.add(loss, e.mulS(reg, e.scalar(t.cfg.Alpha)))
	}
	grads := e.grad([]handle{loss}, mod.p)
	parallel := t.cfg.Collective != nil && t.cfg.Collective.Size() > 1
	if parallel {
		t.averageOverRanks(e, t.cfg.Collective, grads)
	}
	// Gradients in float64 from here on, as optim computes.
	var sq handle
	for i := range grads {
		grads[i] = e.toKind(grads[i], dev, kindFloat64)
		s := e.sum(e.square(grads[i]))
		if sq == nil {
			sq = s
		} else {
			sq = e.add(sq, s)
		}
	}
	var vals [4]float64
	if e.err == nil {
		out := [4]handle{e.toKind(loss, dev, kindFloat64), e.toKind(mp, dev, kindFloat64), e.toKind(mn, dev, kindFloat64), sq}
		e.toFloat64s(vals[:], e.stack(out[:]), kindFloat64)
	}
	if e.err != nil {
		return st, fmt.Errorf("torch: Trainer.Step: %w", e.err)
	}
	st = StepStats{Loss: vals[0], FPos: vals[1], FNeg: vals[2], GradNorm: math.Sqrt(vals[3])}
	if parallel {
		if err := meanStats(t.cfg.Collective, &st); err != nil {
			return st, err
		}
	}
	if !isFinite(st.Loss) || !isFinite(st.GradNorm) {
		return st, fmt.Errorf("torch: Trainer.Step: loss %g, gradient norm %g: %w", st.Loss, st.GradNorm, optim.ErrNonFinite)
	}
	if c := t.cfg.ClipGradNorm; c > 0 && st.GradNorm > c {
		s := e.scalar(c / (st.GradNorm + 1e-6))
		for i := range grads {
			grads[i] = e.mulS(grads[i], s)
		}
	}
	t.adam(e, grads)
	if e.err != nil {
		return st, fmt.Errorf("torch: Trainer.Step: Adam: %w", e.err)
	}
	return st, nil
}

// adam applies optim.Adam's update with the float64 gradients grads:
//
//	m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²,
//	θ ← θ·(1 − lr·λ) − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε).
func (t *Trainer) adam(e *exec, grads []handle) {
	c := t.cfg.Adam
	step := t.step + 1
	bc1 := 1 - math.Pow(c.Beta1, float64(step))
	bc2 := 1 - math.Pow(c.Beta2, float64(step))
	b1, nb1 := e.scalar(c.Beta1), e.scalar(1-c.Beta1)
	b2, nb2 := e.scalar(c.Beta2), e.scalar(1-c.Beta2)
	ibc2, eps := e.scalar(1/bc2), e.scalar(c.Eps)
	lr := e.scalar(c.LR / bc1)
	decay := e.scalar(1 - c.LR*c.WeightDecay)
	for i, g := range grads {
		m, v := t.m[i], t.v[i]
		e.addIn(e.mulSIn(m, b1), e.mulS(g, nb1))
		e.addIn(e.mulSIn(v, b2), e.mulS(e.square(g), nb2))
		den := e.addS(e.sqrt(e.mulS(v, ibc2)), eps)
		upd := e.div(e.mulS(m, lr), den)
		th := e.toKind(t.mod.pd[i], t.mod.dev.c(), kindFloat64)
		if c.WeightDecay != 0 {
			th = e.mulS(th, decay)
		}
		e.copyIn(t.mod.pd[i], e.sub(th, upd))
	}
	if e.err == nil {
		t.step = step
	}
}

// AdamState returns a copy of the optimiser's state, in optim's format:
// a checkpoint written from it resumes with optim.Adam or with a Trainer.
func (t *Trainer) AdamState() (optim.AdamState, error) {
	s := optim.AdamState{Step: t.step}
	if t.closed {
		return s, ErrClosed
	}
	defer lockThread()()
	e := newExec()
	defer e.close()
	for i, p := range t.mod.params {
		m, v := make([]float64, p.Size()), make([]float64, p.Size())
		e.toFloat64s(m, t.m[i], kindFloat64)
		e.toFloat64s(v, t.v[i], kindFloat64)
		s.M, s.V = append(s.M, m), append(s.V, v)
	}
	if e.err != nil {
		return s, fmt.Errorf("torch: AdamState: %w", e.err)
	}
	return s, nil
}

// SetAdamState restores a state saved by AdamState or optim.Adam.State,
// checking that it fits the parameters.
func (t *Trainer) SetAdamState(s optim.AdamState) error {
	if t.closed {
		return ErrClosed
	}
	ps := t.mod.params
	if len(s.M) != len(ps) || len(s.V) != len(ps) {
		return fmt.Errorf("torch: SetAdamState: %d/%d moments for %d parameters", len(s.M), len(s.V), len(ps))
	}
	for i, p := range ps {
		if len(s.M[i]) != p.Size() || len(s.V[i]) != p.Size() {
			return fmt.Errorf("torch: SetAdamState: state for %q has %d values, want %d", p.Name, len(s.M[i]), p.Size())
		}
	}
	defer lockThread()()
	e := newExec()
	defer e.close()
	for i, p := range ps {
		shape := int64s(p.Shape())
		e.copyIn(t.m[i], e.fromFloat64s(s.M[i], shape, kindFloat64, -1))
		e.copyIn(t.v[i], e.fromFloat64s(s.V[i], shape, kindFloat64, -1))
		e.release()
	}
	if e.err != nil {
		return fmt.Errorf("torch: SetAdamState: %w", e.err)
	}
	t.step = s.Step
	return nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

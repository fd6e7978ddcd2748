//go:build torch

package torch

import (
	"fmt"
	"math"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/trainer"
	lib "github.com/sugarme/gotch/libtch"
	"gorgonia.org/tensor"
)

// The objectives of package trainer (trainer.Objective) on the device,
// through libtorch's double backward: the score ∇x f is taken with
// create_graph, so that the loss built on it — and on Hessian–vector
// products ∇x(vᵀ∇x f), taken the same way — can be differentiated with
// respect to θ. The losses are the Go backend's
// (graph.NewSecondOrderLoss), term for term, on the same trainer.Batch;
// ObjectiveLoss computes them for parity tests, Trainer.StepObjective and
// Backend.UpdateObjective train with them. Noise-conditional models
// (nn.NoiseBias) are not translated to libtorch.

// gradGraph returns ∂(Σ output)/∂input and keeps the graph of the
// computation and of the gradient itself (create_graph), so that a loss
// built on the gradient can be differentiated again.
func (e *exec) gradGraph(output, input handle) handle {
	if e.err != nil {
		return nil
	}
	o, i := [1]handle{output}, [1]handle{input}
	var r [1]handle
	lib.AtRunBackward(&o[0], 1, &i[0], 1, &r[0], 1, 1)
	if err := lastErr(); err != nil {
		if r[0] != nil {
			lib.AtFree(r[0])
		}
		e.fail(fmt.Errorf("torch: double backward: %w", err))
		return nil
	}
	e.tmp = append(e.tmp, r[0])
	live.Add(1)
	return r[0]
}

// objectiveLoss builds obj's loss on in with the trained parameters
// mod.p (mod.pd, the detached aliases, for the KL term's θ̄) and the
// objective's own parameters extra, and returns it with the mean
// energies of the data and of the second model input (nil without one).
func (mod *Model) objectiveLoss(e *exec, obj trainer.Objective, alpha float64, in *trainer.Batch, extra []handle) (loss, fpos, fneg handle, err error) {
	dev := mod.dev.c()
	n := len(in.Inputs[0]) / mod.dim
	full := func(v []float64) handle { return e.fromFloat64s(v, mod.batchShape(len(v)/mod.dim), mod.kind, dev) }
	vec := func(v []float64) handle { return e.fromFloat64s(v, []int64{int64(len(v))}, mod.kind, dev) }
	score := func(x handle, k int) (f, s handle) {
		e.requiresGrad(x, true)
		f = mod.forward(e, x, mod.p, k)
		return f, e.gradGraph(f, x)
	}
	inv := e.scalar(1 / float64(n))
	switch o := obj.(type) {
	case trainer.ScoreMatching:
		x := full(in.Inputs[0])
		f, s := score(x, n)
		loss = e.mulS(e.sum(e.square(s)), e.scalar(0.5))
		for i := range mod.dim {
			u := make([]float64, n*mod.dim)
			for r := range n {
				u[r*mod.dim+i] = 1
			}
			ut := full(u)
			hv := e.gradGraph(e.sum(e.mul(s, ut)), x)
			loss = e.add(loss, e.sum(e.mul(ut, hv)))
		}
		loss, fpos = e.mulS(loss, inv), e.mean(f)
	case trainer.SlicedScoreMatching:
		x := full(in.Inputs[0])
		f, s := score(x, n)
		m := float64(len(in.Aux))
		var hess, norm handle
		for _, a := range in.Aux {
			v := full(a)
			hv := e.gradGraph(e.sum(e.mul(s, v)), x)
			hess = addOrFirst(e, hess, e.sum(e.mul(v, hv)))
			if o.NoVarianceReduction {
				vs := e.sumRows(e.mul(v, s), len(mod.shape)+1)
				norm = addOrFirst(e, norm, e.sum(e.square(vs)))
			}
		}
		hess = e.mulS(hess, e.scalar(1/m))
		if o.NoVarianceReduction {
			norm = e.mulS(norm, e.scalar(0.5/m))
		} else {
			norm = e.mulS(e.sum(e.square(s)), e.scalar(0.5))
		}
		loss, fpos = e.mulS(e.add(hess, norm), inv), e.mean(f)
	case trainer.DenoisingScoreMatching:
		if o.Conditional {
			return nil, nil, nil, fmt.Errorf("torch: noise-conditional models are not translated to libtorch: %w", ErrUnsupported)
		}
		f, s := score(full(in.Inputs[0]), n)
		r := e.add(e.mul(full(in.Aux[1]), s), full(in.Aux[0]))
		loss, fpos = e.mulS(e.sum(e.square(r)), e.scalar(0.5/float64(n))), e.mean(f)
	case trainer.NCE:
		if len(extra) != 1 {
			return nil, nil, nil, fmt.Errorf("torch: NCE needs its log Z parameter")
		}
		m := len(in.Inputs[1]) / mod.dim
		nu := float64(m) / float64(n)
		c := e.sum(extra[0])
		fx := mod.forward(e, full(in.Inputs[0]), mod.p, n)
		fy := mod.forward(e, full(in.Inputs[1]), mod.p, m)
		lnu := e.scalar(-math.Log(nu))
		gx := e.addS(e.sub(e.sub(fx, c), vec(in.Aux[0])), lnu)
		gy := e.addS(e.sub(e.sub(fy, c), vec(in.Aux[1])), lnu)
		lx := e.softplus(e.mulS(gx, e.scalar(-1)))
		loss = e.mulS(e.add(e.sum(lx), e.sum(e.softplus(gy))), inv)
		fpos, fneg = e.mean(fx), e.mean(fy)
	case trainer.ImprovedCD:
		fp := mod.forward(e, full(in.Inputs[0]), mod.p, n)
		fn := mod.forward(e, full(in.Inputs[1]), mod.p, n)
		fpos, fneg = e.mean(fp), e.mean(fn)
		loss = e.sub(fneg, fpos)
		if alpha != 0 {
			reg := e.add(e.mean(e.square(fp)), e.mean(e.square(fn)))
			loss = e.add(loss, e.mulS(reg, e.scalar(alpha)))
		}
		if o.KL > 0 {
			step := o.KLStep
			if step == 0 {
				step = 10
			}
			y := e.add(full(in.Inputs[1]), full(in.Aux[0]))
			_, s := score(y, n)
			xt := e.add(y, e.mulS(s, e.scalar(step)))
			fk := mod.forward(e, xt, mod.pd, n) // θ̄: no gradient flows into it
			loss = e.sub(loss, e.mulS(e.mean(fk), e.scalar(o.KL)))
		}
	default:
		return nil, nil, nil, fmt.Errorf("torch: objective %T is not supported", obj)
	}
	if e.err != nil {
		return nil, nil, nil, e.err
	}
	return loss, fpos, fneg, nil
}

// definedGrads replaces the undefined gradients libtorch returns for
// parameters the loss does not depend on (the last bias of an energy, for
// losses of ∇x f alone) by zeros, as the Go backend has them.
func definedGrads(e *exec, grads, params []handle) []handle {
	for i, g := range grads {
		if e.err == nil && !lib.AtDefined(g) {
			grads[i] = e.zerosLike(params[i])
		}
	}
	return grads
}

func addOrFirst(e *exec, acc, v handle) handle {
	if acc == nil {
		return v
	}
	return e.add(acc, v)
}

// extraLeaves puts the objective's own parameters on the device as leaves
// that require gradients.
func (mod *Model) extraLeaves(e *exec, extra []*graph.Param) []handle {
	var out []handle
	for _, p := range extra {
		t := e.fromFloat64s(p.Float64s(nil), int64s(p.Shape()), mod.kind, mod.dev.c())
		e.requiresGrad(t, true)
		out = append(out, t)
	}
	return out
}

// ObjectiveLoss computes obj's loss on the batch in, with the CD energy
// regulariser alpha where obj uses one and the objective's own parameters
// extra (trainer.Config.ObjectiveParams), and its gradient with respect to
// the model's parameters (in the order of Params) and then extra, in
// float64: the Go backend's graph.NewSecondOrderLoss on the device.
func (mod *Model) ObjectiveLoss(obj trainer.Objective, alpha float64, in *trainer.Batch, extra []*graph.Param) (loss float64, grads [][]float64, err error) {
	if mod.closed {
		return 0, nil, ErrClosed
	}
	defer lockThread()()
	e := mod.exec()
	defer e.close()
	xs := mod.extraLeaves(e, extra)
	l, _, _, err := mod.objectiveLoss(e, obj, alpha, in, xs)
	if err != nil {
		return 0, nil, fmt.Errorf("torch: %s loss: %w", obj.Name(), err)
	}
	ps := append(append([]handle(nil), mod.p...), xs...)
	gs := definedGrads(e, e.grad([]handle{l}, ps), ps)
	loss = e.item(e.toKind(l, mod.dev.c(), kindFloat64), kindFloat64)
	for _, g := range gs {
		var size int64 = 1
		for _, d := range e.shape(g) {
			size *= d
		}
		v := make([]float64, size)
		e.toFloat64s(v, g, mod.kind)
		grads = append(grads, v)
	}
	if e.err != nil {
		return 0, nil, fmt.Errorf("torch: %s loss: %w", obj.Name(), e.err)
	}
	return loss, grads, nil
}

// StepObjective takes one training step on obj's loss: the gradient by
// double backward, clipped jointly with that of the objective's own
// parameters extra, the model's update by the device Adam, and the
// objective's gradients returned (clipped, float64) for the caller's
// optimiser of extra. A non-finite loss or gradient returns an error
// wrapping optim.ErrNonFinite and changes nothing.
func (t *Trainer) StepObjective(obj trainer.Objective, in *trainer.Batch, extra []*graph.Param) (StepStats, [][]float64, error) {
	var st StepStats
	if t.closed || t.mod.closed {
		return st, nil, ErrClosed
	}
	if t.cfg.Collective != nil && t.cfg.Collective.Size() > 1 {
		return st, nil, fmt.Errorf("torch: Trainer.StepObjective: data-parallel %s training runs on the Go backend", obj.Name())
	}
	mod := t.mod
	defer lockThread()()
	e := mod.exec()
	defer e.close()
	dev := mod.dev.c()
	xs := mod.extraLeaves(e, extra)
	loss, fpos, fneg, err := mod.objectiveLoss(e, obj, t.cfg.Alpha, in, xs)
	if err != nil {
		return st, nil, fmt.Errorf("torch: Trainer.StepObjective: %w", err)
	}
	ps := append(append([]handle(nil), mod.p...), xs...)
	grads := definedGrads(e, e.grad([]handle{loss}, ps), ps)
	var sq handle
	for i := range grads {
		grads[i] = e.toKind(grads[i], dev, kindFloat64)
		sq = addOrFirst(e, sq, e.sum(e.square(grads[i])))
	}
	zero := e.toKind(e.mulS(loss, e.scalar(0)), dev, kindFloat64)
	stats := [4]handle{e.toKind(loss, dev, kindFloat64), zero, zero, sq}
	if fpos != nil {
		stats[1] = e.toKind(fpos, dev, kindFloat64)
	}
	if fneg != nil {
		stats[2] = e.toKind(fneg, dev, kindFloat64)
	}
	var vals [4]float64
	if e.err == nil {
		e.toFloat64s(vals[:], e.stack(stats[:]), kindFloat64)
	}
	if e.err != nil {
		return st, nil, fmt.Errorf("torch: Trainer.StepObjective: %w", e.err)
	}
	st = StepStats{Loss: vals[0], FPos: vals[1], FNeg: vals[2], GradNorm: math.Sqrt(vals[3])}
	if !isFinite(st.Loss) || !isFinite(st.GradNorm) {
		return st, nil, fmt.Errorf("torch: Trainer.StepObjective: loss %g, gradient norm %g: %w", st.Loss, st.GradNorm, optim.ErrNonFinite)
	}
	if c := t.cfg.ClipGradNorm; c > 0 && st.GradNorm > c {
		s := e.scalar(c / (st.GradNorm + 1e-6))
		for i := range grads {
			grads[i] = e.mulS(grads[i], s)
		}
	}
	np := len(mod.p)
	var own [][]float64
	for _, g := range grads[np:] {
		var size int64 = 1
		for _, d := range e.shape(g) {
			size *= d
		}
		v := make([]float64, size)
		e.toFloat64s(v, g, kindFloat64)
		own = append(own, v)
	}
	t.adam(e, grads[:np])
	if e.err != nil {
		return st, nil, fmt.Errorf("torch: Trainer.StepObjective: Adam: %w", e.err)
	}
	return st, own, nil
}

var _ trainer.ObjectiveUpdater = (*Backend)(nil)

// UpdateObjective implements trainer.ObjectiveUpdater: one step of the
// objective's loss on the device (Trainer.StepObjective), or in Go with
// SampleOnly. The objective's own parameters are updated on the host.
func (b *Backend) UpdateObjective(in *trainer.Batch, lr float64) (trainer.UpdateStats, error) {
	if b.goSide != nil {
		u, ok := b.goSide.(trainer.ObjectiveUpdater)
		if !ok {
			return trainer.UpdateStats{}, fmt.Errorf("torch: Backend: the Go side does not train objectives")
		}
		return u.UpdateObjective(in, lr)
	}
	if err := b.train.SetLR(lr); err != nil {
		return trainer.UpdateStats{}, err
	}
	st, own, err := b.train.StepObjective(b.tcfg.Objective, in, b.extra)
	us := trainer.UpdateStats{Loss: st.Loss, FPos: st.FPos, FNeg: st.FNeg, GradNorm: st.GradNorm}
	if err != nil || b.extraAdam == nil {
		return us, err
	}
	grads := make([]*tensor.Dense, len(own))
	for i, g := range own {
		grads[i] = tensor.New(tensor.WithShape(b.extra[i].Shape()...), tensor.WithBacking(castLike(b.extra[i], g)))
	}
	b.extraAdam.SetLR(lr)
	return us, b.extraAdam.Step(grads)
}

// castLike returns g in p's element type, for optim.Adam.
func castLike(p *graph.Param, g []float64) any {
	if p.Dtype() == tensor.Float32 {
		v := make([]float32, len(g))
		for i, x := range g {
			v[i] = float32(x)
		}
		return v
	}
	return g
}

//go:build torch

package torch

import (
	"context"
	"fmt"
	"math"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
	lib "github.com/sugarme/gotch/libtch"
)

// chains is the state of a batch of chains on the device: positions,
// energies and gradients, owned tensors.
type chains struct {
	n, rank int
	x, f, g handle
	okShape []int64 // (n, 1, 1, ...): a per-chain mask broadcast over a sample
}

func (c *chains) free() {
	free(c.x)
	free(c.f)
	free(c.g)
	c.x, c.f, c.g = nil, nil, nil
}

// set replaces the state's tensors with x, f, g (temporaries of e, which
// it takes), freeing the old ones.
func (c *chains) set(e *exec, x, f, g handle) {
	if e.err != nil {
		return
	}
	if x != c.x {
		free(c.x)
		c.x = e.take(x)
	}
	if f != c.f {
		free(c.f)
		c.f = e.take(f)
	}
	if g != c.g {
		free(c.g)
		c.g = e.take(g)
	}
}

// fgrad returns f(x) and ∇x Σf, detached from autograd, for a batch x
// that does not require gradients (it differentiates an alias of x).
func (mod *Model) fgradDetached(e *exec, x handle, n int) (f, g handle) {
	m := e.mark()
	xin := e.detach(x)
	e.requiresGrad(xin, true)
	fa := mod.forward(e, xin, mod.pd, n)
	g = e.grad1(fa, xin)
	f = e.detach(fa)
	e.keep(m, f, g) // the graph's handles go: backward freed what they held
	return f, g
}

// run is the set-up every device sampler shares. It pins the calling
// goroutine to its OS thread and keeps one exec for the whole run
// (libtorch's grad mode and gotch's last error are per thread), holds the
// chains on the device, the statistics counters and the inverse mass M⁻¹,
// and frees all of it in close.
type run struct {
	mod    *Model
	name   string
	n      int
	e      *exec
	c      *chains
	invM   handle  // M⁻¹ with the sample's shape and a leading 1; nil for the identity
	prob   counter // Σ acceptance probabilities (Metropolis samplers)
	finite counter // Σ chain transitions that did not diverge
	unlock func()
}

// startRun checks the counts, pins the goroutine and starts n chains at x
// (row-major, n·Dim values) with inverse mass invMass (nil: identity).
// With eval it evaluates f and ∇f at x and returns an error wrapping
// sampling.ErrDiverged, as sampling's Init does, if a chain starts where
// either is not finite; without, only the positions are checked (the
// chains' f and g stay nil). The caller closes the run.
func (mod *Model) startRun(name string, x []float64, n, steps int, invMass []float64, eval bool) (*run, error) {
	if mod.closed {
		return nil, ErrClosed
	}
	if n <= 0 {
		return nil, fmt.Errorf("torch: %s: %d chains; want at least 1", name, n)
	}
	if steps < 0 {
		return nil, fmt.Errorf("torch: %s: %d steps; want 0 or more", name, steps)
	}
	if len(x) != n*mod.dim {
		return nil, fmt.Errorf("torch: %s: %d starting values for %d chains of dimension %d, want %d: %w",
			name, len(x), n, mod.dim, n*mod.dim, energy.ErrShape)
	}
	if !eval {
		for c := range n {
			for _, v := range x[c*mod.dim : (c+1)*mod.dim] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("torch: %s: chain %d starts at a non-finite position: %w", name, c, sampling.ErrDiverged)
				}
			}
		}
	}
	r := &run{mod: mod, name: name, n: n, unlock: lockThread(), e: mod.exec()}
	c, err := mod.startChains(r.e, name, x, n, eval)
	if err != nil {
		r.close()
		return nil, err
	}
	r.c = c
	if invMass != nil {
		s := append([]int64{1}, mod.batchShape(1)[1:]...)
		r.invM = r.e.take(r.e.fromFloat64s(invMass, s, mod.kind, mod.dev.c()))
	}
	if err := r.e.err; err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// close frees everything the run holds and unpins the goroutine.
func (r *run) close() {
	r.prob.free()
	r.finite.free()
	free(r.invM)
	r.invM = nil
	if r.c != nil {
		r.c.free()
		r.c = nil
	}
	r.e.close()
	r.unlock()
}

// endStep frees the step's temporaries and returns the step's error, if
// any, naming the sampler and the step.
func (r *run) endStep(i int) error {
	r.e.release()
	if r.e.err != nil {
		return fmt.Errorf("torch: %s step %d: %w", r.name, i, r.e.err)
	}
	return nil
}

// finish copies the chains' positions back into x and returns the
// statistics of `steps` transitions that took `evals` gradient evaluations
// per chain. The mean acceptance is the mean of the accumulated
// probabilities, or, for samplers without a Metropolis test (Langevin),
// the fraction of transitions that did not diverge.
func (r *run) finish(x []float64, steps, evals int) (trainer.SampleStats, error) {
	st := trainer.SampleStats{GradEvals: evals}
	e := r.e
	fin := r.finite.value(e)
	pr := fin
	if r.prob.t != nil {
		pr = r.prob.value(e)
	}
	e.toFloat64s(x, r.c.x, r.mod.kind)
	if e.err != nil {
		return st, fmt.Errorf("torch: %s: %w", r.name, e.err)
	}
	st.Divergences = r.n*steps - int(fin)
	if steps > 0 {
		st.MeanAccept = pr / float64(r.n*steps)
	}
	return st, nil
}

// startChains copies x to the device and, with eval, evaluates f and ∇f
// there. It returns an error wrapping sampling.ErrDiverged, as sampling's
// Init does, if a chain starts where f or ∇f is not finite.
func (mod *Model) startChains(e *exec, name string, x []float64, n int, eval bool) (*chains, error) {
	c := &chains{n: n, rank: len(mod.shape) + 1}
	c.okShape = make([]int64, c.rank)
	for i := range c.okShape {
		c.okShape[i] = 1
	}
	c.okShape[0] = int64(n)
	xt := e.fromFloat64s(x, mod.batchShape(n), mod.kind, mod.dev.c())
	if !eval {
		c.x = e.take(xt)
		e.release()
		if e.err != nil {
			c.free()
			return nil, e.err
		}
		return c, nil
	}
	f, g := mod.fgradDetached(e, xt, n)
	c.set(e, xt, f, g)
	ok := e.finiteRows(n, c.f, c.g)
	okv := make([]float64, n)
	e.toFloat64s(okv, e.toKind(ok, -1, kindFloat64), kindFloat64)
	if e.err != nil {
		c.free()
		return nil, e.err
	}
	fv := make([]float64, n)
	e.toFloat64s(fv, c.f, mod.kind)
	for i, v := range okv {
		if v == 0 {
			c.free()
			if math.IsNaN(fv[i]) || math.IsInf(fv[i], 0) {
				return nil, fmt.Errorf("torch: %s: chain %d starts where f = %v: %w", name, i, fv[i], sampling.ErrDiverged)
			}
			return nil, fmt.Errorf("torch: %s: chain %d starts where ∇f is not finite: %w", name, i, sampling.ErrDiverged)
		}
	}
	e.release()
	return c, e.err
}

// finiteRows returns a bool tensor of shape (n): whether f[i] (if f is
// not nil) and row i of each tensor in rows are all finite. Each row
// tensor costs one pass (its rows' minima and maxima, which are NaN or
// ±Inf exactly when a value is) and no copy; the rest is a few operations
// on n values: Σ v·0 over f and the extremes is 0 when all are finite and
// NaN otherwise, so nothing can overflow, and one comparison with 0 tells.
func (e *exec) finiteRows(n int, f handle, rows ...handle) handle {
	zero := e.zeroScalar()
	var s handle
	if f != nil {
		s = e.mulS(f, zero)
	}
	for _, r := range rows {
		lo, hi := e.rowMinMax(r, n)
		if s == nil {
			s = e.mulSIn(lo, zero)
		} else {
			e.addIn(s, e.mulSIn(lo, zero))
		}
		e.addIn(s, e.mulSIn(hi, zero))
	}
	return e.eq(s, zero)
}

// counter accumulates per-chain values of every step (acceptance
// probabilities, or bools that count) in a float64 tensor on the device,
// one in-place addition per step, so that the loop never waits for the
// device; it is summed and read once at the end.
type counter struct{ t handle }

func (k *counter) add(e *exec, v handle) {
	if e.err != nil {
		return
	}
	if k.t == nil {
		k.t = e.take(e.copyAs(v, kindFloat64))
		return
	}
	e.addIn(k.t, v)
}

func (k *counter) value(e *exec) float64 {
	if k.t == nil || e.err != nil {
		return 0
	}
	return e.item(e.sumKind(k.t, kindFloat64), kindFloat64)
}

func (k *counter) free() { free(k.t); k.t = nil }

// Langevin runs `steps` transitions of Langevin dynamics on the n chains
// stored row-major in x, entirely on the device: x is copied there once
// and the final positions are copied back into x. The update is the one
// of sampling.Langevin for the same configuration (validated and
// defaulted by sampling.NewLangevin):
//
//	x ← clamp(x + (ε/2)·clip(∇f(x)) + σ·ξ)                     (default)
//	y = clamp(x + σ·ξ);  x ← clamp(y + (ε/2)·clip(∇f(y)))       (NoiseFirst)
//
// and a chain whose new position, energy or gradient is not finite keeps
// its old position and counts as a divergence. The noise ξ comes from
// libtorch's generator (see ManualSeed), not from a Go rng. The
// statistics are those the trainer keeps (trainer.SampleStats): the
// fraction of chain transitions that did not diverge as MeanAccept, the
// divergences, and one gradient evaluation per step. It returns an error
// wrapping sampling.ErrDiverged if a chain starts where f or ∇f is not
// finite, an error if n < 1 or steps < 0, and ctx's error if ctx is
// cancelled (x then holds the starting positions).
func (mod *Model) Langevin(ctx context.Context, x []float64, n int, cfg sampling.LangevinConfig, steps int) (trainer.SampleStats, error) {
	k, err := sampling.NewLangevin(mod, cfg)
	if err != nil {
		return trainer.SampleStats{}, fmt.Errorf("torch: %w", err)
	}
	cfg = k.Config() // Noise resolved
	// With NoiseFirst no step uses f or ∇f at the chains' positions, so,
	// as sampling.Langevin.Init, the start checks the positions only.
	r, err := mod.startRun("Langevin", x, n, steps, nil, !cfg.NoiseFirst)
	if err != nil {
		return trainer.SampleStats{}, err
	}
	defer r.close()
	e, c := r.e, r.c

	half := e.scalar(cfg.StepSize / 2)
	clip := cfg.GradClip > 0
	lo, hi := e.scalar(-cfg.GradClip), e.scalar(cfg.GradClip)
	box := cfg.Min < cfg.Max
	bmin, bmax := e.scalar(cfg.Min), e.scalar(cfg.Max)
	// y holds each step's proposal, updated in place: a step allocates
	// only what the network's forward and backward passes need.
	y := e.take(e.zerosLike(c.x))
	defer free(y)
	for i := 0; i < steps; i++ {
		if err := ctx.Err(); err != nil {
			return trainer.SampleStats{}, err
		}
		e.normalIn(y, 0, cfg.Noise) // y = σξ
		if !cfg.NoiseFirst {
			d := c.g
			if clip {
				d = e.clamp(d, lo, hi)
			}
			e.addIn(y, e.mulS(d, half)) // y = (ε/2)·clip(∇f(x)) + σξ
		}
		e.addIn(y, c.x)
		if box {
			e.clampIn(y, bmin, bmax)
		}
		fp, gp := mod.fgradDetached(e, y, n)
		// Whether f and ∇f are finite, before the gradient is clipped; the
		// proposal, if it can leave the box-free reals.
		var ok handle
		if cfg.NoiseFirst {
			ok = e.finiteRows(n, fp, gp)
			if clip {
				e.clampIn(gp, lo, hi)
			}
			e.addIn(y, e.mulSIn(gp, half))
			if box {
				e.clampIn(y, bmin, bmax)
			} else { // y + drift can overflow
				ok = e.and(ok, e.finiteRows(n, nil, y))
			}
		} else if box {
			ok = e.finiteRows(n, fp, gp)
		} else {
			ok = e.finiteRows(n, fp, gp, y)
		}
		// A divergent chain keeps its state.
		okv := e.reshape(ok, c.okShape)
		e.whereOut(c.x, okv, y, c.x)
		if !cfg.NoiseFirst {
			e.whereOut(c.g, okv, gp, c.g)
		}
		r.finite.add(e, ok)
		if err := r.endStep(i); err != nil {
			return trainer.SampleStats{}, err
		}
	}
	return r.finish(x, steps, steps)
}

// mulInvM returns t·M⁻¹ (t itself for the identity).
func (e *exec) mulInvM(t, invM handle) handle {
	if invM == nil {
		return t
	}
	return e.mul(t, invM)
}

// MALA runs `steps` transitions of the Metropolis-adjusted Langevin
// algorithm on the n chains in x, entirely on the device, as
// sampling.MALA.StepWith does with the configuration's step size h and
// preconditioner M⁻¹ (no adaptation: tune them with sampling.Run in Go, or
// set them): propose x' ~ N(x + h·M⁻¹∇f(x), 2h·M⁻¹), accept with
// probability min(1, exp(f(x') − f(x)) q(x | x') / q(x' | x)). Noise and
// uniforms come from libtorch's generator. Errors as for Langevin.
func (mod *Model) MALA(ctx context.Context, x []float64, n int, cfg sampling.MALAConfig, steps int) (trainer.SampleStats, error) {
	k, err := sampling.NewMALA(mod, cfg)
	if err != nil {
		return trainer.SampleStats{}, fmt.Errorf("torch: %w", err)
	}
	p := k.Params()
	r, err := mod.startRun("MALA", x, n, steps, p.InvMass, true)
	if err != nil {
		return trainer.SampleStats{}, err
	}
	defer r.close()
	e, c, invM := r.e, r.c, r.invM
	// √(2h·M⁻¹) as a tensor, or a scalar for the identity.
	var scaleT handle
	var scaleS lib.Cscalar
	if invM != nil {
		scaleT = e.take(e.sqrt(e.mulS(invM, e.scalar(2*p.StepSize))))
		defer free(scaleT)
	} else {
		scaleS = e.scalar(math.Sqrt(2 * p.StepSize))
	}
	hS := e.scalar(p.StepSize)
	inv4h := e.scalar(1 / (4 * p.StepSize))
	one, zero := e.scalar(1), e.scalar(0)
	noise := e.take(e.zerosLike(c.x))
	defer free(noise)
	zeros := e.take(e.zerosLike(c.f))
	defer free(zeros)
	for i := 0; i < steps; i++ {
		if err := ctx.Err(); err != nil {
			return trainer.SampleStats{}, err
		}
		e.normalIn(noise, 0, 1)
		var sn handle
		if invM != nil {
			sn = e.mul(noise, scaleT)
		} else {
			sn = e.mulS(noise, scaleS)
		}
		drift := e.mulS(e.mulInvM(c.g, invM), hS)
		xp := e.add(e.add(c.x, drift), sn)
		fp, gp := mod.fgradDetached(e, xp, n)
		// log q(x'|x) − log q(x|x') = (Σ b²/M⁻¹ − Σ a²/M⁻¹)/(4h) with
		// a = x' − x − hM⁻¹∇f(x), b = x − x' − hM⁻¹∇f(x').
		a := e.sub(e.sub(xp, c.x), drift)
		b := e.sub(e.sub(c.x, xp), e.mulS(e.mulInvM(gp, invM), hS))
		a2, b2 := e.square(a), e.square(b)
		if invM != nil {
			a2, b2 = e.div(a2, invM), e.div(b2, invM)
		}
		fwd, bwd := e.sumRows(a2, c.rank), e.sumRows(b2, c.rank)
		logA := e.add(e.sub(fp, c.f), e.mulS(e.sub(fwd, bwd), inv4h))
		u := e.randLike(c.f)
		ok := e.finiteRows(n, logA, gp, xp)
		prob := e.where(ok, e.clamp(e.exp(logA), zero, one), zeros)
		acc := e.and(ok, e.lessThan(u, prob))
		accv := e.reshape(acc, c.okShape)
		c.set(e, e.where(accv, xp, c.x), e.where(acc, fp, c.f), e.where(accv, gp, c.g))
		r.prob.add(e, prob)
		r.finite.add(e, ok)
		if err := r.endStep(i); err != nil {
			return trainer.SampleStats{}, err
		}
	}
	return r.finish(x, steps, steps)
}

// HMC runs `steps` transitions of Hamiltonian Monte Carlo on the n chains
// in x, entirely on the device, as sampling.HMC.StepWith does with the
// configuration's step size ε, inverse mass M⁻¹ and number of leapfrog
// steps L (HMC.NumSteps; no adaptation): momenta p ~ N(0, M), L leapfrog
// steps p += ε/2·∇f, q += ε·M⁻¹p, p += ε/2·∇f, and acceptance with
// probability min(1, exp(H₀ − H₁)) for H = −f + ½pᵀM⁻¹p. A chain whose
// energy error exceeds MaxEnergyError (default 1000), or whose position,
// energy or gradient stops being finite, is divergent: it stops there and
// its transition is rejected. With Jitter, each transition's ε is drawn
// uniformly from [ε(1−J), ε(1+J)], the same for all chains. Every chain
// takes all L leapfrog steps' gradient evaluations (a diverged chain
// stands still). Noise comes from libtorch's generator. Errors as for
// Langevin.
func (mod *Model) HMC(ctx context.Context, x []float64, n int, cfg sampling.HMCConfig, steps int) (trainer.SampleStats, error) {
	k, err := sampling.NewHMC(mod, cfg)
	if err != nil {
		return trainer.SampleStats{}, fmt.Errorf("torch: %w", err)
	}
	p := k.Params()
	leapfrogs := k.NumSteps(p.StepSize)
	maxErr := cfg.MaxEnergyError
	if maxErr == 0 {
		maxErr = 1000
	}
	r, err := mod.startRun("HMC", x, n, steps, p.InvMass, true)
	if err != nil {
		return trainer.SampleStats{}, err
	}
	defer r.close()
	e, c, invM := r.e, r.c, r.invM
	var sqrtInvM handle
	if invM != nil {
		sqrtInvM = e.take(e.sqrt(invM))
		defer free(sqrtInvM)
	}
	// The jittered step sizes of all transitions, drawn at once.
	eps := make([]float64, steps)
	for i := range eps {
		eps[i] = p.StepSize
	}
	if cfg.Jitter > 0 && steps > 0 {
		u := make([]float64, steps)
		e.toFloat64s(u, e.rand(steps, mod.dev.c()), kindFloat64)
		for i := range eps {
			eps[i] *= 1 + cfg.Jitter*(2*u[i]-1)
		}
	}
	e.release()
	half, one, zero := e.scalar(0.5), e.scalar(1), e.scalar(0)
	maxErrS := e.scalar(maxErr)
	noise := e.take(e.zerosLike(c.x))
	defer free(noise)
	zeros := e.take(e.zerosLike(c.f))
	defer free(zeros)
	nan := e.take(e.fullLike(c.f, e.scalar(math.NaN())))
	defer free(nan)
	kinetic := func(mom handle) handle {
		return e.mulS(e.sumRows(e.mulInvM(e.square(mom), invM), c.rank), half)
	}
	for i := 0; i < steps; i++ {
		if err := ctx.Err(); err != nil {
			return trainer.SampleStats{}, err
		}
		e.normalIn(noise, 0, 1)
		mom := noise
		if invM != nil {
			mom = e.div(noise, sqrtInvM)
		}
		h0 := e.sub(kinetic(mom), c.f)
		h1 := h0
		q, fq, gq := c.x, c.f, c.g
		active := e.isfinite(h0)     // all true: the chains start finite
		epsS := lib.AtsFloat(eps[i]) // freed below: one per transition
		for l := 0; l < leapfrogs; l++ {
			epsv := e.reshape(e.mulS(e.toKind(active, mod.dev.c(), mod.kind), epsS), c.okShape)
			halfEps := e.mulS(epsv, half)
			mom = e.add(mom, e.mul(halfEps, gq))
			q = e.add(q, e.mulInvM(e.mul(epsv, mom), invM))
			ok := e.finiteRows(n, nil, q)
			okv := e.reshape(ok, c.okShape)
			q = e.where(okv, q, c.x)
			fq, gq = mod.fgradDetached(e, q, n)
			mom = e.where(okv, e.add(mom, e.mul(halfEps, gq)), mom)
			fq = e.where(ok, fq, nan)
			h1 = e.where(active, e.sub(kinetic(mom), fq), h1)
			stillOK := e.and(active, e.le(e.sub(h1, h0), maxErrS))
			q = e.where(e.reshape(stillOK, c.okShape), q, c.x)
			active = stillOK
		}
		prob := e.where(active, e.clamp(e.exp(e.sub(h0, h1)), zero, one), zeros)
		acc := e.and(active, e.lessThan(e.randLike(c.f), prob))
		accv := e.reshape(acc, c.okShape)
		c.set(e, e.where(accv, q, c.x), e.where(acc, fq, c.f), e.where(accv, gq, c.g))
		r.prob.add(e, prob)
		r.finite.add(e, active)
		lib.AtsFree(epsS)
		if err := r.endStep(i); err != nil {
			return trainer.SampleStats{}, err
		}
	}
	return r.finish(x, steps, steps*leapfrogs)
}

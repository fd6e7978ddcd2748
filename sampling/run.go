package sampling

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ebmgo/ebm/energy"
)

// RunConfig says how long Run samples and what it keeps. The zero value
// runs no iterations.
type RunConfig struct {
	// Warmup is the number of iterations run before any draw is kept.
	// Adaptive kernels (HMC, NUTS, MALA, RWMH) tune their parameters during
	// them unless NoAdapt is set; for other kernels they are burn-in.
	// Zero means none.
	Warmup int
	// Draws is the number of draws kept per chain. Zero keeps none: Run
	// then only advances the chains (Result.Final holds where they ended),
	// as contrastive-divergence training wants.
	Draws int
	// Thin keeps one transition in Thin after warm-up: Run performs
	// Draws·Thin sampling transitions. Zero means 1.
	Thin int
	// NoAdapt runs the warm-up of an Adaptive kernel as plain burn-in,
	// keeping its parameters.
	NoAdapt bool
	// MinESS is the bulk and tail effective sample size below which Run
	// warns, for every coordinate and for f (see Warning). Zero means 100
	// per chain, as Vehtari et al. (2021) recommend; a negative value turns
	// these warnings off.
	MinESS float64
	// MaxRHat is the split R̂ above which Run warns. Zero means 1.01
	// (Vehtari et al. 2021); a negative value turns the warning off.
	MaxRHat float64
	// NoDiagnostics skips the diagnostics of the kept draws
	// (Result.Diagnostics stays nil, and no ESS or R̂ warnings are given).
	// They cost a sort of Draws·Chains values per coordinate, which for
	// high-dimensional targets (images) can exceed the sampling itself.
	NoDiagnostics bool
	// Callback, if not nil, is called after every transition, warm-up
	// included, with the iteration number (0-based, counting warm-up
	// iterations first), the state and the transition's Info, both owned
	// by the kernel and valid only during the call. A non-nil error stops
	// the run: Run returns what it has drawn so far and, unless the error
	// is ErrStop, the error wrapped.
	Callback func(iter int, s State, info Info) error
}

// ErrStop is returned by a RunConfig.Callback to end a run early without
// an error.
var ErrStop = errors.New("sampling: stop")

// Result is what Run drew and how the kernel fared.
type Result struct {
	// Trace holds the kept draws.
	Trace Trace
	// Final is a copy of the chains' state after the last transition.
	Final State
	// Iterations is the number of transitions performed, warm-up included.
	Iterations int
	// Accepted counts the chain transitions that moved, and MeanAccept is
	// the mean acceptance probability, over the sampling transitions
	// (after warm-up, thinned-out ones included).
	Accepted   int
	MeanAccept float64
	// Divergences counts divergent chain transitions after warm-up;
	// WarmupDivergences those during warm-up.
	Divergences, WarmupDivergences int
	// MaxDepthHits counts the chain transitions after warm-up whose NUTS
	// trajectory was cut at the maximum tree depth.
	MaxDepthHits int
	// GradEvals is the number of gradient evaluations each chain took,
	// warm-up included: evaluated as a batch, every chain pays the
	// batch's count (Info.GradEvals). LeapfrogsPerChain is each chain's
	// own count for kernels that report Info.Leapfrogs (HMC, NUTS), nil
	// otherwise; under NUTS the two differ.
	GradEvals         int
	LeapfrogsPerChain []int
	// Params holds the kernel's parameters at the end of the run (the
	// adapted step size and inverse mass matrix) for Adaptive kernels.
	Params Params
	// StepSizes is the adapted step size at the end of each slow window
	// of warm-up adaptation and, last, the one kept (nil without
	// adaptation).
	StepSizes []float64
	// Diagnostics summarises the kept draws of every coordinate and of f
	// (nil with RunConfig.NoDiagnostics or without kept draws).
	Diagnostics *RunDiagnostics
	// Warnings lists the signs that the draws may not be trusted
	// (divergences, trajectories cut at the maximum tree depth, low bulk
	// or tail ESS, R̂ above 1.01, a step size that shrank through
	// warm-up), each with its numbers and what to do about it, for a
	// program to print. Empty when nothing was found, which is necessary
	// for trustworthy draws, not sufficient.
	Warnings []Warning
	// WarmupTime and SampleTime are the wall-clock durations of the two
	// phases.
	WarmupTime, SampleTime time.Duration
}

// Trace holds draws of a batch of chains: Draws × Chains × Dim values,
// draw-major, so that draw t of chain c is X[(t*Chains+c)*Dim:][:Dim].
// Its methods only read it, so it is safe for concurrent use once Run has
// returned it.
type Trace struct {
	Draws, Chains, Dim int
	// X holds the positions.
	X []float64
	// F holds f(x) at each draw (Draws × Chains), or is nil when the
	// kernel does not evaluate f.
	F []float64
}

// At returns draw t of chain c, aliasing the trace.
func (t *Trace) At(draw, chain int) []float64 {
	i := (draw*t.Chains + chain) * t.Dim
	return t.X[i : i+t.Dim : i+t.Dim]
}

// Series returns the draws of dimension i as chains × draws, the layout
// the diagnostics (ESS, SplitRHat, MCSE) take.
func (t *Trace) Series(i int) [][]float64 {
	if i < 0 || i >= t.Dim {
		panic(fmt.Sprintf("sampling: Trace.Series: dimension %d of %d", i, t.Dim))
	}
	return t.SeriesFunc(func(x []float64) float64 { return x[i] })
}

// SeriesFunc returns g of every draw as chains × draws, for diagnostics of
// any scalar quantity, such as x₀² or ‖x‖.
func (t *Trace) SeriesFunc(g func(x []float64) float64) [][]float64 {
	out := make([][]float64, t.Chains)
	for c := range out {
		out[c] = make([]float64, t.Draws)
		for d := range out[c] {
			out[c][d] = g(t.At(d, c))
		}
	}
	return out
}

// FSeries returns f(x) of every draw as chains × draws, or nil if the
// trace has no F.
func (t *Trace) FSeries() [][]float64 {
	if t.F == nil {
		return nil
	}
	out := make([][]float64, t.Chains)
	for c := range out {
		out[c] = make([]float64, t.Draws)
		for d := range out[c] {
			out[c][d] = t.F[d*t.Chains+c]
		}
	}
	return out
}

// Mean returns the mean of all draws of all chains, one value per
// dimension. A trace without draws has no mean: the error wraps
// energy.ErrShape.
func (t *Trace) Mean() ([]float64, error) {
	n := t.Draws * t.Chains
	if n == 0 || len(t.X) != n*t.Dim {
		return nil, fmt.Errorf("sampling: Trace.Mean: %d draws of %d chains (%d values): %w", t.Draws, t.Chains, len(t.X), energy.ErrShape)
	}
	m := make([]float64, t.Dim)
	for k := 0; k < n; k++ {
		for i, v := range t.X[k*t.Dim : (k+1)*t.Dim] {
			m[i] += v
		}
	}
	for i := range m {
		m[i] /= float64(n)
	}
	return m, nil
}

// Cov returns the sample covariance (divisor n−1) of all draws of all
// chains as a Dim×Dim row-major matrix. Fewer than two draws in all have
// no covariance: the error wraps energy.ErrShape.
func (t *Trace) Cov() ([]float64, error) {
	d := t.Dim
	n := t.Draws * t.Chains
	if n < 2 {
		return nil, fmt.Errorf("sampling: Trace.Cov: %d draws of %d chains, need at least 2 in all: %w", t.Draws, t.Chains, energy.ErrShape)
	}
	m, err := t.Mean()
	if err != nil {
		return nil, err
	}
	c := make([]float64, d*d)
	dev := make([]float64, d)
	for k := 0; k < n; k++ {
		for i, v := range t.X[k*d : (k+1)*d] {
			dev[i] = v - m[i]
		}
		for i := 0; i < d; i++ {
			row := c[i*d : (i+1)*d]
			for j := i; j < d; j++ {
				row[j] += dev[i] * dev[j]
			}
		}
	}
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			c[i*d+j] /= float64(n - 1)
			c[j*d+i] = c[i*d+j]
		}
	}
	return c, nil
}

// Run starts n chains at x0 (n·D values, row-major), runs cfg.Warmup
// warm-up transitions of k — adapting it if it is Adaptive — and then
// cfg.Draws·cfg.Thin transitions, keeping every cfg.Thin-th position.
//
// Run checks ctx before every transition. When ctx is done, or the
// callback returns an error, Run returns the draws made so far (the
// Trace shortened to them) with the error wrapped; a callback's ErrStop
// ends the run with a nil error. An Adapter stopped early still hands its
// best parameters to the kernel.
//
// Run panics if rng or k is nil (programmer errors); a chain count below
// one or a negative count in cfg is an error.
func Run(ctx context.Context, rng *rand.Rand, k Kernel, x0 []float64, n int, cfg RunConfig) (Result, error) {
	switch {
	case rng == nil:
		panic("sampling: Run: nil rng")
	case k == nil:
		panic("sampling: Run: nil kernel")
	case n <= 0:
		return Result{}, fmt.Errorf("sampling: Run: %d chains, want at least one: %w", n, energy.ErrShape)
	case cfg.Warmup < 0 || cfg.Draws < 0 || cfg.Thin < 0:
		return Result{}, fmt.Errorf("sampling: Run: negative count in RunConfig{Warmup: %d, Draws: %d, Thin: %d}", cfg.Warmup, cfg.Draws, cfg.Thin)
	}
	thin := max(cfg.Thin, 1)
	s, err := k.Init(x0, n)
	if err != nil {
		return Result{}, fmt.Errorf("sampling: Run: %w", err)
	}
	d := s.D
	var res Result
	res.Trace = Trace{Chains: n, Dim: d, X: make([]float64, 0, cfg.Draws*n*d)}
	if s.F != nil {
		res.Trace.F = make([]float64, 0, cfg.Draws*n)
	}
	ad, _ := k.(Adaptive)
	var adapter Adapter
	if ad != nil && cfg.Warmup > 0 && !cfg.NoAdapt {
		if adapter, err = ad.NewAdapter(cfg.Warmup); err != nil {
			return Result{}, fmt.Errorf("sampling: Run: %w", err)
		}
	}
	adapted := adapter != nil
	var acceptSum float64
	var sampleSteps int
	finish := func(err error) (Result, error) {
		if adapter != nil {
			adapter.Finish()
			res.StepSizes = stepSizeHistory(adapter)
		}
		if ad != nil {
			res.Params = ad.Params()
		}
		res.Final = s.Clone()
		res.Trace.Draws = len(res.Trace.X) / max(n*d, 1)
		if sampleSteps > 0 {
			res.MeanAccept = acceptSum / float64(sampleSteps)
		}
		if err == nil {
			res.Diagnostics, res.Warnings = diagnoseRun(&res, cfg, adapted)
		}
		if err != nil {
			return res, fmt.Errorf("sampling: Run stopped after %d of %d iterations: %w", res.Iterations, cfg.Warmup+cfg.Draws*thin, err)
		}
		return res, nil
	}
	tally := func(info Info) {
		res.GradEvals += info.GradEvals
		if info.Leapfrogs != nil {
			if res.LeapfrogsPerChain == nil {
				res.LeapfrogsPerChain = make([]int, n)
			}
			for c, l := range info.Leapfrogs {
				res.LeapfrogsPerChain[c] += l
			}
		}
	}
	callback := func(it int, info Info) error {
		if cfg.Callback == nil {
			return nil
		}
		if err := cfg.Callback(it, s, info); err != nil {
			if errors.Is(err, ErrStop) {
				return err
			}
			return fmt.Errorf("callback: %w", err)
		}
		return nil
	}
	stop := func(err error) (Result, error) {
		if errors.Is(err, ErrStop) {
			return finish(nil)
		}
		return finish(err)
	}

	start := time.Now()
	for it := 0; it < cfg.Warmup; it++ {
		if err := ctx.Err(); err != nil {
			res.WarmupTime = time.Since(start)
			return finish(err)
		}
		var info Info
		if adapter != nil {
			s, info, err = adapter.Step(rng, s)
		} else {
			s, info, err = k.Step(rng, s)
		}
		if err != nil {
			res.WarmupTime = time.Since(start)
			return finish(fmt.Errorf("warm-up iteration %d: %w", it, err))
		}
		res.Iterations++
		res.WarmupDivergences += info.Divergences()
		tally(info)
		if err := callback(it, info); err != nil {
			res.WarmupTime = time.Since(start)
			return stop(err)
		}
	}
	if adapter != nil {
		adapter.Finish()
		res.StepSizes = stepSizeHistory(adapter)
		adapter = nil
	}
	res.WarmupTime = time.Since(start)

	start = time.Now()
	for i := 0; i < cfg.Draws*thin; i++ {
		it := cfg.Warmup + i
		if err := ctx.Err(); err != nil {
			res.SampleTime = time.Since(start)
			return finish(err)
		}
		var info Info
		s, info, err = k.Step(rng, s)
		if err != nil {
			res.SampleTime = time.Since(start)
			return finish(fmt.Errorf("iteration %d: %w", it, err))
		}
		res.Iterations++
		res.Divergences += info.Divergences()
		res.MaxDepthHits += info.MaxDepthHits
		for _, a := range info.Accepted {
			if a {
				res.Accepted++
			}
		}
		acceptSum += info.MeanAccept()
		sampleSteps++
		tally(info)
		if (i+1)%thin == 0 {
			res.Trace.X = append(res.Trace.X, s.X...)
			if res.Trace.F != nil {
				res.Trace.F = append(res.Trace.F, s.F...)
			}
		}
		if err := callback(it, info); err != nil {
			res.SampleTime = time.Since(start)
			return stop(err)
		}
	}
	res.SampleTime = time.Since(start)
	return finish(nil)
}

// infoBuffers holds the slices of the Info a kernel returns, reused from
// step to step.
type infoBuffers struct {
	accept          []float64
	accepted, diver []bool
	leapfrogs       []int
}

// info returns an Info with zeroed per-chain slices for n chains.
func (b *infoBuffers) info(n int, withLeapfrogs bool) Info {
	if len(b.accept) != n {
		b.accept = make([]float64, n)
		b.accepted = make([]bool, n)
		b.diver = make([]bool, n)
		b.leapfrogs = make([]int, n)
	}
	clear(b.accept)
	clear(b.accepted)
	clear(b.diver)
	info := Info{AcceptProb: b.accept, Accepted: b.accepted, Divergent: b.diver}
	if withLeapfrogs {
		clear(b.leapfrogs)
		info.Leapfrogs = b.leapfrogs
	}
	return info
}

// checkKernelInit validates the arguments of a kernel's Init: a chain
// count below one or positions of the wrong length give an error wrapping
// energy.ErrShape.
func checkKernelInit(name string, d int, x []float64, n int) error {
	if n <= 0 {
		return fmt.Errorf("sampling: %s.Init: %d chains, want at least one: %w", name, n, energy.ErrShape)
	}
	if len(x) != n*d {
		return fmt.Errorf("sampling: %s.Init: %d starting values for %d chains of dimension %d, want %d: %w", name, len(x), n, d, n*d, energy.ErrShape)
	}
	return nil
}

// checkKernelStep panics unless rng is set and s is a state of dimension d with
// the slices a kernel needs.
func checkKernelStep(name string, rng *rand.Rand, s State, d int, needF, needGrad bool) {
	if rng == nil {
		panic("sampling: " + name + ".Step: nil rng")
	}
	if s.D != d || s.N <= 0 || len(s.X) != s.N*s.D {
		panic(fmt.Sprintf("sampling: %s.Step: state of %d chains × %d dimensions with %d values, kernel's dimension is %d", name, s.N, s.D, len(s.X), d))
	}
	if needF && len(s.F) != s.N {
		panic(fmt.Sprintf("sampling: %s.Step: state has %d energies for %d chains; make it with the kernel's Init", name, len(s.F), s.N))
	}
	if needGrad && len(s.Grad) != len(s.X) {
		panic(fmt.Sprintf("sampling: %s.Step: state has %d gradient values for %d positions; make it with the kernel's Init", name, len(s.Grad), len(s.X)))
	}
}

// checkKernelStart returns an error wrapping ErrDiverged naming the first chain
// whose f, or gradient when grad is not nil, is not finite.
func checkKernelStart(name string, f, grad []float64, d int) error {
	for c, v := range f {
		if !isFiniteF(v) {
			return fmt.Errorf("sampling: %s.Init: chain %d starts where f = %v: %w", name, c, v, ErrDiverged)
		}
		if grad != nil && !finiteRow(grad[c*d:(c+1)*d]) {
			return fmt.Errorf("sampling: %s.Init: chain %d starts where ∇f is not finite: %w", name, c, ErrDiverged)
		}
	}
	return nil
}

func isFiniteF(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finiteRow reports whether every value in v is finite.
func finiteRow(v []float64) bool {
	var s float64
	for _, x := range v {
		s += x * 0
	}
	return s == 0 // x·0 is NaN for NaN and ±Inf, and NaN poisons the sum
}

// logAddExp returns log(eᵃ + eᵇ) without overflow.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(a, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// Params are the tunable parameters of the adaptive kernels (HMC, NUTS,
// MALA, RWMH): a step size and a diagonal metric. Their raw transitions
// take Params on every call (StepWith), so that warm-up adaptation reuses
// them unchanged.
type Params struct {
	// StepSize is ε: the leapfrog step of HMC and NUTS, the drift
	// coefficient h of MALA, the proposal scale of RWMH.
	StepSize float64
	// InvMass is the diagonal of the inverse mass matrix M⁻¹, one value
	// per dimension, which should approximate the target's variances: HMC
	// and NUTS draw momenta p ~ N(0, M), MALA preconditions its drift and
	// noise with it, RWMH proposes with covariance ε²·M⁻¹. Nil means the
	// identity.
	InvMass []float64
}

// Clone returns a copy of p that shares no memory with it.
func (p Params) Clone() Params {
	if p.InvMass != nil {
		p.InvMass = append([]float64(nil), p.InvMass...)
	}
	return p
}

// check returns an error unless p is valid for dimension d.
func (p Params) check(name string, d int) error {
	if !(p.StepSize > 0) || math.IsInf(p.StepSize, 0) {
		return fmt.Errorf("sampling: %s: step size %v is not positive and finite", name, p.StepSize)
	}
	if p.InvMass == nil {
		return nil
	}
	if len(p.InvMass) != d {
		return fmt.Errorf("sampling: %s: inverse mass matrix has %d values for dimension %d: %w", name, len(p.InvMass), d, energy.ErrShape)
	}
	for i, v := range p.InvMass {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("sampling: %s: inverse mass matrix element %d is %v, want positive and finite", name, i, v)
		}
	}
	return nil
}

// mustSet hands parameters the adaptation computed to the kernel; they are
// valid by construction, so an error is a defect of the adaptation.
func mustSet(k tunable, p Params) {
	if err := k.SetParams(p); err != nil {
		panic("sampling: adaptation produced invalid parameters: " + err.Error())
	}
}

// Adaptive is a Kernel whose parameters can be tuned during warm-up. Run
// drives it: for RunConfig.Warmup iterations it calls the Adapter's Step in
// place of the kernel's, then Finish, after which the kernel's Step uses
// the adapted parameters.
type Adaptive interface {
	Kernel
	// NewAdapter returns an Adapter that tunes the kernel over warmup
	// iterations, starting from its current parameters; warmup must not be
	// negative.
	NewAdapter(warmup int) (Adapter, error)
	// Params returns a copy of the parameters the kernel's Step uses.
	Params() Params
}

// Adapter tunes the parameters of the kernel it was made for.
type Adapter interface {
	// Step performs one warm-up transition with the current parameters
	// and updates them from what the transition saw. Info.GradEvals
	// includes any evaluations the adaptation itself made.
	Step(rng *rand.Rand, s State) (State, Info, error)
	// Finish hands the adapted parameters to the kernel and returns them.
	// Called before warm-up is complete, it hands over the best values so
	// far.
	Finish() Params
}

// AdaptConfig configures warm-up adaptation, which follows Stan's
// windowed adaptation: the step size ε is tuned by dual averaging on every
// warm-up iteration, and the diagonal inverse mass matrix M⁻¹ is set to
// the (regularised) variance of the positions visited in a series of
// doubling windows between an initial and a terminal buffer. See doc.go.
//
// The zero value is Stan's defaults with the kernel's own target
// acceptance.
type AdaptConfig struct {
	// TargetAccept is δ, the mean acceptance probability dual averaging
	// aims for. Zero means the kernel's default: 0.8 for HMC and NUTS (as
	// Stan), 0.574 for MALA, and for RWMH 0.44 in one dimension falling to
	// 0.234 in many (see RWMH).
	TargetAccept float64
	// Gamma, T0 and Kappa are the dual-averaging constants γ, t0 and κ.
	// Zero means Stan's 0.05, 10 and 0.75.
	Gamma, T0, Kappa float64
	// InitBuffer, Window and TermBuffer are the lengths of the initial
	// fast buffer (step size only), of the first slow window (mass matrix;
	// each next window is twice as long, the last one stretched to reach
	// the terminal buffer) and of the terminal fast buffer. Zero means
	// Stan's 75, 25 and 50. If they do not fit in the warm-up they become
	// 15%, 75% and 10% of it, as in Stan; warm-ups shorter than 20
	// iterations adapt the step size only.
	InitBuffer, Window, TermBuffer int
	// FixedStepSize turns step-size adaptation off.
	FixedStepSize bool
	// FixedMass turns mass-matrix adaptation off.
	FixedMass bool
}

// DualAveraging tunes a step size so that the mean acceptance probability
// of the transitions it is told about approaches Target: Nesterov's dual
// averaging as Hoffman & Gelman (2014, §3.2) and Stan use it. With
// x_t = log ε_t and a_t the acceptance statistic of transition t,
//
//	H̄_t   = (1 − 1/(t+t0))·H̄_{t−1} + (δ − a_t)/(t+t0)
//	x_{t+1} = μ − √t/γ · H̄_t
//	x̄_{t+1} = t^−κ·x_{t+1} + (1 − t^−κ)·x̄_t
//
// with μ = log(10·ε_0). The step size to use next is exp(x_{t+1}); the one
// to keep after warm-up is exp(x̄).
//
// Call Restart before the first Update. A DualAveraging is not safe for
// concurrent use.
type DualAveraging struct {
	// Target is δ; zero means 0.8.
	Target float64
	// Gamma, T0 and Kappa are γ, t0 and κ; zero means 0.05, 10 and 0.75.
	Gamma, T0, Kappa float64

	mu, hBar, xBar float64
	t              int
}

// Restart starts the averaging afresh from step size eps0, setting
// μ = log(10·eps0).
func (d *DualAveraging) Restart(eps0 float64) {
	d.mu = math.Log(10 * eps0)
	d.hBar, d.xBar, d.t = 0, 0, 0
}

// Update records the acceptance statistic of one transition (values above
// 1 count as 1; NaN counts as 0) and returns the step size to use next.
func (d *DualAveraging) Update(accept float64) float64 {
	delta, gamma, t0, kappa := defaultIfZero(d.Target, 0.8), defaultIfZero(d.Gamma, 0.05), defaultIfZero(d.T0, 10), defaultIfZero(d.Kappa, 0.75)
	if math.IsNaN(accept) {
		accept = 0
	}
	accept = math.Min(accept, 1)
	d.t++
	t := float64(d.t)
	eta := 1 / (t + t0)
	d.hBar = (1-eta)*d.hBar + eta*(delta-accept)
	x := d.mu - d.hBar*math.Sqrt(t)/gamma
	w := math.Pow(t, -kappa)
	d.xBar = w*x + (1-w)*d.xBar
	return math.Exp(x)
}

// StepSize returns exp(x̄), the averaged step size to keep once adaptation
// ends; before any Update it is 1.
func (d *DualAveraging) StepSize() float64 { return math.Exp(d.xBar) }

func defaultIfZero(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// warmupWindows is Stan's schedule of slow adaptation windows
// (stan/mcmc/windowed_adaptation.hpp), iteration by iteration.
type warmupWindows struct {
	warmup, initBuf, termBuf, base int
	size, next                     int
	off                            bool // too short a warm-up: no windows
}

func newWarmupWindows(warmup int, cfg AdaptConfig) warmupWindows {
	w := warmupWindows{warmup: warmup, initBuf: cfg.InitBuffer, termBuf: cfg.TermBuffer, base: cfg.Window}
	if w.initBuf == 0 {
		w.initBuf = 75
	}
	if w.termBuf == 0 {
		w.termBuf = 50
	}
	if w.base == 0 {
		w.base = 25
	}
	if warmup < 20 {
		w.off = true
		return w
	}
	if w.initBuf+w.base+w.termBuf > warmup {
		w.initBuf = int(0.15 * float64(warmup))
		w.termBuf = int(0.1 * float64(warmup))
		w.base = warmup - (w.initBuf + w.termBuf)
	}
	w.size = w.base
	w.next = w.initBuf + w.base - 1
	return w
}

// inWindow reports whether the position after warm-up iteration i
// (0-based) goes into the variance estimate.
func (w *warmupWindows) inWindow(i int) bool {
	return !w.off && i >= w.initBuf && i < w.warmup-w.termBuf
}

// endsWindow reports whether iteration i closes a slow window; if so it
// moves on to the next one.
func (w *warmupWindows) endsWindow(i int) bool {
	if w.off || i != w.next || i == w.warmup {
		return false
	}
	last := w.warmup - w.termBuf - 1
	if w.next != last {
		w.size *= 2
		w.next = i + w.size
		if w.next != last && w.next+2*w.size >= w.warmup-w.termBuf {
			w.next = last
		}
	}
	return true
}

// tunable is what the generic warm-up needs from a kernel: its raw
// transition, its parameters, and a cheap trial move for the initial
// step-size search.
type tunable interface {
	Kernel
	StepWith(rng *rand.Rand, s State, p Params) (State, Info, error)
	Params() Params
	SetParams(p Params) error
	// probe returns the mean acceptance probability over the chains of
	// one trial move from s with parameters p (one leapfrog step for HMC
	// and NUTS), leaving s unchanged, and the gradient evaluations it
	// made.
	probe(rng *rand.Rand, s State, p Params) (accept float64, gradEvals int, err error)
	// targetAccept is the default δ for dual averaging and the step-size
	// search.
	targetAccept() float64
}

// windowAdapter runs Stan's windowed adaptation on a tunable kernel,
// pooling the statistics of all chains of the batch: dual averaging is fed
// the mean acceptance statistic over chains, and the variance estimate
// takes every chain's position at every window iteration.
type windowAdapter struct {
	k       tunable
	cfg     AdaptConfig
	p       Params
	target  float64
	da      DualAveraging
	win     warmupWindows
	it      int
	started bool
	// Welford accumulators of the pooled positions.
	count     int
	mean, m2  []float64
	dimension int
	// stepSizes holds the averaged step size at the end of each slow
	// window and at Finish.
	stepSizes []float64
}

// newWindowAdapter returns the adapter of k. cfg was validated by k's
// constructor.
func newWindowAdapter(k tunable, cfg AdaptConfig, warmup, dim int) (*windowAdapter, error) {
	if warmup < 0 {
		return nil, fmt.Errorf("sampling: NewAdapter: warm-up of %d iterations, want ≥ 0", warmup)
	}
	a := &windowAdapter{k: k, cfg: cfg, p: k.Params(), dimension: dim}
	a.target = defaultIfZero(cfg.TargetAccept, k.targetAccept())
	a.da = DualAveraging{Target: a.target, Gamma: cfg.Gamma, T0: cfg.T0, Kappa: cfg.Kappa}
	a.win = newWarmupWindows(warmup, cfg)
	if cfg.FixedMass {
		a.win.off = true
	}
	return a, nil
}

func (a *windowAdapter) Step(rng *rand.Rand, s State) (State, Info, error) {
	extra := 0
	if !a.started {
		a.started = true
		if !a.cfg.FixedStepSize {
			eps, ev, err := findStepSize(rng, a.k, s, a.p, a.target)
			extra += ev
			if err != nil {
				return s, Info{}, err
			}
			a.p.StepSize = eps
			a.da.Restart(eps)
		}
	}
	s, info, err := a.k.StepWith(rng, s, a.p)
	if err != nil {
		return s, info, err
	}
	i := a.it
	a.it++
	if !a.cfg.FixedStepSize {
		a.p.StepSize = a.da.Update(info.MeanAccept())
	}
	if a.win.inWindow(i) {
		a.addPositions(s)
	}
	if a.win.endsWindow(i) {
		if !a.cfg.FixedStepSize {
			a.stepSizes = append(a.stepSizes, a.da.StepSize())
		}
		a.p.InvMass = a.regularisedVariance(a.p.InvMass)
		a.count = 0
		if !a.cfg.FixedStepSize {
			eps, ev, err := findStepSize(rng, a.k, s, a.p, a.target)
			extra += ev
			if err != nil {
				return s, info, err
			}
			a.p.StepSize = eps
			a.da.Restart(eps)
		}
	}
	info.GradEvals += extra
	return s, info, nil
}

func (a *windowAdapter) Finish() Params {
	if !a.cfg.FixedStepSize && a.da.t > 0 {
		a.p.StepSize = a.da.StepSize()
		a.stepSizes = append(a.stepSizes, a.p.StepSize)
	}
	mustSet(a.k, a.p.Clone())
	return a.p.Clone()
}

// StepSizeHistory returns the averaged step size at the end of each slow
// window of the warm-up and, last, the one Finish kept.
func (a *windowAdapter) StepSizeHistory() []float64 { return a.stepSizes }

// addPositions adds every chain's position to the running variance.
func (a *windowAdapter) addPositions(s State) {
	if a.mean == nil {
		a.mean = make([]float64, a.dimension)
		a.m2 = make([]float64, a.dimension)
	}
	if a.count == 0 {
		clear(a.mean)
		clear(a.m2)
	}
	for c := 0; c < s.N; c++ {
		a.count++
		inv := 1 / float64(a.count)
		for i, x := range s.Chain(c) {
			d := x - a.mean[i]
			a.mean[i] += d * inv
			a.m2[i] += d * (x - a.mean[i])
		}
	}
}

// regularisedVariance returns Stan's regularised variance estimate
// (n/(n+5))·σ̂² + 10⁻³·(5/(n+5)), written into dst if it has the right
// length, where n is the number of pooled positions.
func (a *windowAdapter) regularisedVariance(dst []float64) []float64 {
	if a.count < 2 {
		return dst
	}
	if len(dst) != a.dimension {
		dst = make([]float64, a.dimension)
	}
	n := float64(a.count)
	for i := range dst {
		v := a.m2[i] / (n - 1)
		dst[i] = n/(n+5)*v + 1e-3*5/(n+5)
	}
	return dst
}

// findStepSize is Hoffman & Gelman's heuristic (Algorithm 4; Stan's
// init_stepsize) over a batch: starting from p.StepSize it doubles the step
// size while the mean acceptance of a trial move exceeds target, or halves
// it while it falls short, and returns the first step size on the other
// side.
func findStepSize(rng *rand.Rand, k tunable, s State, p Params, target float64) (float64, int, error) {
	evals := 0
	a, ev, err := k.probe(rng, s, p)
	evals += ev
	if err != nil {
		return p.StepSize, evals, err
	}
	up := a > target
	for range 2000 {
		if up {
			p.StepSize *= 2
		} else {
			p.StepSize /= 2
		}
		if p.StepSize > 1e7 || p.StepSize < 1e-200 {
			return p.StepSize, evals, fmt.Errorf("sampling: step-size search reached %g with mean acceptance %.3g ; is the density improper?", p.StepSize, a)
		}
		a, ev, err = k.probe(rng, s, p)
		evals += ev
		if err != nil {
			return p.StepSize, evals, err
		}
		if up != (a > target) {
			break
		}
	}
	return p.StepSize, evals, nil
}

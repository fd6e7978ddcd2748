package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ebmgo/ebm/energy"
)

// LangevinConfig configures unadjusted Langevin dynamics as energy-based
// model training uses it, with the step size and the noise set apart:
//
//	x ← clamp(x + (ε/2)·clip(∇f(x)) + σ·ξ),   ξ ~ N(0, I)
//
// With σ = √ε this is the discretised Langevin diffusion, whose stationary
// density tends to exp(f) as ε → 0; image EBMs use a far smaller σ, which
// samples a colder density. Papers and tutorials that write the update as
// x ← x + λ·∇f + σ·ξ ("step size" λ, as Du & Mordatch 2019 and the UvA
// tutorial) have ε = 2λ: see ClippedLangevin.
type LangevinConfig struct {
	// StepSize is ε, which multiplies ½∇f. Required: it must be positive.
	StepSize float64
	// Noise is σ, the standard deviation of the noise. Zero means √ε,
	// the value that makes the chain target exp(f) as ε → 0.
	Noise float64
	// GradClip, if positive, clips every element of ∇f to
	// [−GradClip, GradClip] before the update; State.Grad keeps the
	// unclipped gradient. Zero means no clipping.
	GradClip float64
	// Min and Max, if Min < Max, clamp every coordinate to [Min, Max]
	// after each update (and after the noise, with NoiseFirst), as for
	// pixels in [−1, 1]. Either may be infinite. The zero value, Min =
	// Max = 0, means no clamping.
	Min, Max float64
	// NoiseFirst adds the noise before the gradient step, as the UvA
	// tutorial does: y = clamp(x + σξ), x ← clamp(y + (ε/2)·clip(∇f(y))).
	// The gradient is then taken at the noised point y, and State.F and
	// State.Grad hold f and ∇f at y rather than at X.
	NoiseFirst bool
}

// ClippedLangevin returns Langevin dynamics for values in [−1, 1] (pixels)
// with a gradient step λ and noise σ, in the form image EBMs write it (Du &
// Mordatch 2019; the UvA deep-learning tutorial 8 by P. Lippe): per step,
// noise first, then the gradient at the noised point clipped to ±0.03,
// both results clamped to [−1, 1]:
//
//	y = clamp(x + σ·ξ, −1, 1);  x ← clamp(y + λ·clip(∇f(y), ±0.03), −1, 1)
//
// It is LangevinConfig{StepSize: 2λ, Noise: σ, GradClip: 0.03, Min: −1,
// Max: 1, NoiseFirst: true}: the returned StepSize is ε = 2λ, since
// LangevinConfig.StepSize multiplies ½∇f. The published recipe uses
// λ = 10, σ = 0.005 and 60 steps per batch.
func ClippedLangevin(stepSize, noise float64) LangevinConfig {
	return LangevinConfig{StepSize: 2 * stepSize, Noise: noise, GradClip: 0.03, Min: -1, Max: 1, NoiseFirst: true}
}

// Langevin is unadjusted Langevin dynamics (no Metropolis correction):
// every transition moves every chain with one batched gradient
// evaluation. It samples exp(f) only approximately, with a bias that
// vanishes as the step size does; MALA corrects it. See LangevinConfig for
// the update, and doc.go.
//
// A chain whose new position has a NaN or Inf energy or gradient keeps its
// old position and is marked divergent (Info.AcceptProb 0). A Langevin is
// not safe for concurrent use.
type Langevin struct {
	cfg   LangevinConfig
	e     energy.Differentiable
	d     int
	noise float64
	clamp bool
	step  float64       // the step size as the user set it, which Info.StepSize reports
	st    *langevinStep // a separate object, so that helper goroutines do not keep the kernel alive
	info  infoBuffers
}

// langevinStep holds what the chains' updates of one step read and write:
// the kernel's buffers and the step's arguments. With a large batch the
// updates run on helper goroutines that see only this (see chainPool).
type langevinStep struct {
	noiseFirst                bool
	d                         int
	half, sigma, lo, hi, clip float64
	xp, gp, fp                []float64
	bad                       []bool
	rng                       *rand.Rand  // the caller's: every chain's noise in a small batch
	chains                    []chainRand // per-chain noise of a large batch
	s                         State
	info                      Info
	pool                      *chainPool // helpers, started by the first large batch
	perChain                  bool       // this step draws each chain's noise from chains[c]
}

// chainRand is one chain's noise generator in a large batch, seeded from
// the kernel's rng at every step.
type chainRand struct {
	s uint64 // wyrand state (ziggurat.go)
}

// langevinSplit is the batch size (chains × dimension) from which Step
// updates the chains on GOMAXPROCS goroutines. Each chain then draws its
// noise from its own generator, seeded from rng with one value per chain
// and step, by a ziggurat that takes 32 bits per draw (ziggurat.go), so the
// result depends on rng alone, not on how the chains are shared out;
// smaller batches draw every chain's noise from rng directly
// (rng.NormFloat64).
const langevinSplit = 1 << 16

var _ Kernel = (*Langevin)(nil)

// NewLangevin returns a Langevin dynamics kernel for e. It panics if e is
// nil and returns an error for an invalid configuration.
func NewLangevin(e energy.Differentiable, cfg LangevinConfig) (*Langevin, error) {
	if e == nil {
		panic("sampling: NewLangevin: nil energy")
	}
	switch {
	case e.Dim() <= 0:
		return nil, fmt.Errorf("sampling: NewLangevin: energy has dimension %d", e.Dim())
	case !(cfg.StepSize > 0) || math.IsInf(cfg.StepSize, 0):
		return nil, fmt.Errorf("sampling: NewLangevin: LangevinConfig.StepSize = %v, want positive and finite", cfg.StepSize)
	case !(cfg.Noise >= 0) || math.IsInf(cfg.Noise, 0):
		return nil, fmt.Errorf("sampling: NewLangevin: LangevinConfig.Noise = %v, want finite and ≥ 0", cfg.Noise)
	case !(cfg.GradClip >= 0):
		return nil, fmt.Errorf("sampling: NewLangevin: LangevinConfig.GradClip = %v is negative", cfg.GradClip)
	case math.IsNaN(cfg.Min) || math.IsNaN(cfg.Max) || cfg.Min > cfg.Max || (cfg.Min == cfg.Max && cfg.Min != 0):
		return nil, fmt.Errorf("sampling: NewLangevin: LangevinConfig clamps to [%v, %v]; want Min < Max, or both zero for no clamping", cfg.Min, cfg.Max)
	}
	k := &Langevin{cfg: cfg, e: e, d: e.Dim(), noise: cfg.Noise, clamp: cfg.Min < cfg.Max, step: cfg.StepSize}
	if k.noise == 0 {
		k.noise = math.Sqrt(cfg.StepSize)
	}
	return k, nil
}

// NewULA returns the textbook unadjusted Langevin algorithm with step
// size h, x ← x + h·∇f(x) + √(2h)·ξ: a Langevin kernel with StepSize 2h and
// Noise √(2h) (Config reports those), whose Info.StepSize is h, the value
// set here.
func NewULA(e energy.Differentiable, h float64) (*Langevin, error) {
	if !(h > 0) || math.IsInf(h, 0) {
		return nil, fmt.Errorf("sampling: NewULA: step size h = %v, want positive and finite", h)
	}
	k, err := NewLangevin(e, LangevinConfig{StepSize: 2 * h, Noise: math.Sqrt(2 * h)})
	if err != nil {
		return nil, err
	}
	k.step = h
	return k, nil
}

// Config returns the kernel's configuration, with Noise resolved.
func (k *Langevin) Config() LangevinConfig {
	c := k.cfg
	c.Noise = k.noise
	return c
}

// Init returns the state of n chains starting at x. Without NoiseFirst it
// evaluates f and ∇f there, since the first step moves along ∇f(x), and
// returns an error wrapping ErrDiverged if any chain starts where f or ∇f
// is not finite.
//
// With NoiseFirst no step uses f or ∇f at X (each step evaluates them at
// its noised point), so Init does not evaluate the energy: State.F and
// State.Grad hold NaN until the first step writes them, and stay NaN for a
// chain whose every step so far diverged. Init still returns an error
// wrapping ErrDiverged if a starting position is not finite; a start
// where only f or ∇f is not finite shows as a divergence of the first
// step, whose check is the same as at every step.
func (k *Langevin) Init(x []float64, n int) (State, error) {
	if !k.cfg.NoiseFirst {
		return initGrad("Langevin", k.e, x, n)
	}
	if err := checkKernelInit("Langevin", k.d, x, n); err != nil {
		return State{}, err
	}
	for c := range n {
		if !finiteRow(x[c*k.d : (c+1)*k.d]) {
			return State{}, fmt.Errorf("sampling: Langevin.Init: chain %d starts at a non-finite position: %w", c, ErrDiverged)
		}
	}
	s := State{N: n, D: k.d, X: append([]float64(nil), x...), F: make([]float64, n), Grad: make([]float64, n*k.d)}
	nan := math.NaN()
	for i := range s.F {
		s.F[i] = nan
	}
	for i := range s.Grad {
		s.Grad[i] = nan
	}
	return s, nil
}

// Step moves every chain of s by one Langevin update.
//
// Each chain's row is updated in one pass per stage (noise, then the
// drift), with its finiteness check folded into the same pass. In batches
// of at least 2¹⁶ values each chain has its own noise generator seeded
// from rng (see langevinSplit), and the chains are updated by GOMAXPROCS
// goroutines.
func (k *Langevin) Step(rng *rand.Rand, s State) (State, Info, error) {
	checkKernelStep("Langevin", rng, s, k.d, true, true)
	n, d := s.N, k.d
	if k.st == nil {
		k.st = new(langevinStep)
	}
	st := k.st
	if len(st.fp) != n {
		st.xp, st.gp = make([]float64, n*d), make([]float64, n*d)
		st.fp, st.bad = make([]float64, n), make([]bool, n)
	}
	st.rng = rng
	st.perChain = n > 1 && n*d >= langevinSplit
	parallel := st.perChain && runtime.GOMAXPROCS(0) > 1
	if st.perChain {
		if len(st.chains) != n {
			st.chains = make([]chainRand, n)
		}
		for c := range st.chains {
			st.chains[c].seed(rng.Uint64())
		}
	}
	if parallel && st.pool == nil {
		st.pool = newChainPool(st)
		runtime.AddCleanup(k, func(p *chainPool) { close(p.work) }, st.pool)
	}
	st.noiseFirst, st.d = k.cfg.NoiseFirst, d
	st.half, st.sigma = k.cfg.StepSize/2, k.noise
	st.lo, st.hi = k.bounds()
	st.clip = k.cfg.GradClip
	if !(st.clip > 0) {
		st.clip = math.Inf(1)
	}
	st.s = s
	st.forChains(parallel, stageNoise, n)
	if err := k.e.FGrad(st.fp, st.gp, st.xp); err != nil {
		st.s, st.rng = State{}, nil
		return s, Info{}, fmt.Errorf("sampling: Langevin: %w", err)
	}
	st.info = k.info.info(n, false)
	st.forChains(parallel, stageDrift, n)
	info := st.info
	st.s, st.info, st.rng = State{}, Info{}, nil // hold no references between steps
	info.GradEvals = 1
	info.StepSize = k.step
	return s, info, nil
}

// The two stages of a step's chain updates.
const (
	stageNoise = iota // y = clamp(x + σξ) (NoiseFirst), or the whole update, into xp
	stageDrift        // after the evaluation: divergence checks, the drift (NoiseFirst), the state
)

// chain runs one stage of chain c's update.
func (st *langevinStep) chain(stage, c int) {
	d := st.d
	r := c * d
	xp, s := st.xp[r:r+d], st.s
	half, sigma, lo, hi, clip := st.half, st.sigma, st.lo, st.hi, st.clip // locals stay in registers
	if stage == stageNoise {
		x := s.X[r : r+d]
		var z float64 // x·0 summed: NaN iff some value is NaN or ±Inf
		switch {
		case st.noiseFirst && st.perChain:
			// y = clamp(x + σξ), evaluated; the drift is added afterwards.
			st.chains[c].fill(xp) // ξ, then y in place
			for i, v := range x {
				v = clampTo(v+sigma*xp[i], lo, hi)
				xp[i] = v
				z += v * 0
			}
		case st.noiseFirst:
			rng := st.rng
			for i, v := range x {
				v = clampTo(v+sigma*rng.NormFloat64(), lo, hi)
				xp[i] = v
				z += v * 0
			}
		case st.perChain:
			st.chains[c].fill(xp)
			gr := s.Grad[r : r+d]
			for i, v := range x {
				v = clampTo(v+half*clampTo(gr[i], -clip, clip)+sigma*xp[i], lo, hi)
				xp[i] = v
				z += v * 0
			}
		default:
			rng := st.rng
			g := s.Grad[r : r+d]
			for i, v := range x {
				v = clampTo(v+half*clampTo(g[i], -clip, clip)+sigma*rng.NormFloat64(), lo, hi)
				xp[i] = v
				z += v * 0
			}
		}
		st.bad[c] = z != 0
		if st.bad[c] {
			copy(xp, x) // never evaluate the energy at Inf or NaN
		}
		return
	}
	gp, info := st.gp[r:r+d], st.info
	if st.bad[c] || !isFiniteF(st.fp[c]) {
		info.Divergent[c] = true
		return
	}
	var z float64
	if st.noiseFirst {
		for i, g := range gp {
			v := clampTo(xp[i]+half*clampTo(g, -clip, clip), lo, hi)
			xp[i] = v
			z += v*0 + g*0
		}
	} else {
		for _, g := range gp {
			z += g * 0
		}
	}
	if z != 0 {
		info.Divergent[c] = true
		return
	}
	info.AcceptProb[c] = 1
	info.Accepted[c] = true
	copy(s.X[r:r+d], xp)
	copy(s.Grad[r:r+d], gp)
	s.F[c] = st.fp[c]
}

// forChains runs a stage for every chain: in order on this goroutine, or,
// in parallel, also on the pool's helpers, which take chains from a shared
// counter.
func (st *langevinStep) forChains(parallel bool, stage, n int) {
	if !parallel {
		for c := range n {
			st.chain(stage, c)
		}
		return
	}
	st.pool.run(stage, n)
}

// chainPool is the helper goroutines of a kernel's large batches. They
// hold the step's data but not the kernel, whose cleanup stops them.
type chainPool struct {
	st      *langevinStep
	work    chan int // stages; closed when the kernel is collected
	helpers int
	next    atomic.Int64
	n       int
	done    sync.WaitGroup
}

func newChainPool(st *langevinStep) *chainPool {
	p := &chainPool{st: st, work: make(chan int), helpers: runtime.GOMAXPROCS(0) - 1}
	for range p.helpers {
		helpersRunning.Add(1)
		go func() {
			defer helpersRunning.Add(-1)
			for stage := range p.work {
				p.chains(stage)
				p.done.Done()
			}
		}()
	}
	return p
}

// helpersRunning counts the chainPool goroutines of all kernels, for tests.
var helpersRunning atomic.Int64

// run runs stage over n chains on the helpers and this goroutine.
func (p *chainPool) run(stage, n int) {
	p.next.Store(0)
	p.n = n
	p.done.Add(p.helpers)
	for range p.helpers {
		p.work <- stage
	}
	p.chains(stage)
	p.done.Wait()
}

func (p *chainPool) chains(stage int) {
	for c := int(p.next.Add(1) - 1); c < p.n; c = int(p.next.Add(1) - 1) {
		p.st.chain(stage, c)
	}
}

// bounds returns the box every coordinate is clamped to: [Min, Max], or
// (−∞, +∞) without clamping.
func (k *Langevin) bounds() (lo, hi float64) {
	if k.clamp {
		return k.cfg.Min, k.cfg.Max
	}
	return math.Inf(-1), math.Inf(1)
}

// clampTo returns v limited to [lo, hi], as math.Max(lo, math.Min(hi, v))
// (a NaN stays NaN) but with the built-in min and max, which compile to a
// few instructions instead of two function calls.
func clampTo(v, lo, hi float64) float64 { return max(lo, min(hi, v)) }

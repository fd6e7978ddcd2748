package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// NoiseConditional is a family of energies f(x; σ) indexed by a noise
// level, such as a noise-conditional score model trained by denoising
// score matching over a ladder of levels: SetNoise chooses σ for the
// calls of F and FGrad that follow. graph.Energy is one (for models that
// do not read the noise level, SetNoise changes nothing).
type NoiseConditional interface {
	energy.Differentiable
	SetNoise(sigma float64) error
}

// AnnealedLangevinConfig configures annealed Langevin dynamics (Song &
// Ermon 2019, Algorithm 1): StepsPerLevel Langevin steps at each noise
// level σ₁ > σ₂ > … > σ_L in turn, with the step size shrinking with the
// level,
//
//	αᵢ = StepSize · σᵢ² / σ_L²,
//	y = clamp(x + √αᵢ·ξ),  x ← clamp(y + (αᵢ/2)·∇x f(y; σᵢ)),   ξ ~ N(0, I)
//
// so that the chains first cross the smoothed, connected landscape of the
// large levels and then sharpen. The noise comes before the gradient step
// (as Langevin with NoiseFirst), so every level ends on a gradient step.
type AnnealedLangevinConfig struct {
	// Sigmas are the noise levels, largest first. Required.
	Sigmas []float64
	// StepsPerLevel is T, the steps at each level; 0 means 100.
	StepsPerLevel int
	// StepSize is ε, the step at the smallest level. Required.
	StepSize float64
	// Min and Max, if Min < Max, clamp every coordinate after the noise
	// and after the gradient step (pixels in [−1, 1]). Zero values: no
	// clamping.
	Min, Max float64
}

// AnnealedLangevin is annealed Langevin dynamics over a noise ladder as a
// kernel: each Step is one Langevin step at the current level, and the
// kernel moves to the next level every StepsPerLevel steps, staying at the
// last level once the schedule is done (Done). Init starts the schedule
// again at the largest level. Info.StepSize is αᵢ; Level reports i.
//
// Chains whose step gives a NaN or Inf energy or gradient keep their
// position and are marked divergent, as in Langevin. An AnnealedLangevin
// is not safe for concurrent use.
type AnnealedLangevin struct {
	cfg    AnnealedLangevinConfig
	e      NoiseConditional
	levels []*Langevin
	step   int // steps taken since Init
}

var _ Kernel = (*AnnealedLangevin)(nil)

// NewAnnealedLangevin returns the kernel for e. It panics if e is nil and
// returns an error for an invalid configuration.
func NewAnnealedLangevin(e NoiseConditional, cfg AnnealedLangevinConfig) (*AnnealedLangevin, error) {
	if e == nil {
		panic("sampling: NewAnnealedLangevin: nil energy")
	}
	if cfg.StepsPerLevel == 0 {
		cfg.StepsPerLevel = 100
	}
	switch {
	case len(cfg.Sigmas) == 0:
		return nil, fmt.Errorf("sampling: NewAnnealedLangevin: AnnealedLangevinConfig.Sigmas is empty")
	case cfg.StepsPerLevel < 0:
		return nil, fmt.Errorf("sampling: NewAnnealedLangevin: StepsPerLevel = %d is negative", cfg.StepsPerLevel)
	case !(cfg.StepSize > 0) || math.IsInf(cfg.StepSize, 0):
		return nil, fmt.Errorf("sampling: NewAnnealedLangevin: StepSize = %v, want positive and finite", cfg.StepSize)
	}
	for i, s := range cfg.Sigmas {
		if !(s > 0) || math.IsInf(s, 0) || (i > 0 && s > cfg.Sigmas[i-1]) {
			return nil, fmt.Errorf("sampling: NewAnnealedLangevin: Sigmas %v: want positive, finite and largest first", cfg.Sigmas)
		}
	}
	cfg.Sigmas = append([]float64(nil), cfg.Sigmas...)
	k := &AnnealedLangevin{cfg: cfg, e: e}
	last := cfg.Sigmas[len(cfg.Sigmas)-1]
	for _, s := range cfg.Sigmas {
		alpha := cfg.StepSize * (s * s) / (last * last)
		l, err := NewLangevin(e, LangevinConfig{StepSize: alpha, Noise: math.Sqrt(alpha), Min: cfg.Min, Max: cfg.Max, NoiseFirst: true})
		if err != nil {
			return nil, fmt.Errorf("sampling: NewAnnealedLangevin: level σ = %g: %w", s, err)
		}
		k.levels = append(k.levels, l)
	}
	return k, nil
}

// Config returns the kernel's configuration, defaults filled in.
func (k *AnnealedLangevin) Config() AnnealedLangevinConfig {
	c := k.cfg
	c.Sigmas = append([]float64(nil), c.Sigmas...)
	return c
}

// Steps returns the length of the schedule, L·StepsPerLevel.
func (k *AnnealedLangevin) Steps() int { return len(k.cfg.Sigmas) * k.cfg.StepsPerLevel }

// Level returns the index of the level the next Step runs at.
func (k *AnnealedLangevin) Level() int {
	if k.cfg.StepsPerLevel == 0 {
		return len(k.cfg.Sigmas) - 1
	}
	return min(k.step/k.cfg.StepsPerLevel, len(k.cfg.Sigmas)-1)
}

// Done reports whether the schedule has run to its end.
func (k *AnnealedLangevin) Done() bool { return k.step >= k.Steps() }

// Init returns the state of n chains starting at x and restarts the
// schedule at the largest level. Like Langevin with NoiseFirst it does not
// evaluate the energy: State.F and State.Grad hold NaN until the first
// step. A non-finite start is an error wrapping ErrDiverged.
func (k *AnnealedLangevin) Init(x []float64, n int) (State, error) {
	k.step = 0
	s, err := k.levels[0].Init(x, n)
	if err != nil {
		return State{}, fmt.Errorf("sampling: AnnealedLangevin.Init: %w", err)
	}
	return s, nil
}

// Step runs one Langevin step at the current level, with the energy at
// that level's σ.
func (k *AnnealedLangevin) Step(rng *rand.Rand, s State) (State, Info, error) {
	i := k.Level()
	if err := k.e.SetNoise(k.cfg.Sigmas[i]); err != nil {
		return s, Info{}, fmt.Errorf("sampling: AnnealedLangevin: %w", err)
	}
	s, info, err := k.levels[i].Step(rng, s)
	if err != nil {
		return s, info, fmt.Errorf("sampling: AnnealedLangevin (level %d, σ = %g): %w", i, k.cfg.Sigmas[i], err)
	}
	k.step++
	return s, info, nil
}

// Denoise moves every chain by one step of Tweedie's formula at the
// smallest level, x ← clamp(x + σ_L²·∇x f(x; σ_L)): the posterior mean of
// the clean sample given the noisy one, for a score model of data smoothed
// by N(0, σ_L²). It removes the residual noise of the last level
// (Jolicoeur-Martineau et al. 2020; Song & Ermon 2020). A chain where f or
// ∇f is not finite keeps its position; if every chain does, the error
// wraps ErrDiverged.
func (k *AnnealedLangevin) Denoise(s State) error {
	last := k.cfg.Sigmas[len(k.cfg.Sigmas)-1]
	if err := k.e.SetNoise(last); err != nil {
		return fmt.Errorf("sampling: AnnealedLangevin.Denoise: %w", err)
	}
	n, d := s.N, s.D
	f, g := make([]float64, n), make([]float64, n*d)
	if err := k.e.FGrad(f, g, s.X); err != nil {
		return fmt.Errorf("sampling: AnnealedLangevin.Denoise: %w", err)
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if k.cfg.Min < k.cfg.Max {
		lo, hi = k.cfg.Min, k.cfg.Max
	}
	bad := 0
	for c := range n {
		row := g[c*d : (c+1)*d]
		if !isFiniteF(f[c]) || !finiteRow(row) {
			bad++
			continue
		}
		x := s.X[c*d : (c+1)*d]
		for i, gi := range row {
			x[i] = clampTo(x[i]+last*last*gi, lo, hi)
		}
	}
	if bad == n {
		return fmt.Errorf("sampling: AnnealedLangevin.Denoise: every chain has a non-finite energy or gradient: %w", ErrDiverged)
	}
	return nil
}

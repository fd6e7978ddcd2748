package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// RWMHConfig configures random-walk Metropolis–Hastings. The zero value is
// a valid configuration.
type RWMHConfig struct {
	// StepSize is the proposal scale ε: proposals are x' = x + ε·√M⁻¹ ⊙ ξ
	// with ξ ~ N(0, I). Zero means 2.38/√d, the optimal scale for a
	// Gaussian target whose variances are M⁻¹ (Gelman, Roberts & Gilks
	// 1996).
	StepSize float64
	// InvMass is the initial diagonal M⁻¹ of the proposal covariance
	// ε²·M⁻¹ (named as for HMC: it should approximate the target's
	// variances); nil means the identity.
	InvMass []float64
	// Adapt configures the warm-up adaptation of ε and M⁻¹. Its zero
	// TargetAccept means TargetAcceptRWMH(d).
	Adapt AdaptConfig
}

// RWMH is random-walk Metropolis–Hastings with a Gaussian proposal of
// diagonal covariance ε²·M⁻¹. It needs f only, one batched evaluation per
// transition (Info.GradEvals is 0), and Run's warm-up tunes ε towards
// TargetAcceptRWMH(d) and M⁻¹ towards the target's variances.
//
// A proposal where f is NaN or +Inf is rejected and marked divergent; one
// where f = −Inf (outside the support) is rejected as any improbable
// proposal is. An RWMH is not safe for concurrent use.
type RWMH struct {
	cfg  RWMHConfig
	e    energy.Energy
	d    int
	p    Params
	xp   []float64
	fp   []float64
	bad  []bool
	info infoBuffers
}

var (
	_ Kernel   = (*RWMH)(nil)
	_ Adaptive = (*RWMH)(nil)
	_ tunable  = (*RWMH)(nil)
)

// TargetAcceptRWMH returns the acceptance rate RWMH's adaptation aims for
// in d dimensions: 0.234 + 0.206·exp(−(d−1)/2), which is 0.44 in one
// dimension, 0.36 in two, 0.28 in four and tends to 0.234, following the
// optimal rates for Gaussian targets (Gelman, Roberts & Gilks 1996;
// Roberts & Rosenthal 2001).
func TargetAcceptRWMH(d int) float64 {
	return 0.234 + 0.206*math.Exp(-float64(d-1)/2)
}

// NewRWMH returns a random-walk Metropolis–Hastings kernel for e. It
// panics if e is nil and returns an error for an invalid configuration.
func NewRWMH(e energy.Energy, cfg RWMHConfig) (*RWMH, error) {
	if e == nil {
		panic("sampling: NewRWMH: nil energy")
	}
	d := e.Dim()
	if err := checkHamiltonianConfig("NewRWMH", "RWMHConfig", d, cfg.StepSize, cfg.InvMass, 0, cfg.Adapt); err != nil {
		return nil, err
	}
	k := &RWMH{cfg: cfg, e: e, d: d}
	k.p = Params{StepSize: defaultIfZero(cfg.StepSize, 2.38/math.Sqrt(float64(d))), InvMass: cloneOrNil(cfg.InvMass)}
	return k, nil
}

// Init evaluates f at the n starting positions x. It returns an error
// wrapping ErrDiverged if f is not finite at any of them.
func (k *RWMH) Init(x []float64, n int) (State, error) {
	if err := checkKernelInit("RWMH", k.d, x, n); err != nil {
		return State{}, err
	}
	s := State{N: n, D: k.d, X: append([]float64(nil), x...), F: make([]float64, n)}
	if err := k.e.F(s.F, s.X); err != nil {
		return State{}, fmt.Errorf("sampling: RWMH.Init: %w", err)
	}
	if err := checkKernelStart("RWMH", s.F, nil, k.d); err != nil {
		return State{}, err
	}
	return s, nil
}

// Step is StepWith with the kernel's current parameters.
func (k *RWMH) Step(rng *rand.Rand, s State) (State, Info, error) { return k.StepWith(rng, s, k.p) }

// Params returns a copy of the parameters Step uses.
func (k *RWMH) Params() Params { return k.p.Clone() }

// SetParams sets the parameters Step uses (copying p), or returns an error
// and keeps the old ones if p is invalid.
func (k *RWMH) SetParams(p Params) error {
	if err := p.check("RWMH.SetParams", k.d); err != nil {
		return err
	}
	k.p = p.Clone()
	return nil
}

// NewAdapter returns Stan's windowed adaptation of the proposal scale and
// diagonal covariance over warmup iterations (see AdaptConfig).
func (k *RWMH) NewAdapter(warmup int) (Adapter, error) {
	return newWindowAdapter(k, k.cfg.Adapt, warmup, k.d)
}

func (k *RWMH) targetAccept() float64 { return TargetAcceptRWMH(k.d) }

// StepWith advances every chain of s by one random-walk Metropolis
// transition with scale p.StepSize and proposal variances
// p.StepSize²·p.InvMass. It panics if p is invalid or s was not made by
// Init.
func (k *RWMH) StepWith(rng *rand.Rand, s State, p Params) (State, Info, error) {
	checkKernelStep("RWMH", rng, s, k.d, true, false)
	if err := p.check("RWMH.StepWith", k.d); err != nil {
		return State{}, Info{}, err
	}
	if err := k.propose(rng, s, p); err != nil {
		return s, Info{}, err
	}
	n, d := s.N, k.d
	info := k.info.info(n, false)
	for c := 0; c < n; c++ {
		u := rng.Float64()
		if k.bad[c] {
			info.Divergent[c] = true
			continue
		}
		a := math.Min(1, math.Exp(k.fp[c]-s.F[c]))
		info.AcceptProb[c] = a
		if u < a {
			info.Accepted[c] = true
			copy(s.X[c*d:(c+1)*d], k.xp[c*d:(c+1)*d])
			s.F[c] = k.fp[c]
		}
	}
	info.StepSize = p.StepSize
	return s, info, nil
}

func (k *RWMH) propose(rng *rand.Rand, s State, p Params) error {
	n, d := s.N, k.d
	if len(k.fp) != n {
		k.xp, k.fp, k.bad = make([]float64, n*d), make([]float64, n), make([]bool, n)
	}
	for c := 0; c < n; c++ {
		x, xp := s.X[c*d:(c+1)*d], k.xp[c*d:(c+1)*d]
		for i := range xp {
			sd := p.StepSize
			if p.InvMass != nil {
				sd *= math.Sqrt(p.InvMass[i])
			}
			xp[i] = x[i] + sd*rng.NormFloat64()
		}
		k.bad[c] = !finiteRow(xp)
		if k.bad[c] {
			copy(xp, x)
		}
	}
	if err := k.e.F(k.fp, k.xp); err != nil {
		return fmt.Errorf("sampling: RWMH: %w", err)
	}
	for c := 0; c < n; c++ {
		if math.IsNaN(k.fp[c]) || math.IsInf(k.fp[c], 1) {
			k.bad[c] = true // f = −Inf is a plain rejection: zero density
		}
	}
	return nil
}

func (k *RWMH) probe(rng *rand.Rand, s State, p Params) (float64, int, error) {
	checkKernelStep("RWMH", rng, s, k.d, true, false)
	if err := p.check("RWMH probe", k.d); err != nil {
		return 0, 0, err
	}
	if err := k.propose(rng, s, p); err != nil {
		return 0, 0, err
	}
	var sum float64
	for c := 0; c < s.N; c++ {
		if !k.bad[c] {
			sum += math.Min(1, math.Exp(k.fp[c]-s.F[c]))
		}
	}
	return sum / float64(s.N), 0, nil
}

package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// MALAConfig configures the Metropolis-adjusted Langevin algorithm. The
// zero value is a valid configuration.
type MALAConfig struct {
	// StepSize is h in the proposal x' = x + h·M⁻¹∇f(x) + √(2h)·M^(−½)ξ.
	// Zero means 0.5 (the proposal of one HMC leapfrog step with ε = 1);
	// Run's warm-up starts with a search for a reasonable value and then
	// tunes it towards an acceptance of 0.574.
	StepSize float64
	// InvMass is the initial diagonal preconditioner M⁻¹ (it should
	// approximate the target's variances); nil means the identity.
	InvMass []float64
	// Adapt configures the warm-up adaptation of h and M⁻¹. Its zero
	// TargetAccept means 0.574, the optimum of Roberts & Rosenthal (1998).
	Adapt AdaptConfig
}

// MALA is the Metropolis-adjusted Langevin algorithm with a diagonal
// preconditioner: a Langevin proposal corrected by a Metropolis–Hastings
// accept/reject step, so that exp(f) is its exact stationary density. It
// costs one batched gradient evaluation per transition. See doc.go.
//
// A proposal with a NaN or Inf energy or gradient is rejected and marked
// divergent. A MALA is not safe for concurrent use.
type MALA struct {
	cfg  MALAConfig
	e    energy.Differentiable
	d    int
	p    Params
	ones []float64
	// Proposal buffers.
	xp, gp, fp, logA []float64
	bad              []bool
	info             infoBuffers
}

var (
	_ Kernel   = (*MALA)(nil)
	_ Adaptive = (*MALA)(nil)
	_ tunable  = (*MALA)(nil)
)

// NewMALA returns a MALA kernel for e. It panics if e is nil and returns
// an error for an invalid configuration.
func NewMALA(e energy.Differentiable, cfg MALAConfig) (*MALA, error) {
	if e == nil {
		panic("sampling: NewMALA: nil energy")
	}
	d := e.Dim()
	if err := checkHamiltonianConfig("NewMALA", "MALAConfig", d, cfg.StepSize, cfg.InvMass, 0, cfg.Adapt); err != nil {
		return nil, err
	}
	k := &MALA{cfg: cfg, e: e, d: d}
	k.p = Params{StepSize: defaultIfZero(cfg.StepSize, 0.5), InvMass: cloneOrNil(cfg.InvMass)}
	k.ones = make([]float64, d)
	for i := range k.ones {
		k.ones[i] = 1
	}
	return k, nil
}

// Init evaluates f and ∇f at the n starting positions x. It returns an
// error wrapping ErrDiverged if any chain starts where f or ∇f is not
// finite.
func (k *MALA) Init(x []float64, n int) (State, error) { return initGrad("MALA", k.e, x, n) }

// Step is StepWith with the kernel's current parameters.
func (k *MALA) Step(rng *rand.Rand, s State) (State, Info, error) { return k.StepWith(rng, s, k.p) }

// Params returns a copy of the parameters Step uses.
func (k *MALA) Params() Params { return k.p.Clone() }

// SetParams sets the parameters Step uses (copying p), or returns an error
// and keeps the old ones if p is invalid.
func (k *MALA) SetParams(p Params) error {
	if err := p.check("MALA.SetParams", k.d); err != nil {
		return err
	}
	k.p = p.Clone()
	return nil
}

// NewAdapter returns Stan's windowed adaptation of h and the diagonal
// preconditioner over warmup iterations (see AdaptConfig).
func (k *MALA) NewAdapter(warmup int) (Adapter, error) {
	return newWindowAdapter(k, k.cfg.Adapt, warmup, k.d)
}

func (k *MALA) targetAccept() float64 { return 0.574 }

// StepWith advances every chain of s by one MALA transition with step
// size h = p.StepSize and preconditioner p.InvMass: it proposes
// x' ~ N(x + h·M⁻¹∇f(x), 2h·M⁻¹) and accepts with probability
// min(1, exp(f(x') − f(x)) q(x | x') / q(x' | x)). It panics if p is
// invalid or s was not made by Init.
func (k *MALA) StepWith(rng *rand.Rand, s State, p Params) (State, Info, error) {
	checkKernelStep("MALA", rng, s, k.d, true, true)
	if err := p.check("MALA.StepWith", k.d); err != nil {
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
		a := math.Min(1, math.Exp(k.logA[c]))
		info.AcceptProb[c] = a
		if u < a {
			info.Accepted[c] = true
			copy(s.X[c*d:(c+1)*d], k.xp[c*d:(c+1)*d])
			copy(s.Grad[c*d:(c+1)*d], k.gp[c*d:(c+1)*d])
			s.F[c] = k.fp[c]
		}
	}
	info.GradEvals = 1
	info.StepSize = p.StepSize
	return s, info, nil
}

// propose draws a proposal for every chain into xp, evaluates f and ∇f
// there, and sets logA to the log Metropolis–Hastings ratio and bad for
// proposals with a non-finite position, energy or gradient.
func (k *MALA) propose(rng *rand.Rand, s State, p Params) error {
	n, d := s.N, k.d
	if len(k.fp) != n {
		k.xp, k.gp = make([]float64, n*d), make([]float64, n*d)
		k.fp, k.logA, k.bad = make([]float64, n), make([]float64, n), make([]bool, n)
	}
	h := p.StepSize
	invM := p.InvMass
	if invM == nil {
		invM = k.ones
	}
	for c := 0; c < n; c++ {
		x, g, xp := s.X[c*d:(c+1)*d], s.Grad[c*d:(c+1)*d], k.xp[c*d:(c+1)*d]
		for i := range xp {
			xp[i] = x[i] + h*invM[i]*g[i] + math.Sqrt(2*h*invM[i])*rng.NormFloat64()
		}
		k.bad[c] = !finiteRow(xp)
		if k.bad[c] {
			copy(xp, x) // never evaluate the energy at Inf or NaN
		}
	}
	if err := k.e.FGrad(k.fp, k.gp, k.xp); err != nil {
		return fmt.Errorf("sampling: MALA: %w", err)
	}
	for c := 0; c < n; c++ {
		x, g := s.X[c*d:(c+1)*d], s.Grad[c*d:(c+1)*d]
		xp, gp := k.xp[c*d:(c+1)*d], k.gp[c*d:(c+1)*d]
		if k.bad[c] || !isFiniteF(k.fp[c]) || !finiteRow(gp) {
			k.bad[c] = true
			continue
		}
		// log q(x'|x) = −Σ (x' − x − h M⁻¹∇f(x))² / (4h M⁻¹) + const.
		var fwd, bwd float64
		for i := range xp {
			a := xp[i] - x[i] - h*invM[i]*g[i]
			b := x[i] - xp[i] - h*invM[i]*gp[i]
			fwd += a * a / invM[i]
			bwd += b * b / invM[i]
		}
		k.logA[c] = k.fp[c] - s.F[c] + (fwd-bwd)/(4*h)
		if math.IsNaN(k.logA[c]) {
			k.bad[c] = true
		}
	}
	return nil
}

func (k *MALA) probe(rng *rand.Rand, s State, p Params) (float64, int, error) {
	checkKernelStep("MALA", rng, s, k.d, true, true)
	if err := p.check("MALA probe", k.d); err != nil {
		return 0, 0, err
	}
	if err := k.propose(rng, s, p); err != nil {
		return 0, 1, err
	}
	var sum float64
	for c := 0; c < s.N; c++ {
		if !k.bad[c] {
			sum += math.Min(1, math.Exp(k.logA[c]))
		}
	}
	return sum / float64(s.N), 1, nil
}

package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// HMCConfig configures Hamiltonian Monte Carlo. The zero value is a valid
// configuration: Stan's defaults, 10 leapfrog steps, identity mass matrix.
type HMCConfig struct {
	// StepSize is the leapfrog step ε. Zero means 1, Stan's default;
	// Run's warm-up starts with a search for a reasonable value from it
	// and then tunes it.
	StepSize float64
	// NumSteps is the number of leapfrog steps L per transition. Zero
	// means 10. Ignored when TrajectoryLength is set.
	NumSteps int
	// TrajectoryLength, if positive, fixes the integration time T instead
	// of the number of steps: each transition takes max(1, ⌊T/ε⌋) steps,
	// so that trajectories keep their length while ε adapts (Stan's
	// int_time), but at most MaxSteps.
	TrajectoryLength float64
	// MaxSteps caps the number of steps TrajectoryLength asks for, lest a
	// step size driven down by divergences (walls, NaN regions) make a
	// transition endless. Zero means 1023, the most NUTS takes by default.
	MaxSteps int
	// Jitter, in [0, 1), draws each transition's step size uniformly from
	// [ε(1−Jitter), ε(1+Jitter)], the same for all chains of the batch, to
	// break periodic trajectories. Zero means no jitter.
	Jitter float64
	// InvMass is the initial diagonal of the inverse mass matrix M⁻¹, one
	// value per dimension; nil means the identity.
	InvMass []float64
	// MaxEnergyError is the bound on the energy error H(q, p) − H(q₀, p₀)
	// above which a trajectory counts as divergent. Zero means 1000, as
	// in Stan.
	MaxEnergyError float64
	// Adapt configures the warm-up adaptation of ε and M⁻¹.
	Adapt AdaptConfig
}

// HMC is Hamiltonian Monte Carlo with a leapfrog integrator, a diagonal
// mass matrix and a Metropolis correction, run on a batch of chains that
// share one energy call per leapfrog step (see doc.go).
//
// A trajectory whose energy error exceeds MaxEnergyError, or whose energy
// or gradient is NaN or Inf, is divergent: it is stopped there, the
// transition is rejected and Info.Divergent marks the chain.
//
// An HMC is not safe for concurrent use: it keeps its work buffers and the
// slices of the Info it returns.
type HMC struct {
	cfg  HMCConfig
	e    energy.Differentiable
	d    int
	p    Params
	ham  hamiltonian
	info infoBuffers
}

var (
	_ Kernel   = (*HMC)(nil)
	_ Adaptive = (*HMC)(nil)
	_ tunable  = (*HMC)(nil)
)

// NewHMC returns an HMC kernel for e. It panics if e is nil and returns an
// error for an invalid configuration.
func NewHMC(e energy.Differentiable, cfg HMCConfig) (*HMC, error) {
	if e == nil {
		panic("sampling: NewHMC: nil energy")
	}
	d := e.Dim()
	if err := checkHamiltonianConfig("NewHMC", "HMCConfig", d, cfg.StepSize, cfg.InvMass, cfg.MaxEnergyError, cfg.Adapt); err != nil {
		return nil, err
	}
	switch {
	case cfg.NumSteps < 0 || cfg.MaxSteps < 0:
		return nil, fmt.Errorf("sampling: NewHMC: HMCConfig.NumSteps = %d, MaxSteps = %d: negative", cfg.NumSteps, cfg.MaxSteps)
	case !(cfg.TrajectoryLength >= 0) || math.IsInf(cfg.TrajectoryLength, 0):
		return nil, fmt.Errorf("sampling: NewHMC: HMCConfig.TrajectoryLength = %v, want a finite value ≥ 0", cfg.TrajectoryLength)
	case !(cfg.Jitter >= 0 && cfg.Jitter < 1):
		return nil, fmt.Errorf("sampling: NewHMC: HMCConfig.Jitter = %v is outside [0, 1)", cfg.Jitter)
	}
	if cfg.NumSteps == 0 {
		cfg.NumSteps = 10
	}
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = 1023
	}
	k := &HMC{cfg: cfg, e: e, d: d}
	k.p = Params{StepSize: defaultIfZero(cfg.StepSize, 1), InvMass: cloneOrNil(cfg.InvMass)}
	k.ham = newHamiltonian(e, cfg.MaxEnergyError)
	return k, nil
}

// Init evaluates f and ∇f at the n starting positions x. It returns an
// error wrapping ErrDiverged if any chain starts where f or ∇f is not
// finite.
func (k *HMC) Init(x []float64, n int) (State, error) { return initGrad("HMC", k.e, x, n) }

// Step is StepWith with the kernel's current parameters.
func (k *HMC) Step(rng *rand.Rand, s State) (State, Info, error) { return k.StepWith(rng, s, k.p) }

// Params returns a copy of the parameters Step uses.
func (k *HMC) Params() Params { return k.p.Clone() }

// SetParams sets the parameters Step uses (copying p), or returns an error
// and keeps the old ones if p is invalid.
func (k *HMC) SetParams(p Params) error {
	if err := p.check("HMC.SetParams", k.d); err != nil {
		return err
	}
	k.p = p.Clone()
	return nil
}

// NewAdapter returns Stan's windowed adaptation of the step size and
// diagonal mass matrix over warmup iterations (see AdaptConfig).
func (k *HMC) NewAdapter(warmup int) (Adapter, error) {
	return newWindowAdapter(k, k.cfg.Adapt, warmup, k.d)
}

func (k *HMC) targetAccept() float64 { return 0.8 }

// NumSteps returns the number of leapfrog steps a transition with step
// size eps takes.
func (k *HMC) NumSteps(eps float64) int {
	if k.cfg.TrajectoryLength > 0 {
		return max(1, int(math.Min(k.cfg.TrajectoryLength/eps, float64(k.cfg.MaxSteps))))
	}
	return k.cfg.NumSteps
}

// StepWith advances every chain of s by one HMC transition with
// parameters p: momenta p ~ N(0, M), L leapfrog steps of size ε, and a
// Metropolis accept/reject on H = −f(q) + ½·pᵀM⁻¹p. It panics if p is
// invalid or s was not made by Init.
func (k *HMC) StepWith(rng *rand.Rand, s State, p Params) (State, Info, error) {
	checkKernelStep("HMC", rng, s, k.d, true, true)
	if err := p.check("HMC.StepWith", k.d); err != nil {
		return State{}, Info{}, err
	}
	n, d := s.N, k.d
	h := &k.ham
	h.ensure(n, d)
	invM := h.invMass(p)
	eps := p.StepSize
	steps := k.NumSteps(eps)
	if k.cfg.Jitter > 0 {
		eps *= 1 + k.cfg.Jitter*(2*rng.Float64()-1)
	}
	q, mom, g, f := h.q[:n*d], h.mom[:n*d], h.g[:n*d], h.f[:n]
	copy(q, s.X)
	copy(g, s.Grad)
	copy(f, s.F)
	h.sampleMomentum(rng, mom, invM)
	info := k.info.info(n, true)
	for c := 0; c < n; c++ {
		h.h0[c] = -f[c] + kinetic(mom[c*d:(c+1)*d], invM)
		h.h1[c] = h.h0[c]
		h.eps[c] = eps
	}
	active, evals := n, 0
	for l := 0; l < steps && active > 0; l++ {
		if err := h.leapfrog(q, mom, g, f, h.eps[:n], invM, s.X); err != nil {
			return s, info, fmt.Errorf("sampling: HMC: %w", err)
		}
		evals++
		for c := 0; c < n; c++ {
			if h.eps[c] == 0 {
				continue
			}
			info.Leapfrogs[c]++
			h.h1[c] = -f[c] + kinetic(mom[c*d:(c+1)*d], invM)
			if !(h.h1[c]-h.h0[c] <= h.maxErr) {
				info.Divergent[c] = true
				h.eps[c] = 0
				copy(q[c*d:(c+1)*d], s.X[c*d:(c+1)*d])
				active--
			}
		}
	}
	for c := 0; c < n; c++ {
		u := rng.Float64()
		if info.Divergent[c] {
			continue
		}
		a := math.Min(1, math.Exp(h.h0[c]-h.h1[c]))
		info.AcceptProb[c] = a
		if u < a {
			info.Accepted[c] = true
			copy(s.X[c*d:(c+1)*d], q[c*d:(c+1)*d])
			copy(s.Grad[c*d:(c+1)*d], g[c*d:(c+1)*d])
			s.F[c] = f[c]
		}
	}
	info.GradEvals = evals
	info.StepSize = eps
	return s, info, nil
}

func (k *HMC) probe(rng *rand.Rand, s State, p Params) (float64, int, error) {
	checkKernelStep("HMC", rng, s, k.d, true, true)
	return k.ham.probe(rng, s, p)
}

// hamiltonian is what HMC and NUTS share: the energy, the divergence
// bound, and batched leapfrog integration with its buffers.
type hamiltonian struct {
	e      energy.Differentiable
	maxErr float64
	ones   []float64 // the identity metric

	// Work buffers for HMC and the step-size probe, sized for n chains.
	q, mom, g, f  []float64
	eps, h0, h1   []float64
	overflow      []bool
	bufN, bufDims int
}

func newHamiltonian(e energy.Differentiable, maxErr float64) hamiltonian {
	h := hamiltonian{e: e, maxErr: defaultIfZero(maxErr, 1000)}
	h.ones = make([]float64, e.Dim())
	for i := range h.ones {
		h.ones[i] = 1
	}
	return h
}

func (h *hamiltonian) ensure(n, d int) {
	if h.bufN >= n && h.bufDims == d {
		return
	}
	h.bufN, h.bufDims = n, d
	h.q, h.mom, h.g = make([]float64, n*d), make([]float64, n*d), make([]float64, n*d)
	h.f, h.eps, h.h0, h.h1 = make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	h.overflow = make([]bool, n)
}

func (h *hamiltonian) invMass(p Params) []float64 {
	if p.InvMass == nil {
		return h.ones
	}
	return p.InvMass
}

// sampleMomentum fills mom (rows of length len(invM)) with draws from
// N(0, M), M = diag(1/invM).
func (h *hamiltonian) sampleMomentum(rng *rand.Rand, mom, invM []float64) {
	d := len(invM)
	for c := 0; c < len(mom)/d; c++ {
		row := mom[c*d : (c+1)*d]
		for i := range row {
			row[i] = rng.NormFloat64() / math.Sqrt(invM[i])
		}
	}
}

// kinetic returns ½·pᵀM⁻¹p.
func kinetic(p, invM []float64) float64 {
	var k float64
	for i, v := range p {
		k += invM[i] * v * v
	}
	return k / 2
}

// leapfrog moves every chain c with eps[c] ≠ 0 by one leapfrog step of
// signed size eps[c]: p += ε/2·∇f(q); q += ε·M⁻¹p; p += ε/2·∇f(q), with one
// batched energy call for all chains (q, mom, g, f are the batch's rows).
// Chains with eps[c] = 0 keep their position. A chain whose new position
// overflows is put back at its row of safe, and its f is set to NaN so the
// caller sees a divergence; the energy is never evaluated at non-finite
// positions.
func (h *hamiltonian) leapfrog(q, mom, g, f, eps, invM, safe []float64) error {
	d := len(invM)
	n := len(f)
	over := h.overflow[:n]
	for c := 0; c < n; c++ {
		e := eps[c]
		over[c] = false
		if e == 0 {
			continue
		}
		qr, pr, gr := q[c*d:(c+1)*d], mom[c*d:(c+1)*d], g[c*d:(c+1)*d]
		for i := range qr {
			pr[i] += 0.5 * e * gr[i]
			qr[i] += e * invM[i] * pr[i]
		}
		if !finiteRow(qr) {
			copy(qr, safe[c*d:(c+1)*d])
			over[c] = true
		}
	}
	if err := h.e.FGrad(f, g, q); err != nil {
		return err
	}
	for c := 0; c < n; c++ {
		e := eps[c]
		if e == 0 {
			continue
		}
		if over[c] {
			f[c] = math.NaN()
			continue
		}
		pr, gr := mom[c*d:(c+1)*d], g[c*d:(c+1)*d]
		for i := range pr {
			pr[i] += 0.5 * e * gr[i]
		}
	}
	return nil
}

// probe returns the mean over chains of min(1, exp(−ΔH)) for one leapfrog
// step of size p.StepSize from s with fresh momenta, leaving s unchanged.
func (h *hamiltonian) probe(rng *rand.Rand, s State, p Params) (float64, int, error) {
	if err := p.check("probe", s.D); err != nil {
		return 0, 0, err
	}
	n, d := s.N, s.D
	h.ensure(n, d)
	invM := h.invMass(p)
	q, mom, g, f := h.q[:n*d], h.mom[:n*d], h.g[:n*d], h.f[:n]
	copy(q, s.X)
	copy(g, s.Grad)
	copy(f, s.F)
	h.sampleMomentum(rng, mom, invM)
	for c := 0; c < n; c++ {
		h.h0[c] = -f[c] + kinetic(mom[c*d:(c+1)*d], invM)
		h.eps[c] = p.StepSize
	}
	if err := h.leapfrog(q, mom, g, f, h.eps[:n], invM, s.X); err != nil {
		return 0, 1, fmt.Errorf("sampling: step-size search: %w", err)
	}
	var sum float64
	for c := 0; c < n; c++ {
		dh := h.h0[c] - (-f[c] + kinetic(mom[c*d:(c+1)*d], invM))
		if dh >= 0 {
			sum++
		} else if dh < 0 {
			sum += math.Exp(dh) // NaN counts as 0
		}
	}
	return sum / float64(n), 1, nil
}

// initGrad is the Init of the gradient-based kernels: it copies x and
// evaluates f and ∇f there.
func initGrad(name string, e energy.Differentiable, x []float64, n int) (State, error) {
	d := e.Dim()
	if err := checkKernelInit(name, d, x, n); err != nil {
		return State{}, err
	}
	s := State{N: n, D: d, X: append([]float64(nil), x...), F: make([]float64, n), Grad: make([]float64, n*d)}
	if err := e.FGrad(s.F, s.Grad, s.X); err != nil {
		return State{}, fmt.Errorf("sampling: %s.Init: %w", name, err)
	}
	if err := checkKernelStart(name, s.F, s.Grad, d); err != nil {
		return State{}, err
	}
	return s, nil
}

// checkHamiltonianConfig validates the fields HMC, NUTS and MALA share.
func checkHamiltonianConfig(fn, typ string, d int, stepSize float64, invMass []float64, maxErr float64, ad AdaptConfig) error {
	switch {
	case d <= 0:
		return fmt.Errorf("sampling: %s: energy has dimension %d", fn, d)
	case !(stepSize >= 0) || math.IsInf(stepSize, 0):
		return fmt.Errorf("sampling: %s: %s.StepSize = %v, want a finite value ≥ 0", fn, typ, stepSize)
	case !(maxErr >= 0):
		return fmt.Errorf("sampling: %s: %s.MaxEnergyError = %v is negative", fn, typ, maxErr)
	}
	if invMass != nil {
		if len(invMass) != d {
			return fmt.Errorf("sampling: %s: %s.InvMass has %d values for an energy of dimension %d", fn, typ, len(invMass), d)
		}
		for i, v := range invMass {
			if !(v > 0) || math.IsInf(v, 0) {
				return fmt.Errorf("sampling: %s: %s.InvMass[%d] = %v, want positive and finite", fn, typ, i, v)
			}
		}
	}
	return checkAdaptConfig(fn, typ, ad)
}

func checkAdaptConfig(fn, typ string, a AdaptConfig) error {
	switch {
	case a.TargetAccept != 0 && !(a.TargetAccept > 0 && a.TargetAccept < 1):
		return fmt.Errorf("sampling: %s: %s.Adapt.TargetAccept = %v is outside (0, 1)", fn, typ, a.TargetAccept)
	case !(a.Gamma >= 0) || !(a.T0 >= 0) || !(a.Kappa >= 0) || a.Kappa > 1:
		return fmt.Errorf("sampling: %s: %s.Adapt dual-averaging constants γ = %v, t0 = %v, κ = %v: want γ, t0 ≥ 0 and κ in [0, 1]", fn, typ, a.Gamma, a.T0, a.Kappa)
	case a.InitBuffer < 0 || a.Window < 0 || a.TermBuffer < 0:
		return fmt.Errorf("sampling: %s: %s.Adapt windows %d, %d, %d: negative length", fn, typ, a.InitBuffer, a.Window, a.TermBuffer)
	}
	return nil
}

func cloneOrNil(v []float64) []float64 {
	if v == nil {
		return nil
	}
	return append([]float64(nil), v...)
}

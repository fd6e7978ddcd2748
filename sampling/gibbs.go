package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

var (
	_ Kernel    = (*Gibbs)(nil)
	_ Kernel    = (*BlockGibbs)(nil)
	_ Bipartite = (*energy.RBM)(nil)
)

// Scan is the order in which [Gibbs] updates the variables.
type Scan int

const (
	// SystematicScan updates variables 0, 1, …, D−1 in turn: one Step is
	// one sweep.
	SystematicScan Scan = iota
	// PermutationScan updates every variable once per Step, in a fresh
	// uniformly random order each Step.
	PermutationScan
	// RandomScan updates GibbsConfig.Updates variables per Step, each drawn
	// uniformly with replacement.
	RandomScan
)

func (s Scan) String() string {
	switch s {
	case SystematicScan:
		return "systematic"
	case PermutationScan:
		return "permutation"
	case RandomScan:
		return "random"
	}
	return fmt.Sprintf("Scan(%d)", int(s))
}

// GibbsConfig configures [Gibbs]. The zero value is a systematic scan, one
// sweep per Step.
type GibbsConfig struct {
	// Scan is the update order. The zero value is SystematicScan.
	Scan Scan
	// Updates is the number of variables RandomScan updates per Step. Zero
	// means Dim(), one sweep's worth. Other scans ignore it.
	Updates int
}

// Gibbs is single-site Gibbs sampling for a discrete energy. One Step is a
// sweep: Dim() updates per chain (every variable once, or Dim() random
// sites with RandomScan), where GWG's Step is a single flip proposal. Each
// update redraws one variable x_i from its exact conditional
//
//	p(x_i = v_k | x_−i) ∝ exp(f(x with x_i = v_k)),  v_k ∈ Values(),
//
// which leaves p ∝ exp(f) invariant. Binary and categorical variables are
// handled alike. When the energy implements SiteLogits (an
// energy.SiteConditional), the conditional comes from it in one call per
// variable; otherwise Gibbs evaluates f at all K values of the variable for
// every chain, a batch of N·K samples per update.
//
// All chains update the same variable at the same time (the energy's
// SiteLogits works on one variable for the whole batch); under
// PermutationScan and RandomScan the chains therefore share their random
// order of variables, which leaves each chain a valid sampler but makes
// chains dependent through it. Use SystematicScan where independent
// chains matter (AIS weights and their standard error, R̂ across chains).
//
// State.F is kept equal to f(x): evaluated at Init and then updated with
// the log-ratio of every accepted change. Info.Accepted reports whether a
// chain changed any variable; AcceptProb is 1. A conditional with a NaN or
// +Inf log-weight, or with no value of finite log-weight, leaves the
// variable as it was and marks the chain Divergent.
//
// A Gibbs is not safe for concurrent use: it keeps its work buffers and
// the slices of the Info it returns.
type Gibbs struct {
	cfg    GibbsConfig
	e      energy.Discrete
	sc     energy.SiteConditional // nil when e has no SiteLogits
	values []float64
	dim    int

	// Work space, sized for n chains on first use.
	n      int
	logits []float64 // n·K
	rep    []float64 // n·K·D replicas (no SiteLogits)
	frep   []float64 // n·K energies of the replicas
	probs  []float64 // K scratch
	perm   []int
	info   Info
}

// NewGibbs returns a Gibbs sampler for e. It panics if e is nil, and
// returns an error if e has no variables, if its Values are fewer than
// two, not finite or not distinct, or if cfg is invalid.
func NewGibbs(e energy.Discrete, cfg GibbsConfig) (*Gibbs, error) {
	if e == nil {
		panic("sampling: NewGibbs: nil energy")
	}
	vals, err := checkValues("NewGibbs", e)
	if err != nil {
		return nil, err
	}
	switch cfg.Scan {
	case SystematicScan, PermutationScan, RandomScan:
	default:
		return nil, fmt.Errorf("sampling: NewGibbs: GibbsConfig.Scan = %v is not a known scan", cfg.Scan)
	}
	if cfg.Updates < 0 {
		return nil, fmt.Errorf("sampling: NewGibbs: GibbsConfig.Updates = %d is negative", cfg.Updates)
	}
	g := &Gibbs{cfg: cfg, e: e, values: vals, dim: e.Dim()}
	g.sc, _ = e.(energy.SiteConditional)
	return g, nil
}

// checkValues validates the dimension and value set of a discrete energy
// and returns a copy of the values.
func checkValues(fn string, e energy.Discrete) ([]float64, error) {
	if e.Dim() <= 0 {
		return nil, fmt.Errorf("sampling: %s: energy has dimension %d", fn, e.Dim())
	}
	vals := append([]float64(nil), e.Values()...)
	if len(vals) < 2 {
		return nil, fmt.Errorf("sampling: %s: energy's Values %v has fewer than two values", fn, vals)
	}
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sampling: %s: energy's Values %v holds the non-finite %v", fn, vals, v)
		}
		for _, w := range vals[:i] {
			if v == w {
				return nil, fmt.Errorf("sampling: %s: energy's Values %v repeats %v", fn, vals, v)
			}
		}
	}
	return vals, nil
}

// checkDiscreteStart validates a starting batch: its length and that every
// variable takes one of vals.
func checkDiscreteStart(fn string, x []float64, n, dim int, vals []float64) error {
	if n <= 0 {
		return fmt.Errorf("sampling: %s: %d chains, want at least one: %w", fn, n, energy.ErrShape)
	}
	if len(x) != n*dim {
		return fmt.Errorf("sampling: %s: %d starting values for %d chains of dimension %d, want %d: %w", fn, len(x), n, dim, n*dim, energy.ErrShape)
	}
	for j, v := range x {
		if valueIndex(vals, v) < 0 {
			return fmt.Errorf("sampling: %s: chain %d variable %d is %v, not one of the energy's values %v", fn, j/dim, j%dim, v, vals)
		}
	}
	return nil
}

func valueIndex(vals []float64, v float64) int {
	for k, w := range vals {
		if v == w {
			return k
		}
	}
	return -1
}

// Init returns the state of n chains started at x (copied), with F = f(x).
// It returns an error if a variable is not one of the energy's Values, if
// the energy fails, or (wrapping ErrDiverged) if f is NaN or ±Inf at a
// starting point.
func (g *Gibbs) Init(x []float64, n int) (State, error) {
	g.mustBuilt()
	if err := checkDiscreteStart("Gibbs.Init", x, n, g.dim, g.values); err != nil {
		return State{}, err
	}
	s := State{N: n, D: g.dim, X: append([]float64(nil), x...), F: make([]float64, n)}
	if err := g.e.F(s.F, s.X); err != nil {
		return State{}, fmt.Errorf("sampling: Gibbs.Init: %w", err)
	}
	if err := checkFinite("Gibbs.Init", s.F); err != nil {
		return State{}, err
	}
	g.resize(n)
	return s, nil
}

// checkFinite returns an error wrapping ErrDiverged naming the first
// chain whose f is not finite.
func checkFinite(fn string, f []float64) error {
	for c, v := range f {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("sampling: %s: f = %v at the start of chain %d: %w", fn, v, c, ErrDiverged)
		}
	}
	return nil
}

func (g *Gibbs) mustBuilt() {
	if g.e == nil {
		panic("sampling: Gibbs not made by NewGibbs")
	}
}

// resize makes the work space fit n chains.
func (g *Gibbs) resize(n int) {
	if g.n == n && g.logits != nil {
		return
	}
	k := len(g.values)
	g.n = n
	g.logits = make([]float64, n*k)
	if g.sc == nil {
		g.rep = make([]float64, n*k*g.dim)
		g.frep = make([]float64, n*k)
	}
	g.perm = make([]int, g.dim)
	g.probs = make([]float64, k)
	g.info = Info{AcceptProb: make([]float64, n), Accepted: make([]bool, n), Divergent: make([]bool, n)}
}

// Step performs one sweep (or Updates single-variable updates under
// RandomScan) on every chain. It returns an error only if the energy
// fails; the state then holds the updates made before the failure.
func (g *Gibbs) Step(rng *rand.Rand, s State) (State, Info, error) {
	g.mustBuilt()
	if rng == nil {
		panic("sampling: Gibbs.Step: nil rng")
	}
	if s.D != g.dim || len(s.X) != s.N*s.D || len(s.F) != s.N {
		panic(fmt.Sprintf("sampling: Gibbs.Step: state of %d chains × %d (%d values, %d energies) is not from this kernel's Init (dimension %d)", s.N, s.D, len(s.X), len(s.F), g.dim))
	}
	g.resize(s.N)
	for c := range s.N {
		g.info.AcceptProb[c] = 1
		g.info.Accepted[c] = false
		g.info.Divergent[c] = false
	}
	g.info.GradEvals = 0
	k, d := len(g.values), g.dim
	if g.sc == nil {
		for r := range s.N * k {
			copy(g.rep[r*d:(r+1)*d], s.X[(r/k)*d:(r/k+1)*d])
		}
	}
	updates := d
	if g.cfg.Scan == RandomScan && g.cfg.Updates > 0 {
		updates = g.cfg.Updates
	}
	if g.cfg.Scan == PermutationScan {
		for i := range g.perm {
			g.perm[i] = i
		}
		rng.Shuffle(d, func(a, b int) { g.perm[a], g.perm[b] = g.perm[b], g.perm[a] })
	}
	for u := range updates {
		var i int
		switch g.cfg.Scan {
		case SystematicScan:
			i = u
		case PermutationScan:
			i = g.perm[u]
		default:
			i = rng.IntN(d)
		}
		var err error
		if g.sc != nil {
			err = g.updateSite(rng, s, i)
		} else {
			err = g.updateEval(rng, s, i)
		}
		if err != nil {
			return s, g.info, err
		}
	}
	return s, g.info, nil
}

// updateSite redraws variable i of every chain from the energy's
// SiteLogits.
func (g *Gibbs) updateSite(rng *rand.Rand, s State, i int) error {
	if err := g.sc.SiteLogits(g.logits, s.X, i); err != nil {
		return fmt.Errorf("sampling: Gibbs: conditional of variable %d: %w", i, err)
	}
	k, d := len(g.values), g.dim
	for c := range s.N {
		l := g.logits[c*k : (c+1)*k]
		j := sampleLogits(rng, l, g.probs)
		if j < 0 {
			g.info.Divergent[c] = true
			continue
		}
		if v := g.values[j]; v != s.X[c*d+i] {
			s.X[c*d+i] = v
			s.F[c] += l[j]
			g.info.Accepted[c] = true
		}
	}
	return nil
}

// updateEval redraws variable i of every chain by evaluating f at each of
// the K values. Replica c·K+j of chain c holds its current position except
// that variable i of replica j is set to value j.
func (g *Gibbs) updateEval(rng *rand.Rand, s State, i int) error {
	k, d := len(g.values), g.dim
	for r := range s.N * k {
		g.rep[r*d+i] = g.values[r%k]
	}
	if err := g.e.F(g.frep, g.rep); err != nil {
		return fmt.Errorf("sampling: Gibbs: energy at the %d values of variable %d: %w", k, i, err)
	}
	for c := range s.N {
		l := g.frep[c*k : (c+1)*k]
		j := sampleLogits(rng, l, g.probs)
		v := s.X[c*d+i]
		if j < 0 {
			g.info.Divergent[c] = true
		} else {
			if g.values[j] != v {
				v = g.values[j]
				s.X[c*d+i] = v
				g.info.Accepted[c] = true
			}
			s.F[c] = l[j]
		}
		for r := c * k; r < (c+1)*k; r++ {
			g.rep[r*d+i] = v
		}
	}
	return nil
}

// sampleLogits draws an index with probability ∝ exp(l[j]) using one
// uniform from rng; w is scratch of len(l). It returns −1, having still
// drawn the uniform, when a logit is NaN or +Inf or when none is finite.
func sampleLogits(rng *rand.Rand, l, w []float64) int {
	u := rng.Float64()
	m := math.Inf(-1)
	for _, v := range l {
		if v != v || v > math.MaxFloat64 { // NaN or +Inf
			return -1
		}
		if v > m {
			m = v
		}
	}
	if m < -math.MaxFloat64 {
		return -1
	}
	if len(l) == 2 {
		// p(1) = σ(l1 − l0), one exponential.
		if u*(1+math.Exp(l[0]-l[1])) < 1 {
			return 1
		}
		return 0
	}
	var total float64
	for j, v := range l {
		w[j] = math.Exp(v - m)
		total += w[j]
	}
	u *= total
	last := -1
	for j, p := range w[:len(l)] {
		if p == 0 {
			continue
		}
		last = j
		if u < p {
			return j
		}
		u -= p
	}
	return last // rounding left u ≥ the remaining mass
}

// Bipartite is a model of visible units v and hidden units h in which the
// units of each layer are conditionally independent given the other layer,
// such as a restricted Boltzmann machine (energy.RBM). Batches are
// row-major: N visible vectors of Dim() values, N hidden vectors of
// Hidden() values.
type Bipartite interface {
	// Dim is the number of visible units.
	Dim() int
	// Hidden is the number of hidden units.
	Hidden() int
	// SampleHidden sets h to a draw from p(h | v) for each sample of the
	// batch v.
	SampleHidden(rng *rand.Rand, h, v []float64) error
	// SampleVisible sets v to a draw from p(v | h) for each sample of the
	// batch h.
	SampleVisible(rng *rand.Rand, v, h []float64) error
}

// BlockGibbs is block Gibbs sampling for a [Bipartite] model: each Step
// draws all hidden units h ~ p(h | v) and then all visible units
// v ~ p(v | h'). The chain on v leaves the visible marginal p(v) invariant;
// it is the sampler of contrastive divergence (CD-k is k Steps) and of
// persistent CD for RBMs.
//
// State.X holds the visible units; State.F is nil (evaluate the free
// energy when needed). LastHidden returns the hidden units drawn by the
// last Step. Info.Accepted reports whether a chain's visible units changed.
//
// A BlockGibbs is not safe for concurrent use.
type BlockGibbs struct {
	m      Bipartite
	nv, nh int
	h, old []float64
	info   Info
}

// NewBlockGibbs returns a block Gibbs sampler for m. It panics if m is nil
// and returns an error if m has no visible or no hidden units.
func NewBlockGibbs(m Bipartite) (*BlockGibbs, error) {
	if m == nil {
		panic("sampling: NewBlockGibbs: nil model")
	}
	if m.Dim() <= 0 || m.Hidden() <= 0 {
		return nil, fmt.Errorf("sampling: NewBlockGibbs: model has %d visible and %d hidden units", m.Dim(), m.Hidden())
	}
	return &BlockGibbs{m: m, nv: m.Dim(), nh: m.Hidden()}, nil
}

// Init returns the state of n chains whose visible units start at x
// (copied).
func (b *BlockGibbs) Init(x []float64, n int) (State, error) {
	if b.m == nil {
		panic("sampling: BlockGibbs not made by NewBlockGibbs")
	}
	if n <= 0 {
		return State{}, fmt.Errorf("sampling: BlockGibbs.Init: %d chains, want at least one: %w", n, energy.ErrShape)
	}
	if len(x) != n*b.nv {
		return State{}, fmt.Errorf("sampling: BlockGibbs.Init: %d starting values for %d chains of %d visible units, want %d: %w", len(x), n, b.nv, n*b.nv, energy.ErrShape)
	}
	b.resize(n)
	return State{N: n, D: b.nv, X: append([]float64(nil), x...)}, nil
}

func (b *BlockGibbs) resize(n int) {
	if len(b.info.Accepted) == n {
		return
	}
	b.h = make([]float64, n*b.nh)
	b.old = make([]float64, n*b.nv)
	b.info = Info{AcceptProb: make([]float64, n), Accepted: make([]bool, n), Divergent: make([]bool, n)}
}

// Step draws h | v and then v | h for every chain.
func (b *BlockGibbs) Step(rng *rand.Rand, s State) (State, Info, error) {
	if b.m == nil {
		panic("sampling: BlockGibbs not made by NewBlockGibbs")
	}
	if rng == nil {
		panic("sampling: BlockGibbs.Step: nil rng")
	}
	if s.D != b.nv || s.N <= 0 || len(s.X) != s.N*b.nv {
		panic(fmt.Sprintf("sampling: BlockGibbs.Step: state of %d chains × %d with %d values, model has %d visible units", s.N, s.D, len(s.X), b.nv))
	}
	b.resize(s.N)
	copy(b.old, s.X)
	if err := b.m.SampleHidden(rng, b.h, s.X); err != nil {
		return s, b.info, fmt.Errorf("sampling: BlockGibbs: hidden units: %w", err)
	}
	if err := b.m.SampleVisible(rng, s.X, b.h); err != nil {
		copy(s.X, b.old)
		return s, b.info, fmt.Errorf("sampling: BlockGibbs: visible units: %w", err)
	}
	for c := range s.N {
		b.info.AcceptProb[c] = 1
		b.info.Divergent[c] = false
		b.info.Accepted[c] = false
		for i := c * b.nv; i < (c+1)*b.nv; i++ {
			if s.X[i] != b.old[i] {
				b.info.Accepted[c] = true
				break
			}
		}
	}
	return s, b.info, nil
}

// LastHidden returns the hidden units drawn by the last Step, N×Hidden()
// row-major. The slice belongs to the kernel and is overwritten by the
// next Step.
func (b *BlockGibbs) LastHidden() []float64 { return b.h }

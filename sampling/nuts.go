package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// NUTSConfig configures the No-U-Turn sampler. The zero value is a valid
// configuration: Stan's defaults with an identity mass matrix.
type NUTSConfig struct {
	// StepSize is the leapfrog step ε. Zero means 1, Stan's default;
	// Run's warm-up starts with a search for a reasonable value from it
	// and then tunes it.
	StepSize float64
	// InvMass is the initial diagonal of the inverse mass matrix M⁻¹; nil
	// means the identity.
	InvMass []float64
	// MaxDepth bounds the tree depth: a transition takes at most
	// 2^MaxDepth − 1 leapfrog steps. Zero means 10, as in Stan.
	MaxDepth int
	// MaxEnergyError is the bound on the energy error above which a
	// trajectory counts as divergent. Zero means 1000, as in Stan.
	MaxEnergyError float64
	// PerChain builds each chain's tree on its own, calling the energy
	// with one sample at a time, instead of the default lock-step, where
	// all chains extend their trees together in one batched call per
	// leapfrog step and chains that have finished wait (their rows are
	// still evaluated). Lock-step suits batched (neural) energies, whose
	// cost hardly grows with the batch; per-chain suits cheap analytic
	// ones, where the batch would pay for the deepest tree. See doc.go.
	PerChain bool
	// Adapt configures the warm-up adaptation of ε and M⁻¹.
	Adapt AdaptConfig
}

// NUTS is the No-U-Turn sampler as Stan implements it (Hoffman & Gelman
// 2014; Betancourt 2017): trajectories doubled forwards or backwards at
// random until the generalised U-turn criterion holds across the whole
// trajectory or any of its sub-trees, the next state drawn by multinomial
// sampling — biased progressive between trees, uniform within them — with
// a diagonal mass matrix. See doc.go.
//
// A leapfrog step whose energy error exceeds MaxEnergyError, or whose
// energy or gradient is not finite, makes the transition divergent: the
// tree stops growing, the new sub-tree is discarded and Info.Divergent
// marks the chain, which moves only to a point of the earlier tree.
//
// A NUTS is not safe for concurrent use.
type NUTS struct {
	cfg  NUTSConfig
	e    energy.Differentiable
	d    int
	p    Params
	ham  hamiltonian
	info infoBuffers
	b    nutsBuffers
}

var (
	_ Kernel   = (*NUTS)(nil)
	_ Adaptive = (*NUTS)(nil)
	_ tunable  = (*NUTS)(nil)
)

// NewNUTS returns a NUTS kernel for e. It panics if e is nil and returns
// an error for an invalid configuration.
func NewNUTS(e energy.Differentiable, cfg NUTSConfig) (*NUTS, error) {
	if e == nil {
		panic("sampling: NewNUTS: nil energy")
	}
	d := e.Dim()
	if err := checkHamiltonianConfig("NewNUTS", "NUTSConfig", d, cfg.StepSize, cfg.InvMass, cfg.MaxEnergyError, cfg.Adapt); err != nil {
		return nil, err
	}
	if cfg.MaxDepth < 0 || cfg.MaxDepth > 30 {
		return nil, fmt.Errorf("sampling: NewNUTS: NUTSConfig.MaxDepth = %d is outside [0, 30]", cfg.MaxDepth)
	}
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = 10
	}
	k := &NUTS{cfg: cfg, e: e, d: d}
	k.p = Params{StepSize: defaultIfZero(cfg.StepSize, 1), InvMass: cloneOrNil(cfg.InvMass)}
	k.ham = newHamiltonian(e, cfg.MaxEnergyError)
	return k, nil
}

// Init evaluates f and ∇f at the n starting positions x. It returns an
// error wrapping ErrDiverged if any chain starts where f or ∇f is not
// finite.
func (k *NUTS) Init(x []float64, n int) (State, error) { return initGrad("NUTS", k.e, x, n) }

// Step is StepWith with the kernel's current parameters.
func (k *NUTS) Step(rng *rand.Rand, s State) (State, Info, error) { return k.StepWith(rng, s, k.p) }

// Params returns a copy of the parameters Step uses.
func (k *NUTS) Params() Params { return k.p.Clone() }

// SetParams sets the parameters Step uses (copying p), or returns an error
// and keeps the old ones if p is invalid.
func (k *NUTS) SetParams(p Params) error {
	if err := p.check("NUTS.SetParams", k.d); err != nil {
		return err
	}
	k.p = p.Clone()
	return nil
}

// NewAdapter returns Stan's windowed adaptation of the step size and
// diagonal mass matrix over warmup iterations (see AdaptConfig).
func (k *NUTS) NewAdapter(warmup int) (Adapter, error) {
	return newWindowAdapter(k, k.cfg.Adapt, warmup, k.d)
}

func (k *NUTS) targetAccept() float64 { return 0.8 }

func (k *NUTS) probe(rng *rand.Rand, s State, p Params) (float64, int, error) {
	checkKernelStep("NUTS", rng, s, k.d, true, true)
	return k.ham.probe(rng, s, p)
}

// StepWith advances every chain of s by one NUTS transition with
// parameters p. Info.AcceptProb is Stan's acceptance statistic, the mean
// of min(1, exp(−ΔH)) over the trajectory; Info.Accepted reports whether
// the chain moved; Info.Leapfrogs gives each chain's trajectory length,
// Info.TreeDepth the deepest tree, and Info.GradEvals the largest
// trajectory (what the batch paid in lock-step). It panics if p is invalid
// or s was not made by Init.
func (k *NUTS) StepWith(rng *rand.Rand, s State, p Params) (State, Info, error) {
	checkKernelStep("NUTS", rng, s, k.d, true, true)
	if err := p.check("NUTS.StepWith", k.d); err != nil {
		return State{}, Info{}, err
	}
	n, d := s.N, k.d
	b := &k.b
	b.ensure(n, d)
	k.ham.ensure(n, d)
	b.evals = 0
	info := k.info.info(n, true)
	invM := k.ham.invMass(p)
	var err error
	if k.cfg.PerChain {
		for c := 0; c < n && err == nil; c++ {
			err = k.transition(rng, s, c, c+1, p.StepSize, invM)
		}
	} else {
		err = k.transition(rng, s, 0, n, p.StepSize, invM)
	}
	if err != nil {
		// A transition writes to s only at its end: chains whose
		// transition failed are untouched (in per-chain mode, those
		// before have moved), so every chain's state stays valid.
		return s, info, fmt.Errorf("sampling: NUTS: %w", err)
	}
	maxLeap := 0
	for c := 0; c < n; c++ {
		info.AcceptProb[c] = b.sumMetro[c] / float64(max(b.nleap[c], 1))
		info.Accepted[c] = b.moved[c]
		info.Divergent[c] = b.diverged[c]
		info.Leapfrogs[c] = b.nleap[c]
		info.TreeDepth = max(info.TreeDepth, b.depth[c])
		if b.depth[c] == k.cfg.MaxDepth && b.active[c] {
			info.MaxDepthHits++
		}
		maxLeap = max(maxLeap, b.nleap[c])
	}
	info.GradEvals = b.evals
	if k.cfg.PerChain {
		info.GradEvals = maxLeap
	}
	info.StepSize = p.StepSize
	return s, info, nil
}

// nutsPoint is a batch of phase-space points; P is nil for points whose
// momentum is not needed.
type nutsPoint struct{ q, p, g, f []float64 }

func newNUTSPoint(n, d int, momentum bool) nutsPoint {
	z := nutsPoint{q: make([]float64, n*d), g: make([]float64, n*d), f: make([]float64, n)}
	if momentum {
		z.p = make([]float64, n*d)
	}
	return z
}

// copyRow copies chain c of src into dst (the momentum too if both have
// one).
func (dst nutsPoint) copyRow(src nutsPoint, c, d int) {
	copy(dst.q[c*d:(c+1)*d], src.q[c*d:(c+1)*d])
	copy(dst.g[c*d:(c+1)*d], src.g[c*d:(c+1)*d])
	dst.f[c] = src.f[c]
	if dst.p != nil && src.p != nil {
		copy(dst.p[c*d:(c+1)*d], src.p[c*d:(c+1)*d])
	}
}

// nutsLevel holds the locals of one level of the tree recursion.
type nutsLevel struct {
	pInitEnd, pFinalBeg, rhoInit, rhoFinal []float64
	lswInit, lswFinal                      []float64
	propFinal                              nutsPoint
}

// nutsBuffers holds everything a NUTS transition works with, sized once
// for n chains so that steps do not allocate.
type nutsBuffers struct {
	n, d int
	// The working point z, the two ends of the trajectory, the current
	// sample and the proposal of the sub-tree being built.
	z, fwd, bck, sample, propose nutsPoint
	// Momenta at the ends of the forward and backward parts
	// (p_fwd_fwd, p_fwd_bck, p_bck_fwd, p_bck_bck in Stan), the sums of
	// momenta, and the outputs of the sub-tree being built.
	pFF, pFB, pBF, pBB, rho, rhoFwd, rhoBck, newBeg, newEnd, newRho []float64
	h0, lsw, lswSub, sumMetro, dir, eps                             []float64
	nleap, depth                                                    []int
	active, wasActive, diverged, moved                              []bool
	levels                                                          []*nutsLevel
	evals                                                           int
}

func (b *nutsBuffers) ensure(n, d int) {
	if b.n == n && b.d == d {
		return
	}
	*b = nutsBuffers{n: n, d: d}
	b.z, b.fwd, b.bck = newNUTSPoint(n, d, true), newNUTSPoint(n, d, true), newNUTSPoint(n, d, true)
	b.sample, b.propose = newNUTSPoint(n, d, false), newNUTSPoint(n, d, false)
	vecs := []*[]float64{&b.pFF, &b.pFB, &b.pBF, &b.pBB, &b.rho, &b.rhoFwd, &b.rhoBck, &b.newBeg, &b.newEnd, &b.newRho}
	for _, v := range vecs {
		*v = make([]float64, n*d)
	}
	for _, v := range []*[]float64{&b.h0, &b.lsw, &b.lswSub, &b.sumMetro, &b.dir, &b.eps} {
		*v = make([]float64, n)
	}
	b.nleap, b.depth = make([]int, n), make([]int, n)
	b.active, b.wasActive, b.diverged, b.moved = make([]bool, n), make([]bool, n), make([]bool, n), make([]bool, n)
}

func (b *nutsBuffers) level(depth int) *nutsLevel {
	for len(b.levels) <= depth {
		b.levels = append(b.levels, nil)
	}
	if b.levels[depth] == nil {
		n, d := b.n, b.d
		b.levels[depth] = &nutsLevel{
			pInitEnd: make([]float64, n*d), pFinalBeg: make([]float64, n*d),
			rhoInit: make([]float64, n*d), rhoFinal: make([]float64, n*d),
			lswInit: make([]float64, n), lswFinal: make([]float64, n),
			propFinal: newNUTSPoint(n, d, false),
		}
	}
	return b.levels[depth]
}

func (b *nutsBuffers) anyActive(lo, hi int) bool {
	for c := lo; c < hi; c++ {
		if b.active[c] {
			return true
		}
	}
	return false
}

// transition runs one NUTS transition (Stan's base_nuts::transition) for
// chains lo..hi−1 of s in lock-step, and writes the new states into s.
func (k *NUTS) transition(rng *rand.Rand, s State, lo, hi int, eps float64, invM []float64) error {
	b := &k.b
	d := k.d
	for c := lo; c < hi; c++ {
		r := c * d
		copy(b.z.q[r:r+d], s.X[r:r+d])
		copy(b.z.g[r:r+d], s.Grad[r:r+d])
		b.z.f[c] = s.F[c]
		k.ham.sampleMomentum(rng, b.z.p[r:r+d], invM)
		b.fwd.copyRow(b.z, c, d)
		b.bck.copyRow(b.z, c, d)
		for _, v := range [][]float64{b.pFF, b.pFB, b.pBF, b.pBB, b.rho} {
			copy(v[r:r+d], b.z.p[r:r+d])
		}
		b.lsw[c] = 0
		b.h0[c] = -b.z.f[c] + kinetic(b.z.p[r:r+d], invM)
		b.nleap[c], b.depth[c], b.sumMetro[c] = 0, 0, 0
		b.active[c], b.diverged[c], b.moved[c] = true, false, false
	}
	for depth := 0; depth < k.cfg.MaxDepth; depth++ {
		any := false
		for c := lo; c < hi; c++ {
			b.wasActive[c] = b.active[c]
			if !b.active[c] {
				continue
			}
			any = true
			r := c * d
			if rng.Float64() > 0.5 {
				// Extend forwards: the trajectory so far becomes the
				// backward part.
				b.dir[c] = 1
				b.z.copyRow(b.fwd, c, d)
				copy(b.rhoBck[r:r+d], b.rho[r:r+d])
				copy(b.pBF[r:r+d], b.pFF[r:r+d])
			} else {
				b.dir[c] = -1
				b.z.copyRow(b.bck, c, d)
				copy(b.rhoFwd[r:r+d], b.rho[r:r+d])
				copy(b.pFB[r:r+d], b.pBB[r:r+d])
			}
			clear(b.newRho[r : r+d])
			b.lswSub[c] = math.Inf(-1)
		}
		if !any {
			break
		}
		if err := k.buildTree(rng, depth, lo, hi, b.propose, b.newBeg, b.newEnd, b.newRho, b.lswSub, eps, invM, s.X); err != nil {
			return err
		}
		for c := lo; c < hi; c++ {
			if !b.wasActive[c] || !b.active[c] {
				continue // a divergent or U-turning sub-tree is discarded
			}
			r := c * d
			b.depth[c] = depth + 1
			if b.dir[c] > 0 {
				b.fwd.copyRow(b.z, c, d)
				copy(b.pFB[r:r+d], b.newBeg[r:r+d])
				copy(b.pFF[r:r+d], b.newEnd[r:r+d])
				copy(b.rhoFwd[r:r+d], b.newRho[r:r+d])
			} else {
				b.bck.copyRow(b.z, c, d)
				copy(b.pBF[r:r+d], b.newBeg[r:r+d])
				copy(b.pBB[r:r+d], b.newEnd[r:r+d])
				copy(b.rhoBck[r:r+d], b.newRho[r:r+d])
			}
			// Biased progressive sampling between the old and new trees.
			if b.lswSub[c] > b.lsw[c] || rng.Float64() < math.Exp(b.lswSub[c]-b.lsw[c]) {
				b.sample.copyRow(b.propose, c, d)
				b.moved[c] = true
			}
			b.lsw[c] = logAddExp(b.lsw[c], b.lswSub[c])
			// The U-turn criterion over the merged trajectory and across
			// the two parts, each extended by the first point of the other.
			var a1, a2, b1, b2, c1, c2 float64
			pBB, pFF, pFB, pBF := b.pBB[r:r+d], b.pFF[r:r+d], b.pFB[r:r+d], b.pBF[r:r+d]
			rhoF, rhoB, rho := b.rhoFwd[r:r+d], b.rhoBck[r:r+d], b.rho[r:r+d]
			for i, w := range invM {
				rho[i] = rhoB[i] + rhoF[i]
				a1 += w * pFF[i] * rho[i]
				a2 += w * pBB[i] * rho[i]
				e1 := rhoB[i] + pFB[i]
				b1 += w * pFB[i] * e1
				b2 += w * pBB[i] * e1
				e2 := rhoF[i] + pBF[i]
				c1 += w * pFF[i] * e2
				c2 += w * pBF[i] * e2
			}
			if !(a1 > 0 && a2 > 0 && b1 > 0 && b2 > 0 && c1 > 0 && c2 > 0) {
				b.active[c] = false
			}
		}
	}
	for c := lo; c < hi; c++ {
		if b.moved[c] {
			r := c * d
			copy(s.X[r:r+d], b.sample.q[r:r+d])
			copy(s.Grad[r:r+d], b.sample.g[r:r+d])
			s.F[c] = b.sample.f[c]
		}
	}
	return nil
}

// buildTree is Stan's base_nuts::build_tree over chains lo..hi−1 in
// lock-step: it extends the working point z of every active chain by
// 2^depth leapfrog steps in its direction, writing the sub-tree's
// multinomial proposal into prop, the momenta at its two ends into pBeg and
// pEnd, adding its momenta to rho and its log weight to lsw. A chain whose
// sub-tree diverges or U-turns is made inactive, which ends its
// transition.
func (k *NUTS) buildTree(rng *rand.Rand, depth, lo, hi int, prop nutsPoint, pBeg, pEnd, rho, lsw []float64, eps float64, invM, safe []float64) error {
	b := &k.b
	d := k.d
	if !b.anyActive(lo, hi) {
		return nil
	}
	if depth == 0 {
		for c := lo; c < hi; c++ {
			b.eps[c] = 0
			if b.active[c] {
				b.eps[c] = b.dir[c] * eps
			}
		}
		z := b.z
		if err := k.ham.leapfrog(z.q[lo*d:hi*d], z.p[lo*d:hi*d], z.g[lo*d:hi*d], z.f[lo:hi], b.eps[lo:hi], invM, safe[lo*d:hi*d]); err != nil {
			return err
		}
		b.evals++
		for c := lo; c < hi; c++ {
			if !b.active[c] {
				continue
			}
			r := c * d
			b.nleap[c]++
			h := -z.f[c] + kinetic(z.p[r:r+d], invM)
			if !(h-b.h0[c] <= k.ham.maxErr) {
				b.diverged[c] = true
				b.active[c] = false
				copy(z.q[r:r+d], safe[r:r+d])
				continue
			}
			dh := b.h0[c] - h
			lsw[c] = logAddExp(lsw[c], dh)
			if dh > 0 {
				b.sumMetro[c]++
			} else {
				b.sumMetro[c] += math.Exp(dh)
			}
			prop.copyRow(z, c, d)
			copy(pBeg[r:r+d], z.p[r:r+d])
			copy(pEnd[r:r+d], z.p[r:r+d])
			for i, v := range z.p[r : r+d] {
				rho[r+i] += v
			}
		}
		return nil
	}
	lv := b.level(depth)
	for c := lo; c < hi; c++ {
		lv.lswInit[c], lv.lswFinal[c] = math.Inf(-1), math.Inf(-1)
		clear(lv.rhoInit[c*d : (c+1)*d])
		clear(lv.rhoFinal[c*d : (c+1)*d])
	}
	if err := k.buildTree(rng, depth-1, lo, hi, prop, pBeg, lv.pInitEnd, lv.rhoInit, lv.lswInit, eps, invM, safe); err != nil {
		return err
	}
	if err := k.buildTree(rng, depth-1, lo, hi, lv.propFinal, lv.pFinalBeg, pEnd, lv.rhoFinal, lv.lswFinal, eps, invM, safe); err != nil {
		return err
	}
	for c := lo; c < hi; c++ {
		if !b.active[c] {
			continue
		}
		r := c * d
		// Uniform multinomial sampling between the two halves.
		sub := logAddExp(lv.lswInit[c], lv.lswFinal[c])
		lsw[c] = logAddExp(lsw[c], sub)
		if lv.lswFinal[c] > sub || rng.Float64() < math.Exp(lv.lswFinal[c]-sub) {
			prop.copyRow(lv.propFinal, c, d)
		}
		var a1, a2, b1, b2, c1, c2 float64
		pb, pe := pBeg[r:r+d], pEnd[r:r+d]
		pie, pfb := lv.pInitEnd[r:r+d], lv.pFinalBeg[r:r+d]
		ri, rf := lv.rhoInit[r:r+d], lv.rhoFinal[r:r+d]
		for i, w := range invM {
			sub := ri[i] + rf[i]
			rho[r+i] += sub
			a1 += w * pe[i] * sub
			a2 += w * pb[i] * sub
			e1 := ri[i] + pfb[i]
			b1 += w * pfb[i] * e1
			b2 += w * pb[i] * e1
			e2 := rf[i] + pie[i]
			c1 += w * pe[i] * e2
			c2 += w * pie[i] * e2
		}
		if !(a1 > 0 && a2 > 0 && b1 > 0 && b2 > 0 && c1 > 0 && c2 > 0) {
			b.active[c] = false
		}
	}
	return nil
}

package sampling

import (
	"errors"
	"math/rand/v2"
)

// State is the position of a batch of N chains in D dimensions, together
// with what the kernel knows about it. Kernels update the slices of the
// State they are given in place and return it: a State is a view, not a
// snapshot. Copy it with [State.Clone] to keep one.
type State struct {
	N, D int
	// X holds the N positions row-major: chain n is X[n*D : (n+1)*D].
	X []float64
	// F holds f(x) for each chain, where f is the energy's unnormalised
	// log-density. Kernels that never evaluate f leave it nil.
	F []float64
	// Grad holds ∇x f at X, laid out like X; nil for kernels that do not
	// use gradients.
	Grad []float64
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	c := State{N: s.N, D: s.D}
	c.X = append([]float64(nil), s.X...)
	if s.F != nil {
		c.F = append([]float64(nil), s.F...)
	}
	if s.Grad != nil {
		c.Grad = append([]float64(nil), s.Grad...)
	}
	return c
}

// Chain returns the position of chain n, aliasing s.X.
func (s State) Chain(n int) []float64 { return s.X[n*s.D : (n+1)*s.D] }

// Info reports what one step did. Its slices belong to the kernel and are
// overwritten by the next Step; copy what you keep.
type Info struct {
	// AcceptProb is each chain's Metropolis acceptance probability for this
	// step (1 for unadjusted kernels such as Langevin dynamics).
	AcceptProb []float64
	// Accepted reports whether each chain moved.
	Accepted []bool
	// Divergent marks chains whose step produced a NaN or Inf energy or
	// gradient, or (HMC, NUTS) an energy error above the divergence bound.
	// A divergent proposal is rejected: the chain keeps its old position.
	Divergent []bool
	// GradEvals is the number of gradient evaluations each chain used.
	GradEvals int
	// StepSize is the step size the kernel used.
	StepSize float64
	// TreeDepth is NUTS's tree depth (0 for other kernels); the maximum
	// over chains.
	TreeDepth int
	// MaxDepthHits is the number of chains whose NUTS trajectory was cut
	// at the maximum tree depth without making a U-turn (0 for other
	// kernels).
	MaxDepthHits int
	// Leapfrogs is each chain's number of leapfrog steps (HMC, NUTS): the
	// gradient evaluations its own trajectory needed. Chains of a batch
	// differ under NUTS; evaluated in lock-step, the batch pays the
	// largest, which is GradEvals. Nil for kernels without trajectories.
	Leapfrogs []int
}

// MeanAccept returns the mean acceptance probability over chains.
func (i Info) MeanAccept() float64 {
	if len(i.AcceptProb) == 0 {
		return 1
	}
	var s float64
	for _, a := range i.AcceptProb {
		s += a
	}
	return s / float64(len(i.AcceptProb))
}

// Divergences returns the number of divergent chains in this step.
func (i Info) Divergences() int {
	c := 0
	for _, d := range i.Divergent {
		if d {
			c++
		}
	}
	return c
}

// Kernel is an MCMC transition on a batch of chains. Init evaluates what
// the kernel needs at the starting positions; Step advances every chain by
// one transition using only rng for randomness, so a kernel is
// deterministic for a given seed.
type Kernel interface {
	// Init returns the state of n chains starting at x (len(x) = n*D);
	// it copies x.
	Init(x []float64, n int) (State, error)
	// Step advances s by one transition. It may update s's slices in place.
	Step(rng *rand.Rand, s State) (State, Info, error)
}

// ErrDiverged is the project's one sentinel for numerical divergence. A
// sampler returns it (wrapped) when every chain diverged and the run cannot
// go on, for example when the energy is NaN at the starting point; package
// trainer wraps it when training diverges (a non-finite loss, energy or
// gradient, or an energy gap past its bound), and package ais when a log
// weight is not finite.
var ErrDiverged = errors.New("diverged")

package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// DiscreteDifferentiable is a discrete energy whose f extends to real
// inputs with a gradient, as Gibbs-with-Gradients needs: the Ising model
// and the RBM's free energy on the relaxation x ∈ ℝ^D, or a neural energy
// fed binary data.
type DiscreteDifferentiable interface {
	energy.Discrete
	energy.Differentiable
}

var (
	_ Kernel                 = (*GWG)(nil)
	_ DiscreteDifferentiable = (*energy.Ising)(nil)
	_ DiscreteDifferentiable = (*energy.RBM)(nil)
)

// GWG is Gibbs-with-Gradients (Grathwohl, Swersky, Hashemi, Duvenaud and
// Maddison, "Oops I took a gradient", ICML 2021) for binary variables: a
// Metropolis–Hastings sampler whose proposal flips one variable, chosen
// where the gradient predicts the largest gain. With x'ᵢ the other value of
// variable i, the first-order estimate of f(flip_i x) − f(x) is
//
//	d̃(x)_i = (x'_i − x_i) ∂f/∂x_i(x),
//
// which is −(2x−1)⊙∇f for {0,1} and −2x⊙∇f for ±1 spins. The proposal is
// q(i|x) = softmax(d̃(x)/2)_i, and the flip is accepted with probability
//
//	min(1, exp(f(x') − f(x)) · q(i|x') / q(i|x)),
//
// which leaves p ∝ exp(f) invariant whatever the quality of the estimate.
// Each Step makes one proposal per chain — one flip at most, not a sweep
// over the variables as Gibbs's Step is: compare Dim() GWG Steps with one
// Gibbs Step — and one batched FGrad call (Info.GradEvals = 1); State.F and
// State.Grad hold f and ∇f at X.
//
// The energy's Values must be two numbers (any two: {0,1}, {−1,1}, …).
// A proposal whose f or gradient is NaN or ±Inf is rejected and marks its
// chain Divergent. Categorical variables are not supported: use [Gibbs].
// A GWG is not safe for concurrent use: it keeps its work buffers.
type GWG struct {
	e      DiscreteDifferentiable
	values [2]float64
	dim    int

	n       int
	xp, fp  []float64 // proposals and their f
	gp      []float64 // ∇f at the proposals
	site    []int     // flipped variable of each chain
	logqFwd []float64 // log q(i|x)
	weights []float64 // D scratch
	info    Info
}

// NewGWG returns a Gibbs-with-Gradients sampler for e. It returns an error
// if e has no variables or its Values are not two distinct finite numbers.
func NewGWG(e DiscreteDifferentiable) (*GWG, error) {
	if e == nil {
		panic("sampling: NewGWG: nil energy")
	}
	vals, err := checkValues("NewGWG", e)
	if err != nil {
		return nil, err
	}
	if len(vals) != 2 {
		return nil, fmt.Errorf("sampling: NewGWG: energy's Values %v are not binary; Gibbs-with-Gradients flips between two values (use Gibbs for categorical variables)", vals)
	}
	return &GWG{e: e, values: [2]float64{vals[0], vals[1]}, dim: e.Dim()}, nil
}

// Init returns the state of n chains started at x (copied), with F and
// Grad evaluated there. It returns an error if a variable is not one of
// the two values, if the energy fails, or (wrapping ErrDiverged) if f or
// ∇f is not finite at a starting point.
func (g *GWG) Init(x []float64, n int) (State, error) {
	if g.e == nil {
		panic("sampling: GWG not made by NewGWG")
	}
	if err := checkDiscreteStart("GWG.Init", x, n, g.dim, g.values[:]); err != nil {
		return State{}, err
	}
	s := State{N: n, D: g.dim, X: append([]float64(nil), x...), F: make([]float64, n), Grad: make([]float64, n*g.dim)}
	if err := g.e.FGrad(s.F, s.Grad, s.X); err != nil {
		return State{}, fmt.Errorf("sampling: GWG.Init: %w", err)
	}
	if err := checkFinite("GWG.Init", s.F); err != nil {
		return State{}, err
	}
	for j, v := range s.Grad {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return State{}, fmt.Errorf("sampling: GWG.Init: ∂f/∂x_%d = %v at the start of chain %d: %w", j%g.dim, v, j/g.dim, ErrDiverged)
		}
	}
	g.resize(n)
	return s, nil
}

func (g *GWG) resize(n int) {
	if g.n == n && g.xp != nil {
		return
	}
	g.n = n
	g.xp = make([]float64, n*g.dim)
	g.fp = make([]float64, n)
	g.gp = make([]float64, n*g.dim)
	g.site = make([]int, n)
	g.logqFwd = make([]float64, n)
	g.weights = make([]float64, g.dim)
	g.info = Info{AcceptProb: make([]float64, n), Accepted: make([]bool, n), Divergent: make([]bool, n)}
}

// flipped returns the other value of a variable that holds v.
func (g *GWG) flipped(v float64) float64 {
	if v == g.values[0] {
		return g.values[1]
	}
	return g.values[0]
}

// logSoftmaxHalf fills g.weights with exp(d̃_i/2 − max) for the chain at x
// with gradient grad, and returns log Σ_i exp(d̃_i/2).
func (g *GWG) logSoftmaxHalf(x, grad []float64) float64 {
	m := math.Inf(-1)
	lo, hi := g.values[0], g.values[1]
	for i, v := range x {
		var d float64 // (x'_i − x_i)·∂f/∂x_i / 2
		if v == lo {
			d = (hi - lo) * grad[i] / 2
		} else {
			d = (lo - hi) * grad[i] / 2
		}
		g.weights[i] = d
		if d > m {
			m = d
		}
	}
	var total float64
	for i, d := range g.weights {
		w := math.Exp(d - m)
		g.weights[i] = w
		total += w
	}
	return m + math.Log(total)
}

// Step makes one flip proposal per chain and accepts or rejects it.
func (g *GWG) Step(rng *rand.Rand, s State) (State, Info, error) {
	if g.e == nil {
		panic("sampling: GWG not made by NewGWG")
	}
	if rng == nil {
		panic("sampling: GWG.Step: nil rng")
	}
	d := g.dim
	if s.D != d || len(s.X) != s.N*d || len(s.F) != s.N || len(s.Grad) != s.N*d {
		panic(fmt.Sprintf("sampling: GWG.Step: state of %d chains × %d (%d values, %d energies, %d gradients) is not from this kernel's Init (dimension %d)", s.N, s.D, len(s.X), len(s.F), len(s.Grad), d))
	}
	g.resize(s.N)
	copy(g.xp, s.X)
	for c := range s.N {
		x, grad := s.X[c*d:(c+1)*d], s.Grad[c*d:(c+1)*d]
		lse := g.logSoftmaxHalf(x, grad)
		// Draw i with probability weights[i] / Σ weights.
		var total float64
		for _, w := range g.weights {
			total += w
		}
		u := rng.Float64() * total
		i := d - 1
		for j, w := range g.weights {
			if u < w {
				i = j
				break
			}
			u -= w
		}
		for g.weights[i] == 0 { // rounding pushed u past the last positive weight
			i--
		}
		g.site[c] = i
		g.logqFwd[c] = (g.flipped(x[i])-x[i])*grad[i]/2 - lse
		g.xp[c*d+i] = g.flipped(x[i])
	}
	if err := g.e.FGrad(g.fp, g.gp, g.xp); err != nil {
		return s, g.info, fmt.Errorf("sampling: GWG: energy at the proposals: %w", err)
	}
	g.info.GradEvals = 1
	for c := range s.N {
		g.info.Accepted[c] = false
		g.info.Divergent[c] = false
		g.info.AcceptProb[c] = 0
		xp, gp := g.xp[c*d:(c+1)*d], g.gp[c*d:(c+1)*d]
		finite := !math.IsNaN(g.fp[c]) && !math.IsInf(g.fp[c], 0)
		for _, v := range gp {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				finite = false
				break
			}
		}
		u := rng.Float64()
		if !finite {
			g.info.Divergent[c] = true
			continue
		}
		i := g.site[c]
		lseRev := g.logSoftmaxHalf(xp, gp)
		logqRev := (g.flipped(xp[i])-xp[i])*gp[i]/2 - lseRev
		logA := g.fp[c] - s.F[c] + logqRev - g.logqFwd[c]
		a := 1.0
		if logA < 0 {
			a = math.Exp(logA)
		} else if math.IsNaN(logA) {
			a = 0
		}
		g.info.AcceptProb[c] = a
		if u < a {
			g.info.Accepted[c] = true
			s.X[c*d+i] = xp[i]
			s.F[c] = g.fp[c]
			copy(s.Grad[c*d:(c+1)*d], gp)
		}
	}
	return s, g.info, nil
}

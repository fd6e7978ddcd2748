package trainer

import (
	"fmt"
	"math"

	"github.com/ebmgo/ebm/graph"
	G "gorgonia.org/gorgonia"
)

// The score-matching family fits the score ∇x f_θ of the model to the
// data's without sampling the model and without log Z: with s = ∇x f,
//
//	exact   (Hyvärinen 2005)      J = E_data[½‖s(x)‖² + tr ∇x s(x)]
//	sliced  (Song et al. 2019)    J = E_data E_v[vᵀ∇x s(x) v + ½‖s(x)‖²]
//	denoising (Vincent 2011)      J = E_data E_z ½σ²‖s(x + σz) + z/σ‖²
//
// Exact and sliced score matching equal ½E‖s − ∇log p_data‖² up to a
// constant; denoising score matching fits the score of the data smoothed
// by N(0, σ²I). Their θ-gradients are second (DSM) and third (exact,
// sliced) derivatives of f, which graph.NewSecondOrderLoss builds.

// ScoreMatching is exact score matching (Hyvärinen 2005):
//
//	J = mean over the data batch of ½‖∇x f(x)‖² + tr ∇²x f(x),
//
// the trace by one Hessian–vector product per dimension, ∇²f·eᵢ. That is
// d backward-of-backward passes, so it is for small dimensions (at most
// MaxDim); SlicedScoreMatching estimates the trace with random
// projections instead. Batch: Inputs {x}, no Aux.
type ScoreMatching struct {
	// MaxDim bounds the dimension it accepts; 0 means 64.
	MaxDim int
}

// Name returns "esm".
func (ScoreMatching) Name() string { return "esm" }

// Sampled returns false.
func (ScoreMatching) Sampled() bool { return false }

func (o ScoreMatching) plan(a planArgs) (*plan, error) {
	maxDim := o.MaxDim
	if maxDim == 0 {
		maxDim = 64
	}
	if maxDim < 0 {
		return nil, fmt.Errorf("trainer: ScoreMatching.MaxDim = %d is negative", o.MaxDim)
	}
	if a.dim > maxDim {
		return nil, fmt.Errorf("trainer: exact score matching needs one Hessian–vector product per dimension: %d dimensions exceed ScoreMatching.MaxDim %d (use SlicedScoreMatching)", a.dim, maxDim)
	}
	p := &plan{fneg: -1}
	p.alloc(a.shape, []int{a.batch}, nil)
	n, d := a.batch, a.dim
	p.fn = func(t *graph.Terms) (*G.Node, error) {
		e := &expr{b: t.Builder()}
		x := t.Input(0)
		s, err := t.Score(x, nil)
		if err != nil {
			return nil, err
		}
		loss := e.scale(0.5, e.sum(e.square(s)))
		for i := range d {
			unit := make([]float64, n*d)
			for r := range n {
				unit[r*d+i] = 1
			}
			u := constant(t.Builder(), fmt.Sprintf("e%d", i), unit, fullShape(n, a.shape)...)
			hv, err := t.HVP(x, nil, u)
			if err != nil {
				return nil, err
			}
			loss = e.add(loss, e.sum(e.mul(u, hv)))
		}
		return e.result(e.scale(1/float64(n), loss))
	}
	p.fill = func(t *Trainer, b *Batch) error {
		copy(b.Inputs[0], t.xpos)
		copy(t.xneg, t.xpos)
		return nil
	}
	return p, nil
}

// SlicedScoreMatching is sliced score matching (Song et al. 2019): the
// trace of exact score matching estimated with random projections v,
// E[vvᵀ] = I, per data sample,
//
//	J = mean over x and v of vᵀ∇²f(x)v + ½‖∇x f(x)‖²
//
// — the variance-reduced form (SSM-VR), which takes E_v ½(vᵀs)² = ½‖s‖²
// in closed form — or, with NoVarianceReduction, vᵀ∇²f v + ½(vᵀ∇x f)².
// One Hessian–vector product per projection, whatever the dimension.
// Batch: Inputs {x}, Aux {v₁, …, v_M}, each shaped like x.
type SlicedScoreMatching struct {
	// Projections is the number M of projections per sample; 0 means 1.
	Projections int
	// Rademacher draws projections of independent ±1 entries instead of
	// standard normal ones (lower variance; Song et al. use both).
	Rademacher bool
	// NoVarianceReduction uses the Monte Carlo ½(vᵀs)² instead of ½‖s‖².
	NoVarianceReduction bool
}

// Name returns "ssm".
func (SlicedScoreMatching) Name() string { return "ssm" }

// Sampled returns false.
func (SlicedScoreMatching) Sampled() bool { return false }

func (o SlicedScoreMatching) plan(a planArgs) (*plan, error) {
	m := o.Projections
	if m == 0 {
		m = 1
	}
	if m < 0 {
		return nil, fmt.Errorf("trainer: SlicedScoreMatching.Projections = %d is negative", o.Projections)
	}
	p := &plan{fneg: -1}
	full := fullShape(a.batch, a.shape)
	aux := make([][]int, m)
	for i := range aux {
		aux[i] = full
	}
	p.alloc(a.shape, []int{a.batch}, aux)
	n := a.batch
	p.fn = func(t *graph.Terms) (*G.Node, error) {
		e := &expr{b: t.Builder()}
		x := t.Input(0)
		s, err := t.Score(x, nil)
		if err != nil {
			return nil, err
		}
		var hess, norm *G.Node
		for i := range m {
			v := t.Aux(i)
			hv, err := t.HVP(x, nil, v)
			if err != nil {
				return nil, err
			}
			hess = sumOrFirst(e, hess, e.sum(e.mul(v, hv)))
			if o.NoVarianceReduction {
				vs := e.sum(e.rows(e.mul(v, s)), 1) // vᵀs per sample
				norm = sumOrFirst(e, norm, e.sum(e.square(vs)))
			}
		}
		hess = e.scale(1/float64(m), hess)
		if o.NoVarianceReduction {
			norm = e.scale(0.5/float64(m), norm)
		} else {
			norm = e.scale(0.5, e.sum(e.square(s)))
		}
		return e.result(e.scale(1/float64(n), e.add(hess, norm)))
	}
	p.fill = func(t *Trainer, b *Batch) error {
		copy(b.Inputs[0], t.xpos)
		copy(t.xneg, t.xpos)
		for _, v := range b.Aux {
			for i := range v {
				if o.Rademacher {
					v[i] = float64(2*int(t.rng.Uint64()&1) - 1)
				} else {
					v[i] = t.rng.NormFloat64()
				}
			}
		}
		return nil
	}
	return p, nil
}

func sumOrFirst(e *expr, acc, v *G.Node) *G.Node {
	if acc == nil {
		return v
	}
	return e.add(acc, v)
}

// DenoisingScoreMatching is denoising score matching (Vincent 2011) with
// one noise level σ, or over a geometric ladder σ₁ > … > σ_L as noise-
// conditional score networks are trained (Song & Ermon 2019, "NCSN"):
// each data sample x draws a level σ uniformly from the ladder and
// z ~ N(0, I), and
//
//	J = mean over the batch of ½σ²‖∇x f(x̃; σ) + z/σ‖²,   x̃ = x + σz,
//
// the σ²-weighting that makes every level contribute alike (‖σ s‖ is of
// order 1 at every σ). With Conditional the model takes σ as an input (a
// noise-conditional model reads it through graph.Builder.Noise, as
// nn.NoiseConditional layers do); otherwise it sees x̃ alone. Batch:
// Inputs {x̃}, Aux {z, σ broadcast like x, σ per sample (N)}.
type DenoisingScoreMatching struct {
	// Sigma is the noise level of single-level DSM (with Levels ≤ 1).
	Sigma float64
	// Levels, SigmaMax and SigmaMin, with Levels ≥ 2, define the geometric
	// ladder σᵢ = SigmaMax·(SigmaMin/SigmaMax)^((i−1)/(Levels−1)).
	Levels             int
	SigmaMax, SigmaMin float64
	// Conditional gives the noise level to the model as an input.
	Conditional bool
}

// Name returns "dsm".
func (DenoisingScoreMatching) Name() string { return "dsm" }

// Sampled returns false.
func (DenoisingScoreMatching) Sampled() bool { return false }

// Ladder returns the noise levels, largest first: {Sigma} for one level.
func (o DenoisingScoreMatching) Ladder() ([]float64, error) {
	if o.Levels <= 1 {
		if err := checkPositive("DenoisingScoreMatching.Sigma", o.Sigma); err != nil {
			return nil, err
		}
		return []float64{o.Sigma}, nil
	}
	return GeometricLadder(o.SigmaMax, o.SigmaMin, o.Levels)
}

// GeometricLadder returns L noise levels from max down to min, equally
// spaced in log σ (NCSN's ladder; Song & Ermon use 1 … 0.01 over 10
// levels for images in [0, 1]).
func GeometricLadder(max, min float64, levels int) ([]float64, error) {
	if err := checkPositive("the largest noise level", max); err != nil {
		return nil, err
	}
	if err := checkPositive("the smallest noise level", min); err != nil {
		return nil, err
	}
	if levels < 2 || min >= max {
		return nil, fmt.Errorf("trainer: a noise ladder needs at least 2 levels from a largest to a smaller level; got %d levels from %g to %g", levels, max, min)
	}
	out := make([]float64, levels)
	for i := range out {
		out[i] = max * math.Pow(min/max, float64(i)/float64(levels-1))
	}
	return out, nil
}

func (o DenoisingScoreMatching) plan(a planArgs) (*plan, error) {
	ladder, err := o.Ladder()
	if err != nil {
		return nil, err
	}
	p := &plan{fneg: -1}
	full := fullShape(a.batch, a.shape)
	p.alloc(a.shape, []int{a.batch}, [][]int{full, full, {a.batch}})
	n, d := a.batch, a.dim
	p.fn = func(t *graph.Terms) (*G.Node, error) {
		e := &expr{b: t.Builder()}
		var noise *G.Node
		if o.Conditional {
			noise = t.Aux(2)
		}
		s, err := t.Score(t.Input(0), noise)
		if err != nil {
			return nil, err
		}
		r := e.add(e.mul(t.Aux(1), s), t.Aux(0)) // σs + z
		return e.result(e.scale(0.5/float64(n), e.sum(e.square(r))))
	}
	p.fill = func(t *Trainer, b *Batch) error {
		xt, z, sig, sig1 := b.Inputs[0], b.Aux[0], b.Aux[1], b.Aux[2]
		for i := range n {
			s := ladder[0]
			if len(ladder) > 1 {
				s = ladder[t.rng.IntN(len(ladder))]
			}
			sig1[i] = s
			for j := i * d; j < (i+1)*d; j++ {
				zj := t.rng.NormFloat64()
				z[j], sig[j] = zj, s
				xt[j] = t.xpos[j] + s*zj
			}
		}
		copy(t.xneg, xt)
		return nil
	}
	return p, nil
}

package ais

import (
	"fmt"

	"github.com/ebmgo/ebm/energy"
)

// Anneal returns the energy on the geometric path between base and
// target at inverse temperature β:
//
//	f_β(x) = (1 − β) f0(x) + β f1(x),   p_β ∝ p0^(1−β) · p1^β,
//
// with f0 alone at β = 0 and f1 alone at β = 1 (so that an infinite value
// of the other energy does not turn into NaN). The result implements what
// both energies implement: energy.Differentiable (∇f_β is the same mix of
// gradients), and, when both are discrete with the same Values, Values and
// SiteLogits (the conditional log-ratios mix the same way). It returns an
// error if the dimensions differ, if β is outside [0, 1], or if both are
// discrete with different Values.
//
// The energy keeps work buffers and is not safe for concurrent use.
func Anneal(base, target energy.Energy, beta float64) (energy.Energy, error) {
	if base == nil || target == nil {
		panic("ais: Anneal: nil energy")
	}
	if base.Dim() != target.Dim() {
		return nil, fmt.Errorf("ais: Anneal: base has dimension %d, target %d: %w", base.Dim(), target.Dim(), energy.ErrShape)
	}
	if !(beta >= 0 && beta <= 1) {
		return nil, fmt.Errorf("ais: Anneal: β = %v is outside [0, 1]", beta)
	}
	a := &annealed{base: base, target: target, beta: beta}
	_, g0 := base.(energy.Differentiable)
	_, g1 := target.(energy.Differentiable)
	grad := g0 && g1
	d0, ok0 := base.(energy.Discrete)
	d1, ok1 := target.(energy.Discrete)
	if !ok0 || !ok1 {
		if grad {
			return annealedGrad{a}, nil
		}
		return a, nil
	}
	v0, v1 := d0.Values(), d1.Values()
	same := len(v0) == len(v1)
	for i := 0; same && i < len(v0); i++ {
		same = v0[i] == v1[i]
	}
	if !same {
		return nil, fmt.Errorf("ais: Anneal: base takes values %v, target %v", v0, v1)
	}
	disc := annealedDisc{a, append([]float64(nil), v1...)}
	_, s0 := base.(energy.SiteConditional)
	_, s1 := target.(energy.SiteConditional)
	switch {
	case s0 && s1 && grad:
		return annealedSiteGrad{annealedSite{disc}}, nil
	case s0 && s1:
		return annealedSite{disc}, nil
	case grad:
		return annealedDiscGrad{disc}, nil
	}
	return disc, nil
}

type annealed struct {
	base, target energy.Energy
	beta         float64
	f0, g0, l0   []float64 // base's values, gradients, logits
}

type (
	annealedGrad struct{ *annealed }
	annealedDisc struct {
		*annealed
		values []float64
	}
)
type (
	annealedDiscGrad struct{ annealedDisc }
	annealedSite     struct{ annealedDisc }
	annealedSiteGrad struct{ annealedSite }
)

func (a *annealed) Dim() int { return a.target.Dim() }

func (a annealedDisc) Values() []float64 { return a.values }

func (a annealedGrad) FGrad(dst, grad, x []float64) error     { return a.fgrad(dst, grad, x) }
func (a annealedDiscGrad) FGrad(dst, grad, x []float64) error { return a.fgrad(dst, grad, x) }
func (a annealedSiteGrad) FGrad(dst, grad, x []float64) error { return a.fgrad(dst, grad, x) }
func (a annealedSite) SiteLogits(logits, x []float64, i int) error {
	return a.siteLogits(logits, x, i)
}

// grow returns buf resized to n, reusing its memory when it is big enough.
func grow(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}

// mix sets dst = (1−β)·v0 + β·dst, leaving one side out at β = 0 or 1.
func (a *annealed) mix(dst, v0 []float64) {
	switch a.beta {
	case 1:
	case 0:
		copy(dst, v0)
	default:
		for i, v := range dst {
			dst[i] = (1-a.beta)*v0[i] + a.beta*v
		}
	}
}

func (a *annealed) F(dst, x []float64) error {
	a.f0 = grow(a.f0, len(dst))
	if err := a.base.F(a.f0, x); err != nil {
		return fmt.Errorf("ais: annealed energy at β = %v: base: %w", a.beta, err)
	}
	if err := a.target.F(dst, x); err != nil {
		return fmt.Errorf("ais: annealed energy at β = %v: target: %w", a.beta, err)
	}
	a.mix(dst, a.f0)
	return nil
}

func (a *annealed) fgrad(dst, grad, x []float64) error {
	a.f0 = grow(a.f0, len(dst))
	a.g0 = grow(a.g0, len(grad))
	if err := a.base.(energy.Differentiable).FGrad(a.f0, a.g0, x); err != nil {
		return fmt.Errorf("ais: annealed energy at β = %v: base: %w", a.beta, err)
	}
	if err := a.target.(energy.Differentiable).FGrad(dst, grad, x); err != nil {
		return fmt.Errorf("ais: annealed energy at β = %v: target: %w", a.beta, err)
	}
	a.mix(dst, a.f0)
	a.mix(grad, a.g0)
	return nil
}

func (a *annealed) siteLogits(logits, x []float64, i int) error {
	a.l0 = grow(a.l0, len(logits))
	if err := a.base.(energy.SiteConditional).SiteLogits(a.l0, x, i); err != nil {
		return fmt.Errorf("ais: annealed energy at β = %v: base: %w", a.beta, err)
	}
	if err := a.target.(energy.SiteConditional).SiteLogits(logits, x, i); err != nil {
		return fmt.Errorf("ais: annealed energy at β = %v: target: %w", a.beta, err)
	}
	a.mix(logits, a.l0)
	return nil
}

package optim

import (
	"fmt"
	"math"

	"github.com/ebmgo/ebm/graph"
	"gorgonia.org/tensor"
)

// Adam is the Adam optimiser (Kingma & Ba 2015) with PyTorch's update:
//
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	θ ← θ − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
//
// with optional decoupled weight decay (AdamW: θ ← θ·(1 − lr·λ) first).
// Image EBMs use β1 = 0, which makes the update RMSprop-like; β1 = 0 is a
// valid value, so the zero Config is not Adam's textbook default: set the
// fields you want.
//
// An Adam is not safe for concurrent use, and Step writes the parameters
// in place: no graph of the model may run while it does.
type Adam struct {
	cfg    AdamConfig
	params []*graph.Param
	m, v   [][]float64
	step   int
}

// AdamConfig configures Adam.
type AdamConfig struct {
	LR          float64 // learning rate; must be positive
	Beta1       float64 // first-moment decay in [0, 1); 0 (the zero value) disables momentum
	Beta2       float64 // second-moment decay in [0, 1); 0 means 0.999
	Eps         float64 // 0 means 1e-8
	WeightDecay float64 // decoupled weight decay λ (AdamW); 0 means none
}

// NewAdam returns an Adam optimiser for params. Moments are kept in
// float64 whatever the parameters' dtype.
func NewAdam(params []*graph.Param, cfg AdamConfig) (*Adam, error) {
	if cfg.Beta2 == 0 {
		cfg.Beta2 = 0.999
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-8
	}
	if !(cfg.LR > 0) || cfg.Beta1 < 0 || cfg.Beta1 >= 1 || cfg.Beta2 < 0 || cfg.Beta2 >= 1 || cfg.Eps < 0 || cfg.WeightDecay < 0 {
		return nil, fmt.Errorf("optim: invalid Adam config %+v: need LR > 0, 0 ≤ β1, β2 < 1, ε ≥ 0, λ ≥ 0", cfg)
	}
	a := &Adam{cfg: cfg, params: params}
	for _, p := range params {
		a.m = append(a.m, make([]float64, p.Size()))
		a.v = append(a.v, make([]float64, p.Size()))
	}
	return a, nil
}

// Config returns the configuration in use (defaults filled in).
func (a *Adam) Config() AdamConfig { return a.cfg }

// SetLR sets the learning rate, for schedules.
func (a *Adam) SetLR(lr float64) { a.cfg.LR = lr }

// Steps returns the number of updates applied so far.
func (a *Adam) Steps() int { return a.step }

// Step applies one update to every parameter from grads, aligned with the
// params given to NewAdam and of the same shapes. A non-finite gradient
// returns an error and leaves every parameter unchanged.
func (a *Adam) Step(grads []*tensor.Dense) error {
	if len(grads) != len(a.params) {
		return fmt.Errorf("optim: %d gradients for %d parameters", len(grads), len(a.params))
	}
	for i, g := range grads {
		if g.Shape().TotalSize() != a.params[i].Size() {
			return fmt.Errorf("optim: gradient %d has shape %v, parameter %q has %v", i, g.Shape(), a.params[i].Name, a.params[i].Shape())
		}
		if !finite(g) {
			return fmt.Errorf("optim: gradient of %q is not finite: %w", a.params[i].Name, ErrNonFinite)
		}
	}
	a.step++
	c := a.cfg
	bc1 := 1 - math.Pow(c.Beta1, float64(a.step))
	bc2 := 1 - math.Pow(c.Beta2, float64(a.step))
	for i, p := range a.params {
		m, v := a.m[i], a.v[i]
		switch pd := p.Value.Data().(type) {
		case []float32:
			gd := grads[i].Data().([]float32)
			for j := range pd {
				g := float64(gd[j])
				m[j] = c.Beta1*m[j] + (1-c.Beta1)*g
				v[j] = c.Beta2*v[j] + (1-c.Beta2)*g*g
				th := float64(pd[j]) * (1 - c.LR*c.WeightDecay)
				pd[j] = float32(th - c.LR*(m[j]/bc1)/(math.Sqrt(v[j]/bc2)+c.Eps))
			}
		case []float64:
			gd := grads[i].Data().([]float64)
			for j := range pd {
				g := gd[j]
				m[j] = c.Beta1*m[j] + (1-c.Beta1)*g
				v[j] = c.Beta2*v[j] + (1-c.Beta2)*g*g
				th := pd[j] * (1 - c.LR*c.WeightDecay)
				pd[j] = th - c.LR*(m[j]/bc1)/(math.Sqrt(v[j]/bc2)+c.Eps)
			}
		}
	}
	return nil
}

// AdamState is what a checkpoint needs to resume Adam exactly.
type AdamState struct {
	Step int
	M, V [][]float64 // aligned with the parameters
}

// State returns a copy of the optimiser's state.
func (a *Adam) State() AdamState {
	s := AdamState{Step: a.step}
	for i := range a.m {
		s.M = append(s.M, append([]float64(nil), a.m[i]...))
		s.V = append(s.V, append([]float64(nil), a.v[i]...))
	}
	return s
}

// SetState restores a state saved by State, checking that it fits.
func (a *Adam) SetState(s AdamState) error {
	if len(s.M) != len(a.m) || len(s.V) != len(a.v) {
		return fmt.Errorf("optim: Adam state has %d/%d moments for %d parameters", len(s.M), len(s.V), len(a.m))
	}
	for i := range a.m {
		if len(s.M[i]) != len(a.m[i]) || len(s.V[i]) != len(a.v[i]) {
			return fmt.Errorf("optim: Adam state for %q has %d values, want %d", a.params[i].Name, len(s.M[i]), len(a.m[i]))
		}
	}
	a.step = s.Step
	for i := range a.m {
		copy(a.m[i], s.M[i])
		copy(a.v[i], s.V[i])
	}
	return nil
}

func finite(t *tensor.Dense) bool {
	switch d := t.Data().(type) {
	case []float32:
		for _, v := range d {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return false
			}
		}
	case []float64:
		for _, v := range d {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return true
}

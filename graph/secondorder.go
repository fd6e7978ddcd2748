package graph

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SecondOrderFunc builds a scalar training loss from the nodes Terms
// gives: the input batches, and the model's energies f, scores ∇x f and
// Hessian–vector products at any node of the graph.
type SecondOrderFunc func(t *Terms) (*G.Node, error)

// Terms is what a SecondOrderFunc builds its loss from. Every method adds
// nodes to one graph whose forward passes share the parameter nodes, so
// ∇θ of the loss flows through f, through ∇x f and through Hessian–vector
// products alike. Evaluations at the same node (and noise node) are built
// once and shared.
type Terms struct {
	b      *Builder
	model  Model
	inputs G.Nodes
	aux    G.Nodes
	evals  map[evalKey]*evaluation
	order  []evalKey // evals in the order they were made
	ones   map[int]*G.Node
}

type evalKey struct {
	x, noise *G.Node
	frozen   bool
}

type evaluation struct {
	f, score *G.Node
}

// Builder returns the graph's builder, for constants and extra
// parameters (LossConfig.Params) through Builder.Param.
func (t *Terms) Builder() *Builder { return t.b }

// Inputs returns the number of model input batches (LossConfig.Batches).
func (t *Terms) Inputs() int { return len(t.inputs) }

// Input returns model input batch i, shape (Batches[i], Shape...).
func (t *Terms) Input(i int) *G.Node { return t.inputs[i] }

// Aux returns auxiliary input i, of shape LossConfig.Aux[i].
func (t *Terms) Aux(i int) *G.Node { return t.aux[i] }

// F returns the per-sample energies f_θ(x), shape (N), of the model at x,
// a node of shape (N, Shape...): an input, or any node computed from
// them. noise is the node of the per-sample noise levels σ, shape (N), for
// a noise-conditional model (see Builder.Noise), and nil otherwise.
func (t *Terms) F(x, noise *G.Node) (*G.Node, error) { return t.energy(x, noise, false) }

// FrozenF is F with the parameters held fixed: the value is f_θ(x), but
// ∇θ of the loss flows only through x, not into the θ of this
// evaluation — the stop-gradient copy of the parameters that the KL term
// of improved contrastive divergence evaluates its samples with.
func (t *Terms) FrozenF(x, noise *G.Node) (*G.Node, error) { return t.energy(x, noise, true) }

// Score returns ∇x f_θ(x), shaped like x: row n is the gradient of
// f(x_n). ∇θ of a loss built on it is a second derivative of f.
func (t *Terms) Score(x, noise *G.Node) (*G.Node, error) { return t.score(x, noise, false) }

// FrozenScore is Score with the parameters held fixed, as FrozenF.
func (t *Terms) FrozenScore(x, noise *G.Node) (*G.Node, error) { return t.score(x, noise, true) }

// HVP returns the Hessian–vector products ∇x(Σₙ vₙᵀ∇x f(xₙ)), shaped like
// x: row n is ∇²f(xₙ)·vₙ, since the samples of a batch do not interact. v
// is a node shaped like x. ∇θ of a loss built on it is a third derivative
// of f.
func (t *Terms) HVP(x, noise, v *G.Node) (*G.Node, error) {
	if !v.Shape().Eq(x.Shape()) {
		return nil, fmt.Errorf("graph: HVP: v has shape %v, x %v", fmtShape(v.Shape()), fmtShape(x.Shape()))
	}
	s, err := t.Score(x, noise)
	if err != nil {
		return nil, err
	}
	h, err := backprop(G.Nodes{s}, G.Nodes{v}, G.Nodes{x})
	if err != nil {
		return nil, fmt.Errorf("graph: HVP: %w", err)
	}
	if h[0] == nil { // f is linear in x: ∇²f = 0
		return G.Mul(t.b.Constant(0), v)
	}
	return h[0], nil
}

func (t *Terms) eval(x, noise *G.Node, frozen bool) *evaluation {
	k := evalKey{x, noise, frozen}
	if e, ok := t.evals[k]; ok {
		return e
	}
	e := &evaluation{}
	t.evals[k] = e
	t.order = append(t.order, k)
	return e
}

func (t *Terms) energy(x, noise *G.Node, frozen bool) (*G.Node, error) {
	e := t.eval(x, noise, frozen)
	if e.f != nil {
		return e.f, nil
	}
	s := x.Shape()
	if len(s) == 0 {
		return nil, fmt.Errorf("graph: F: x is a scalar, want a batch (N, ...)")
	}
	if noise != nil {
		if ns := noise.Shape(); len(ns) != 1 || ns[0] != s[0] {
			return nil, fmt.Errorf("graph: noise levels of shape %v for a batch of %d: want (%d)", fmtShape(ns), s[0], s[0])
		}
	}
	t.b.frozen, t.b.noise = frozen, noise
	f, err := perSample(t.b, t.model, x, s[0])
	t.b.frozen, t.b.noise = false, nil
	if err != nil {
		return nil, err
	}
	e.f = f
	return f, nil
}

func (t *Terms) score(x, noise *G.Node, frozen bool) (*G.Node, error) {
	e := t.eval(x, noise, frozen)
	if e.score != nil {
		return e.score, nil
	}
	f, err := t.energy(x, noise, frozen)
	if err != nil {
		return nil, err
	}
	d, err := backprop(G.Nodes{f}, G.Nodes{t.onesFor(f.Shape()[0])}, G.Nodes{x})
	if err != nil {
		return nil, fmt.Errorf("graph: ∇x f: %w", err)
	}
	if d[0] == nil {
		return nil, fmt.Errorf("graph: ∇x f: the model's output does not depend on its input")
	}
	e.score = d[0]
	return d[0], nil
}

// onesFor returns a vector of n ones, the seed of ∇x Σₙ f(xₙ).
func (t *Terms) onesFor(n int) *G.Node {
	if o, ok := t.ones[n]; ok {
		return o
	}
	v := tensor.New(tensor.Of(t.b.dtype), tensor.WithShape(n))
	switch d := v.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = 1
		}
	case []float64:
		for i := range d {
			d[i] = 1
		}
	}
	o := G.NewTensor(t.b.g, t.b.dtype, 1, G.WithShape(n), G.WithName(fmt.Sprintf("ones%d", n)), G.WithValue(v))
	t.ones[n] = o
	return o
}

// NewSecondOrderLoss compiles fn, a loss built from the model's energies,
// input gradients ∇x f and Hessian–vector products on len(cfg.Batches)
// input batches (and cfg.Aux auxiliary inputs), together with ∇θ of the
// loss: the derivatives of the score-matching family and of gradient
// penalties. Like NewLoss it compiles once for the batch sizes of cfg,
// and Run reuses the machine. cfg.Raw is not supported.
//
// Every op on the way must be differentiable once more than the loss uses
// it: the layers of package nn are, to any order, on the same fast
// kernels as their first derivatives. A model with an op that is not gets
// an error naming the op here, not when it runs.
//
// F(i) of the returned Loss holds the energies at input i if fn evaluated
// the model there (through F, Score or HVP, with parameters not frozen),
// and nil otherwise. Parameters that the loss does not depend on (the
// last bias of an energy, for losses of ∇x f alone) get zero gradients.
func NewSecondOrderLoss(m Model, cfg LossConfig, fn SecondOrderFunc) (*Loss, error) {
	if cfg.Raw {
		return nil, fmt.Errorf("graph: NewSecondOrderLoss: LossConfig.Raw is not supported")
	}
	return compileLoss(m, cfg, func(b *Builder, inputs, aux G.Nodes) (*G.Node, []*G.Node, error) {
		t := &Terms{b: b, model: m, inputs: inputs, aux: aux, evals: map[evalKey]*evaluation{}, ones: map[int]*G.Node{}}
		loss, err := fn(t)
		if err != nil {
			return nil, nil, err
		}
		fs := make([]*G.Node, len(inputs))
		for i, x := range inputs {
			for _, k := range t.order {
				if e := t.evals[k]; k.x == x && !k.frozen && e.f != nil {
					fs[i] = e.f
					break
				}
			}
		}
		return loss, fs, nil
	}, func(loss *G.Node, wrt G.Nodes) (G.Nodes, error) {
		var one *G.Node
		if loss.Dtype() == tensor.Float32 {
			one = G.NewConstant(float32(1))
		} else {
			one = G.NewConstant(1.0)
		}
		return backprop(G.Nodes{loss}, G.Nodes{loss.Graph().AddNode(one)}, wrt)
	})
}

package graph

import (
	"errors"
	"fmt"

	"github.com/ebmgo/ebm/energy"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LossFunc builds a scalar training loss from the model's outputs on each
// input batch: f[i] is the vector of energies f over input i's samples (or
// the model's raw output with LossConfig.Raw), followed by the nodes of the
// auxiliary inputs (LossConfig.Aux) in order. It may add nodes to b's graph.
type LossFunc func(b *Builder, f []*G.Node) (*G.Node, error)

// LossConfig says what a loss is compiled for.
type LossConfig struct {
	// Shape is the event shape of one sample. Required.
	Shape []int
	// Dtype: as in Config.
	Dtype tensor.Dtype
	// Batches holds the batch size of each input, e.g. {B, B} for the
	// data and model samples of contrastive divergence.
	Batches []int
	// Raw hands the loss function the model's outputs as they are, for
	// models that do not give one energy per sample, such as a classifier
	// with (N, classes) logits. The zero value reshapes them to energies.
	Raw bool
	// Aux holds the full shapes of auxiliary inputs that are not fed to
	// the model but to the loss function, e.g. {N, 10} one-hot labels.
	// Run takes their values after the model inputs.
	Aux [][]int
	// Params are trainable parameters of the loss itself, besides the
	// model's (the learned log Z of noise-contrastive estimation): the
	// loss function uses them through Builder.Param, and Loss.Params and
	// Grads list them after the model's. Nil means none.
	Params []*Param
}

// Loss is a training objective compiled with its gradient with respect to
// every parameter of the model. The forward paths of all inputs share the
// parameter nodes. A Loss is not safe for concurrent use.
type Loss struct {
	model  Model
	params []*Param
	xvs    []*tensor.Dense // model inputs, then auxiliary inputs
	sizes  []int           // values of each input
	vm     G.VM

	// Outputs, copied out by read nodes the moment they are computed.
	lossv G.Value
	fvs   []G.Value
	dpvs  []G.Value

	value float64
	fvals [][]float64
	grads []*tensor.Dense
}

// NewLoss compiles fn over the per-sample energies of m on len(cfg.Batches)
// inputs, together with ∇θ of the loss.
func NewLoss(m Model, cfg LossConfig, fn LossFunc) (*Loss, error) {
	return compileLoss(m, cfg, func(b *Builder, inputs, aux G.Nodes) (*G.Node, []*G.Node, error) {
		var fs G.Nodes
		for i, x := range inputs {
			var f *G.Node
			var err error
			if cfg.Raw {
				f, err = m.Forward(b, x)
			} else {
				f, err = perSample(b, m, x, cfg.Batches[i])
			}
			if err != nil {
				return nil, nil, err
			}
			fs = append(fs, f)
		}
		loss, err := fn(b, append(append(G.Nodes(nil), fs...), aux...))
		return loss, fs, err
	}, func(loss *G.Node, wrt G.Nodes) (G.Nodes, error) { return G.Grad(loss, wrt...) })
}

// lossBuilder adds a loss to b's graph from the model inputs and the
// auxiliary inputs, and returns it with the energies to report per model
// input (nil where there are none).
type lossBuilder func(b *Builder, inputs, aux G.Nodes) (loss *G.Node, fs []*G.Node, err error)

// compileLoss builds a loss with build, its gradient with respect to the
// parameters with grad, and the machine that runs both.
func compileLoss(m Model, cfg LossConfig, build lossBuilder, grad func(loss *G.Node, wrt G.Nodes) (G.Nodes, error)) (*Loss, error) {
	dt, err := resolveDtype(m, cfg.Dtype)
	if err != nil {
		return nil, err
	}
	if len(cfg.Shape) == 0 || len(cfg.Batches) == 0 {
		return nil, fmt.Errorf("graph: NewLoss: LossConfig needs Shape and Batches")
	}
	l := &Loss{model: m, params: append(append([]*Param(nil), m.Params()...), cfg.Params...)}
	for _, p := range cfg.Params {
		if p.Value.Dtype() != dt {
			return nil, fmt.Errorf("graph: NewLoss: extra parameter %q is %v in a %v loss", p.Name, p.Value.Dtype(), dt)
		}
	}
	l.fvs = make([]G.Value, len(cfg.Batches))
	input := func(b *Builder, name string, shape []int) (*G.Node, error) {
		x := b.Input(name, shape...)
		xv := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
		if err := G.Let(x, xv); err != nil {
			return nil, err
		}
		l.xvs = append(l.xvs, xv)
		l.sizes = append(l.sizes, xv.Shape().TotalSize())
		return x, nil
	}
	if len(l.params) == 0 {
		return nil, fmt.Errorf("graph: NewLoss: the model has no parameters to train")
	}
	err = guard("compile loss", func() error {
		b := NewBuilder(dt)
		var inputs, aux, roots G.Nodes
		for i, n := range cfg.Batches {
			if n <= 0 {
				return fmt.Errorf("batch size %d of input %d is not positive", n, i)
			}
			x, err := input(b, fmt.Sprintf("x%d", i), append([]int{n}, cfg.Shape...))
			if err != nil {
				return err
			}
			inputs = append(inputs, x)
		}
		for i, shape := range cfg.Aux {
			a, err := input(b, fmt.Sprintf("aux%d", i), shape)
			if err != nil {
				return err
			}
			aux = append(aux, a)
		}
		loss, fs, err := build(b, inputs, aux)
		if err != nil {
			return err
		}
		l.fvals = make([][]float64, len(cfg.Batches))
		for i, f := range fs {
			if f != nil {
				l.fvals[i] = make([]float64, f.Shape().TotalSize())
				roots = append(roots, G.Read(f, &l.fvs[i]))
			}
		}
		if !loss.IsScalar() {
			return fmt.Errorf("loss has shape %v, want a scalar", fmtShape(loss.Shape()))
		}
		roots = append(roots, G.Read(loss, &l.lossv))
		var pn G.Nodes
		for _, p := range l.params {
			if _, ok := b.params[p]; !ok {
				return fmt.Errorf("parameter %q is not used by the model's Forward or the loss", p.Name)
			}
			pn = append(pn, b.Param(p))
		}
		dps, err := grad(loss, pn)
		if err != nil {
			return fmt.Errorf("∇θ: %w", err)
		}
		l.dpvs = make([]G.Value, len(dps))
		for i, d := range dps {
			if d != nil {
				roots = append(roots, G.Read(d, &l.dpvs[i]))
			}
		}
		l.vm = G.NewTapeMachine(b.Graph().SubgraphRoots(roots...))
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrNoNoise) {
			return nil, fmt.Errorf("%w (a noise-conditional model trains with NewSecondOrderLoss and Terms given the noise node)", err)
		}
		return nil, err
	}
	for _, p := range l.params {
		l.grads = append(l.grads, tensor.New(tensor.Of(dt), tensor.WithShape(p.Value.Shape()...)))
	}
	return l, nil
}

// Run evaluates the loss on the input batches xs (one per LossConfig.Batches
// entry, each row-major, then one per LossConfig.Aux entry) and its
// gradient with respect to the parameters. It returns the loss; Grads and F
// give the rest.
func (l *Loss) Run(xs ...[]float64) (float64, error) {
	if len(xs) != len(l.xvs) {
		return 0, fmt.Errorf("graph: Loss.Run: %d input batches, want %d", len(xs), len(l.xvs))
	}
	for i, x := range xs {
		if len(x) != l.sizes[i] {
			return 0, fmt.Errorf("graph: Loss.Run: input %d has %d values, want %d: %w", i, len(x), l.sizes[i], energy.ErrShape)
		}
		writeFrom(l.xvs[i], x)
	}
	if err := run(l.vm); err != nil {
		return 0, fmt.Errorf("graph: loss: %w", err)
	}
	var v [1]float64
	readInto(v[:], l.lossv)
	l.value = v[0]
	for i, f := range l.fvs {
		if f != nil {
			readInto(l.fvals[i], f)
		}
	}
	for i, d := range l.dpvs {
		if d != nil {
			copyValue(l.grads[i], d)
		}
	}
	l.vm.Reset()
	return l.value, nil
}

// Value returns the loss of the last Run.
func (l *Loss) Value() float64 { return l.value }

// F returns the per-sample energies of model input i from the last Run
// (with LossConfig.Raw, the model's outputs, row-major), or nil for a
// second-order loss that did not evaluate the model there. The slice is
// reused by the next Run.
func (l *Loss) F(i int) []float64 { return l.fvals[i] }

// Params returns the model's parameters and then LossConfig.Params, in
// the order of Grads.
func (l *Loss) Params() []*Param { return l.params }

// Grads returns ∂loss/∂θ from the last Run, one tensor per parameter in the
// order of Params, with the parameter's shape and dtype. The tensors are
// reused by the next Run.
func (l *Loss) Grads() []*tensor.Dense { return l.grads }

func copyValue(dst *tensor.Dense, v G.Value) {
	switch d := v.Data().(type) {
	case []float64:
		copy(dst.Data().([]float64), d)
	case []float32:
		copy(dst.Data().([]float32), d)
	case float64:
		dst.Data().([]float64)[0] = d
	case float32:
		dst.Data().([]float32)[0] = d
	}
}

// CDLoss is the contrastive-divergence loss of image EBMs with an energy
// regulariser, for two inputs: f[0] on data samples x⁺ and f[1] on model
// samples x⁻:
//
//	L = mean f(x⁻) − mean f(x⁺) + α·(mean f(x⁺)² + mean f(x⁻)²)
//
// Minimising L raises f on the data and lowers it on the model's samples;
// its gradient estimates −∇θ log-likelihood when x⁻ ~ p_θ. The α term keeps
// energies near zero.
func CDLoss(alpha float64) LossFunc {
	return func(b *Builder, f []*G.Node) (*G.Node, error) {
		if len(f) != 2 {
			return nil, fmt.Errorf("CDLoss takes 2 inputs (data, model samples), got %d", len(f))
		}
		pos, err := G.Mean(f[0])
		if err != nil {
			return nil, err
		}
		neg, err := G.Mean(f[1])
		if err != nil {
			return nil, err
		}
		loss, err := G.Sub(neg, pos)
		if err != nil {
			return nil, err
		}
		if alpha == 0 {
			return loss, nil
		}
		var reg *G.Node
		for _, fi := range f {
			sq, err := G.Square(fi)
			if err != nil {
				return nil, err
			}
			m, err := G.Mean(sq)
			if err != nil {
				return nil, err
			}
			if reg == nil {
				reg = m
			} else if reg, err = G.Add(reg, m); err != nil {
				return nil, err
			}
		}
		reg, err = G.Mul(b.Constant(alpha), reg)
		if err != nil {
			return nil, err
		}
		return G.Add(loss, reg)
	}
}

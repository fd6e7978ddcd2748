package graph

import (
	"errors"
	"fmt"

	"github.com/ebmgo/ebm/energy"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Model is a differentiable function of an input batch with trainable
// parameters: a layer from package nn, a stack of them, or a user's own.
type Model interface {
	// Params returns the model's parameters in a stable order.
	Params() []*Param
	// Forward adds the model's computation on x to b's graph and returns
	// the output node. It gets parameter nodes from b.Param, so calling
	// Forward twice on one Builder shares the parameters. A shape mistake
	// is returned as an error (see [ShapeError]), not a panic.
	Forward(b *Builder, x *G.Node) (*G.Node, error)
}

// Builder is a Gorgonia expression graph under construction, with the
// nodes of the parameters already added to it. It belongs to the one
// graph being built and is not safe for concurrent use.
type Builder struct {
	g      *G.ExprGraph
	dtype  tensor.Dtype
	params map[*Param]*G.Node
	order  []*Param

	// While frozen is set, Param hands out the nodes of fixed copies
	// (same storage, no gradient flows to them): see Terms.FrozenF.
	frozen     bool
	frozenNode map[*Param]*G.Node
	// noise is the node Noise returns while a noise-conditional forward
	// is built; noiseUsed records that the model asked for it.
	noise     *G.Node
	noiseUsed bool
}

// NewBuilder returns a Builder for a new graph whose inputs have dtype dt.
func NewBuilder(dt tensor.Dtype) *Builder {
	checkDtype(dt)
	return &Builder{g: G.NewGraph(), dtype: dt, params: map[*Param]*G.Node{}}
}

// Graph returns the expression graph being built.
func (b *Builder) Graph() *G.ExprGraph { return b.g }

// Dtype returns the graph's element type.
func (b *Builder) Dtype() tensor.Dtype { return b.dtype }

// Param returns the node of p in this graph, adding it on first use. The
// node is bound to p.Value itself, not a copy. It panics if p's dtype
// differs from the graph's; Compile checks dtypes before it builds.
func (b *Builder) Param(p *Param) *G.Node {
	if b.frozen {
		return b.frozenParam(p)
	}
	if n, ok := b.params[p]; ok {
		return n
	}
	if p.Value.Dtype() != b.dtype {
		panic(fmt.Sprintf("graph: parameter %q is %v in a %v graph", p.Name, p.Value.Dtype(), b.dtype))
	}
	n := G.NodeFromAny(b.g, p.Value, G.WithName(p.Name))
	b.params[p] = n
	b.order = append(b.order, p)
	return n
}

// frozenParam returns a second node bound to p.Value: the same values, but
// not a parameter of the loss, so no gradient flows into it.
func (b *Builder) frozenParam(p *Param) *G.Node {
	if n, ok := b.frozenNode[p]; ok {
		return n
	}
	if p.Value.Dtype() != b.dtype {
		panic(fmt.Sprintf("graph: parameter %q is %v in a %v graph", p.Name, p.Value.Dtype(), b.dtype))
	}
	if b.frozenNode == nil {
		b.frozenNode = map[*Param]*G.Node{}
	}
	n := G.NodeFromAny(b.g, p.Value, G.WithName("frozen:"+p.Name))
	b.frozenNode[p] = n
	return n
}

// Noise returns the node of the per-sample noise levels σ, shape (N), of
// the batch whose forward pass is being built, for noise-conditional
// models: a layer that takes the noise level calls it in its Forward
// (see nn.NoiseConditional). It is an error to build such a model where
// no noise level is given: with NewEnergy before Energy.SetNoise, with
// NewLoss, or through Terms without a noise node.
func (b *Builder) Noise() (*G.Node, error) {
	b.noiseUsed = true
	if b.noise == nil {
		return nil, ErrNoNoise
	}
	return b.noise, nil
}

// ErrNoNoise is returned by Builder.Noise, and wrapped by the compilers,
// when a noise-conditional model is built without a noise level.
var ErrNoNoise = errors.New("graph: the model is noise-conditional (it takes the noise level σ) but none was given")

// Constant returns a scalar constant node of the graph's dtype.
func (b *Builder) Constant(v float64) *G.Node {
	if b.dtype == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// Input adds an input node of the given shape to the graph.
func (b *Builder) Input(name string, shape ...int) *G.Node {
	return G.NewTensor(b.g, b.dtype, len(shape), G.WithShape(shape...), G.WithName(name))
}

// Func adapts a Go function over Gorgonia nodes to a Model. Params lists
// the parameters Fn uses through b.Param.
type Func struct {
	Fn func(b *Builder, x *G.Node) (*G.Node, error)
	P  []*Param
}

// Params implements Model.
func (f Func) Params() []*Param { return f.P }

// Forward implements Model.
func (f Func) Forward(b *Builder, x *G.Node) (*G.Node, error) { return f.Fn(b, x) }

// ShapeError reports an input whose shape a layer cannot take.
type ShapeError struct {
	Layer string // the layer, e.g. "Sequential[2] Linear(784→256)"
	Got   []int  // the shape it was given
	Want  string // the shape it takes, e.g. "(N, 784)"
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("%s: input shape %v, want %s", e.Layer, fmtShape(e.Got), e.Want)
}

// Is makes errors.Is(err, energy.ErrShape) true for shape errors: a
// compiled model is an energy, and its shape errors are the energy
// contract's.
func (e *ShapeError) Is(target error) bool { return target == energy.ErrShape }

func fmtShape(s []int) string {
	out := "("
	for i, d := range s {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprint(d)
	}
	return out + ")"
}

// FormatShape formats a shape as "(128, 1, 28, 28)".
func FormatShape(s []int) string { return fmtShape(s) }

// guard runs build, turning a panic from inside Gorgonia into an error, the
// way regexp.Compile turns a bad pattern into an error.
func guard(what string, build func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("graph: %s: %v", what, r)
		}
	}()
	return build()
}

//go:build torch

package torch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	lib "github.com/sugarme/gotch/libtch"
	"gorgonia.org/tensor"
)

// ErrUnsupported is wrapped by the error NewModel returns for a layer
// that has no libtorch translation.
var ErrUnsupported = errors.New("torch: unsupported layer")

// ErrClosed is returned by the methods of a closed Model or Trainer.
var ErrClosed = errors.New("torch: use after Close")

// opKind is one step of a translated model.
type opKind int

const (
	opLinear opKind = iota
	opConv2d
	opFlatten
	opSiLU
	opSigmoid
	opTanh
	opSoftplus
	opELU
	opLeakyReLU
)

type op struct {
	kind    opKind
	name    string // for errors: "Sequential[2] Linear(784→256)"
	w, b    int    // parameter indices; b is -1 without bias
	stride  []int64
	padding []int64
	alpha   float64 // ELU's α, LeakyReLU's slope
	// sa, sb are the scalars α and 1−α of ELU and LeakyReLU, made by
	// upload and freed by Close.
	sa, sb lib.Cscalar
}

// Model is a graph.Model translated to libtorch: the same layers, with the
// parameters copied to a device. It computes f and ∇x f (it implements
// energy.Differentiable, so it can stand in for graph.Energy), runs
// samplers whose whole loop stays on the device (Langevin, MALA, HMC), and
// is what a Trainer trains.
//
// The device holds its own copy of the parameters: SyncFromGraph copies
// the graph.Param values to the device and SyncToGraph copies them back.
// A Model owns libtorch memory; Close frees it (there are no finalizers).
// A Model is not safe for concurrent use; each call pins its goroutine to
// an OS thread for its duration.
type Model struct {
	src    graph.Model
	params []*graph.Param
	shape  []int
	dim    int
	dtype  tensor.Dtype
	kind   int
	dev    Device
	ops    []op
	p      []handle // the parameters: leaves that require gradients
	pd     []handle // detached aliases of p (same storage) for sampling and updates
	closed bool
	stage  []float32 // staging buffer of the float64 ↔ float32 conversions
}

// exec returns an exec that stages its conversions in the model's buffer.
func (mod *Model) exec() *exec {
	e := newExec()
	e.f32 = &mod.stage
	return e
}

var _ energy.Differentiable = (*Model)(nil)

// NewModel translates m, for samples of the given event shape (e.g. {2}
// or {1, 28, 28}), to libtorch on device dev and copies its parameters
// there. The model must be built from nn.Sequential, nn.Linear,
// nn.Conv2d, nn.Flatten and nn.Activation (every activation nn offers);
// any other layer gives an error wrapping ErrUnsupported that names it. A
// sample shape the layers cannot take gives an error wrapping
// energy.ErrShape. The computation runs in the dtype of the parameters
// (float32 for nn's layers; float64 after graph.Cast).
func NewModel(m graph.Model, shape []int, dev Device) (*Model, error) {
	if m == nil {
		panic("torch: NewModel: nil model")
	}
	if len(shape) == 0 {
		return nil, fmt.Errorf("torch: NewModel: empty sample shape; give the shape of one sample, e.g. {2} or {1, 28, 28}")
	}
	dim := 1
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("torch: NewModel: sample shape %v has a non-positive dimension: %w", graph.FormatShape(shape), energy.ErrShape)
		}
		dim *= d
	}
	mod := &Model{src: m, params: m.Params(), shape: append([]int(nil), shape...), dim: dim, dev: dev}
	mod.dtype = tensor.Float32
	for i, p := range mod.params {
		if i == 0 {
			mod.dtype = p.Dtype()
		} else if p.Dtype() != mod.dtype {
			return nil, fmt.Errorf("torch: NewModel: parameters mix %v and %v (%q); use graph.Cast", mod.dtype, p.Dtype(), p.Name)
		}
	}
	switch mod.dtype {
	case tensor.Float32:
		mod.kind = kindFloat32
	case tensor.Float64:
		mod.kind = kindFloat64
	default:
		return nil, fmt.Errorf("torch: NewModel: parameters are %v; only float32 and float64 are supported", mod.dtype)
	}
	index := make(map[*graph.Param]int, len(mod.params))
	for i, p := range mod.params {
		index[p] = i
	}
	out, err := mod.translate(m, "", shape, index)
	if err != nil {
		return nil, err
	}
	if !(len(out) == 0 || len(out) == 1 && out[0] == 1) {
		return nil, fmt.Errorf("torch: NewModel: the model's output per sample has shape %v, want one energy per sample: () or (1): %w",
			graph.FormatShape(out), energy.ErrShape)
	}
	if err := dev.check(); err != nil {
		return nil, err
	}
	if err := mod.upload(); err != nil {
		mod.Close()
		return nil, err
	}
	return mod, nil
}

// translate appends the ops of layer l, which takes per-sample shape in,
// and returns its per-sample output shape.
func (mod *Model) translate(l graph.Model, path string, in []int, index map[*graph.Param]int) ([]int, error) {
	name := strings.TrimSpace(path + " " + layerName(l))
	shapeErr := func(want string) error {
		return fmt.Errorf("torch: %s: input shape %s, want %s: %w", name, fmtBatchShape(in), want, energy.ErrShape)
	}
	param := func(p *graph.Param) (int, error) {
		if p == nil {
			return -1, nil
		}
		i, ok := index[p]
		if !ok {
			return 0, fmt.Errorf("torch: %s: parameter %q is not among the model's Params()", name, p.Name)
		}
		return i, nil
	}
	switch l := l.(type) {
	case *nn.Sequential:
		var err error
		for i, c := range l.Layers {
			if in, err = mod.translate(c, fmt.Sprintf("%sSequential[%d]", prefix(path), i), in, index); err != nil {
				return nil, err
			}
		}
		return in, nil
	case *nn.Linear:
		if len(in) != 1 || in[0] != l.In {
			return nil, shapeErr(fmt.Sprintf("(N, %d)", l.In))
		}
		w, err := param(l.Weight)
		if err != nil {
			return nil, err
		}
		b, err := param(l.Bias)
		if err != nil {
			return nil, err
		}
		mod.ops = append(mod.ops, op{kind: opLinear, name: name, w: w, b: b})
		return []int{l.Out}, nil
	case *nn.Conv2d:
		if len(in) != 3 || in[0] != l.In || l.OutSize(in[1]) <= 0 || l.OutSize(in[2]) <= 0 {
			return nil, shapeErr(fmt.Sprintf("(N, %d, H, W) with H, W ≥ %d", l.In, l.Kernel-2*l.Padding))
		}
		w, err := param(l.Weight)
		if err != nil {
			return nil, err
		}
		b, err := param(l.Bias)
		if err != nil {
			return nil, err
		}
		mod.ops = append(mod.ops, op{kind: opConv2d, name: name, w: w, b: b,
			stride: []int64{int64(l.Stride), int64(l.Stride)}, padding: []int64{int64(l.Padding), int64(l.Padding)}})
		return []int{l.Out, l.OutSize(in[1]), l.OutSize(in[2])}, nil
	case nn.Flatten, *nn.Flatten:
		if len(in) < 1 {
			return nil, shapeErr("(N, ...) with at least 2 dimensions")
		}
		n := 1
		for _, d := range in {
			n *= d
		}
		if len(in) > 1 {
			mod.ops = append(mod.ops, op{kind: opFlatten, name: name})
		}
		return []int{n}, nil
	case *nn.Activation:
		o, err := activationOp(l)
		if err != nil {
			return nil, fmt.Errorf("torch: %s: %w", name, err)
		}
		o.name = name
		mod.ops = append(mod.ops, o)
		return in, nil
	}
	return nil, fmt.Errorf("torch: %s: layer %T has no libtorch translation (supported: nn.Sequential, nn.Linear, nn.Conv2d, nn.Flatten, nn.Activation): %w",
		name, l, ErrUnsupported)
}

// activationOp translates an nn.Activation by its Kind.
func activationOp(a *nn.Activation) (op, error) {
	kind, param := a.Kind()
	switch kind {
	case "SiLU":
		return op{kind: opSiLU}, nil
	case "Sigmoid":
		return op{kind: opSigmoid}, nil
	case "Tanh":
		return op{kind: opTanh}, nil
	case "Softplus":
		return op{kind: opSoftplus}, nil
	case "ELU":
		return op{kind: opELU, alpha: param}, nil
	case "LeakyReLU":
		return op{kind: opLeakyReLU, alpha: param}, nil
	}
	return op{}, fmt.Errorf("activation %q has no libtorch translation: %w", a, ErrUnsupported)
}

func layerName(l graph.Model) string {
	switch l.(type) {
	case *nn.Sequential:
		return ""
	}
	if s, ok := l.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", l)
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + " "
}

func fmtBatchShape(s []int) string {
	parts := []string{"N"}
	for _, d := range s {
		parts = append(parts, fmt.Sprint(d))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// upload copies the parameters to the device.
func (mod *Model) upload() error {
	defer lockThread()()
	e := newExec()
	defer e.close()
	for _, p := range mod.params {
		t := e.take(e.fromFloat64s(p.Float64s(nil), int64s(p.Shape()), mod.kind, mod.dev.c()))
		if t == nil {
			break
		}
		mod.p = append(mod.p, t)
		e.requiresGrad(t, true)
		mod.pd = append(mod.pd, e.take(e.detach(t)))
	}
	if e.err != nil {
		return fmt.Errorf("torch: copying the parameters to %v: %w", mod.dev, e.err)
	}
	for i := range mod.ops {
		if o := &mod.ops[i]; o.kind == opELU || o.kind == opLeakyReLU {
			o.sa, o.sb = lib.AtsFloat(o.alpha), lib.AtsFloat(1-o.alpha)
		}
	}
	return nil
}

func int64s(s []int) []int64 {
	o := make([]int64, len(s))
	for i, v := range s {
		o[i] = int64(v)
	}
	return o
}

// Close frees the model's libtorch memory. Later calls return ErrClosed.
func (mod *Model) Close() error {
	if mod.closed {
		return nil
	}
	mod.closed = true
	for i := range mod.p {
		free(mod.p[i])
		mod.p[i] = nil
	}
	for i := range mod.pd {
		free(mod.pd[i])
		mod.pd[i] = nil
	}
	for i := range mod.ops {
		if o := &mod.ops[i]; o.sa != nil {
			lib.AtsFree(o.sa)
			lib.AtsFree(o.sb)
			o.sa, o.sb = nil, nil
		}
	}
	return nil
}

// Dim returns the number of values in one sample.
func (mod *Model) Dim() int { return mod.dim }

// Shape returns a copy of the event shape of one sample.
func (mod *Model) Shape() []int { return append([]int(nil), mod.shape...) }

// Device returns the device the model runs on.
func (mod *Model) Device() Device { return mod.dev }

// Dtype returns the element type the model computes in.
func (mod *Model) Dtype() tensor.Dtype { return mod.dtype }

// Params returns the graph parameters the model was made from, in the
// order of graph.Model.Params.
func (mod *Model) Params() []*graph.Param { return mod.params }

// batchShape returns (n, shape...).
func (mod *Model) batchShape(n int) []int64 {
	s := make([]int64, 0, len(mod.shape)+1)
	s = append(s, int64(n))
	for _, d := range mod.shape {
		s = append(s, int64(d))
	}
	return s
}

// forward returns the n energies of the batch x (shape (n, shape...))
// computed with parameters ps (mod.p to train, mod.pd to sample), as a
// tensor of shape (n).
func (mod *Model) forward(e *exec, x handle, ps []handle, n int) handle {
	start := e.mark()
	for i := range mod.ops {
		o := &mod.ops[i]
		var b handle
		if o.b >= 0 {
			b = ps[o.b]
		}
		switch o.kind {
		case opLinear:
			x = e.linear(x, ps[o.w], b)
		case opConv2d:
			x = e.conv2d(x, ps[o.w], b, o.stride, o.padding)
		case opFlatten:
			x = e.flatten(x)
		case opSiLU:
			x = e.silu(x)
		case opSigmoid:
			x = e.sigmoid(x)
		case opTanh:
			x = e.tanh(x)
		case opSoftplus:
			x = e.softplus(x)
		case opELU:
			if o.alpha == 1 {
				x = e.elu(x)
				break
			}
			// ELU_α(x) = (1−α)·relu(x) + α·ELU_1(x): x for x > 0 and
			// α(eˣ − 1) otherwise, with the same derivative everywhere
			// (α at 0, as the Go kernel has it).
			r := e.mulS(e.relu(x), o.sb)
			x = e.addIn(e.mulS(e.elu(x), o.sa), r)
		case opLeakyReLU:
			// s·x + (1−s)·relu(x): x for x > 0 and s·x otherwise, with
			// derivative s at 0, as the Go kernel has it.
			r := e.mulS(e.relu(x), o.sb)
			x = e.addIn(e.mulS(x, o.sa), r)
		}
		if e.err != nil {
			e.err = fmt.Errorf("%s: %w", o.name, e.err)
			return nil
		}
		// Only this layer's output stays: autograd holds what the backward
		// pass needs and frees it there, as in PyTorch.
		e.keep(start, x)
	}
	f := e.reshape(x, []int64{int64(n)})
	e.keep(start, f)
	return f
}

// F sets dst[i] = f(x_i) for the len(dst) samples stored row-major in x.
func (mod *Model) F(dst, x []float64) error { return mod.evaluate(dst, nil, x) }

// FGrad sets dst[i] = f(x_i) and grad to ∇x f, laid out like x.
func (mod *Model) FGrad(dst, grad, x []float64) error {
	if len(grad) != len(x) {
		return fmt.Errorf("torch: FGrad: gradient buffer has %d values for an input of %d: %w", len(grad), len(x), energy.ErrShape)
	}
	if grad == nil {
		grad = []float64{} // an empty batch: not F's nil
	}
	return mod.evaluate(dst, grad, x)
}

// evaluate is F (grad nil) and FGrad.
func (mod *Model) evaluate(dst, grad, x []float64) error {
	n, err := energy.CheckBatch(mod.dim, dst, x)
	if err != nil {
		return err
	}
	if mod.closed {
		return ErrClosed
	}
	if n == 0 {
		return nil
	}
	defer lockThread()()
	e := mod.exec()
	defer e.close()
	xt := e.fromFloat64s(x, mod.batchShape(n), mod.kind, mod.dev.c())
	if grad == nil {
		e.toFloat64s(dst, mod.forward(e, xt, mod.pd, n), mod.kind)
		return e.err
	}
	f, g := mod.fgrad(e, xt, n)
	e.toFloat64s(dst, f, mod.kind)
	e.toFloat64s(grad, g, mod.kind)
	return e.err
}

// fgrad returns f(x) (shape (n)) and ∇x Σf (the shape of x) for a batch x
// that does not require gradients; x is made a leaf that does.
func (mod *Model) fgrad(e *exec, x handle, n int) (f, g handle) {
	e.requiresGrad(x, true)
	f = mod.forward(e, x, mod.pd, n)
	g = e.grad1(f, x)
	// x itself stays a leaf that requires gradients; callers use detached
	// views to update it.
	return f, g
}

// SyncFromGraph copies the current graph.Param values to the device, for
// example after a checkpoint was loaded or the parameters were trained in
// Go.
func (mod *Model) SyncFromGraph() error {
	if mod.closed {
		return ErrClosed
	}
	defer lockThread()()
	e := newExec()
	defer e.close()
	for i, p := range mod.params {
		var src handle
		switch d := p.Value.Data().(type) {
		case []float32:
			src = e.fromFloat32s(d, int64s(p.Shape()), kindFloat32, -1)
		default:
			src = e.fromFloat64s(p.Float64s(nil), int64s(p.Shape()), kindFloat64, -1)
		}
		e.copyIn(mod.pd[i], src)
		e.release()
	}
	if e.err != nil {
		return fmt.Errorf("torch: SyncFromGraph: %w", e.err)
	}
	return nil
}

// SyncToGraph copies the device's parameters back into the graph.Param
// values (in place), for example before a checkpoint is written or to
// evaluate a model trained on the device with graph.NewEnergy.
func (mod *Model) SyncToGraph() error {
	if mod.closed {
		return ErrClosed
	}
	defer lockThread()()
	e := newExec()
	defer e.close()
	for i, p := range mod.params {
		switch d := p.Value.Data().(type) {
		case []float32:
			t := mod.pd[i]
			if mod.kind != kindFloat32 {
				t = e.toKind(t, -1, kindFloat32)
			}
			e.toFloat32s(d, t)
		default:
			buf := make([]float64, p.Size())
			e.toFloat64s(buf, mod.pd[i], mod.kind)
			if e.err == nil {
				p.SetFloat64s(buf)
			}
		}
		e.release()
	}
	if e.err != nil {
		return fmt.Errorf("torch: SyncToGraph: %w", e.err)
	}
	return nil
}

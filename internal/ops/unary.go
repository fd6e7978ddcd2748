package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Kernel is an element-wise function with its derivative, in float32 and
// float64. Forward sets y[i] = f(x[i]); Backward sets gx[i] = gy[i]·f'(x[i]),
// and may read y = f(x) to save work.
type Kernel struct {
	Name      string // unique among kernels, with its parameters: "LeakyReLU(0.2)"
	Forward32 func(y, x []float32)
	Forward64 func(y, x []float64)
	Back32    func(gx, x, y, gy []float32)
	Back64    func(gx, x, y, gy []float64)
	// ForwardD32, if not nil, sets y = f(x) and d = f'(x) in one pass. The
	// forward of a graph with a backward pass then keeps d, and the
	// backward is gx = gy·d, with no second evaluation of f'.
	ForwardD32 func(y, d, x []float32)
	// Nth32 and Nth64, if not nil, set d[i] = f⁽ⁿ⁾(x[i]) for n ≥ 1: the
	// derivatives that graphs differentiating a backward pass again need
	// (nth.go). Without them the backward op cannot be differentiated.
	Nth32 func(n int, d, x []float32)
	Nth64 func(n int, d, x []float64)
	// nthMul32, if not nil, sets y = f⁽ⁿ⁾(x)·a₀·a₁… in one pass and
	// reports true, or reports false for orders and counts it does not
	// fuse (nth.go).
	nthMul32 func(n int, y, x []float32, a [][]float32) bool
}

// Apply returns k applied element-wise to x.
func Apply(k *Kernel, x *G.Node) (*G.Node, error) {
	return G.ApplyOp(&unaryOp{k: k}, x)
}

type unaryOp struct {
	k   *Kernel
	out outBuf
	// With a backward pass (set by SymDiff) and k.ForwardD32, Do also
	// keeps f'(x) in d, for the input whose data starts at dFor. The
	// backward runs after the forward in the same run of a machine, on the
	// same input, and checks dFor before it uses d.
	deriv bool
	d     scratch[float32]
	dFor  *float32
}

var typeVarA = hm.TypeVariable('a')

func (op *unaryOp) Arity() int { return 1 }
func (op *unaryOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}
func (op *unaryOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *unaryOp) ReturnsPtr() bool      { return false }
func (op *unaryOp) CallsExtern() bool     { return false }
func (op *unaryOp) OverwritesInput() int  { return -1 }
func (op *unaryOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm.%s", op.k.Name) }
func (op *unaryOp) Hashcode() uint32      { return hashOf(op) }
func (op *unaryOp) String() string        { return op.k.Name }

func (op *unaryOp) Do(in ...G.Value) (G.Value, error) {
	x, err := dense(in[0])
	if err != nil {
		return nil, err
	}
	return op.do(op.out.get(x.Dtype(), x.Shape()), x)
}

func (op *unaryOp) do(y, x *tensor.Dense) (G.Value, error) {
	switch xd := x.Data().(type) {
	case []float32:
		if op.deriv && op.k.ForwardD32 != nil && len(xd) > 0 {
			op.k.ForwardD32(y.Data().([]float32), op.d.get(len(xd)), xd)
			op.dFor = &xd[0]
			break
		}
		op.dFor = nil
		op.k.Forward32(y.Data().([]float32), xd)
	case []float64:
		op.k.Forward64(y.Data().([]float64), xd)
	default:
		return nil, fmt.Errorf("%s: dtype %v not supported", op.k.Name, x.Dtype())
	}
	return y, nil
}

// unaryBackOp computes gx = gy·f'(x) from (x, y, gy).
type unaryBackOp struct {
	k   *Kernel
	fwd *unaryOp // the forward op, whose kept f'(x) it uses when it can
	out outBuf
}

func (op *unaryBackOp) Arity() int { return 3 }
func (op *unaryBackOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a, a)
}
func (op *unaryBackOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *unaryBackOp) ReturnsPtr() bool      { return false }
func (op *unaryBackOp) CallsExtern() bool     { return false }
func (op *unaryBackOp) OverwritesInput() int  { return -1 }
func (op *unaryBackOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm.%s'", op.k.Name) }
func (op *unaryBackOp) Hashcode() uint32      { return hashOf(op) }
func (op *unaryBackOp) String() string        { return op.k.Name + "'" }

func (op *unaryBackOp) Do(in ...G.Value) (G.Value, error) {
	x, err := dense(in[0])
	if err != nil {
		return nil, err
	}
	return op.do(op.out.get(x.Dtype(), x.Shape()), in...)
}

func (op *unaryBackOp) do(gx *tensor.Dense, in ...G.Value) (G.Value, error) {
	var ts [3]*tensor.Dense
	for i := range ts {
		t, err := dense(in[i])
		if err != nil {
			return nil, err
		}
		ts[i] = t
	}
	switch xd := ts[0].Data().(type) {
	case []float32:
		if f := op.fwd; f != nil && len(xd) > 0 && f.dFor == &xd[0] && len(f.d.s) >= len(xd) {
			Mul32(gx.Data().([]float32), ts[2].Data().([]float32), f.d.s[:len(xd)])
			break
		}
		op.k.Back32(gx.Data().([]float32), xd, ts[1].Data().([]float32), ts[2].Data().([]float32))
	case []float64:
		op.k.Back64(gx.Data().([]float64), xd, ts[1].Data().([]float64), ts[2].Data().([]float64))
	default:
		return nil, fmt.Errorf("%s': dtype %v not supported", op.k.Name, ts[0].Dtype())
	}
	return gx, nil
}

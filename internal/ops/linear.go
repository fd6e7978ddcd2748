package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Linear returns y = x·Wᵀ + b for x of shape (N, In), w of shape (Out, In)
// (PyTorch's layout) and b of shape (Out), or y = x·Wᵀ when b is nil: one
// matrix product with the bias folded in, and one op per input backward.
func Linear(x, w, b *G.Node) (*G.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[1] {
		return nil, fmt.Errorf("ops: Linear: input %v and weight %v do not match: want (N, In) and (Out, In)", xs, ws)
	}
	if b != nil {
		if bs := b.Shape(); len(bs) != 1 || bs[0] != ws[0] {
			return nil, fmt.Errorf("ops: Linear: bias %v, want (%d)", bs, ws[0])
		}
		return G.ApplyOp(&linearOp{bias: true}, x, w, b)
	}
	return G.ApplyOp(&linearOp{}, x, w)
}

// linearOp is y = x·Wᵀ (+ b).
type linearOp struct {
	bias bool
	out  outBuf
	ws   work
}

func (op *linearOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}

func (op *linearOp) Type() hm.Type {
	if op.bias {
		return hm.NewFnType(tensorType(2), tensorType(2), tensorType(1), tensorType(2))
	}
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}

func (op *linearOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, w := in[0].(tensor.Shape), in[1].(tensor.Shape)
	return tensor.Shape{x[0], w[0]}, nil
}

func (op *linearOp) ReturnsPtr() bool      { return false }
func (op *linearOp) CallsExtern() bool     { return false }
func (op *linearOp) OverwritesInput() int  { return -1 }
func (op *linearOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm.Linear(bias=%v)", op.bias) }
func (op *linearOp) Hashcode() uint32      { return hashOf(op) }
func (op *linearOp) String() string        { return "Linear" }

func (op *linearOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denses("Linear", in)
	if err != nil {
		return nil, err
	}
	x, w := ts[0], ts[1]
	n, k, m := x.Shape()[0], x.Shape()[1], w.Shape()[0]
	y := op.out.get(x.Dtype(), tensor.Shape{n, m})
	switch yd := y.Data().(type) {
	case []float32:
		if useLinearTiles(n) {
			wd := w.Data().([]float32)
			a := op.ws.packed('F', wd, m*k, func(dst []float32) { packA(dst, wd, m, k, k, 1) })
			linearTiles(&op.ws, yd, x.Data().([]float32), a, biasData[float32](ts, op.bias), n, k, m)
			break
		}
		linearForward(yd, x.Data().([]float32), w.Data().([]float32), biasData[float32](ts, op.bias), n, k, m)
	case []float64:
		linearForward(yd, x.Data().([]float64), w.Data().([]float64), biasData[float64](ts, op.bias), n, k, m)
	}
	return y, nil
}

func biasData[T float](ts []*tensor.Dense, has bool) []T {
	if !has {
		return nil
	}
	return ts[2].Data().([]T)
}

// linearForward sets y (n×m) = x (n×k) · wᵀ (k×m) + b.
func linearForward[T float](y, x, w, b []T, n, k, m int) {
	beta := T(0)
	if b != nil {
		for i := range n {
			copy(y[i*m:(i+1)*m], b)
		}
		beta = 1
	}
	gemm(false, true, n, m, k, 1, x, k, w, k, beta, y, m)
}

// linearDxOp is gx = gy·W from (gy, W).
type linearDxOp struct {
	out outBuf
	ws  work
}

func (op *linearDxOp) Arity() int           { return 2 }
func (op *linearDxOp) ReturnsPtr() bool     { return false }
func (op *linearDxOp) CallsExtern() bool    { return false }
func (op *linearDxOp) OverwritesInput() int { return -1 }
func (op *linearDxOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}
func (op *linearDxOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	gy, w := in[0].(tensor.Shape), in[1].(tensor.Shape)
	return tensor.Shape{gy[0], w[1]}, nil
}
func (op *linearDxOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm.Linear∂x") }
func (op *linearDxOp) Hashcode() uint32      { return hashOf(op) }
func (op *linearDxOp) String() string        { return "Linear∂x" }

func (op *linearDxOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denses("Linear∂x", in)
	if err != nil {
		return nil, err
	}
	gy, w := ts[0], ts[1]
	n, m, k := gy.Shape()[0], gy.Shape()[1], w.Shape()[1]
	gx := op.out.get(gy.Dtype(), tensor.Shape{n, k})
	switch d := gx.Data().(type) {
	case []float32:
		if useLinearTiles(n) {
			wd := w.Data().([]float32)
			a := op.ws.packed('X', wd, m*k, func(dst []float32) { packA(dst, wd, k, m, 1, k) })
			linearTiles(&op.ws, d, gy.Data().([]float32), a, nil, n, m, k)
			break
		}
		gemm(false, false, n, k, m, 1, gy.Data().([]float32), m, w.Data().([]float32), k, 0, d, k)
	case []float64:
		gemm(false, false, n, k, m, 1, gy.Data().([]float64), m, w.Data().([]float64), k, 0, d, k)
	}
	return gx, nil
}

// linearDwOp is gW = gyᵀ·x from (gy, x).
type linearDwOp struct {
	out outBuf
	ws  work
}

func (op *linearDwOp) Arity() int           { return 2 }
func (op *linearDwOp) ReturnsPtr() bool     { return false }
func (op *linearDwOp) CallsExtern() bool    { return false }
func (op *linearDwOp) OverwritesInput() int { return -1 }
func (op *linearDwOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(2), tensorType(2))
}
func (op *linearDwOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	gy, x := in[0].(tensor.Shape), in[1].(tensor.Shape)
	return tensor.Shape{gy[1], x[1]}, nil
}
func (op *linearDwOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "ebm.Linear∂W") }
func (op *linearDwOp) Hashcode() uint32      { return hashOf(op) }
func (op *linearDwOp) String() string        { return "Linear∂W" }

func (op *linearDwOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denses("Linear∂W", in)
	if err != nil {
		return nil, err
	}
	gy, x := ts[0], ts[1]
	n, m, k := gy.Shape()[0], gy.Shape()[1], x.Shape()[1]
	gw := op.out.get(gy.Dtype(), tensor.Shape{m, k})
	switch d := gw.Data().(type) {
	case []float32:
		if useTilesDW && n > 0 {
			linearDwTiles(&op.ws, d, gy.Data().([]float32), x.Data().([]float32), n, m, k)
			break
		}
		gemm(true, false, m, k, n, 1, gy.Data().([]float32), m, x.Data().([]float32), k, 0, d, k)
	case []float64:
		gemm(true, false, m, k, n, 1, gy.Data().([]float64), m, x.Data().([]float64), k, 0, d, k)
	}
	return gw, nil
}

// biasGradOp is gb[c] = Σ over every axis but 1 of gy, for gy of shape
// (N, C) or (N, C, H, W): the gradient of a bias broadcast along axis 1.
type biasGradOp struct {
	dims int
	out  outBuf
}

func (op *biasGradOp) Arity() int           { return 1 }
func (op *biasGradOp) ReturnsPtr() bool     { return false }
func (op *biasGradOp) CallsExtern() bool    { return false }
func (op *biasGradOp) OverwritesInput() int { return -1 }
func (op *biasGradOp) Type() hm.Type {
	d := op.dims
	if d == 0 {
		d = 2
	}
	return hm.NewFnType(tensorType(d), tensorType(1))
}
func (op *biasGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{in[0].(tensor.Shape)[1]}, nil
}
func (op *biasGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm.Bias∂(%d)", op.dims) }
func (op *biasGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *biasGradOp) String() string        { return "Bias∂" }

func (op *biasGradOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denses("Bias∂", in)
	if err != nil {
		return nil, err
	}
	gy := ts[0]
	s := gy.Shape()
	n, c := s[0], s[1]
	inner := s.TotalSize() / (n * c)
	gb := op.out.get(gy.Dtype(), tensor.Shape{c})
	switch d := gb.Data().(type) {
	case []float32:
		biasGrad(d, gy.Data().([]float32), n, c, inner)
	case []float64:
		biasGrad(d, gy.Data().([]float64), n, c, inner)
	}
	return gb, nil
}

// biasGrad sums gy (n, c, inner) over n and inner, accumulating in float64.
func biasGrad[T float](gb, gy []T, n, c, inner int) {
	acc := make([]float64, c)
	for i := range n {
		row := gy[i*c*inner : (i+1)*c*inner]
		for j := range c {
			var s float64
			for _, v := range row[j*inner : (j+1)*inner] {
				s += float64(v)
			}
			acc[j] += s
		}
	}
	for j, v := range acc {
		gb[j] = T(v)
	}
}

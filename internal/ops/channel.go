package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AddChannels returns y[n, c, …] = x[n, c, …] + e[n, c] for x of shape
// (N, C) or (N, C, H, W) and e of shape (N, C): a per-sample, per-channel
// bias, as noise-conditional networks add an embedding of the noise level
// to their hidden channels. Its derivatives are ∂x = g and
// ∂e[n, c] = Σ g[n, c, …] (ChanSum), whose own derivative is the
// broadcast (Chan→): the family is closed, so graphs that differentiate
// a backward pass again go through it.
func AddChannels(x, e *G.Node) (*G.Node, error) {
	xs, es := x.Shape(), e.Shape()
	if (len(xs) != 2 && len(xs) != 4) || len(es) != 2 || es[0] != xs[0] || es[1] != xs[1] {
		return nil, fmt.Errorf("ops: AddChannels: input %v and channel values %v do not match: want (N, C[, H, W]) and (N, C)", xs, es)
	}
	return G.ApplyOp(&chanAddOp{shape: xs.Clone()}, x, e)
}

// chanAddOp is y = x + e broadcast over the positions of each channel.
type chanAddOp struct {
	shape tensor.Shape
	out   outBuf
}

func (op *chanAddOp) Arity() int { return 2 }
func (op *chanAddOp) Type() hm.Type {
	return hm.NewFnType(tensorType(len(op.shape)), tensorType(2), tensorType(len(op.shape)))
}
func (op *chanAddOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *chanAddOp) ReturnsPtr() bool                               { return false }
func (op *chanAddOp) CallsExtern() bool                              { return false }
func (op *chanAddOp) OverwritesInput() int                           { return -1 }
func (op *chanAddOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "ebm.Chan+%v", op.shape) }
func (op *chanAddOp) Hashcode() uint32                               { return hashOf(op) }
func (op *chanAddOp) String() string                                 { return "Chan+" }
func (op *chanAddOp) DiffWRT(n int) []bool                           { return allTrue(n) }
func (op *chanAddOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *chanAddOp) DiffSome(_ G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need,
		func() (*G.Node, error) { return grad, nil },
		apply(&chanSumOp{shape: op.shape.Clone()}, grad))
}

func (op *chanAddOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denses("Chan+", in)
	if err != nil {
		return nil, err
	}
	y := op.out.get(ts[0].Dtype(), op.shape)
	n, c, inner := chanDims(op.shape)
	switch d := y.Data().(type) {
	case []float32:
		chanAdd(d, ts[0].Data().([]float32), ts[1].Data().([]float32), n, c, inner)
	case []float64:
		chanAdd(d, ts[0].Data().([]float64), ts[1].Data().([]float64), n, c, inner)
	}
	return y, nil
}

func chanDims(s tensor.Shape) (n, c, inner int) {
	n, c = s[0], s[1]
	return n, c, s.TotalSize() / (n * c)
}

// chanAdd sets y = x + e over (n·c) rows of inner values; e nil adds 0.
func chanAdd[T float](y, x, e []T, n, c, inner int) {
	parallelChunks(n*c*inner, func(lo, hi int) {
		for r := lo / inner; r*inner < hi; r++ {
			var v T
			if e != nil {
				v = e[r]
			}
			a, b := max(r*inner, lo), min((r+1)*inner, hi)
			if x == nil {
				for i := a; i < b; i++ {
					y[i] = v
				}
				continue
			}
			for i := a; i < b; i++ {
				y[i] = x[i] + v
			}
		}
	})
}

// chanSumOp is s[n, c] = Σ g[n, c, …].
type chanSumOp struct {
	shape tensor.Shape // of g
	out   outBuf
}

func (op *chanSumOp) Arity() int { return 1 }
func (op *chanSumOp) Type() hm.Type {
	return hm.NewFnType(tensorType(len(op.shape)), tensorType(2))
}
func (op *chanSumOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.shape[0], op.shape[1]}, nil
}
func (op *chanSumOp) ReturnsPtr() bool      { return false }
func (op *chanSumOp) CallsExtern() bool     { return false }
func (op *chanSumOp) OverwritesInput() int  { return -1 }
func (op *chanSumOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm.ChanΣ%v", op.shape) }
func (op *chanSumOp) Hashcode() uint32      { return hashOf(op) }
func (op *chanSumOp) String() string        { return "ChanΣ" }
func (op *chanSumOp) DiffWRT(n int) []bool  { return allTrue(n) }
func (op *chanSumOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *chanSumOp) DiffSome(_ G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need, apply(&chanBcastOp{shape: op.shape.Clone()}, grad))
}

func (op *chanSumOp) Do(in ...G.Value) (G.Value, error) {
	g, err := dense(in[0])
	if err != nil {
		return nil, err
	}
	n, c, inner := chanDims(op.shape)
	s := op.out.get(g.Dtype(), tensor.Shape{n, c})
	switch d := s.Data().(type) {
	case []float32:
		chanSum(d, g.Data().([]float32), inner)
	case []float64:
		chanSum(d, g.Data().([]float64), inner)
	default:
		return nil, fmt.Errorf("ChanΣ: dtype %v not supported", g.Dtype())
	}
	return s, nil
}

// chanSum sets s[r] to the float64-accumulated sum of row r of g.
func chanSum[T float](s, g []T, inner int) {
	for r := range s {
		var acc float64
		for _, v := range g[r*inner : (r+1)*inner] {
			acc += float64(v)
		}
		s[r] = T(acc)
	}
}

// chanBcastOp is y[n, c, …] = e[n, c].
type chanBcastOp struct {
	shape tensor.Shape // of y
	out   outBuf
}

func (op *chanBcastOp) Arity() int { return 1 }
func (op *chanBcastOp) Type() hm.Type {
	return hm.NewFnType(tensorType(2), tensorType(len(op.shape)))
}
func (op *chanBcastOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *chanBcastOp) ReturnsPtr() bool                               { return false }
func (op *chanBcastOp) CallsExtern() bool                              { return false }
func (op *chanBcastOp) OverwritesInput() int                           { return -1 }
func (op *chanBcastOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "ebm.Chan→%v", op.shape) }
func (op *chanBcastOp) Hashcode() uint32                               { return hashOf(op) }
func (op *chanBcastOp) String() string                                 { return "Chan→" }
func (op *chanBcastOp) DiffWRT(n int) []bool                           { return allTrue(n) }
func (op *chanBcastOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *chanBcastOp) DiffSome(_ G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need, apply(&chanSumOp{shape: op.shape.Clone()}, grad))
}

func (op *chanBcastOp) Do(in ...G.Value) (G.Value, error) {
	e, err := dense(in[0])
	if err != nil {
		return nil, err
	}
	y := op.out.get(e.Dtype(), op.shape)
	n, c, inner := chanDims(op.shape)
	switch d := y.Data().(type) {
	case []float32:
		chanAdd(d, nil, e.Data().([]float32), n, c, inner)
	case []float64:
		chanAdd(d, nil, e.Data().([]float64), n, c, inner)
	default:
		return nil, fmt.Errorf("Chan→: dtype %v not supported", e.Dtype())
	}
	return y, nil
}

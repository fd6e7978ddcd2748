package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Derivatives of every op in this package, forward and backward, as nodes
// of ops of this package, so that a backward pass can itself be
// differentiated (second and third derivatives for score matching) on the
// same fast paths as the first. The families are closed:
//
//	Linear  y = x·Wᵀ + b   ∂x: Linear∂x(g, W)    ∂W: Linear∂W(g, x)   ∂b: Bias∂(g)
//	Linear∂x  gy·W         ∂gy: Linear(g, W)     ∂W: Linear∂W(gy, g)
//	Linear∂W  gyᵀ·x        ∂gy: Linear(x, g)     ∂x: Linear∂x(gy, g)
//	Bias∂   Σₙ gy          ∂gy: Bias→(g) (g broadcast over the other axes)
//	Bias→                  ∂g: Bias∂
//
// Conv2d and its ∂x (the transposed convolution) and ∂W are bilinear in
// the same way, with ⟨g, ∂x(W, gy)⟩ = ⟨gy, conv(g, W)⟩ and
// ⟨g, ∂W(x, gy)⟩ = ⟨gy, conv(x, g)⟩:
//
//	Conv2d(x, W)           ∂x: Conv2d∂x(W, g)    ∂W: Conv2d∂W(x, g)
//	Conv2d∂x(W, gy)        ∂W: Conv2d∂W(g, gy)   ∂gy: Conv2d(g, W)
//	Conv2d∂W(x, gy)        ∂x: Conv2d∂x(g, gy)   ∂gy: Conv2d(x, g)
//
// An activation y = f(x) has the backward f'(x)·gy, and the ops
// f⁽ⁿ⁾(x)·a₁·…·aₘ (n ≥ 2) close the family:
//
//	f(x)                   ∂x: f'(x)·g
//	f'(x)·gy               ∂x: f''(x)·gy·g       ∂gy: f'(x)·g
//	f⁽ⁿ⁾(x)·a₁…aₘ          ∂x: f⁽ⁿ⁺¹⁾(x)·a₁…aₘ·g  ∂aⱼ: f⁽ⁿ⁾(x)·g·Πᵢ≠ⱼ aᵢ
//
// with f⁽ⁿ⁾ from Kernel.Nth32/Nth64 (nth.go).

// PartialDiffer is implemented by every op of this package: DiffSome
// returns the derivatives of ⟨grad, op(in)⟩ with respect to the inputs
// marked in need (nil entries for the others), as new nodes. SymDiff is
// DiffSome with every input marked; a graph that differentiates a
// backward pass again asks only for what it uses.
type PartialDiffer interface {
	DiffSome(in G.Nodes, out, grad *G.Node, need []bool) (G.Nodes, error)
}

var (
	_ PartialDiffer = (*linearOp)(nil)
	_ PartialDiffer = (*linearDxOp)(nil)
	_ PartialDiffer = (*linearDwOp)(nil)
	_ PartialDiffer = (*biasGradOp)(nil)
	_ PartialDiffer = (*biasBcastOp)(nil)
	_ PartialDiffer = (*convOp)(nil)
	_ PartialDiffer = (*convDxOp)(nil)
	_ PartialDiffer = (*convDwOp)(nil)
	_ PartialDiffer = (*unaryOp)(nil)
	_ PartialDiffer = (*unaryBackOp)(nil)
	_ PartialDiffer = (*unaryNthOp)(nil)
)

func allTrue(n int) []bool {
	b := make([]bool, n)
	for i := range b {
		b[i] = true
	}
	return b
}

// diffs builds the derivatives that need asks for, one builder per input.
func diffs(need []bool, build ...func() (*G.Node, error)) (G.Nodes, error) {
	out := make(G.Nodes, len(build))
	for i, b := range build {
		if need != nil && (i >= len(need) || !need[i]) || b == nil {
			continue
		}
		n, err := b()
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func apply(op G.Op, in ...*G.Node) func() (*G.Node, error) {
	return func() (*G.Node, error) { return G.ApplyOp(op, in...) }
}

// Linear.

func (op *linearOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *linearOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *linearOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	bs := []func() (*G.Node, error){
		apply(&linearDxOp{}, grad, in[1]),
		apply(&linearDwOp{}, grad, in[0]),
	}
	if op.bias {
		bs = append(bs, apply(&biasGradOp{dims: 2}, grad))
	}
	return diffs(need, bs...)
}

func (op *linearDxOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *linearDxOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}

// DiffSome of gx = gy·W: ∂gy = g·Wᵀ, ∂W = gyᵀ·g.
func (op *linearDxOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need,
		apply(&linearOp{}, grad, in[1]),
		apply(&linearDwOp{}, in[0], grad))
}

func (op *linearDwOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *linearDwOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}

// DiffSome of gW = gyᵀ·x: ∂gy = x·gᵀ, ∂x = gy·g.
func (op *linearDwOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need,
		apply(&linearOp{}, in[1], grad),
		apply(&linearDxOp{}, in[0], grad))
}

// Bias gradient and its adjoint, the broadcast.

func (op *biasGradOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *biasGradOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *biasGradOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need, apply(&biasBcastOp{shape: in[0].Shape().Clone()}, grad))
}

// biasBcastOp is y[n, c, …] = g[c] for y of the given shape (N, C) or
// (N, C, H, W): the adjoint of biasGradOp.
type biasBcastOp struct {
	shape tensor.Shape
	out   outBuf
}

func (op *biasBcastOp) Arity() int { return 1 }
func (op *biasBcastOp) Type() hm.Type {
	return hm.NewFnType(tensorType(1), tensorType(len(op.shape)))
}
func (op *biasBcastOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *biasBcastOp) ReturnsPtr() bool                               { return false }
func (op *biasBcastOp) CallsExtern() bool                              { return false }
func (op *biasBcastOp) OverwritesInput() int                           { return -1 }
func (op *biasBcastOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "ebm.Bias→%v", op.shape) }
func (op *biasBcastOp) Hashcode() uint32                               { return hashOf(op) }
func (op *biasBcastOp) String() string                                 { return "Bias→" }
func (op *biasBcastOp) DiffWRT(n int) []bool                           { return allTrue(n) }
func (op *biasBcastOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *biasBcastOp) DiffSome(_ G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need, apply(&biasGradOp{dims: len(op.shape)}, grad))
}

func (op *biasBcastOp) Do(in ...G.Value) (G.Value, error) {
	g, err := dense(in[0])
	if err != nil {
		return nil, err
	}
	y := op.out.get(g.Dtype(), op.shape)
	n, c := op.shape[0], op.shape[1]
	inner := op.shape.TotalSize() / (n * c)
	switch d := y.Data().(type) {
	case []float32:
		broadcastBias(d, g.Data().([]float32), n, c, inner)
	case []float64:
		broadcastBias(d, g.Data().([]float64), n, c, inner)
	default:
		return nil, fmt.Errorf("Bias→: dtype %v not supported", g.Dtype())
	}
	return y, nil
}

// broadcastBias sets y (n, c, inner) to g[c] everywhere: the first sample
// is written and copied to the others.
func broadcastBias[T float](y, g []T, n, c, inner int) {
	row := y[:c*inner]
	for j := range c {
		v := g[j]
		r := row[j*inner : (j+1)*inner]
		for i := range r {
			r[i] = v
		}
	}
	for i := 1; i < n; i++ {
		copy(y[i*c*inner:(i+1)*c*inner], row)
	}
}

// Conv2d.

func (op *convOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *convOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *convOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	bs := []func() (*G.Node, error){
		apply(&convDxOp{g: op.g}, in[1], grad),
		apply(&convDwOp{g: op.g}, in[0], grad),
	}
	if op.bias {
		bs = append(bs, apply(&biasGradOp{dims: 4}, grad))
	}
	return diffs(need, bs...)
}

func (op *convDxOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *convDxOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}

// DiffSome of gx = ∂x(W, gy): ∂W = ∂W(g, gy), ∂gy = conv(g, W).
func (op *convDxOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need,
		apply(&convDwOp{g: op.g}, grad, in[1]),
		apply(&convOp{g: op.g}, grad, in[0]))
}

func (op *convDwOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *convDwOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}

// DiffSome of gW = ∂W(x, gy): ∂x = ∂x(g, gy), ∂gy = conv(x, g).
func (op *convDwOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	return diffs(need,
		apply(&convDxOp{g: op.g}, grad, in[1]),
		apply(&convOp{g: op.g}, in[0], grad))
}

// Activations.

func (op *unaryOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *unaryOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *unaryOp) DiffSome(in G.Nodes, out, grad *G.Node, need []bool) (G.Nodes, error) {
	if need == nil || need[0] {
		op.deriv = true // the forward keeps f'(x) for the backward
	}
	return diffs(need, apply(&unaryBackOp{k: op.k, fwd: op}, in[0], out, grad))
}

// The backward f'(x)·gy takes (x, y, gy); y = f(x) is a shortcut some
// kernels read, not an independent input, so it has no derivative of its
// own: the one through x covers it.
func (op *unaryBackOp) DiffWRT(int) []bool { return []bool{true, false, true} }
func (op *unaryBackOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, []bool{true, false, true})
}
func (op *unaryBackOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	dx := func() (*G.Node, error) {
		if op.k.Nth32 == nil || op.k.Nth64 == nil {
			return nil, fmt.Errorf("ops: %s': the kernel has no second derivative (Kernel.Nth32/Nth64)", op.k.Name)
		}
		return G.ApplyOp(&unaryNthOp{k: op.k, n: 2, m: 2}, in[0], in[2], grad)
	}
	return diffs(need, dx, nil, apply(&unaryBackOp{k: op.k, fwd: op.fwd}, in[0], in[1], grad))
}

// unaryNthOp is f⁽ⁿ⁾(x)·a₁·…·aₘ from (x, a₁, …, aₘ), n ≥ 1, m ≥ 1.
type unaryNthOp struct {
	k    *Kernel
	n, m int
	out  outBuf
	as   [][]float32 // the factors' data, for nthMul32
}

func (op *unaryNthOp) Arity() int { return 1 + op.m }
func (op *unaryNthOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, op.m+2)
	for i := range ts {
		ts[i] = a
	}
	return hm.NewFnType(ts...)
}
func (op *unaryNthOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *unaryNthOp) ReturnsPtr() bool     { return false }
func (op *unaryNthOp) CallsExtern() bool    { return false }
func (op *unaryNthOp) OverwritesInput() int { return -1 }
func (op *unaryNthOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ebm.%s^(%d)x%d", op.k.Name, op.n, op.m)
}
func (op *unaryNthOp) Hashcode() uint32 { return hashOf(op) }
func (op *unaryNthOp) String() string   { return fmt.Sprintf("%s^(%d)", op.k.Name, op.n) }

func (op *unaryNthOp) DiffWRT(n int) []bool { return allTrue(n) }
func (op *unaryNthOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	return op.DiffSome(in, out, grad, nil)
}
func (op *unaryNthOp) DiffSome(in G.Nodes, _, grad *G.Node, need []bool) (G.Nodes, error) {
	x, as := in[0], in[1:]
	up := append(G.Nodes{x}, as...)
	bs := []func() (*G.Node, error){
		apply(&unaryNthOp{k: op.k, n: op.n + 1, m: op.m + 1}, append(up, grad)...),
	}
	for j := range as {
		rest := append(G.Nodes{x}, as[:j]...)
		rest = append(rest, as[j+1:]...)
		rest = append(rest, grad)
		bs = append(bs, apply(&unaryNthOp{k: op.k, n: op.n, m: op.m}, rest...))
	}
	return diffs(need, bs...)
}

func (op *unaryNthOp) Do(in ...G.Value) (G.Value, error) {
	if len(in) != 1+op.m {
		return nil, fmt.Errorf("%v: %d inputs, want %d", op, len(in), 1+op.m)
	}
	ts, err := denses(op.String(), in)
	if err != nil {
		return nil, err
	}
	x := ts[0]
	y := op.out.get(x.Dtype(), x.Shape())
	switch yd := y.Data().(type) {
	case []float32:
		xd := x.Data().([]float32)
		if f := op.k.nthMul32; f != nil {
			op.as = op.as[:0]
			for _, a := range ts[1:] {
				op.as = append(op.as, a.Data().([]float32))
			}
			if f(op.n, yd, xd, op.as) {
				break
			}
		}
		op.k.Nth32(op.n, yd, xd)
		for _, a := range ts[1:] {
			Mul32(yd, yd, a.Data().([]float32))
		}
	case []float64:
		xd := x.Data().([]float64)
		op.k.Nth64(op.n, yd, xd)
		for _, a := range ts[1:] {
			ad := a.Data().([]float64)
			for i := range yd {
				yd[i] *= ad[i]
			}
		}
	}
	return y, nil
}

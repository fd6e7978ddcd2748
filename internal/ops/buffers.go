package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/ebmgo/ebm/internal/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Ops in this package own their output and scratch buffers and reuse them
// from one run of a machine to the next, instead of allocating per call.
// That is safe with graph's machines because:
//
//   - every node has its own op value (layers build a new op per Forward
//     call), so no two nodes write one buffer;
//   - a buffer is written once per run, when its op executes, and read only
//     by later instructions of the same run: Gorgonia's register
//     allocator only hands a value to an in-place op once nothing else reads
//     it;
//   - graph.Energy and graph.Loss copy their outputs out through Read nodes
//     and Reset the machine after every run, so nothing keeps a reference to
//     a buffer across runs.
//
// Each Do re-applies the output shape, since Gorgonia's in-place Reshape
// may have changed it during the previous run.

type float interface{ ~float32 | ~float64 }

// outBuf is a reusable tensor.
type outBuf struct{ t *tensor.Dense }

// get returns the buffer with dtype dt and the given shape, allocating it
// on first use or when the size or dtype changes. Its contents are stale.
func (b *outBuf) get(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if b.t == nil || b.t.Dtype() != dt || b.t.Shape().TotalSize() != shape.TotalSize() || b.t.IsView() {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
		return b.t
	}
	if !b.t.Shape().Eq(shape) {
		if err := b.t.Reshape(shape...); err != nil {
			b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
		}
	}
	return b.t
}

// scratch is a reusable slice.
type scratch[T float] struct{ s []T }

func (b *scratch[T]) get(n int) []T {
	if cap(b.s) < n {
		b.s = make([]T, n)
	}
	return b.s[:n]
}

// dense returns v as a contiguous *tensor.Dense.
func dense(v G.Value) (*tensor.Dense, error) {
	t, ok := v.(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("ops: value of type %T, want *tensor.Dense", v)
	}
	if t.IsView() {
		m := t.Materialize()
		if t, ok = m.(*tensor.Dense); !ok {
			return nil, fmt.Errorf("ops: cannot materialise a view of type %T", m)
		}
	}
	return t, nil
}

// denses converts all of vs, checking they share one float dtype.
func denses(name string, vs []G.Value) ([]*tensor.Dense, error) {
	ts := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		t, err := dense(v)
		if err != nil {
			return nil, fmt.Errorf("%s: input %d: %w", name, i, err)
		}
		if t.Dtype() != ts0(ts, t).Dtype() {
			return nil, fmt.Errorf("%s: input %d is %v, input 0 is %v", name, i, t.Dtype(), ts[0].Dtype())
		}
		ts[i] = t
	}
	if dt := ts[0].Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("%s: dtype %v not supported", name, dt)
	}
	return ts, nil
}

func ts0(ts []*tensor.Dense, t *tensor.Dense) *tensor.Dense {
	if ts[0] == nil {
		return t
	}
	return ts[0]
}

func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// gemm is blas.Sgemm or blas.Dgemm by element type.
func gemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		blas.Sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas.Dgemm(tA, tB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// gemmSerial is gemm on the calling goroutine only (see blas.SgemmSerial),
// for products inside parallel loops. gonum's implementation has no
// serial entry, so it may still fan out on large products.
func gemmSerial[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		blas.SgemmSerial(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas.DgemmSerial(tA, tB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// BLAS names the matrix-multiply implementation the ops use (see package
// internal/blas): for a command to print at start-up.
func BLAS() string { return blas.Name() }

func init() {
	// Gorgonia's own matrix products go through the same engine.
	G.Use(blas.Gorgonia{})
}

// tensorType is a Gorgonia tensor type of d dimensions over type variable a.
func tensorType(d int) G.TensorType { return G.TensorType{Dims: d, Of: typeVarA} }

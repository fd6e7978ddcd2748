//go:build torch

package torch

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/ebmgo/ebm/torch/dist"
	"github.com/ebmgo/ebm/trainer"
)

// deviceReducer is what a Collective needs to all-reduce the gradients
// where they are, on the device: *dist.Group has it.
type deviceReducer interface {
	AllReduceTensors(ctx context.Context, op dist.Op, ts ...dist.Tensor) error
}

// tensorRef shows a handle as a dist.Tensor.
type tensorRef struct{ h handle }

func (t tensorRef) Ctensor() unsafe.Pointer { return unsafe.Pointer(t.h) }

// averageOverRanks replaces grads (the model's kind, on the device) by
// their means over the ranks of c: on the device through a *dist.Group
// (Gloo on CPU tensors, NCCL on CUDA ones), otherwise through host memory.
func (t *Trainer) averageOverRanks(e *exec, c trainer.Collective, grads []handle) {
	if e.err != nil {
		return
	}
	if r, ok := c.(deviceReducer); ok {
		ts := make([]dist.Tensor, len(grads))
		for i, g := range grads {
			ts[i] = tensorRef{g}
		}
		if err := r.AllReduceTensors(context.Background(), dist.Sum, ts...); err != nil {
			e.fail(fmt.Errorf("torch: averaging the gradients over the ranks: %w", err))
			return
		}
	} else {
		n := 0
		for _, p := range t.mod.params {
			n += p.Size()
		}
		flat := make([]float64, n)
		off := 0
		for i, p := range t.mod.params {
			e.toFloat64s(flat[off:off+p.Size()], grads[i], t.mod.kind)
			off += p.Size()
		}
		if e.err != nil {
			return
		}
		var err error
		if t.mod.kind == kindFloat32 {
			f32 := make([]float32, n)
			for i, v := range flat {
				f32[i] = float32(v)
			}
			err = c.AllReduceFloat32(context.Background(), f32)
			for i, v := range f32 {
				flat[i] = float64(v)
			}
		} else {
			err = c.AllReduceFloat64(context.Background(), flat)
		}
		if err != nil {
			e.fail(fmt.Errorf("torch: averaging the gradients over the ranks: %w", err))
			return
		}
		off = 0
		for i, p := range t.mod.params {
			e.copyIn(grads[i], e.fromFloat64s(flat[off:off+p.Size()], int64s(p.Shape()), t.mod.kind, t.mod.dev.c()))
			off += p.Size()
		}
	}
	inv := e.scalar(1 / float64(c.Size()))
	for i := range grads {
		grads[i] = e.mulS(grads[i], inv)
	}
}

// meanStats replaces the loss statistics by their means over the ranks.
func meanStats(c trainer.Collective, st *StepStats) error {
	v := []float64{st.Loss, st.FPos, st.FNeg}
	if err := c.AllReduceFloat64(context.Background(), v); err != nil {
		return fmt.Errorf("torch: averaging the loss over the ranks: %w", err)
	}
	n := float64(c.Size())
	st.Loss, st.FPos, st.FNeg = v[0]/n, v[1]/n, v[2]/n
	return nil
}

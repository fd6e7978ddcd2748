package graph

import (
	"fmt"

	"github.com/ebmgo/ebm/energy"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Forward is a model compiled to compute its raw outputs for a fixed batch
// size, with no gradients: the logits of a classifier, the features of a
// network's body. Energies use Energy instead.
type Forward struct {
	dim      int
	xv       *tensor.Dense
	out      G.Value
	outShape []int
	vm       G.VM
}

// NewForward compiles m for batches of cfg.Batch samples of shape
// cfg.Shape (cfg.Batch is required).
func NewForward(m Model, cfg Config) (*Forward, error) {
	dt, err := resolveDtype(m, cfg.Dtype)
	if err != nil {
		return nil, err
	}
	if len(cfg.Shape) == 0 || cfg.Batch <= 0 {
		return nil, fmt.Errorf("graph: NewForward needs Config.Shape and a positive Config.Batch")
	}
	f := &Forward{}
	err = guard("compile forward", func() error {
		b := NewBuilder(dt)
		shape := append([]int{cfg.Batch}, cfg.Shape...)
		x := b.Input("x", shape...)
		f.xv = tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
		f.dim = f.xv.Shape().TotalSize() / cfg.Batch
		if err := G.Let(x, f.xv); err != nil {
			return err
		}
		y, err := m.Forward(b, x)
		if err != nil {
			return err
		}
		f.outShape = append([]int(nil), y.Shape()...)
		read := G.Read(y, &f.out)
		f.vm = G.NewTapeMachine(b.Graph().SubgraphRoots(read))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// OutShape returns the shape of the output, batch first.
func (f *Forward) OutShape() []int { return append([]int(nil), f.outShape...) }

// Run computes the outputs for the batch x (row-major) into dst, which must
// hold the product of OutShape.
func (f *Forward) Run(dst, x []float64) error {
	if len(x) != f.xv.Shape().TotalSize() {
		return fmt.Errorf("graph: Forward.Run: input of %d values, want %d: %w", len(x), f.xv.Shape().TotalSize(), energy.ErrShape)
	}
	n := 1
	for _, d := range f.outShape {
		n *= d
	}
	if len(dst) != n {
		return fmt.Errorf("graph: Forward.Run: output buffer of %d values, want %d %v: %w", len(dst), n, f.outShape, energy.ErrShape)
	}
	writeFrom(f.xv, x)
	if err := run(f.vm); err != nil {
		return fmt.Errorf("graph: forward: %w", err)
	}
	readInto(dst, f.out)
	f.vm.Reset()
	return nil
}

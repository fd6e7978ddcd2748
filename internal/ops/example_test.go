package ops_test

import (
	"fmt"

	"github.com/ebmgo/ebm/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A 1×1×3×3 image convolved with one 2×2 filter of ones, stride 1, no
// padding, bias 0.5: each output is the sum of a 2×2 window plus 0.5.
func ExampleConv2d() {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 4, G.WithShape(1, 1, 3, 3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(1, 1, 3, 3), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}))))
	w := G.NewTensor(g, tensor.Float64, 4, G.WithShape(1, 1, 2, 2), G.WithName("w"),
		G.WithValue(tensor.New(tensor.WithShape(1, 1, 2, 2), tensor.WithBacking([]float64{1, 1, 1, 1}))))
	b := G.NewVector(g, tensor.Float64, G.WithShape(1), G.WithName("b"),
		G.WithValue(tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0.5}))))
	y, err := ops.Conv2d(x, w, b, 1, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Shape(), y.Value().Data())
	// Output: (1, 1, 2, 2) [12.5 16.5 24.5 28.5]
}

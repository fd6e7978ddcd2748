package optim_test

import (
	"fmt"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	"gorgonia.org/tensor"
)

// Minimise ‖θ − 3‖² with Adam.
func ExampleAdam() {
	p := graph.NewParam("theta", graph.Float64, 1)
	opt, err := optim.NewAdam([]*graph.Param{p}, optim.AdamConfig{LR: 0.1, Beta1: 0.9})
	if err != nil {
		fmt.Println(err)
		return
	}
	g := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(1))
	for range 500 {
		g.Data().([]float64)[0] = 2 * (p.Float64s(nil)[0] - 3)
		if err := opt.Step([]*tensor.Dense{g}); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("θ = %.3f\n", p.Float64s(nil)[0])
	// Output:
	// θ = 3.000
}

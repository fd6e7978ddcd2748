package graph_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

// Exact score matching (Hyvärinen 2005) for points in the plane: the loss
// mean ½‖∇x f‖² + tr ∇²x f, the trace as two Hessian–vector products
// with the unit vectors, and its gradient with respect to θ (a third
// derivative of f).
func ExampleNewSecondOrderLoss() {
	rng := rand.New(rand.NewPCG(1, 2))
	model := nn.NewMLP(rng, nn.SiLU, 2, 16, 1)
	graph.Cast(model, graph.Float64)
	const n = 4
	cfg := graph.LossConfig{
		Shape:   []int{2},
		Batches: []int{n},                // the data batch
		Aux:     [][]int{{n, 2}, {n, 2}}, // e₁ and e₂ for every sample
	}
	esm := func(t *graph.Terms) (*G.Node, error) {
		x := t.Input(0)
		s, err := t.Score(x, nil)
		if err != nil {
			return nil, err
		}
		loss, err := G.Mul(t.Builder().Constant(0.5), must(G.Sum(must(G.Square(s)))))
		if err != nil {
			return nil, err
		}
		for i := range 2 {
			e := t.Aux(i)
			hv, err := t.HVP(x, nil, e) // ∇²f·eᵢ
			if err != nil {
				return nil, err
			}
			if loss, err = G.Add(loss, must(G.Sum(must(G.HadamardProd(e, hv))))); err != nil {
				return nil, err
			}
		}
		return G.Mul(t.Builder().Constant(1.0/n), loss)
	}
	l, err := graph.NewSecondOrderLoss(model, cfg, esm)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := []float64{0.5, -1, 1, 0, -0.3, 0.2, 2, 1}
	e1 := []float64{1, 0, 1, 0, 1, 0, 1, 0}
	e2 := []float64{0, 1, 0, 1, 0, 1, 0, 1}
	v, err := l.Run(x, e1, e2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss %.6f\n", v)
	for i, p := range l.Params() {
		g := l.Grads()[i].Data().([]float64)
		fmt.Printf("∂loss/∂%s: %v values, first %.6f\n", p.Name, len(g), g[0])
	}
	// The last bias shifts f and not its derivatives: its gradient is 0.

	// Output:
	// loss 0.121022
	// ∂loss/∂0.weight: 32 values, first -0.025990
	// ∂loss/∂0.bias: 16 values, first -0.001605
	// ∂loss/∂2.weight: 16 values, first 0.047402
	// ∂loss/∂2.bias: 1 values, first 0.000000
}

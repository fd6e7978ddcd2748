package graph_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

// A small MLP energy on the plane: f(x) and ∇x f for a batch of two points.
func ExampleNewEnergy() {
	rng := rand.New(rand.NewPCG(1, 2))
	model := nn.NewMLP(rng, nn.SiLU, 2, 16, 16, 1)
	e, err := graph.NewEnergy(model, graph.Config{Shape: []int{2}})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := []float64{0, 0, 1, -1} // two points, row-major
	f := make([]float64, 2)
	grad := make([]float64, 4)
	if err := e.FGrad(f, grad, x); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("f = [%.4f %.4f]\n", f[0], f[1])
	fmt.Printf("∇x f(x₀) = [%.4f %.4f]\n", grad[0], grad[1])
	// Output:
	// f = [0.1126 0.1973]
	// ∇x f(x₀) = [0.0617 -0.0048]
}

// A user's own energy, written as a Go function over Gorgonia nodes:
// f(x) = −½‖x‖², a standard Gaussian.
func ExampleFunc() {
	gauss := graph.Func{Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) {
		sq, err := G.Square(x)
		if err != nil {
			return nil, err
		}
		s, err := G.Sum(sq, 1)
		if err != nil {
			return nil, err
		}
		return G.Mul(b.Constant(-0.5), s)
	}}
	e, err := graph.NewEnergy(gauss, graph.Config{Shape: []int{3}, Dtype: graph.Float64})
	if err != nil {
		fmt.Println(err)
		return
	}
	f := make([]float64, 1)
	grad := make([]float64, 3)
	_ = e.FGrad(f, grad, []float64{1, 2, 3})
	fmt.Println(f[0], grad)
	// Output:
	// -7 [-1 -2 -3]
}

// The contrastive-divergence loss and its gradient for one training step.
func ExampleCDLoss() {
	rng := rand.New(rand.NewPCG(1, 2))
	model := nn.NewMLP(rng, nn.SiLU, 2, 8, 1)
	loss, err := graph.NewLoss(model, graph.LossConfig{Shape: []int{2}, Batches: []int{2, 2}}, graph.CDLoss(0.1))
	if err != nil {
		fmt.Println(err)
		return
	}
	data := []float64{1, 1, -1, -1}  // x⁺
	samples := []float64{0, 3, 3, 0} // x⁻ from a sampler
	l, err := loss.Run(data, samples)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss %.4f, %d gradient tensors, first %v\n", l, len(loss.Grads()), loss.Params()[0].Name)
	// Output:
	// loss 0.1025, 4 gradient tensors, first 0.weight
}

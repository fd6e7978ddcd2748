package nn_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
)

// The convolutional MNIST energy of image EBMs, its parameters and the
// energy of a blank digit.
func ExampleNewMNISTCNN() {
	rng := rand.New(rand.NewPCG(1, 2))
	model := nn.NewMNISTCNN(rng, 32)
	fmt.Println(graph.NumParams(model), "parameters")
	for _, p := range model.Params()[:2] {
		fmt.Println(p.Name, p.Shape())
	}
	e, err := graph.NewEnergy(model, graph.Config{Shape: []int{1, 28, 28}})
	if err != nil {
		fmt.Println(err)
		return
	}
	blank := make([]float64, 28*28)
	for i := range blank {
		blank[i] = -1 // pixels in [−1, 1]
	}
	f := make([]float64, 1)
	if err := e.F(f, blank); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("f(blank) = %.3f\n", f[0])
	// Output:
	// 76993 parameters
	// 0.weight [16 1 5 5]
	// 0.bias [16]
	// f(blank) = 0.059
}

// A shape mistake is an error that names the layer and both shapes.
func ExampleSequential_shapeError() {
	rng := rand.New(rand.NewPCG(1, 2))
	model := nn.NewMLP(rng, nn.SiLU, 784, 256, 1)
	_, err := graph.NewEnergy(model, graph.Config{Shape: []int{1, 28, 28}, Batch: 8})
	fmt.Println(err)
	// Output:
	// Sequential[0] Linear(784→256): input shape (8, 1, 28, 28), want (N, 784)
}

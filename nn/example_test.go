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

// Energies for colour images: the tutorial CNN sized from the input shape,
// and the small residual network of image-EBM papers.
func ExampleNewResNet() {
	rng := rand.New(rand.NewPCG(1, 2))
	cnn, err := nn.NewCNN(rng, nn.CNNConfig{Channels: 3, Height: 32, Width: 32})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := nn.NewResNet(rng, nn.ResNetConfig{Channels: 3, Height: 32, Width: 32})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("CNN:", graph.NumParams(cnn), "parameters")
	fmt.Println("ResNet:", graph.NumParams(res), "parameters")
	for _, p := range res.Params()[6:12] {
		fmt.Println(p.Name, p.Shape())
	}
	_, err = nn.NewResNet(rng, nn.ResNetConfig{Channels: 3, Height: 4, Width: 4, Stages: 4})
	fmt.Println(err)
	// Output:
	// CNN: 98273 parameters
	// ResNet: 306817 parameters
	// 2.conv1.weight [64 32 3 3]
	// 2.conv1.bias [64]
	// 2.conv2.weight [64 64 3 3]
	// 2.conv2.bias [64]
	// 2.skip.weight [64 32 1 1]
	// 2.skip.bias [64]
	// nn: NewResNet: 4 stages halve 4×4 images 3 times, to less than a pixel
}

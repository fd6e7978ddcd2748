package nn

import (
	"fmt"
	"math/rand/v2"
)

// NewMLP returns a multilayer perceptron with layer sizes sizes[0] → sizes[1]
// → ... → sizes[len-1] and the activation act (e.g. SiLU) after every
// Linear layer but the last. Inputs have shape (N, sizes[0]); an MLP on
// images needs a Flatten in front (see NewImageMLP).
func NewMLP(rng *rand.Rand, act func() *Activation, sizes ...int) *Sequential {
	return NewSequential(mlpLayers(rng, act, sizes)...)
}

func mlpLayers(rng *rand.Rand, act func() *Activation, sizes []int) []Layer {
	if len(sizes) < 2 {
		panic(fmt.Sprintf("nn: an MLP needs at least 2 sizes, got %v", sizes))
	}
	var layers []Layer
	for i := 0; i+1 < len(sizes); i++ {
		layers = append(layers, NewLinear(rng, sizes[i], sizes[i+1]))
		if i+2 < len(sizes) {
			layers = append(layers, act())
		}
	}
	return layers
}

// NewImageMLP is NewMLP with a Flatten in front, for inputs of shape
// (N, C, H, W) with C·H·W = sizes[0].
func NewImageMLP(rng *rand.Rand, act func() *Activation, sizes ...int) *Sequential {
	return NewSequential(append([]Layer{Flatten{}}, mlpLayers(rng, act, sizes)...)...)
}

// NewMNISTCNN returns the convolutional energy of published MNIST EBMs
// (the UvA deep-learning tutorial 8, after Du & Mordatch 2019), for inputs
// of shape (N, 1, 28, 28) and one energy per sample:
//
//	Conv2d(1→c1, 5, stride 2, pad 4) Swish           28 → 16
//	Conv2d(c1→c2, 3, stride 2, pad 1) Swish          16 → 8
//	Conv2d(c2→c3, 3, stride 2, pad 1) Swish           8 → 4
//	Conv2d(c3→c3, 3, stride 2, pad 1) Swish           4 → 2
//	Flatten, Linear(4·c3 → c3) Swish, Linear(c3 → 1)
//
// with c1, c2, c3 = hidden/2, hidden, 2·hidden (the tutorial uses
// hidden = 32). Parameter names match the PyTorch nn.Sequential of the same
// layers ("0.weight", ..., "11.bias").
func NewMNISTCNN(rng *rand.Rand, hidden int) *Sequential {
	c1, c2, c3 := hidden/2, hidden, 2*hidden
	if c1 < 1 {
		panic(fmt.Sprintf("nn: NewMNISTCNN: hidden %d must be at least 2", hidden))
	}
	return NewSequential(
		NewConv2d(rng, 1, c1, 5, Conv2dConfig{Stride: 2, Padding: 4}), Swish(),
		NewConv2d(rng, c1, c2, 3, Conv2dConfig{Stride: 2, Padding: 1}), Swish(),
		NewConv2d(rng, c2, c3, 3, Conv2dConfig{Stride: 2, Padding: 1}), Swish(),
		NewConv2d(rng, c3, c3, 3, Conv2dConfig{Stride: 2, Padding: 1}), Swish(),
		Flatten{},
		NewLinear(rng, 4*c3, c3), Swish(),
		NewLinear(rng, c3, 1),
	)
}

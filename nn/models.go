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

// CNNConfig is the input shape and width of NewCNN.
type CNNConfig struct {
	// Channels, Height and Width are the shape of one input sample; all
	// must be positive.
	Channels, Height, Width int
	// Hidden sets the widths: c1, c2, c3 = Hidden/2, Hidden, 2·Hidden
	// channels. It must be at least 2; 0 means 32, the published width.
	Hidden int
}

// NewCNN returns the convolutional energy of published image EBMs (the UvA
// deep-learning tutorial 8, after Du & Mordatch 2019) for inputs of shape
// (N, Channels, Height, Width) and one energy per sample:
//
//	Conv2d(C→c1, 5, stride 2, pad 4) Swish      H → H1 = ⌊(H+3)/2⌋ + 1
//	Conv2d(c1→c2, 3, stride 2, pad 1) Swish     H1 → H2 = ⌊(H1−1)/2⌋ + 1
//	Conv2d(c2→c3, 3, stride 2, pad 1) Swish     H2 → H3
//	Conv2d(c3→c3, 3, stride 2, pad 1) Swish     H3 → H4
//	Flatten, Linear(c3·H4·W4 → c3) Swish, Linear(c3 → 1)
//
// (the same for the width), with c1, c2, c3 = Hidden/2, Hidden, 2·Hidden:
// 28×28 ends at 2×2, 32×32 at 3×3. Parameters are initialised as PyTorch
// does, drawn from rng in layer order, and named as in the torch
// nn.Sequential of the same layers ("0.weight", ..., "11.bias"). A shape
// or width that is not positive is an error.
func NewCNN(rng *rand.Rand, cfg CNNConfig) (*Sequential, error) {
	hidden := cfg.Hidden
	if hidden == 0 {
		hidden = 32
	}
	if cfg.Channels <= 0 || cfg.Height <= 0 || cfg.Width <= 0 {
		return nil, fmt.Errorf("nn: NewCNN: input shape %d×%d×%d: every size must be positive", cfg.Channels, cfg.Height, cfg.Width)
	}
	if hidden < 2 {
		return nil, fmt.Errorf("nn: NewCNN: Hidden %d: must be at least 2", hidden)
	}
	c1, c2, c3 := hidden/2, hidden, 2*hidden
	convs := []*Conv2d{
		NewConv2d(rng, cfg.Channels, c1, 5, Conv2dConfig{Stride: 2, Padding: 4}),
		NewConv2d(rng, c1, c2, 3, Conv2dConfig{Stride: 2, Padding: 1}),
		NewConv2d(rng, c2, c3, 3, Conv2dConfig{Stride: 2, Padding: 1}),
		NewConv2d(rng, c3, c3, 3, Conv2dConfig{Stride: 2, Padding: 1}),
	}
	h, w := cfg.Height, cfg.Width
	var layers []Layer
	for _, c := range convs {
		h, w = c.OutSize(h), c.OutSize(w)
		layers = append(layers, c, Swish())
	}
	layers = append(layers, Flatten{}, NewLinear(rng, c3*h*w, c3), Swish(), NewLinear(rng, c3, 1))
	return NewSequential(layers...), nil
}

// NewMNISTCNN returns NewCNN for MNIST's inputs of shape (N, 1, 28, 28):
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
	if hidden < 2 {
		panic(fmt.Sprintf("nn: NewMNISTCNN: hidden %d must be at least 2", hidden))
	}
	m, err := NewCNN(rng, CNNConfig{Channels: 1, Height: 28, Width: 28, Hidden: hidden})
	if err != nil {
		panic(err) // unreachable: the shape is fixed and hidden checked
	}
	return m
}

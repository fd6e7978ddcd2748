package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	G "gorgonia.org/gorgonia"
)

// ResBlock is a pre-activation residual block (He et al. 2016, as the
// ResNet energies of IGEBM and JEM use it):
//
//	h = Conv2(act(Conv1(act(x)))),   y = Skip(x) + h
//
// Conv1 is 3×3 with the block's stride, Conv2 3×3 with stride 1, both with
// padding 1; Skip is a 1×1 convolution with the stride when the block
// changes the number of channels or the size, and the identity (nil)
// otherwise. Parameters are named as the attributes of the PyTorch module
// ("conv1.weight", "conv1.bias", "conv2.…", "skip.…").
type ResBlock struct {
	Conv1, Conv2 *Conv2d
	Skip         *Conv2d // nil: identity
	Act          *Activation
}

// NewResBlock returns a block from in to out channels whose first
// convolution has the given stride (1, or 2 to halve the size), with
// PyTorch's initialisation drawn from rng (conv1, conv2, then skip) and
// the activation act (SiLU if nil). Sizes that are not positive are an
// error.
func NewResBlock(rng *rand.Rand, in, out, stride int, act *Activation) (*ResBlock, error) {
	if in <= 0 || out <= 0 || stride <= 0 {
		return nil, fmt.Errorf("nn: NewResBlock(%d, %d, stride %d): sizes must be positive", in, out, stride)
	}
	if act == nil {
		act = SiLU()
	}
	b := &ResBlock{
		Conv1: NewConv2d(rng, in, out, 3, Conv2dConfig{Stride: stride, Padding: 1}),
		Conv2: NewConv2d(rng, out, out, 3, Conv2dConfig{Padding: 1}),
		Act:   act,
	}
	graph.Prefix("conv1", b.Conv1.Params())
	graph.Prefix("conv2", b.Conv2.Params())
	if in != out || stride != 1 {
		b.Skip = NewConv2d(rng, in, out, 1, Conv2dConfig{Stride: stride})
		graph.Prefix("skip", b.Skip.Params())
	}
	return b, nil
}

// Params returns conv1's, conv2's, then skip's parameters.
func (b *ResBlock) Params() []*graph.Param {
	ps := append(b.Conv1.Params(), b.Conv2.Params()...)
	if b.Skip != nil {
		ps = append(ps, b.Skip.Params()...)
	}
	return ps
}

func (b *ResBlock) String() string {
	skip := "identity"
	if b.Skip != nil {
		skip = b.Skip.String()
	}
	return fmt.Sprintf("ResBlock(%d→%d, s=%d, %s, skip %s)", b.Conv1.In, b.Conv1.Out, b.Conv1.Stride, b.Act, skip)
}

// Forward implements graph.Model.
func (b *ResBlock) Forward(bd *graph.Builder, x *G.Node) (*G.Node, error) {
	h, err := b.Act.Forward(bd, x)
	if err != nil {
		return nil, err
	}
	if h, err = b.Conv1.Forward(bd, h); err != nil {
		return nil, err
	}
	if h, err = b.Act.Forward(bd, h); err != nil {
		return nil, err
	}
	if h, err = b.Conv2.Forward(bd, h); err != nil {
		return nil, err
	}
	skip := x
	if b.Skip != nil {
		if skip, err = b.Skip.Forward(bd, x); err != nil {
			return nil, err
		}
	}
	return G.Add(skip, h)
}

// GlobalAvgPool averages each channel over the image: (N, C, H, W) →
// (N, C), like torch's x.mean((2, 3)) (AdaptiveAvgPool2d(1) followed by
// Flatten).
type GlobalAvgPool struct{}

func (GlobalAvgPool) String() string { return "GlobalAvgPool" }

// Params returns nil.
func (GlobalAvgPool) Params() []*graph.Param { return nil }

// Forward implements graph.Model.
func (GlobalAvgPool) Forward(b *graph.Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 4 {
		return nil, &graph.ShapeError{Layer: "GlobalAvgPool", Got: s, Want: "(N, C, H, W)"}
	}
	// Sum over the flattened image, then scale: Gorgonia's Mean over two
	// axes at once has a wrong gradient.
	flat, err := G.Reshape(x, []int{s[0], s[1], s[2] * s[3]})
	if err != nil {
		return nil, err
	}
	sum, err := G.Sum(flat, 2)
	if err != nil {
		return nil, err
	}
	return G.Mul(sum, b.Constant(1/float64(s[2]*s[3])))
}

// ResNetConfig is the input shape and size of NewResNet.
type ResNetConfig struct {
	// Channels, Height and Width are the shape of one input sample; all
	// must be positive.
	Channels, Height, Width int
	// Filters is the number of channels of the first stage; stage s has
	// Filters·2^s. 0 means 32.
	Filters int
	// Stages is the number of stages; every stage after the first halves
	// the height and width. 0 means 3 (32×32 → 8×8).
	Stages int
	// Blocks is the number of residual blocks per stage; 0 means 1.
	Blocks int
}

// NewResNet returns a small residual energy for images, in the style of
// IGEBM's CIFAR-10 ResNet (Du & Mordatch 2019) with Swish activations:
//
//	Conv2d(C→F, 3, pad 1)
//	stage 0: Blocks × ResBlock(F→F)
//	stage s: ResBlock(F·2^(s−1) → F·2^s, stride 2), then Blocks−1 × ResBlock(F·2^s → F·2^s)
//	Swish, GlobalAvgPool, Linear(F·2^(S−1) → 1)
//
// The default (F = 32, 3 stages of 1 block) has 0.31 M parameters and
// reduces 32×32 to 8×8 before the pooling. Layers sit in one nn.Sequential,
// so parameters are named "0.weight", "1.conv1.weight", …, "2.skip.bias",
// …, as in the torch.nn.Sequential of the same modules; they are
// initialised as PyTorch does, drawn from rng in that order. Sizes that are
// not positive, or more halvings than the image has pixels, are an error.
func NewResNet(rng *rand.Rand, cfg ResNetConfig) (*Sequential, error) {
	f, stages, blocks := cfg.Filters, cfg.Stages, cfg.Blocks
	if f == 0 {
		f = 32
	}
	if stages == 0 {
		stages = 3
	}
	if blocks == 0 {
		blocks = 1
	}
	if cfg.Channels <= 0 || cfg.Height <= 0 || cfg.Width <= 0 {
		return nil, fmt.Errorf("nn: NewResNet: input shape %d×%d×%d: every size must be positive", cfg.Channels, cfg.Height, cfg.Width)
	}
	if f < 0 || stages < 0 || blocks < 0 || stages > 8 {
		return nil, fmt.Errorf("nn: NewResNet: Filters %d, Stages %d, Blocks %d: must be positive (Stages at most 8)", f, stages, blocks)
	}
	if min(cfg.Height, cfg.Width) < 1<<(stages-1) {
		return nil, fmt.Errorf("nn: NewResNet: %d stages halve %d×%d images %d times, to less than a pixel", stages, cfg.Height, cfg.Width, stages-1)
	}
	layers := []Layer{NewConv2d(rng, cfg.Channels, f, 3, Conv2dConfig{Padding: 1})}
	in := f
	for s := range stages {
		out := f << s
		for k := range blocks {
			stride := 1
			if s > 0 && k == 0 {
				stride = 2
			}
			b, err := NewResBlock(rng, in, out, stride, SiLU())
			if err != nil {
				return nil, err
			}
			layers = append(layers, b)
			in = out
		}
	}
	layers = append(layers, Swish(), GlobalAvgPool{}, NewLinear(rng, in, 1))
	return NewSequential(layers...), nil
}

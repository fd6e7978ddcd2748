package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Noise-conditional layers read the noise level σ of each sample through
// graph.Builder.Noise, for score models f_θ(x; σ) trained by denoising
// score matching over a ladder of levels and sampled by annealed Langevin
// dynamics. A model containing one is compiled with a noise level:
// graph.Energy.SetNoise, or the noise node of graph.Terms.

// NoiseFrequencies are the angular frequencies of the Fourier features of
// log σ that NoiseBias embeds: 2^(k−2) for k = 0…5, so the features vary
// over the decades of σ that noise ladders span.
var NoiseFrequencies = []float64{0.25, 0.5, 1, 2, 4, 8}

// NoiseBias adds to every channel a bias that depends on the sample's
// noise level, as diffusion and score networks add an embedding of the
// noise level (or time) to their hidden channels:
//
//	y[n, c, …] = x[n, c, …] + (W·φ(log σₙ) + b)[c],
//	φ(u) = (sin ω₁u, cos ω₁u, …, sin ω_K u, cos ω_K u),
//
// with the frequencies NoiseFrequencies. It takes inputs (N, C) or
// (N, C, H, W); W is (C, 2K) and b is (C).
type NoiseBias struct {
	Channels int
	Weight   *graph.Param // (Channels, 2·len(NoiseFrequencies))
	Bias     *graph.Param // (Channels)
}

// NewNoiseBias returns a float32 NoiseBias for c channels, initialised
// like a Linear layer from the 2K features.
func NewNoiseBias(rng *rand.Rand, c int) *NoiseBias {
	if c <= 0 {
		panic(fmt.Sprintf("nn: NewNoiseBias(%d): channels must be positive", c))
	}
	k := 2 * len(NoiseFrequencies)
	l := &NoiseBias{Channels: c,
		Weight: graph.NewParam("weight", graph.Float32, c, k),
		Bias:   graph.NewParam("bias", graph.Float32, c)}
	bound := 1 / math.Sqrt(float64(k))
	uniform(rng, l.Weight, bound)
	uniform(rng, l.Bias, bound)
	return l
}

// Params returns weight, then bias.
func (l *NoiseBias) Params() []*graph.Param { return params(l.Weight, l.Bias) }

func (l *NoiseBias) String() string { return fmt.Sprintf("NoiseBias(%d)", l.Channels) }

// Forward implements graph.Model.
func (l *NoiseBias) Forward(b *graph.Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if (len(s) != 2 && len(s) != 4) || s[1] != l.Channels {
		return nil, &graph.ShapeError{Layer: l.String(), Got: s, Want: fmt.Sprintf("(N, %d) or (N, %d, H, W)", l.Channels, l.Channels)}
	}
	sigma, err := b.Noise()
	if err != nil {
		return nil, fmt.Errorf("%v: %w", l, err)
	}
	phi, err := noiseFeatures(b, sigma)
	if err != nil {
		return nil, err
	}
	e, err := ops.Linear(phi, b.Param(l.Weight), b.Param(l.Bias))
	if err != nil {
		return nil, err
	}
	return ops.AddChannels(x, e)
}

// noiseFeatures returns φ(log σ), shape (N, 2K).
func noiseFeatures(b *graph.Builder, sigma *G.Node) (*G.Node, error) {
	n := sigma.Shape()[0]
	k := len(NoiseFrequencies)
	logs, err := G.Log(sigma)
	if err != nil {
		return nil, err
	}
	col, err := G.Reshape(logs, tensor.Shape{n, 1})
	if err != nil {
		return nil, err
	}
	w := tensor.New(tensor.Of(b.Dtype()), tensor.WithShape(1, k))
	for i, f := range NoiseFrequencies {
		w.SetAt(castTo(b.Dtype(), f), 0, i)
	}
	freq := G.NewTensor(b.Graph(), b.Dtype(), 2, G.WithShape(1, k), G.WithName(fmt.Sprintf("noise-frequencies%d", k)), G.WithValue(w))
	arg, err := G.Mul(col, freq) // (N, 1)·(1, K)
	if err != nil {
		return nil, err
	}
	sin, err := G.Sin(arg)
	if err != nil {
		return nil, err
	}
	cos, err := G.Cos(arg)
	if err != nil {
		return nil, err
	}
	return G.Concat(1, sin, cos)
}

func castTo(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}

// NoiseScale divides the energy by the noise level, f(x; σ) = g(x)/σ, so
// that the score ∇x f = ∇x g/σ takes the size 1/σ that the score of data
// noised at level σ has (Song & Ermon 2020, "NCSNv2"): the network itself
// then works at one scale for every level. It takes outputs (N) or (N, 1)
// and returns (N).
type NoiseScale struct{}

func (NoiseScale) String() string { return "NoiseScale" }

// Params returns nil.
func (NoiseScale) Params() []*graph.Param { return nil }

// Forward implements graph.Model.
func (NoiseScale) Forward(b *graph.Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if !(len(s) == 1 || (len(s) == 2 && s[1] == 1)) {
		return nil, &graph.ShapeError{Layer: "NoiseScale", Got: s, Want: "(N) or (N, 1)"}
	}
	sigma, err := b.Noise()
	if err != nil {
		return nil, fmt.Errorf("NoiseScale: %w", err)
	}
	if len(s) == 2 {
		if x, err = G.Reshape(x, tensor.Shape{s[0]}); err != nil {
			return nil, err
		}
	}
	return G.HadamardDiv(x, sigma)
}

// NewNoiseCNN returns NewCNN made noise-conditional: a NoiseBias after
// each convolution and after the hidden Linear layer (before their
// activations), and NoiseScale at the end, for the energy f(x; σ) of a
// score model trained with trainer.DenoisingScoreMatching{Conditional:
// true} and sampled by annealed Langevin dynamics. The convolutions and
// Linear layers are NewCNN's, drawn first; the NoiseBias layers are drawn
// after them. Parameters are named by layer index as in a torch
// nn.Sequential of the same layers.
func NewNoiseCNN(rng *rand.Rand, cfg CNNConfig) (*Sequential, error) {
	base, err := NewCNN(rng, cfg)
	if err != nil {
		return nil, fmt.Errorf("nn: NewNoiseCNN: %w", err)
	}
	var layers []Layer
	last := len(base.Layers) - 1
	for i, l := range base.Layers {
		for _, p := range l.Params() { // NewSequential below names them again
			p.Name = strings.TrimPrefix(p.Name, strconv.Itoa(i)+".")
		}
		layers = append(layers, l)
		var c int
		switch l := l.(type) {
		case *Conv2d:
			c = l.Out
		case *Linear:
			c = l.Out
		}
		if c > 0 && i != last {
			layers = append(layers, NewNoiseBias(rng, c))
		}
	}
	return NewSequential(append(layers, NoiseScale{})...), nil
}

// NewMNISTNoiseCNN is NewNoiseCNN for MNIST's inputs (N, 1, 28, 28) and
// hidden ≥ 2 (the widths of NewMNISTCNN).
func NewMNISTNoiseCNN(rng *rand.Rand, hidden int) *Sequential {
	if hidden < 2 {
		panic(fmt.Sprintf("nn: NewMNISTNoiseCNN: hidden %d must be at least 2", hidden))
	}
	m, err := NewNoiseCNN(rng, CNNConfig{Channels: 1, Height: 28, Width: 28, Hidden: hidden})
	if err != nil {
		panic(err) // unreachable: the shape is fixed and hidden checked
	}
	return m
}

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/ops"
	G "gorgonia.org/gorgonia"
)

// Conv2dConfig holds a Conv2d layer's options. The zero value is a stride-1
// convolution without padding, with bias.
type Conv2dConfig struct {
	Stride  int  // 0 means 1
	Padding int  // zero padding on every side
	NoBias  bool // leave out the bias
}

// Conv2d is a 2-D convolution (cross-correlation, as in torch.nn.Conv2d)
// with a square kernel, on inputs of shape (N, In, H, W).
type Conv2d struct {
	In, Out, Kernel, Stride, Padding int
	Weight                           *graph.Param // (Out, In, Kernel, Kernel)
	Bias                             *graph.Param // (Out); nil without bias
}

// NewConv2d returns a float32 Conv2d initialised as PyTorch does: weight and
// bias uniform on ±1/√(In·Kernel²).
func NewConv2d(rng *rand.Rand, in, out, kernel int, cfg Conv2dConfig) *Conv2d {
	if in <= 0 || out <= 0 || kernel <= 0 || cfg.Stride < 0 || cfg.Padding < 0 {
		panic(fmt.Sprintf("nn: NewConv2d(%d, %d, %d, %+v): sizes must be positive", in, out, kernel, cfg))
	}
	c := &Conv2d{In: in, Out: out, Kernel: kernel, Stride: max(cfg.Stride, 1), Padding: cfg.Padding,
		Weight: graph.NewParam("weight", graph.Float32, out, in, kernel, kernel)}
	bound := 1 / math.Sqrt(float64(in*kernel*kernel))
	uniform(rng, c.Weight, bound)
	if !cfg.NoBias {
		c.Bias = graph.NewParam("bias", graph.Float32, out)
		uniform(rng, c.Bias, bound)
	}
	return c
}

// Params returns weight, then bias.
func (c *Conv2d) Params() []*graph.Param { return params(c.Weight, c.Bias) }

func (c *Conv2d) String() string {
	return fmt.Sprintf("Conv2d(%d→%d, k=%d, s=%d, p=%d)", c.In, c.Out, c.Kernel, c.Stride, c.Padding)
}

// OutSize returns the output height (or width) for input height h.
func (c *Conv2d) OutSize(h int) int { return (h+2*c.Padding-c.Kernel)/c.Stride + 1 }

// Forward implements graph.Model.
func (c *Conv2d) Forward(b *graph.Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	want := fmt.Sprintf("(N, %d, H, W) with H, W ≥ %d", c.In, c.Kernel-2*c.Padding)
	if len(s) != 4 || s[1] != c.In || c.OutSize(s[2]) <= 0 || c.OutSize(s[3]) <= 0 {
		return nil, &graph.ShapeError{Layer: c.String(), Got: s, Want: want}
	}
	// One op writes the NCHW output with its bias (im2col + one GEMM over
	// the batch); its backward is one op per input.
	var bias *G.Node
	if c.Bias != nil {
		bias = b.Param(c.Bias)
	}
	return ops.Conv2d(x, b.Param(c.Weight), bias, c.Stride, c.Padding)
}

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/ops"
	G "gorgonia.org/gorgonia"
)

// Linear is the affine map y = x·Wᵀ + b from In to Out features, like
// torch.nn.Linear. It takes inputs of shape (N, In).
type Linear struct {
	In, Out int
	Weight  *graph.Param // (Out, In)
	Bias    *graph.Param // (Out); nil for a layer without bias
}

// NewLinear returns a float32 Linear layer with bias, initialised as
// PyTorch does: weight and bias uniform on ±1/√In.
func NewLinear(rng *rand.Rand, in, out int) *Linear {
	if in <= 0 || out <= 0 {
		panic(fmt.Sprintf("nn: NewLinear(%d, %d): sizes must be positive", in, out))
	}
	l := &Linear{
		In: in, Out: out,
		Weight: graph.NewParam("weight", graph.Float32, out, in),
		Bias:   graph.NewParam("bias", graph.Float32, out),
	}
	bound := 1 / math.Sqrt(float64(in))
	uniform(rng, l.Weight, bound)
	uniform(rng, l.Bias, bound)
	return l
}

// Params returns weight, then bias.
func (l *Linear) Params() []*graph.Param { return params(l.Weight, l.Bias) }

func (l *Linear) String() string { return fmt.Sprintf("Linear(%d→%d)", l.In, l.Out) }

// Forward implements graph.Model.
func (l *Linear) Forward(b *graph.Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || s[1] != l.In {
		return nil, &graph.ShapeError{Layer: l.String(), Got: s, Want: fmt.Sprintf("(N, %d)", l.In)}
	}
	// One fused op: y = x·Wᵀ + b, with its own backward ops.
	var bias *G.Node
	if l.Bias != nil {
		bias = b.Param(l.Bias)
	}
	return ops.Linear(x, b.Param(l.Weight), bias)
}

func params(ps ...*graph.Param) []*graph.Param {
	out := ps[:0:0]
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// uniform fills p with draws from U(−bound, bound).
func uniform(rng *rand.Rand, p *graph.Param, bound float64) {
	if rng == nil {
		panic("nn: nil *rand.Rand: layers need a random source to initialise their parameters")
	}
	v := make([]float64, p.Size())
	for i := range v {
		v[i] = (2*rng.Float64() - 1) * bound
	}
	p.SetFloat64s(v)
}

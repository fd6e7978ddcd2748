package nn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ebmgo/ebm/graph"
	G "gorgonia.org/gorgonia"
)

// Sequential applies its layers in order, like torch.nn.Sequential. Its
// parameters are named by layer index, "0.weight", "0.bias", "2.weight",
// ..., as in a PyTorch state_dict, so weights move between the two.
//
// A Sequential, like every model of this package, is not safe for
// concurrent use: compile graphs from it (graph.NewEnergy, graph.NewLoss)
// one at a time, since compiling writes to its parameters' tensors. The
// graphs compiled from it may then run at the same time, each in one
// goroutine, as long as nothing writes the parameters meanwhile (an
// optimiser step, graph.Param.SetFloat64s, Load).
type Sequential struct {
	Layers []Layer
}

// Layer is anything Sequential can hold: a graph.Model.
type Layer = graph.Model

// NewSequential returns the layers as one model and prefixes each layer's
// parameter names with its index.
func NewSequential(layers ...Layer) *Sequential {
	for i, l := range layers {
		graph.Prefix(fmt.Sprint(i), l.Params())
	}
	return &Sequential{Layers: layers}
}

// Params returns the layers' parameters in layer order.
func (s *Sequential) Params() []*graph.Param {
	var ps []*graph.Param
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

func (s *Sequential) String() string {
	parts := make([]string, len(s.Layers))
	for i, l := range s.Layers {
		parts[i] = layerName(l)
	}
	return "Sequential(" + strings.Join(parts, ", ") + ")"
}

// Forward implements graph.Model. An error names the failing layer by its
// index.
func (s *Sequential) Forward(b *graph.Builder, x *G.Node) (*G.Node, error) {
	for i, l := range s.Layers {
		y, err := l.Forward(b, x)
		if err != nil {
			var se *graph.ShapeError
			if errors.As(err, &se) {
				c := *se
				c.Layer = fmt.Sprintf("Sequential[%d] %s", i, se.Layer)
				return nil, &c
			}
			return nil, fmt.Errorf("Sequential[%d] %s: input shape %v: %w", i, layerName(l), graph.FormatShape(x.Shape()), err)
		}
		x = y
	}
	return x, nil
}

func layerName(l graph.Model) string {
	if s, ok := l.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", l)
}

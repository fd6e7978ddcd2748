package ops

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestChannelOps(t *testing.T) {
	for _, s := range [][]int{{3, 4, 2, 5}, {3, 4}} {
		n, c := s[0], s[1]
		inner := tensor.Shape(s).TotalSize() / (n * c)
		add := func(v [][]float64) []float64 {
			y := make([]float64, len(v[0]))
			for i := range y {
				y[i] = v[0][i] + v[1][i/inner]
			}
			return y
		}
		sum := func(v [][]float64) []float64 {
			y := make([]float64, n*c)
			for i, x := range v[0] {
				y[i/inner] += x
			}
			return y
		}
		bcast := func(v [][]float64) []float64 {
			y := make([]float64, n*c*inner)
			for i := range y {
				y[i] = v[0][i/inner]
			}
			return y
		}
		for _, oc := range []opCase{
			{name: fmt.Sprint("Chan+", s), shapes: [][]int{s, {n, c}}, ref: add,
				build: func(in []*G.Node) (*G.Node, error) { return AddChannels(in[0], in[1]) }},
			{name: fmt.Sprint("ChanΣ", s), shapes: [][]int{s}, ref: sum,
				build: func(in []*G.Node) (*G.Node, error) { return G.ApplyOp(&chanSumOp{shape: tensor.Shape(s)}, in[0]) }},
			{name: fmt.Sprint("Chan→", s), shapes: [][]int{{n, c}}, ref: bcast,
				build: func(in []*G.Node) (*G.Node, error) { return G.ApplyOp(&chanBcastOp{shape: tensor.Shape(s)}, in[0]) }},
		} {
			t.Run(oc.name, func(t *testing.T) { checkOp(t, oc) })
		}
	}
}

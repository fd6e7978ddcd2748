package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSiLUBackwardFromForward checks the float32 SiLU op in a graph with a
// backward pass, where the backward multiplies by the derivative the
// forward kept: its gradient must equal SiLUGrad32's bit for bit, across
// runs with new inputs, and with a forward-only machine on the same graph
// run in between (as graph.Energy's F and FGrad share their ops).
func TestSiLUBackwardFromForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	g := G.NewGraph()
	xv := tensor.New(tensor.WithShape(3, 40), tensor.WithBacking(randF32(rng, 120)))
	x := G.NewTensor(g, tensor.Float32, 2, G.WithShape(3, 40), G.WithName("x"), G.WithValue(xv))
	rv := tensor.New(tensor.WithShape(3, 40), tensor.WithBacking(randF32(rng, 120)))
	r := G.NewTensor(g, tensor.Float32, 2, G.WithShape(3, 40), G.WithName("r"), G.WithValue(rv))
	y, err := Apply(SiLU, x)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := G.HadamardProd(y, r)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(loss, x)
	if err != nil {
		t.Fatal(err)
	}
	var yOut, gOut G.Value
	readY := G.Read(y, &yOut)
	readG := G.Read(grads[0], &gOut)
	both := G.NewTapeMachine(g.SubgraphRoots(readY, readG))
	fwd := G.NewTapeMachine(g.SubgraphRoots(readY))
	defer both.Close()
	defer fwd.Close()
	for run := range 4 {
		if err := both.RunAll(); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, 120)
		SiLUGrad32(want, xv.Data().([]float32), rv.Data().([]float32))
		got := gOut.Data().([]float32)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("run %d: ∂x[%d] = %v, want %v", run, i, got[i], want[i])
			}
		}
		both.Reset()
		// New inputs, in place; then a forward-only run on other inputs.
		copy(xv.Data().([]float32), randF32(rng, 120))
		copy(rv.Data().([]float32), randF32(rng, 120))
		if run%2 == 1 {
			keep := append([]float32(nil), xv.Data().([]float32)...)
			copy(xv.Data().([]float32), randF32(rng, 120))
			if err := fwd.RunAll(); err != nil {
				t.Fatal(err)
			}
			fwd.Reset()
			copy(xv.Data().([]float32), keep)
		}
	}
}

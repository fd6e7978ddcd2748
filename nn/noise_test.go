package nn_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/gradcheck"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

// The noise-conditional CNN: its energy depends on σ, scales as 1/σ
// through NoiseScale, and a denoising-score-matching loss of it has the
// θ-gradient of central differences (float64), NoiseBias weights included.
func TestMNISTNoiseCNN(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	m := nn.NewMNISTNoiseCNN(rng, 4)
	graph.Cast(m, graph.Float64)
	e, err := graph.NewEnergy(m, graph.Config{Shape: []int{1, 28, 28}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2
	x := make([]float64, n*784)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	f := make([]float64, n)
	if err := e.F(f, x); !errors.Is(err, graph.ErrNoNoise) {
		t.Fatalf("F without a noise level: %v", err)
	}
	at := func(sigma float64) []float64 {
		if err := e.SetNoise(sigma); err != nil {
			t.Fatal(err)
		}
		out := make([]float64, n)
		if err := e.F(out, x); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := at(0.1), at(0.5)
	if math.Abs(a[0]*0.1-b[0]*0.5) < 1e-9 {
		t.Errorf("σ·f is the same at two levels (%v, %v): the embedding does nothing", a[0]*0.1, b[0]*0.5)
	}
	cfg := graph.LossConfig{Shape: []int{1, 28, 28}, Batches: []int{n}, Aux: [][]int{{n, 1, 28, 28}, {n}}}
	l, err := graph.NewSecondOrderLoss(m, cfg, func(t *graph.Terms) (*G.Node, error) {
		s, err := t.Score(t.Input(0), t.Aux(1))
		if err != nil {
			return nil, err
		}
		r, err := G.Add(s, t.Aux(0))
		if err != nil {
			return nil, err
		}
		sq, err := G.Square(r)
		if err != nil {
			return nil, err
		}
		return G.Mean(sq) // of order 1: central differences stay accurate
	})
	if err != nil {
		t.Fatal(err)
	}
	z := make([]float64, n*784)
	for i := range z {
		z[i] = rng.NormFloat64()
	}
	sig := []float64{0.2, 0.7}
	for i, p := range l.Params() {
		if _, err := l.Run(x, z, sig); err != nil {
			t.Fatal(err)
		}
		g := append([]float64(nil), l.Grads()[i].Data().([]float64)...)
		theta := p.Value.Data().([]float64)
		stride := max(1, len(theta)/16)
		for j := 0; j < len(theta); j += stride {
			one := []float64{theta[j]}
			loss := func(v []float64) float64 {
				old := theta[j]
				theta[j] = v[0]
				out, err := l.Run(x, z, sig)
				theta[j] = old
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			if err := gradcheck.Check("∇θ "+p.Name, loss, one, g[j:j+1], 1e-6, 2e-6); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestNoiseCNNNames(t *testing.T) {
	m := nn.NewMNISTNoiseCNN(rand.New(rand.NewPCG(1, 1)), 4)
	if err := graph.CheckNames(m.Params()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	want := []string{"0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias", "4.weight", "4.bias"}
	for i, w := range want {
		if names[i] != w {
			t.Fatalf("parameter names %v, want to start %v", names, want)
		}
	}
	if _, err := nn.NewNoiseCNN(rand.New(rand.NewPCG(1, 1)), nn.CNNConfig{Channels: 1, Height: 0, Width: 8}); err == nil {
		t.Error("a zero height accepted")
	}
}

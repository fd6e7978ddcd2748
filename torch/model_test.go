//go:build torch

package torch

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/gradcheck"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

func randn(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

// testModels covers every layer and activation the translation supports.
func testModels(rng *rand.Rand) []struct {
	name  string
	m     graph.Model
	shape []int
} {
	return []struct {
		name  string
		m     graph.Model
		shape []int
	}{
		{"mlp-silu", nn.NewMLP(rng, nn.SiLU, 3, 16, 16, 1), []int{3}},
		{"mlp-activations", nn.NewSequential(
			nn.NewLinear(rng, 4, 8), nn.Sigmoid(), nn.NewLinear(rng, 8, 8), nn.Tanh(),
			nn.NewLinear(rng, 8, 8), nn.Softplus(), nn.NewLinear(rng, 8, 8), nn.ELU(1),
			nn.NewLinear(rng, 8, 8), nn.ELU(0.7), nn.NewLinear(rng, 8, 8), nn.LeakyReLU(0.2),
			nn.NewLinear(rng, 8, 8), nn.LeakyReLU(0.01), nn.NewLinear(rng, 8, 1)), []int{4}},
		{"image-mlp", nn.NewImageMLP(rng, nn.SiLU, 36, 16, 1), []int{1, 6, 6}},
		{"cnn", nn.NewSequential(
			nn.NewConv2d(rng, 2, 4, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.SiLU(),
			nn.NewConv2d(rng, 4, 4, 3, nn.Conv2dConfig{Padding: 1, NoBias: true}), nn.LeakyReLU(0.2),
			nn.Flatten{}, nn.NewLinear(rng, 4*4*4, 1)), []int{2, 8, 8}},
		{"mnist-cnn", nn.NewMNISTCNN(rng, 4), []int{1, 28, 28}},
	}
}

// TestMatchesGorgonia checks f and ∇x f against graph.NewEnergy, in
// float32 to float32 precision and in float64 to 1e-12.
func TestMatchesGorgonia(t *testing.T) {
	for _, dt := range []struct {
		name string
		cast bool
		tol  float64
	}{{"float32", false, 2e-5}, {"float64", true, 1e-12}} {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, tc := range testModels(rng) {
			t.Run(dt.name+"/"+tc.name, func(t *testing.T) {
				if dt.cast {
					graph.Cast(tc.m, graph.Float64)
				}
				ge, err := graph.NewEnergy(tc.m, graph.Config{Shape: tc.shape})
				if err != nil {
					t.Fatal(err)
				}
				tm, err := NewModel(tc.m, tc.shape, testDev)
				if err != nil {
					t.Fatal(err)
				}
				defer tm.Close()
				n := 5
				x := randn(rng, n*tm.Dim())
				fw, gw := make([]float64, n), make([]float64, len(x))
				ft, gt := make([]float64, n), make([]float64, len(x))
				if err := ge.FGrad(fw, gw, x); err != nil {
					t.Fatal(err)
				}
				if err := tm.FGrad(ft, gt, x); err != nil {
					t.Fatal(err)
				}
				f2 := make([]float64, n)
				if err := tm.F(f2, x); err != nil {
					t.Fatal(err)
				}
				cmp := func(what string, want, got []float64) {
					t.Helper()
					scale := 0.0
					for _, v := range want {
						scale = math.Max(scale, math.Abs(v))
					}
					for i := range want {
						if d := math.Abs(want[i] - got[i]); !(d <= dt.tol*math.Max(1, scale)) {
							t.Fatalf("%s[%d]: torch %.9g, Gorgonia %.9g (|Δ| %.3g, scale %.3g)", what, i, got[i], want[i], d, scale)
						}
					}
				}
				cmp("f", fw, ft)
				cmp("F", fw, f2)
				cmp("∇x f", gw, gt)
			})
		}
	}
}

// TestGradCentralDifferences checks ∇x f of the torch model in float64
// against central differences of its own f.
func TestGradCentralDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range testModels(rng) {
		t.Run(tc.name, func(t *testing.T) {
			graph.Cast(tc.m, graph.Float64)
			tm, err := NewModel(tc.m, tc.shape, testDev)
			if err != nil {
				t.Fatal(err)
			}
			defer tm.Close()
			n := 2
			x := randn(rng, n*tm.Dim())
			f, g := make([]float64, n), make([]float64, len(x))
			if err := tm.FGrad(f, g, x); err != nil {
				t.Fatal(err)
			}
			sum := func(x []float64) float64 {
				if err := tm.F(f, x); err != nil {
					t.Fatal(err)
				}
				return f[0] + f[1]
			}
			if err := gradcheck.Check("∇x f", sum, x, g, 1e-6, 1e-6); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNewModelErrors(t *testing.T) {
	defer noLeak(t)()
	rng := rand.New(rand.NewPCG(5, 6))
	_, err := NewModel(nn.NewMLP(rng, nn.SiLU, 3, 8, 1), []int{5}, testDev)
	if !errors.Is(err, energy.ErrShape) || !strings.Contains(err.Error(), "Sequential[0] Linear(3→8)") || !strings.Contains(err.Error(), "(N, 5)") {
		t.Errorf("5 features into Linear(3→8): got %v", err)
	}
	_, err = NewModel(nn.NewMLP(rng, nn.SiLU, 3, 8, 2), []int{3}, testDev)
	if !errors.Is(err, energy.ErrShape) {
		t.Errorf("two outputs per sample: got %v", err)
	}
	custom := graph.Func{Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) { return x, nil }}
	_, err = NewModel(nn.NewSequential(nn.NewLinear(rng, 2, 1), custom), []int{2}, testDev)
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "Sequential[1]") || !strings.Contains(err.Error(), "graph.Func") {
		t.Errorf("custom layer: got %v", err)
	}
	if _, err := NewModel(nn.NewMLP(rng, nn.SiLU, 2, 4, 1), []int{2}, CUDA(-1)); err == nil || !strings.Contains(err.Error(), "cuda:-1") {
		t.Errorf("device cuda:-1: got %v", err)
	}
	if err := SetNumThreads(0); err == nil {
		t.Error("SetNumThreads(0): no error")
	}
	tm, err := NewModel(nn.NewMLP(rng, nn.SiLU, 2, 4, 1), []int{2}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.F(make([]float64, 3), make([]float64, 5)); !errors.Is(err, energy.ErrShape) && !strings.Contains(err.Error(), "shape") {
		t.Errorf("5 values for 3 samples of 2: got %v", err)
	}
	tm.Close()
	if err := tm.F(make([]float64, 1), make([]float64, 2)); !errors.Is(err, ErrClosed) {
		t.Errorf("F after Close: got %v", err)
	}
}

func TestSyncRoundTrip(t *testing.T) {
	defer noLeak(t)()
	rng := rand.New(rand.NewPCG(7, 8))
	m := nn.NewMLP(rng, nn.SiLU, 2, 8, 1)
	tm, err := NewModel(m, []int{2}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	x := randn(rng, 4*2)
	f0 := make([]float64, 4)
	if err := tm.F(f0, x); err != nil {
		t.Fatal(err)
	}
	// Change the Go parameters: the device does not see it until SyncFromGraph.
	saved := make([][]float64, 0)
	for _, p := range m.Params() {
		v := p.Float64s(nil)
		saved = append(saved, append([]float64(nil), v...))
		for i := range v {
			v[i] *= 2
		}
		p.SetFloat64s(v)
	}
	f1 := make([]float64, 4)
	if err := tm.F(f1, x); err != nil {
		t.Fatal(err)
	}
	if f1[0] != f0[0] {
		t.Fatalf("the device saw a Go-side change before SyncFromGraph")
	}
	if err := tm.SyncFromGraph(); err != nil {
		t.Fatal(err)
	}
	if err := tm.F(f1, x); err != nil {
		t.Fatal(err)
	}
	if f1[0] == f0[0] {
		t.Fatalf("SyncFromGraph did not change f")
	}
	// Restore in Go from saved, then pull the device's (doubled) values back.
	for i, p := range m.Params() {
		p.SetFloat64s(saved[i])
	}
	if err := tm.SyncToGraph(); err != nil {
		t.Fatal(err)
	}
	for i, p := range m.Params() {
		for j, v := range p.Float64s(nil) {
			if v != float64(float32(2*saved[i][j])) {
				t.Fatalf("%s[%d] = %v after SyncToGraph, want %v", p.Name, j, v, 2*saved[i][j])
			}
		}
	}
}

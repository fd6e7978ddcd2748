package graph_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/gradcheck"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

func mlp(rng *rand.Rand) *nn.Sequential {
	return nn.NewSequential(nn.NewLinear(rng, 3, 8), nn.SiLU(), nn.NewLinear(rng, 8, 8), nn.Softplus(), nn.NewLinear(rng, 8, 1))
}

func cnn(rng *rand.Rand) *nn.Sequential {
	return nn.NewSequential(
		nn.NewConv2d(rng, 1, 4, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.SiLU(),
		nn.NewConv2d(rng, 4, 4, 3, nn.Conv2dConfig{Stride: 1, Padding: 1}), nn.LeakyReLU(0.2),
		nn.Flatten{}, nn.NewLinear(rng, 4*4*4, 1))
}

func randn(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

func TestEnergyGradX(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model func(*rand.Rand) *nn.Sequential
		shape []int
	}{
		{"mlp", mlp, []int{3}},
		{"cnn", cnn, []int{1, 8, 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m := tc.model(rng)
			graph.Cast(m, graph.Float64)
			e, err := graph.NewEnergy(m, graph.Config{Shape: tc.shape, Batch: 3})
			if err != nil {
				t.Fatal(err)
			}
			n := 3
			x := randn(rng, n*e.Dim())
			f := make([]float64, n)
			g := make([]float64, len(x))
			if err := e.FGrad(f, g, x); err != nil {
				t.Fatal(err)
			}
			f2 := make([]float64, n)
			if err := e.F(f2, x); err != nil {
				t.Fatal(err)
			}
			for i := range f {
				if f[i] != f2[i] {
					t.Fatalf("F and FGrad disagree: %v vs %v", f2, f)
				}
			}
			sum := func(x []float64) float64 {
				if err := e.F(f2, x); err != nil {
					t.Fatal(err)
				}
				s := 0.0
				for _, v := range f2 {
					s += v
				}
				return s
			}
			if err := gradcheck.Check("∇x f", sum, x, g, 1e-6, 1e-6); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestLossGradTheta(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := cnn(rng)
	graph.Cast(m, graph.Float64)
	shape := []int{1, 8, 8}
	l, err := graph.NewLoss(m, graph.LossConfig{Shape: shape, Batches: []int{4, 3}}, graph.CDLoss(0.1))
	if err != nil {
		t.Fatal(err)
	}
	xp := randn(rng, 4*64)
	xn := randn(rng, 3*64)
	loss, err := l.Run(xp, xn)
	if err != nil {
		t.Fatal(err)
	}
	// Check the loss value against its definition from F.
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	sq := func(v []float64) []float64 {
		o := make([]float64, len(v))
		for i, x := range v {
			o[i] = x * x
		}
		return o
	}
	fp, fn := l.F(0), l.F(1)
	want := mean(fn) - mean(fp) + 0.1*(mean(sq(fp))+mean(sq(fn)))
	if math.Abs(loss-want) > 1e-12 {
		t.Fatalf("loss %v, want %v from per-sample energies", loss, want)
	}
	for i, p := range l.Params() {
		if _, err := l.Run(xp, xn); err != nil { // at θ, not at the last check's θ − h
			t.Fatal(err)
		}
		g := make([]float64, p.Size())
		copy(g, l.Grads()[i].Data().([]float64))
		theta := p.Value.Data().([]float64)
		f := func([]float64) float64 {
			v, err := l.Run(xp, xn)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if err := gradcheck.Check("∇θ "+p.Name, f, theta, g, 1e-6, 1e-6); err != nil {
			t.Error(err)
		}
	}
}

func TestShapeErrorNamesLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	_, err := graph.NewEnergy(mlp(rng), graph.Config{Shape: []int{5}, Batch: 2})
	if err == nil {
		t.Fatal("no error for a 5-feature input to a 3-feature model")
	}
	if !errors.Is(err, energy.ErrShape) {
		t.Errorf("error %q does not wrap ErrShape", err)
	}
	for _, s := range []string{"Sequential[0]", "Linear(3→8)", "(2, 5)", "(N, 3)"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 steps")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	m := cnn(rng)
	e, err := graph.NewEnergy(m, graph.Config{Shape: []int{1, 8, 8}, Batch: 16})
	if err != nil {
		t.Fatal(err)
	}
	x := randn(rng, 16*64)
	f := make([]float64, 16)
	g := make([]float64, len(x))
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	var h100 uint64
	for i := range 1000 {
		if err := e.FGrad(f, g, x); err != nil {
			t.Fatal(err)
		}
		if i == 100 {
			h100 = heap()
		}
	}
	h := heap()
	if h > h100+4<<20 {
		t.Errorf("heap grew from %d to %d bytes between step 100 and 1000", h100, h)
	}
}

// A classifier trained through a raw-output loss with auxiliary label
// inputs: the cross-entropy and its gradient against central differences,
// and Forward against the loss's outputs.
func TestRawLossWithAux(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	m := nn.NewMLP(rng, nn.Tanh, 4, 6, 3)
	graph.Cast(m, graph.Float64)
	const n = 5
	xent := func(b *graph.Builder, f []*G.Node) (*G.Node, error) {
		logp, err := G.LogSoftMax(f[0], 1)
		if err != nil {
			return nil, err
		}
		picked, err := G.HadamardProd(logp, f[1])
		if err != nil {
			return nil, err
		}
		s, err := G.Sum(picked)
		if err != nil {
			return nil, err
		}
		return G.Mul(b.Constant(-1.0/n), s)
	}
	l, err := graph.NewLoss(m, graph.LossConfig{Shape: []int{4}, Batches: []int{n}, Raw: true, Aux: [][]int{{n, 3}}}, xent)
	if err != nil {
		t.Fatal(err)
	}
	x := randn(rng, n*4)
	labels := make([]float64, n*3)
	for i := range n {
		labels[i*3+i%3] = 1
	}
	loss, err := l.Run(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	logits := l.F(0)
	want := 0.0
	for i := range n {
		row := logits[i*3 : i*3+3]
		lse := math.Log(math.Exp(row[0]) + math.Exp(row[1]) + math.Exp(row[2]))
		want -= (row[i%3] - lse) / n
	}
	if math.Abs(loss-want) > 1e-12 {
		t.Fatalf("cross-entropy %v, want %v", loss, want)
	}
	fw, err := graph.NewForward(m, graph.Config{Shape: []int{4}, Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, n*3)
	if err := fw.Run(out, x); err != nil {
		t.Fatal(err)
	}
	for i := range out {
		if out[i] != logits[i] {
			t.Fatalf("Forward %v, loss outputs %v", out, logits)
		}
	}
	for i, p := range l.Params() {
		if _, err := l.Run(x, labels); err != nil {
			t.Fatal(err)
		}
		g := append([]float64(nil), l.Grads()[i].Data().([]float64)...)
		f := func([]float64) float64 {
			v, err := l.Run(x, labels)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if err := gradcheck.Check("∇θ "+p.Name, f, p.Value.Data().([]float64), g, 1e-6, 1e-7); err != nil {
			t.Error(err)
		}
	}
}

// Scalar parameters read and write their single value.
func TestScalarParam(t *testing.T) {
	for _, p := range []*graph.Param{graph.NewParam("s", graph.Float32), graph.NewParam("s", graph.Float64)} {
		p.SetFloat64s([]float64{2.5})
		if v := p.Float64s(nil); len(v) != 1 || v[0] != 2.5 {
			t.Errorf("%v scalar: got %v", p.Dtype(), v)
		}
	}
}

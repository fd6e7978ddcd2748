package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/gradcheck"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

func randn(rng *rand.Rand, n int, scale float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = scale * rng.NormFloat64()
	}
	return x
}

// gradTest checks ∇x and ∇θ of model m (one energy per sample) on inputs of
// the given sample shape against central differences, in float64.
func gradTest(t *testing.T, m graph.Model, shape []int, scale float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	graph.Cast(m, graph.Float64)
	const n = 3
	e, err := graph.NewEnergy(m, graph.Config{Shape: shape, Batch: n})
	if err != nil {
		t.Fatal(err)
	}
	x := randn(rng, n*e.Dim(), scale)
	f := make([]float64, n)
	g := make([]float64, len(x))
	if err := e.FGrad(f, g, x); err != nil {
		t.Fatal(err)
	}
	sum := func(x []float64) float64 {
		out := make([]float64, n)
		if err := e.F(out, x); err != nil {
			t.Fatal(err)
		}
		return out[0] + out[1] + out[2]
	}
	if err := gradcheck.Check("∇x", sum, x, g, 1e-6, 1e-6); err != nil {
		t.Error(err)
	}
	if len(m.Params()) == 0 {
		return
	}
	// ∇θ of mean f over a batch.
	meanF := func(b *graph.Builder, f []*G.Node) (*G.Node, error) { return G.Mean(f[0]) }
	l, err := graph.NewLoss(m, graph.LossConfig{Shape: shape, Batches: []int{n}}, meanF)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range l.Params() {
		// Run at the unperturbed parameters before reading the gradient:
		// the previous check's last run was at θ − h.
		if _, err := l.Run(x); err != nil {
			t.Fatal(err)
		}
		gp := append([]float64(nil), l.Grads()[i].Data().([]float64)...)
		loss := func([]float64) float64 {
			v, err := l.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		if err := gradcheck.Check("∇θ "+p.Name, loss, p.Value.Data().([]float64), gp, 1e-6, 1e-6); err != nil {
			t.Error(err)
		}
	}
}

// head turns a layer's output into one energy per sample.
func head(rng *rand.Rand, layer nn.Layer, outDim int) *nn.Sequential {
	return nn.NewSequential(layer, nn.Flatten{}, nn.NewLinear(rng, outDim, 1))
}

func TestLayerGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	conv := func(in, out, k, s, p int, noBias bool, hw int) (nn.Layer, int) {
		c := nn.NewConv2d(rng, in, out, k, nn.Conv2dConfig{Stride: s, Padding: p, NoBias: noBias})
		o := c.OutSize(hw)
		return c, out * o * o
	}
	type tc struct {
		name  string
		model graph.Model
		shape []int
		scale float64
	}
	var cases []tc
	add := func(name string, l nn.Layer, shape []int, outDim int, scale float64) {
		cases = append(cases, tc{name, head(rng, l, outDim), shape, scale})
	}
	add("Linear", nn.NewLinear(rng, 5, 4), []int{5}, 4, 1)
	for _, s := range [][5]int{{2, 3, 3, 1, 0}, {2, 3, 3, 2, 1}, {1, 2, 5, 2, 4}, {3, 2, 1, 1, 0}} {
		for _, nb := range []bool{false, true} {
			l, od := conv(s[0], s[1], s[2], s[3], s[4], nb, 7)
			add(fmt.Sprintf("Conv2d(in=%d,out=%d,k=%d,s=%d,p=%d,noBias=%v)", s[0], s[1], s[2], s[3], s[4], nb), l, []int{s[0], 7, 7}, od, 1)
		}
	}
	for _, a := range []*nn.Activation{nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.Softplus(), nn.ELU(1), nn.ELU(0.5), nn.LeakyReLU(0.2)} {
		// Scale 3 reaches the saturating and linear regions; kinks at 0 are
		// hit with probability zero.
		add(a.String(), a, []int{6}, 6, 3)
	}
	add("Flatten", nn.Flatten{}, []int{2, 3}, 6, 1)
	cases = append(cases,
		tc{"MLP", nn.NewMLP(rng, nn.SiLU, 4, 8, 8, 1), []int{4}, 1},
		tc{"ImageMLP", nn.NewImageMLP(rng, nn.Softplus, 16, 8, 1), []int{1, 4, 4}, 1},
		tc{"MNISTCNN", nn.NewMNISTCNN(rng, 4), []int{1, 28, 28}, 1},
		tc{"CNN 3×9×7", must(nn.NewCNN(rng, nn.CNNConfig{Channels: 3, Height: 9, Width: 7, Hidden: 4})), []int{3, 9, 7}, 1},
		tc{"ResNet 3×8×6", must(nn.NewResNet(rng, nn.ResNetConfig{Channels: 3, Height: 8, Width: 6, Filters: 2, Stages: 2, Blocks: 2})), []int{3, 8, 6}, 1},
	)
	for _, s := range [][3]int{{2, 2, 1}, {2, 3, 1}, {2, 3, 2}} {
		b := must(nn.NewResBlock(rng, s[0], s[1], s[2], nil))
		o := (6-1)/s[2] + 1
		add(b.String(), b, []int{s[0], 6, 6}, s[1]*o*o, 1)
	}
	add("GlobalAvgPool", nn.GlobalAvgPool{}, []int{3, 4, 5}, 3, 1)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { gradTest(t, c.model, c.shape, c.scale) })
	}
}

func TestActivationValues(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, c := range []struct {
		a    *nn.Activation
		want func(float64) float64
	}{
		{nn.SiLU(), func(x float64) float64 { return x * sig(x) }},
		{nn.Sigmoid(), sig},
		{nn.Tanh(), math.Tanh},
		{nn.Softplus(), func(x float64) float64 {
			if x > 20 {
				return x
			}
			return math.Log(1 + math.Exp(x))
		}},
		{nn.ELU(1), func(x float64) float64 {
			if x > 0 {
				return x
			}
			return math.Exp(x) - 1
		}},
		{nn.LeakyReLU(0.2), func(x float64) float64 { return math.Max(x, 0.2*x) }},
	} {
		xs := []float64{-700, -30, -3, -0.5, 0, 0.5, 3, 19.9, 20.1, 30, 700}
		m := graph.Func{Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) { return c.a.Forward(b, x) }}
		f := graph.Func{Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) {
			y, err := m.Forward(b, x)
			if err != nil {
				return nil, err
			}
			return G.Sum(y, 1)
		}}
		e, err := graph.NewEnergy(f, graph.Config{Shape: []int{1}, Dtype: graph.Float64})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, len(xs))
		grad := make([]float64, len(xs))
		if err := e.FGrad(got, grad, xs); err != nil {
			t.Fatal(err)
		}
		for i, x := range xs {
			w := c.want(x)
			if math.Abs(got[i]-w) > 1e-12*math.Max(1, math.Abs(w)) || math.IsNaN(grad[i]) || math.IsInf(grad[i], 0) {
				t.Errorf("%v(%g) = %g (grad %g), want %g", c.a, x, got[i], grad[i], w)
			}
		}
	}
}

func TestPyTorchInit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	l := nn.NewLinear(rng, 400, 300)
	c := nn.NewConv2d(rng, 16, 32, 3, nn.Conv2dConfig{})
	for _, tc := range []struct {
		p     *graph.Param
		bound float64
	}{
		{l.Weight, 1 / math.Sqrt(400)}, {l.Bias, 1 / math.Sqrt(400)},
		{c.Weight, 1 / math.Sqrt(16*9)}, {c.Bias, 1 / math.Sqrt(16*9)},
	} {
		v := tc.p.Float64s(nil)
		var m, m2 float64
		for _, x := range v {
			if math.Abs(x) > tc.bound {
				t.Fatalf("%s: %g outside ±%g", tc.p.Name, x, tc.bound)
			}
			m += x
			m2 += x * x
		}
		n := float64(len(v))
		m /= n
		variance := m2/n - m*m
		want := tc.bound * tc.bound / 3
		// Var of the sample variance of U(−a,a): (a⁴/5 − a⁴/9)/n.
		se := math.Sqrt((1.0/5-1.0/9)/n) * tc.bound * tc.bound
		if math.Abs(variance-want) > 4*se+1e-12 {
			t.Errorf("%s: variance %g, want %g ± %g", tc.p.Name, variance, want, 4*se)
		}
	}
}

func TestSequentialNames(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	m := nn.NewMNISTCNN(rng, 4)
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	want := []string{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias", "9.weight", "9.bias", "11.weight", "11.bias"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if err := graph.CheckNames(m.Params()); err != nil {
		t.Error(err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// NewMNISTCNN is NewCNN on 1×28×28 and keeps the parameters it always had:
// the same names, shapes and draws as the explicit layer list, so saved
// models still load.
func TestMNISTCNNIsCNN(t *testing.T) {
	old := func(rng *rand.Rand, hidden int) *nn.Sequential {
		c1, c2, c3 := hidden/2, hidden, 2*hidden
		return nn.NewSequential(
			nn.NewConv2d(rng, 1, c1, 5, nn.Conv2dConfig{Stride: 2, Padding: 4}), nn.Swish(),
			nn.NewConv2d(rng, c1, c2, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.Swish(),
			nn.NewConv2d(rng, c2, c3, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.Swish(),
			nn.NewConv2d(rng, c3, c3, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.Swish(),
			nn.Flatten{},
			nn.NewLinear(rng, 4*c3, c3), nn.Swish(),
			nn.NewLinear(rng, c3, 1),
		)
	}
	a := old(rand.New(rand.NewPCG(3, 4)), 32).Params()
	b := nn.NewMNISTCNN(rand.New(rand.NewPCG(3, 4)), 32).Params()
	if len(a) != len(b) {
		t.Fatalf("%d parameters, want %d", len(b), len(a))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Shape(), b[i].Shape()) || !slices.Equal(a[i].Float64s(nil), b[i].Float64s(nil)) {
			t.Errorf("parameter %d: %s %v differs from %s %v", i, b[i].Name, b[i].Shape(), a[i].Name, a[i].Shape())
		}
	}
}

func TestModelConfigErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"CNN zero channels", second(nn.NewCNN(rng, nn.CNNConfig{Height: 28, Width: 28})), "every size must be positive"},
		{"CNN hidden 1", second(nn.NewCNN(rng, nn.CNNConfig{Channels: 1, Height: 28, Width: 28, Hidden: 1})), "Hidden 1"},
		{"ResNet negative filters", second(nn.NewResNet(rng, nn.ResNetConfig{Channels: 3, Height: 32, Width: 32, Filters: -1})), "Filters -1"},
		{"ResNet too many stages", second(nn.NewResNet(rng, nn.ResNetConfig{Channels: 3, Height: 8, Width: 8, Stages: 5})), "less than a pixel"},
		{"ResBlock stride 0", second(nn.NewResBlock(rng, 2, 2, 0, nil)), "sizes must be positive"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, tc.err, tc.want)
		}
	}
	// Tiny images still give one energy per sample.
	m := must(nn.NewCNN(rng, nn.CNNConfig{Channels: 2, Height: 1, Width: 3, Hidden: 2}))
	if _, err := graph.NewEnergy(m, graph.Config{Shape: []int{2, 1, 3}}); err != nil {
		t.Errorf("CNN on 2×1×3: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
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
	)
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

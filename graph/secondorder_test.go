package graph_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/gradcheck"
	"github.com/ebmgo/ebm/internal/ops"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

// soModels are the models the second-order tests run on: every layer and
// activation of package nn, the MLP and (smaller) MNIST CNN shapes.
func soModels() []struct {
	name  string
	build func(*rand.Rand) graph.Model
	shape []int
} {
	type mc = struct {
		name  string
		build func(*rand.Rand) graph.Model
		shape []int
	}
	var out []mc
	acts := map[string]func() *nn.Activation{
		"silu": nn.SiLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softplus": nn.Softplus,
		"elu": func() *nn.Activation { return nn.ELU(1) }, "leakyrelu": func() *nn.Activation { return nn.LeakyReLU(0.2) },
	}
	for _, name := range []string{"silu", "sigmoid", "tanh", "softplus", "elu", "leakyrelu"} {
		act := acts[name]
		out = append(out, mc{"mlp_" + name, func(rng *rand.Rand) graph.Model { return nn.NewMLP(rng, act, 3, 8, 8, 1) }, []int{3}})
	}
	out = append(out,
		mc{"cnn", func(rng *rand.Rand) graph.Model { return cnn(rng) }, []int{1, 8, 8}},
		mc{"mnist_cnn4", func(rng *rand.Rand) graph.Model { return nn.NewMNISTCNN(rng, 4) }, []int{1, 28, 28}},
	)
	return out
}

// everyTerm is a loss that uses every kind of term:
//
//	L = Σₙ ½‖sₙ‖² + vₙᵀ∇²f(xₙ)vₙ + 0.3·f(xₙ)
//
// with s = ∇x f at input 0 and v auxiliary input 0.
func everyTerm(t *graph.Terms) (*G.Node, error) {
	x, v := t.Input(0), t.Aux(0)
	b := t.Builder()
	f, err := t.F(x, nil)
	if err != nil {
		return nil, err
	}
	s, err := t.Score(x, nil)
	if err != nil {
		return nil, err
	}
	hv, err := t.HVP(x, nil, v)
	if err != nil {
		return nil, err
	}
	half := must(G.Mul(b.Constant(0.5), must(G.Sum(must(G.Square(s))))))
	vhv := must(G.Sum(must(G.HadamardProd(v, hv))))
	lin := must(G.Mul(b.Constant(0.3), must(G.Sum(f))))
	return G.Add(must(G.Add(half, vhv)), lin)
}

// frozenStep is the KL term of improved CD: L = Σₙ f_θ̄(xₙ + 0.1·∇x f_θ(xₙ)).
func frozenStep(t *graph.Terms) (*G.Node, error) {
	x := t.Input(0)
	s, err := t.Score(x, nil)
	if err != nil {
		return nil, err
	}
	step := must(G.Add(x, must(G.Mul(t.Builder().Constant(0.1), s))))
	ff, err := t.FrozenF(step, nil)
	if err != nil {
		return nil, err
	}
	return G.Sum(ff)
}

// checkSome is gradcheck.Check (step 1e-6, tolerance 2e-6) on at most 48
// entries of theta spread over it, so that the larger models stay fast.
func checkSome(name string, f func([]float64) float64, theta, g []float64) error {
	stride := max(1, len(theta)/48)
	var idx []int
	for i := 0; i < len(theta); i += stride {
		idx = append(idx, i)
	}
	sub := make([]float64, len(idx))
	sg := make([]float64, len(idx))
	for k, i := range idx {
		sub[k], sg[k] = theta[i], g[i]
	}
	fs := func(v []float64) float64 {
		for k, i := range idx {
			theta[i] = v[k]
		}
		return f(theta)
	}
	err := gradcheck.Check(fmt.Sprintf("%s (%d of %d entries)", name, len(idx), len(theta)), fs, sub, sg, 1e-6, 2e-6)
	for k, i := range idx {
		theta[i] = sub[k]
	}
	return err
}

func must(n *G.Node, err error) *G.Node {
	if err != nil {
		panic(err)
	}
	return n
}

// TestSecondOrderAgainstFirstOrder checks, in float64 for every model: the
// loss value against the same expression computed from the first-order
// machine (f and ∇x f from graph.Energy, ∇²f·v by central differences of
// ∇x f), and ∇θ of the loss against central differences of the loss. The
// KL term's ∇θ goes against central differences in which only the θ of
// the step moves: the θ of the energy it evaluates is a second copy of
// the model, held fixed.
func TestSecondOrderAgainstFirstOrder(t *testing.T) {
	for _, mc := range soModels() {
		t.Run(mc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(21, uint64(len(mc.name))))
			m := mc.build(rng)
			graph.Cast(m, graph.Float64)
			m0 := mc.build(rng) // the fixed copy
			graph.Cast(m0, graph.Float64)
			for i, p := range m0.Params() {
				p.SetFloat64s(m.Params()[i].Float64s(nil))
			}
			const n = 3
			dim := 1
			for _, d := range mc.shape {
				dim *= d
			}
			x, v := randn(rng, n*dim), randn(rng, n*dim)
			cfg := graph.LossConfig{Shape: mc.shape, Batches: []int{n}, Aux: [][]int{append([]int{n}, mc.shape...)}}
			l, err := graph.NewSecondOrderLoss(m, cfg, everyTerm)
			if err != nil {
				t.Fatal(err)
			}
			kl, err := graph.NewSecondOrderLoss(m, graph.LossConfig{Shape: mc.shape, Batches: []int{n}}, frozenStep)
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.Run(x, v)
			if err != nil {
				t.Fatal(err)
			}
			gotKL, err := kl.Run(x)
			if err != nil {
				t.Fatal(err)
			}
			// The same losses from the first-order energies.
			e, err := graph.NewEnergy(m, graph.Config{Shape: mc.shape})
			if err != nil {
				t.Fatal(err)
			}
			e0, err := graph.NewEnergy(m0, graph.Config{Shape: mc.shape})
			if err != nil {
				t.Fatal(err)
			}
			f, s := make([]float64, n), make([]float64, n*dim)
			if err := e.FGrad(f, s, x); err != nil {
				t.Fatal(err)
			}
			for i, fi := range l.F(0) {
				if math.Abs(fi-f[i]) > 1e-12*(1+math.Abs(f[i])) {
					t.Fatalf("F(0)[%d] = %v, energy says %v", i, fi, f[i])
				}
			}
			const h = 1e-5
			xp, xm := make([]float64, len(x)), make([]float64, len(x))
			for i := range x {
				xp[i], xm[i] = x[i]+h*v[i], x[i]-h*v[i]
			}
			gp, gm, fd := make([]float64, len(x)), make([]float64, len(x)), make([]float64, n)
			if err := e.FGrad(fd, gp, xp); err != nil {
				t.Fatal(err)
			}
			if err := e.FGrad(fd, gm, xm); err != nil {
				t.Fatal(err)
			}
			want := 0.0
			for i := range x {
				want += 0.5*s[i]*s[i] + v[i]*(gp[i]-gm[i])/(2*h)
			}
			for i := range n {
				want += 0.3 * f[i]
			}
			if math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("loss %.12g, from the first-order machine %.12g", got, want)
			}
			// KL term through the two models: θ moves the step only.
			klFirst := func() float64 {
				fs, ss := make([]float64, n), make([]float64, n*dim)
				if err := e.FGrad(fs, ss, x); err != nil {
					t.Fatal(err)
				}
				for i := range ss {
					ss[i] = x[i] + 0.1*ss[i]
				}
				if err := e0.F(fs, ss); err != nil {
					t.Fatal(err)
				}
				return fs[0] + fs[1] + fs[2]
			}
			if want := klFirst(); math.Abs(gotKL-want) > 1e-12*(1+math.Abs(want)) {
				t.Fatalf("KL term %.12g, from the first-order machines %.12g", gotKL, want)
			}
			for i, p := range l.Params() {
				if _, err := l.Run(x, v); err != nil {
					t.Fatal(err)
				}
				if _, err := kl.Run(x); err != nil {
					t.Fatal(err)
				}
				g := append([]float64(nil), l.Grads()[i].Data().([]float64)...)
				gKL := append([]float64(nil), kl.Grads()[i].Data().([]float64)...)
				loss := func([]float64) float64 {
					v, err := l.Run(x, v)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				if err := checkSome("∇θ "+p.Name, loss, p.Value.Data().([]float64), g); err != nil {
					t.Error(err)
				}
				if err := checkSome("∇θ KL "+p.Name, func([]float64) float64 { return klFirst() }, p.Value.Data().([]float64), gKL); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestHVPAgainstGradient checks Terms.HVP row by row against central
// differences of ∇x f, and Terms.Score against Energy.FGrad, in float64,
// by reading them out through a loss that is their inner product with
// fixed vectors.
func TestHVPAgainstGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	m := nn.NewMNISTCNN(rng, 4)
	graph.Cast(m, graph.Float64)
	shape := []int{1, 28, 28}
	const n, dim = 2, 784
	x, v := randn(rng, n*dim), randn(rng, n*dim)
	// L = Σ xᵢ·HVPᵢ: ∂L/∂xᵢ would mix orders; instead read HVP through
	// L = ⟨w, HVP⟩ for one-hot w at a few coordinates.
	e, err := graph.NewEnergy(m, graph.Config{Shape: shape})
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-5
	xp, xm := make([]float64, len(x)), make([]float64, len(x))
	for i := range x {
		xp[i], xm[i] = x[i]+h*v[i], x[i]-h*v[i]
	}
	gp, gm, f := make([]float64, len(x)), make([]float64, len(x)), make([]float64, n)
	_ = e.FGrad(f, gp, xp)
	_ = e.FGrad(f, gm, xm)
	s := make([]float64, len(x))
	_ = e.FGrad(f, s, x)
	read := func(t2 *graph.Terms) (*G.Node, error) {
		hv, err := t2.HVP(t2.Input(0), nil, t2.Aux(0))
		if err != nil {
			return nil, err
		}
		sc, err := t2.Score(t2.Input(0), nil)
		if err != nil {
			return nil, err
		}
		a := must(G.Sum(must(G.HadamardProd(t2.Aux(1), hv))))
		b := must(G.Sum(must(G.HadamardProd(t2.Aux(2), sc))))
		return G.Add(a, must(G.Mul(t2.Builder().Constant(1e3), b)))
	}
	full := []int{n, 1, 28, 28}
	l, err := graph.NewSecondOrderLoss(m, graph.LossConfig{Shape: shape, Batches: []int{n}, Aux: [][]int{full, full, full}}, read)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, 100, 390, 783, 784 + 200, 784 + 406} {
		w, z := make([]float64, len(x)), make([]float64, len(x))
		w[i] = 1
		got, err := l.Run(x, v, w, z)
		if err != nil {
			t.Fatal(err)
		}
		want := (gp[i] - gm[i]) / (2 * h)
		if math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
			t.Errorf("HVP[%d] = %v, central difference of ∇x f %v", i, got, want)
		}
		gotS, err := l.Run(x, v, z, w)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(gotS/1e3-s[i]) > 1e-12*(1+math.Abs(s[i])) {
			t.Errorf("Score[%d] = %v, FGrad %v", i, gotS/1e3, s[i])
		}
	}
}

// A kernel without higher derivatives cannot be in a second-order loss:
// compiling says which op.
func TestSecondOrderErrorNamesOp(t *testing.T) {
	k := &ops.Kernel{
		Name:      "Cube",
		Forward32: func(y, x []float32) { copyMap(y, x, func(v float32) float32 { return v * v * v }) },
		Forward64: func(y, x []float64) { copyMap(y, x, func(v float64) float64 { return v * v * v }) },
		Back32: func(gx, x, _, gy []float32) {
			for i := range x {
				gx[i] = 3 * x[i] * x[i] * gy[i]
			}
		},
		Back64: func(gx, x, _, gy []float64) {
			for i := range x {
				gx[i] = 3 * x[i] * x[i] * gy[i]
			}
		},
	}
	rng := rand.New(rand.NewPCG(1, 1))
	lin, out := nn.NewLinear(rng, 2, 4), nn.NewLinear(rng, 4, 1)
	m := graph.Func{P: append(lin.Params(), graph.Prefix("out", out.Params())...), Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) {
		h, err := lin.Forward(b, x)
		if err != nil {
			return nil, err
		}
		if h, err = ops.Apply(k, h); err != nil {
			return nil, err
		}
		return out.Forward(b, h)
	}}
	cfg := graph.LossConfig{Shape: []int{2}, Batches: []int{3}}
	_, err := graph.NewSecondOrderLoss(m, cfg, func(t *graph.Terms) (*G.Node, error) {
		s, err := t.Score(t.Input(0), nil)
		if err != nil {
			return nil, err
		}
		return G.Sum(must(G.Square(s)))
	})
	if err == nil || !strings.Contains(err.Error(), "Cube'") {
		t.Fatalf("compiling a loss of ∇x f through a kernel without f'': %v", err)
	}
	// First order still works, and so does a second-order loss of f alone.
	if _, err := graph.NewLoss(m, graph.LossConfig{Shape: []int{2}, Batches: []int{3, 3}}, graph.CDLoss(0)); err != nil {
		t.Fatal(err)
	}
}

func copyMap[T float32 | float64](y, x []T, f func(T) T) {
	for i, v := range x {
		y[i] = f(v)
	}
}

// A noise-conditional model through Terms, NewEnergy and NewLoss.
func TestNoiseConditionalModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	lin := nn.NewLinear(rng, 2, 1)
	graph.Cast(lin, graph.Float64)
	// f(x; σ) = (w·x + b)/σ.
	m := graph.Func{P: lin.Params(), Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) {
		y, err := lin.Forward(b, x)
		if err != nil {
			return nil, err
		}
		sigma, err := b.Noise()
		if err != nil {
			return nil, err
		}
		n := x.Shape()[0]
		y = must(G.Reshape(y, []int{n}))
		return G.HadamardDiv(y, sigma)
	}}
	e, err := graph.NewEnergy(m, graph.Config{Shape: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	f, g := make([]float64, 2), make([]float64, 4)
	x := []float64{1, 2, -1, 0.5}
	if err := e.FGrad(f, g, x); !errors.Is(err, graph.ErrNoNoise) {
		t.Fatalf("FGrad before SetNoise: %v", err)
	}
	if err := e.SetNoise(0); err == nil {
		t.Error("SetNoise(0) accepted")
	}
	if err := e.SetNoise(0.5); err != nil {
		t.Fatal(err)
	}
	if err := e.FGrad(f, g, x); err != nil {
		t.Fatal(err)
	}
	w, b := lin.Weight.Float64s(nil), lin.Bias.Float64s(nil)
	for i := range 2 {
		want := (w[0]*x[2*i] + w[1]*x[2*i+1] + b[0]) / 0.5
		if math.Abs(f[i]-want) > 1e-12 || math.Abs(g[2*i]-w[0]/0.5) > 1e-12 {
			t.Errorf("f = %v, want %v; ∇f = %v", f[i], want, g[2*i:2*i+2])
		}
	}
	if c, err := e.NoiseConditional(); err != nil || !c {
		t.Errorf("NoiseConditional = %v, %v", c, err)
	}
	if _, err := graph.NewLoss(m, graph.LossConfig{Shape: []int{2}, Batches: []int{2, 2}}, graph.CDLoss(0)); !errors.Is(err, graph.ErrNoNoise) {
		t.Errorf("NewLoss of a noise-conditional model: %v", err)
	}
	// ‖s(x; σ)‖² summed with σ from an aux input: Σ ‖w‖²/σₙ².
	l, err := graph.NewSecondOrderLoss(m, graph.LossConfig{Shape: []int{2}, Batches: []int{2}, Aux: [][]int{{2}}}, func(t *graph.Terms) (*G.Node, error) {
		s, err := t.Score(t.Input(0), t.Aux(0))
		if err != nil {
			return nil, err
		}
		return G.Sum(must(G.Square(s)))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Run(x, []float64{0.5, 2})
	if err != nil {
		t.Fatal(err)
	}
	w2 := w[0]*w[0] + w[1]*w[1]
	if want := w2/0.25 + w2/4; math.Abs(got-want) > 1e-12 {
		t.Errorf("loss %v, want %v", got, want)
	}
	// ∂/∂w = 2w(1/σ₁² + 1/σ₂²); the bias does not enter: zero.
	gw, gb := l.Grads()[0].Data().([]float64), l.Grads()[1].Data().([]float64)
	if math.Abs(gw[0]-2*w[0]*(4+0.25)) > 1e-12 || gb[0] != 0 {
		t.Errorf("∇w = %v, ∇b = %v", gw, gb)
	}
}

// TestSecondOrderMemoryFlat runs 1,000 steps of a loss with a score and a
// Hessian–vector product on a float32 CNN and checks that the heap does
// not grow: the machine is compiled once and reuses its buffers.
func TestSecondOrderMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 steps")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	m := cnn(rng)
	shape := []int{1, 8, 8}
	const n = 16
	full := []int{n, 1, 8, 8}
	l, err := graph.NewSecondOrderLoss(m, graph.LossConfig{Shape: shape, Batches: []int{n}, Aux: [][]int{full}}, func(t *graph.Terms) (*G.Node, error) {
		s, err := t.Score(t.Input(0), nil)
		if err != nil {
			return nil, err
		}
		hv, err := t.HVP(t.Input(0), nil, t.Aux(0))
		if err != nil {
			return nil, err
		}
		return G.Add(must(G.Sum(must(G.Square(s)))), must(G.Sum(must(G.HadamardProd(hv, t.Aux(0))))))
	})
	if err != nil {
		t.Fatal(err)
	}
	x, v := randn(rng, n*64), randn(rng, n*64)
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}
	var h100 uint64
	for i := range 1000 {
		if _, err := l.Run(x, v); err != nil {
			t.Fatal(err)
		}
		if i == 100 {
			h100 = heap()
		}
	}
	if h := heap(); h > h100+4<<20 {
		t.Errorf("heap grew from %d to %d bytes between step 100 and 1000", h100, h)
	}
	for _, g := range l.Grads() {
		for _, v := range g.Data().([]float32) {
			if math.IsNaN(float64(v)) {
				t.Fatal(fmt.Sprint("NaN gradient of ", g.Shape()))
			}
		}
	}
}

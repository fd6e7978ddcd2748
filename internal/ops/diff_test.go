package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/internal/gradcheck"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The derivative ops are ops like the others: each is checked by checkOp
// (forward against a naive float64 reference, its own derivatives against
// central differences, float32 against the reference), and again in
// float32 at batch sizes that take the fast paths (AVX-512 tiles, the
// sample-minor convolutions) against the float64 reference.

func naiveLinearDx(n, m, k int) func(in [][]float64) []float64 {
	return func(in [][]float64) []float64 { // gy (n×m) · W (m×k)
		gy, w := in[0], in[1]
		out := make([]float64, n*k)
		for i := range n {
			for j := range k {
				for q := range m {
					out[i*k+j] += gy[i*m+q] * w[q*k+j]
				}
			}
		}
		return out
	}
}

func naiveLinearDw(n, m, k int) func(in [][]float64) []float64 {
	return func(in [][]float64) []float64 { // gyᵀ (m×n) · x (n×k)
		gy, x := in[0], in[1]
		out := make([]float64, m*k)
		for q := range m {
			for j := range k {
				for i := range n {
					out[q*k+j] += gy[i*m+q] * x[i*k+j]
				}
			}
		}
		return out
	}
}

func naiveBiasGrad(n, c, inner int) func(in [][]float64) []float64 {
	return func(in [][]float64) []float64 {
		out := make([]float64, c)
		for i := range n {
			for j := range c {
				for p := range inner {
					out[j] += in[0][(i*c+j)*inner+p]
				}
			}
		}
		return out
	}
}

func naiveBiasBcast(n, c, inner int) func(in [][]float64) []float64 {
	return func(in [][]float64) []float64 {
		out := make([]float64, n*c*inner)
		for i := range n {
			for j := range c {
				for p := range inner {
					out[(i*c+j)*inner+p] = in[0][j]
				}
			}
		}
		return out
	}
}

// naiveConvAdj returns the references of Conv2d∂x (W, gy) and Conv2d∂W (x, gy).
func naiveConvAdj(g convGeom) (dx, dw func(in [][]float64) []float64) {
	each := func(fn func(b, q, c, i, j, u, v, ii, jj int)) {
		for b := range g.n {
			for q := range g.o {
				for i := range g.oh {
					for j := range g.ow {
						for c := range g.c {
							for u := range g.k {
								for v := range g.k {
									ii, jj := i*g.s-g.p+u, j*g.s-g.p+v
									if ii < 0 || ii >= g.h || jj < 0 || jj >= g.w {
										continue
									}
									fn(b, q, c, i, j, u, v, ii, jj)
								}
							}
						}
					}
				}
			}
		}
	}
	dx = func(in [][]float64) []float64 {
		w, gy := in[0], in[1]
		out := make([]float64, g.n*g.c*g.h*g.w)
		each(func(b, q, c, i, j, u, v, ii, jj int) {
			out[((b*g.c+c)*g.h+ii)*g.w+jj] += w[((q*g.c+c)*g.k+u)*g.k+v] * gy[((b*g.o+q)*g.oh+i)*g.ow+j]
		})
		return out
	}
	dw = func(in [][]float64) []float64 {
		x, gy := in[0], in[1]
		out := make([]float64, g.o*g.c*g.k*g.k)
		each(func(b, q, c, i, j, u, v, ii, jj int) {
			out[((q*g.c+c)*g.k+u)*g.k+v] += x[((b*g.c+c)*g.h+ii)*g.w+jj] * gy[((b*g.o+q)*g.oh+i)*g.ow+j]
		})
		return out
	}
	return dx, dw
}

// check32 runs c in float32 on random inputs against c.ref in float64,
// with a tolerance relative to the largest output.
func check32(t *testing.T, c opCase) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, uint64(len(c.name))))
	g := G.NewGraph()
	var nodes []*G.Node
	var in [][]float64
	for i, s := range c.shapes {
		v := randDense(rng, tensor.Float32, s...)
		in = append(in, f64s(v))
		nodes = append(nodes, G.NewTensor(g, tensor.Float32, len(s), G.WithShape(s...), G.WithName(fmt.Sprint("in", i)), G.WithValue(v)))
	}
	y, err := c.build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	var yv G.Value
	m := G.NewTapeMachine(g.SubgraphRoots(G.Read(y, &yv)))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	want, got := c.ref(in), f64s(yv)
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(v))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-5*(1+scale) {
			t.Fatalf("%s float32: y[%d] = %v, want %v (scale %g)", c.name, i, got[i], want[i], scale)
		}
	}
}

func TestLinearBackwardOps(t *testing.T) {
	for _, sz := range []struct{ n, m, k int }{{5, 3, 7}, {37, 20, 33}} {
		small := sz.n < 16
		n, m, k := sz.n, sz.m, sz.k
		for _, c := range []opCase{
			{name: fmt.Sprintf("Linear∂x/%d", n), shapes: [][]int{{n, m}, {m, k}},
				build: func(in []*G.Node) (*G.Node, error) { return G.ApplyOp(&linearDxOp{}, in[0], in[1]) },
				ref:   naiveLinearDx(n, m, k)},
			{name: fmt.Sprintf("Linear∂W/%d", n), shapes: [][]int{{n, m}, {n, k}},
				build: func(in []*G.Node) (*G.Node, error) { return G.ApplyOp(&linearDwOp{}, in[0], in[1]) },
				ref:   naiveLinearDw(n, m, k)},
			{name: fmt.Sprintf("Bias∂/2/%d", n), shapes: [][]int{{n, m}},
				build: func(in []*G.Node) (*G.Node, error) { return G.ApplyOp(&biasGradOp{dims: 2}, in[0]) },
				ref:   naiveBiasGrad(n, m, 1)},
			{name: fmt.Sprintf("Bias∂/4/%d", n), shapes: [][]int{{n, m, 3, 2}},
				build: func(in []*G.Node) (*G.Node, error) { return G.ApplyOp(&biasGradOp{dims: 4}, in[0]) },
				ref:   naiveBiasGrad(n, m, 6)},
			{name: fmt.Sprintf("Bias→/4/%d", n), shapes: [][]int{{m}},
				build: func(in []*G.Node) (*G.Node, error) {
					return G.ApplyOp(&biasBcastOp{shape: tensor.Shape{n, m, 2, 3}}, in[0])
				},
				ref: naiveBiasBcast(n, m, 6)},
		} {
			t.Run(c.name, func(t *testing.T) {
				if small {
					checkOp(t, c)
				} else {
					check32(t, c)
				}
			})
		}
	}
}

func TestConvBackwardOps(t *testing.T) {
	for _, tc := range []struct {
		n, c, h, w, o, k, s, p int
		small                  bool
	}{
		{2, 3, 7, 6, 4, 3, 2, 1, true},
		{3, 1, 6, 6, 2, 5, 2, 4, true},
		{2, 2, 5, 5, 3, 3, 1, 0, true},
		{2, 2, 4, 4, 3, 3, 3, 2, true},
		// Batches that run sample-minor on AVX-512: the MNIST CNN's layers.
		{32, 1, 28, 28, 4, 5, 2, 4, false},
		{19, 4, 16, 16, 8, 3, 2, 1, false},
		{48, 8, 4, 4, 8, 3, 2, 1, false},
	} {
		xs, ws := []int{tc.n, tc.c, tc.h, tc.w}, []int{tc.o, tc.c, tc.k, tc.k}
		g := geometry(tensor.Shape(xs), tensor.Shape(ws), tc.s, tc.p)
		dx, dw := naiveConvAdj(g)
		for _, c := range []opCase{
			{name: fmt.Sprintf("Conv2d∂x/%+v", tc), shapes: [][]int{ws, g.yShape()},
				build: func(in []*G.Node) (*G.Node, error) { return G.ApplyOp(&convDxOp{g: g}, in[0], in[1]) },
				ref:   dx},
			{name: fmt.Sprintf("Conv2d∂W/%+v", tc), shapes: [][]int{xs, g.yShape()},
				build: func(in []*G.Node) (*G.Node, error) { return G.ApplyOp(&convDwOp{g: g}, in[0], in[1]) },
				ref:   dw},
			{name: fmt.Sprintf("Conv2d/%+v", tc), shapes: [][]int{xs, ws},
				build: func(in []*G.Node) (*G.Node, error) { return Conv2d(in[0], in[1], nil, tc.s, tc.p) },
				ref:   naiveConv(tc.n, tc.c, tc.h, tc.w, tc.o, tc.k, tc.s, tc.p, false)},
		} {
			t.Run(c.name, func(t *testing.T) {
				if tc.small {
					checkOp(t, c)
				} else {
					check32(t, c)
				}
			})
		}
	}
}

var allKernels = []*Kernel{SiLU, Sigmoid, Tanh, Softplus(1, 20), Softplus(2, 3), ELU(1), ELU(0.5), LeakyReLU(0.2)}

// TestNth checks every kernel's f⁽ⁿ⁾ for n = 1…4: n = 1 against the
// backward kernel, higher n against central differences of f⁽ⁿ⁻¹⁾, in
// float64; then float32 against float64 for n ≤ 3, the orders losses use
// (exact and sliced score matching differentiate three times). The
// float32 polynomials are evaluated from the float32 logistic s, whose
// rounding near s = 1 costs f⁽⁴⁾ of SiLU about 2 % at x = 8.5.
func TestNth(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	x := make([]float64, 200)
	for i := range x {
		x[i] = 4 * rng.NormFloat64()
		if math.Abs(x[i]) < 1e-3 || math.Abs(x[i]*2-3) < 1e-3 {
			x[i] += 0.01 // keep away from kinks and the Softplus(2, 3) threshold
		}
	}
	ones := make([]float64, len(x))
	for i := range ones {
		ones[i] = 1
	}
	for _, k := range allKernels {
		y := make([]float64, len(x))
		k.Forward64(y, x)
		prev := make([]float64, len(x))
		k.Back64(prev, x, y, ones)
		d1 := make([]float64, len(x))
		k.Nth64(1, d1, x)
		for i := range x {
			if math.Abs(d1[i]-prev[i]) > 1e-12*(1+math.Abs(prev[i])) {
				t.Fatalf("%s: f'(%v) = %v, backward says %v", k.Name, x[i], d1[i], prev[i])
			}
		}
		for n := 2; n <= 4; n++ {
			d := make([]float64, len(x))
			k.Nth64(n, d, x)
			for i, v := range x {
				const h = 1e-5
				var p, m [1]float64
				k.Nth64(n-1, p[:], []float64{v + h})
				k.Nth64(n-1, m[:], []float64{v - h})
				fd := (p[0] - m[0]) / (2 * h)
				if math.Abs(d[i]-fd) > 1e-5*(1+math.Abs(fd)) {
					t.Fatalf("%s: f^(%d)(%v) = %v, central difference of f^(%d) %v", k.Name, n, v, d[i], n-1, fd)
				}
			}
			if n > 3 {
				continue
			}
			x32 := make([]float32, len(x))
			for i, v := range x {
				x32[i] = float32(v)
			}
			d32 := make([]float32, len(x))
			k.Nth32(n, d32, x32)
			for i := range x {
				want := d[i]
				k.Nth64(n, d[i:i+1], []float64{float64(x32[i])})
				if math.Abs(float64(d32[i])-d[i]) > 2e-5*(1+math.Abs(d[i])) {
					t.Fatalf("%s float32: f^(%d)(%v) = %v, float64 %v", k.Name, n, x32[i], d32[i], d[i])
				}
				d[i] = want
			}
		}
	}
}

// A hand-written check of the symbolic derivatives: SiLU” and SiLU”'.
func TestSiLUNthClosedForm(t *testing.T) {
	for _, x := range []float64{-7, -1.5, -0.2, 0, 0.3, 2, 9} {
		s := sigmoid(x)
		q := s * (1 - s)
		want2 := q * (2 + x*(1-2*s))
		want3 := q * ((1-2*s)*(3+x*(1-2*s)) - 2*x*q)
		var d2, d3 [1]float64
		SiLU.Nth64(2, d2[:], []float64{x})
		SiLU.Nth64(3, d3[:], []float64{x})
		if math.Abs(d2[0]-want2) > 1e-14 || math.Abs(d3[0]-want3) > 1e-14 {
			t.Errorf("SiLU''(%v) = %v, %v; SiLU''' = %v, %v", x, d2[0], want2, d3[0], want3)
		}
	}
}

// The activations' backward and higher-derivative ops through checkOp:
// f'(x)·gy (built with its forward, whose output it reads), f”(x)·a and
// f”'(x)·a·b, each differentiated once more.
func TestActivationBackwardOps(t *testing.T) {
	for _, k := range allKernels {
		for _, n := range []int{16, 40} { // 40: the SIMD body and a tail
			back := opCase{
				name:   fmt.Sprintf("%s'/%d", k.Name, n),
				shapes: [][]int{{2, n}, {2, n}},
				build: func(in []*G.Node) (*G.Node, error) {
					y, err := Apply(k, in[0])
					if err != nil {
						return nil, err
					}
					return G.ApplyOp(&unaryBackOp{k: k}, in[0], y, in[1])
				},
				ref: func(v [][]float64) []float64 {
					y, out := make([]float64, len(v[0])), make([]float64, len(v[0]))
					k.Forward64(y, v[0])
					k.Back64(out, v[0], y, v[1])
					return out
				},
			}
			nth := func(order, m int) opCase {
				shapes := make([][]int, 1+m)
				for i := range shapes {
					shapes[i] = []int{2, n}
				}
				return opCase{
					name:   fmt.Sprintf("%s^(%d)x%d/%d", k.Name, order, m, n),
					shapes: shapes,
					build: func(in []*G.Node) (*G.Node, error) {
						return G.ApplyOp(&unaryNthOp{k: k, n: order, m: m}, in...)
					},
					ref: func(v [][]float64) []float64 {
						out := make([]float64, len(v[0]))
						k.Nth64(order, out, v[0])
						for _, a := range v[1:] {
							for i := range out {
								out[i] *= a[i]
							}
						}
						return out
					},
				}
			}
			for _, c := range []opCase{back, nth(2, 1), nth(2, 2), nth(3, 2)} {
				t.Run(c.name, func(t *testing.T) { checkOp(t, c) })
			}
		}
	}
}

// TestSecondDerivativeThroughLinear differentiates a whole backward pass:
// for f(x) = Σ v·SiLU(x·Wᵀ + b), the gradient of ½‖∇x f‖² with respect to
// W, b and x, built by differentiating the nodes Gorgonia's Grad made for
// ∇x f (through Backpropagate), against central differences.
func TestSecondDerivativeThroughLinear(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	g := G.NewGraph()
	mk := func(name string, s ...int) (*G.Node, []float64) {
		v := randDense(rng, tensor.Float64, s...)
		return G.NewTensor(g, tensor.Float64, len(s), G.WithShape(s...), G.WithName(name), G.WithValue(v)), v.Data().([]float64)
	}
	x, xv := mk("x", 3, 4)
	w, wv := mk("w", 5, 4)
	b, bv := mk("b", 5)
	v, _ := mk("v", 3, 5)
	h, err := Linear(x, w, b)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Apply(SiLU, h)
	if err != nil {
		t.Fatal(err)
	}
	// ∇x Σ v⊙a, by hand through the ops' own DiffSome.
	ga, err := a.Op().(PartialDiffer).DiffSome(G.Nodes{h}, a, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	gx, err := h.Op().(PartialDiffer).DiffSome(G.Nodes{x, w, b}, h, ga[0], []bool{true, false, false})
	if err != nil {
		t.Fatal(err)
	}
	sq, err := G.Square(gx[0])
	if err != nil {
		t.Fatal(err)
	}
	s, err := G.Sum(sq)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Mul(G.NewConstant(0.5), s)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Backpropagate(G.Nodes{loss}, G.Nodes{G.NewConstant(1.0)}, G.Nodes{w, b, x})
	if err != nil {
		t.Fatal(err)
	}
	var lv G.Value
	gv := make([]G.Value, 3)
	roots := G.Nodes{G.Read(loss, &lv)}
	for i, gn := range grads {
		roots = append(roots, G.Read(gn, &gv[i]))
	}
	m := G.NewTapeMachine(g.SubgraphRoots(roots...))
	defer m.Close()
	run := func() float64 {
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		return lv.Data().(float64)
	}
	run()
	got := make([][]float64, 3)
	for i := range gv {
		got[i] = f64s(gv[i])
	}
	for i, p := range [][]float64{wv, bv, xv} {
		f := func([]float64) float64 { return run() }
		if err := gradcheck.Check(fmt.Sprint("∂½‖∇x f‖²/∂", []string{"W", "b", "x"}[i]), f, p, got[i], 1e-6, 1e-6); err != nil {
			t.Error(err)
		}
	}
}

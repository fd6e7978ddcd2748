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

func randDense(rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	t := tensor.New(tensor.Of(dt), tensor.WithShape(shape...))
	switch d := t.Data().(type) {
	case []float64:
		for i := range d {
			d[i] = rng.NormFloat64()
		}
	case []float32:
		for i := range d {
			d[i] = float32(rng.NormFloat64())
		}
	}
	return t
}

func f64s(v G.Value) []float64 {
	switch d := v.Data().(type) {
	case []float64:
		return append([]float64(nil), d...)
	case []float32:
		o := make([]float64, len(d))
		for i, x := range d {
			o[i] = float64(x)
		}
		return o
	case float64:
		return []float64{d}
	}
	panic(fmt.Sprintf("unexpected %T", v.Data()))
}

// opCase is an op applied to inputs of given shapes, with a reference
// forward computed in float64 from the inputs' values.
type opCase struct {
	name   string
	shapes [][]int
	build  func(in []*G.Node) (*G.Node, error)
	ref    func(in [][]float64) []float64
}

// checkOp compiles c in float64, checks the forward against c.ref, and the
// gradient of L = Σ r⊙y (r fixed and random) with respect to every input
// against central differences; then the float32 forward against c.ref.
func checkOp(t *testing.T, c opCase) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, uint64(len(c.name))))
	g := G.NewGraph()
	var nodes []*G.Node
	var vals []*tensor.Dense
	for i, s := range c.shapes {
		v := randDense(rng, tensor.Float64, s...)
		n := G.NewTensor(g, tensor.Float64, len(s), G.WithShape(s...), G.WithName(fmt.Sprint("in", i)), G.WithValue(v))
		nodes, vals = append(nodes, n), append(vals, v)
	}
	y, err := c.build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	r := randDense(rng, tensor.Float64, y.Shape()...)
	rn := G.NewTensor(g, tensor.Float64, len(y.Shape()), G.WithShape(y.Shape()...), G.WithName("r"), G.WithValue(r))
	prod, err := G.HadamardProd(y, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	var yv, lv G.Value
	roots := G.Nodes{G.Read(y, &yv), G.Read(loss, &lv)}
	gv := make([]G.Value, len(grads))
	for i, gn := range grads {
		roots = append(roots, G.Read(gn, &gv[i]))
	}
	m := G.NewTapeMachine(g.SubgraphRoots(roots...))
	defer m.Close()
	run := func() {
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		m.Reset()
	}
	run()
	var in [][]float64
	for _, v := range vals {
		in = append(in, f64s(v))
	}
	want := c.ref(in)
	got := f64s(yv)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			t.Fatalf("%s: y[%d] = %v, want %v", c.name, i, got[i], want[i])
		}
	}
	analytic := make([][]float64, len(gv))
	for i := range gv {
		analytic[i] = f64s(gv[i])
	}
	// Buffers are reused: a second run must give the same values.
	run()
	for i := range gv {
		if again := f64s(gv[i]); fmt.Sprint(again) != fmt.Sprint(analytic[i]) {
			t.Fatalf("%s: gradient %d changed between identical runs", c.name, i)
		}
	}
	for i, v := range vals {
		x := v.Data().([]float64)
		f := func([]float64) float64 { run(); return f64s(lv)[0] }
		if err := gradcheck.Check(fmt.Sprintf("%s ∂L/∂in%d", c.name, i), f, x, analytic[i], 1e-6, 1e-6); err != nil {
			t.Error(err)
		}
	}

	// float32: same inputs, forward only, against the float64 reference.
	g32 := G.NewGraph()
	var n32 []*G.Node
	for i, s := range c.shapes {
		v := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(s...))
		for j, x := range in[i] {
			v.Data().([]float32)[j] = float32(x)
		}
		n32 = append(n32, G.NewTensor(g32, tensor.Float32, len(s), G.WithShape(s...), G.WithName(fmt.Sprint("in", i)), G.WithValue(v)))
	}
	y32, err := c.build(n32)
	if err != nil {
		t.Fatal(err)
	}
	var y32v G.Value
	m32 := G.NewTapeMachine(g32.SubgraphRoots(G.Read(y32, &y32v)))
	defer m32.Close()
	if err := m32.RunAll(); err != nil {
		t.Fatal(err)
	}
	got = f64s(y32v)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 2e-5*(1+math.Abs(want[i])) {
			t.Fatalf("%s float32: y[%d] = %v, want %v", c.name, i, got[i], want[i])
		}
	}
}

func naiveConv(n, c, h, w, o, k, s, p int, bias bool) func(in [][]float64) []float64 {
	oh, ow := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	return func(in [][]float64) []float64 {
		x, f := in[0], in[1]
		y := make([]float64, n*o*oh*ow)
		for b := range n {
			for q := range o {
				for i := range oh {
					for j := range ow {
						var sum float64
						if bias {
							sum = in[2][q]
						}
						for ci := range c {
							for u := range k {
								for v := range k {
									ii, jj := i*s-p+u, j*s-p+v
									if ii < 0 || ii >= h || jj < 0 || jj >= w {
										continue
									}
									sum += f[((q*c+ci)*k+u)*k+v] * x[((b*c+ci)*h+ii)*w+jj]
								}
							}
						}
						y[((b*o+q)*oh+i)*ow+j] = sum
					}
				}
			}
		}
		return y
	}
}

func TestConv2d(t *testing.T) {
	for _, tc := range []struct{ n, c, h, w, o, k, s, p int }{
		{2, 3, 7, 6, 4, 3, 2, 1},   // stride 2, padding 1, odd sizes
		{2, 2, 5, 5, 3, 3, 1, 0},   // stride 1, no padding
		{3, 1, 6, 6, 2, 5, 2, 4},   // the MNIST CNN's first layer, padding ≥ kernel/2
		{1, 4, 4, 3, 2, 1, 1, 0},   // 1×1 filters
		{2, 2, 4, 4, 3, 3, 3, 2},   // stride larger than the overlap
		{5, 2, 10, 10, 3, 3, 1, 1}, // more samples than goroutines
		{11, 1, 4, 4, 2, 3, 1, 1},  // several samples per chunk, the last chunk short
	} {
		for _, bias := range []bool{true, false} {
			name := fmt.Sprintf("%+v/bias=%v", tc, bias)
			t.Run(name, func(t *testing.T) {
				shapes := [][]int{{tc.n, tc.c, tc.h, tc.w}, {tc.o, tc.c, tc.k, tc.k}}
				if bias {
					shapes = append(shapes, []int{tc.o})
				}
				g := geometry(tensor.Shape(shapes[0]), tensor.Shape(shapes[1]), tc.s, tc.p)
				t.Logf("%d samples per chunk", g.plan().b)
				checkOp(t, opCase{
					name:   "Conv2d" + name,
					shapes: shapes,
					build: func(in []*G.Node) (*G.Node, error) {
						var b *G.Node
						if bias {
							b = in[2]
						}
						return Conv2d(in[0], in[1], b, tc.s, tc.p)
					},
					ref: naiveConv(tc.n, tc.c, tc.h, tc.w, tc.o, tc.k, tc.s, tc.p, bias),
				})
			})
		}
	}
}

func TestLinear(t *testing.T) {
	for _, bias := range []bool{true, false} {
		n, in, out := 5, 7, 3
		shapes := [][]int{{n, in}, {out, in}}
		if bias {
			shapes = append(shapes, []int{out})
		}
		checkOp(t, opCase{
			name:   fmt.Sprintf("Linear/bias=%v", bias),
			shapes: shapes,
			build: func(nodes []*G.Node) (*G.Node, error) {
				var b *G.Node
				if bias {
					b = nodes[2]
				}
				return Linear(nodes[0], nodes[1], b)
			},
			ref: func(v [][]float64) []float64 {
				y := make([]float64, n*out)
				for i := range n {
					for j := range out {
						s := 0.0
						if bias {
							s = v[2][j]
						}
						for k := range in {
							s += v[0][i*in+k] * v[1][j*in+k]
						}
						y[i*out+j] = s
					}
				}
				return y
			},
		})
	}
}

func TestActivations(t *testing.T) {
	for _, k := range []*Kernel{SiLU, Sigmoid, Tanh, Softplus(1, 20), ELU(1), LeakyReLU(0.2)} {
		checkOp(t, opCase{
			name:   k.Name,
			shapes: [][]int{{4, 9}},
			build:  func(in []*G.Node) (*G.Node, error) { return Apply(k, in[0]) },
			ref: func(v [][]float64) []float64 {
				y := make([]float64, len(v[0]))
				k.Forward64(y, v[0])
				return y
			},
		})
	}
}

func TestShapeErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 4, G.WithShape(2, 3, 5, 5), G.WithName("x"))
	w := G.NewTensor(g, tensor.Float64, 4, G.WithShape(4, 2, 3, 3), G.WithName("w"))
	if _, err := Conv2d(x, w, nil, 1, 0); err == nil {
		t.Error("Conv2d accepted 3 input channels for filters over 2")
	}
	w2 := G.NewTensor(g, tensor.Float64, 4, G.WithShape(4, 3, 7, 7), G.WithName("w2"))
	if _, err := Conv2d(x, w2, nil, 1, 0); err == nil {
		t.Error("Conv2d accepted 7×7 filters on a 5×5 input")
	}
	a := G.NewTensor(g, tensor.Float64, 2, G.WithShape(2, 3), G.WithName("a"))
	m := G.NewTensor(g, tensor.Float64, 2, G.WithShape(4, 5), G.WithName("m"))
	if _, err := Linear(a, m, nil); err == nil {
		t.Error("Linear accepted 3 features for a weight over 5")
	}
}

// Benchmarks on the MNIST CNN's second layer (128×16×16×16 → 32 channels,
// 3×3, stride 2) and the 784→256 Linear, at batch 128 in float32, on each
// level this machine runs (level.go) with its tiles, ∂W included
// ("tiles"), and through internal/blas ("blas": EBM_BLAS chooses OpenBLAS
// or gonum).

// benchPaths runs f as sub-benchmarks level/path.
func benchPaths(b *testing.B, f func(b *testing.B)) {
	defer saveKernels().restore()
	for _, l := range simdLevels() {
		for _, tiles := range []bool{true, false} {
			setLevel(l)
			useTiles, useTilesDW = tiles, tiles
			name := l.String() + "/blas"
			if tiles {
				name = l.String() + "/tiles"
			}
			b.Run(name, f)
		}
	}
}

func benchConv(b *testing.B, which string) {
	benchPaths(b, func(b *testing.B) { benchConv1(b, which) })
}

func benchConv1(b *testing.B, which string) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := geometry(tensor.Shape{128, 16, 16, 16}, tensor.Shape{32, 16, 3, 3}, 2, 1)
	x := randDense(rng, tensor.Float32, g.xShape()...)
	w := randDense(rng, tensor.Float32, g.wShape()...)
	bias := randDense(rng, tensor.Float32, 32)
	gy := randDense(rng, tensor.Float32, g.yShape()...)
	fwd, dx, dw := &convOp{g: g, bias: true}, &convDxOp{g: g}, &convDwOp{g: g}
	flops := 2 * float64(g.o*g.rows()*g.cols())
	for b.Loop() {
		var err error
		switch which {
		case "dx":
			_, err = dx.Do(w, gy)
		case "dw":
			_, err = dw.Do(x, gy)
		default:
			_, err = fwd.Do(x, w, bias)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv2dForward(b *testing.B) { benchConv(b, "y") }
func BenchmarkConv2dDx(b *testing.B)      { benchConv(b, "dx") }
func BenchmarkConv2dDw(b *testing.B)      { benchConv(b, "dw") }

func BenchmarkLinearForward(b *testing.B) { benchPaths(b, benchLinearForward) }

func benchLinearForward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randDense(rng, tensor.Float32, 128, 784)
	w := randDense(rng, tensor.Float32, 256, 784)
	bias := randDense(rng, tensor.Float32, 256)
	op := &linearOp{bias: true}
	for b.Loop() {
		if _, err := op.Do(x, w, bias); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*128*784*256*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkLinearBackward(b *testing.B) { benchPaths(b, benchLinearBackward) }

func benchLinearBackward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randDense(rng, tensor.Float32, 128, 784)
	w := randDense(rng, tensor.Float32, 256, 784)
	gy := randDense(rng, tensor.Float32, 128, 256)
	dx, dw, db := &linearDxOp{}, &linearDwOp{}, &biasGradOp{dims: 2}
	for b.Loop() {
		if _, err := dx.Do(gy, w); err != nil {
			b.Fatal(err)
		}
		if _, err := dw.Do(gy, x); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Do(gy); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(4*128*784*256*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// TestConv2dFloat32 checks the float32 forward, ∂x and ∂W against the
// float64 ops (themselves checked against central differences) on the
// MNIST CNN's layers and on shapes that need masked tails, on every level
// this machine runs, each with its tiles (and rows) and through
// internal/blas.
func TestConv2dFloat32(t *testing.T) {
	geoms := []struct{ n, c, h, w, o, k, s, p int }{
		{16, 1, 28, 28, 16, 5, 2, 4}, // the MNIST CNN, batch 16
		{16, 16, 16, 16, 32, 3, 2, 1},
		{16, 32, 8, 8, 64, 3, 2, 1},
		{16, 64, 4, 4, 64, 3, 2, 1},
		{7, 3, 7, 6, 5, 3, 2, 1},   // 4×3 outputs: vectors cross samples
		{9, 2, 5, 5, 13, 3, 1, 0},  // 3×3 outputs, 13 filters: row tails
		{3, 4, 9, 9, 7, 1, 1, 0},   // 1×1 filters
		{2, 2, 20, 19, 3, 3, 1, 1}, // rows longer than a vector
		{4, 3, 12, 12, 4, 5, 3, 2}, // stride 3
		// Batches of 16 and more: the sample-minor path.
		{37, 3, 7, 6, 5, 3, 2, 1},  // a short last chunk, odd sizes
		{20, 2, 5, 5, 13, 3, 1, 0}, // stride 1, no padding
		{16, 3, 12, 11, 4, 5, 3, 2},
		{16, 2, 9, 9, 3, 2, 3, 0}, // stride > kernel: pixels without gradient
		{16, 1, 1, 1, 3, 1, 1, 0}, // 1×1 images
	}
	eachLevel(t, func(t *testing.T, l simdLevel) { testConv2dFloat32(t, geoms) })
}

func testConv2dFloat32(t *testing.T, geoms []struct{ n, c, h, w, o, k, s, p int }) {
	rows := useRows
	defer func(u, r, d bool) { useTiles, useRows, useTilesDW = u, r, d }(useTiles, useRows, useTilesDW)
	for _, gm := range geoms {
		for _, tiles := range []bool{false, true} {
			t.Run(fmt.Sprintf("%+v/tiles=%v", gm, tiles), func(t *testing.T) {
				useTiles, useRows, useTilesDW = tiles, tiles && rows, tiles
				rng := rand.New(rand.NewPCG(uint64(gm.c), uint64(gm.o)))
				g := geometry(tensor.Shape{gm.n, gm.c, gm.h, gm.w}, tensor.Shape{gm.o, gm.c, gm.k, gm.k}, gm.s, gm.p)
				x64, w64, b64 := randF64(rng, gm.n*g.sampleSize()), randF64(rng, g.o*g.rows()), randF64(rng, g.o)
				gy64 := randF64(rng, g.n*g.o*g.pix())
				pl := g.plan()
				var ws64, ws32 work
				y64, dx64, dw64 := make([]float64, len(gy64)), make([]float64, len(x64)), make([]float64, len(w64))
				convForward(g, pl, &ws64, y64, x64, w64, b64)
				convDx(g, pl, &ws64, dx64, w64, gy64)
				convDw(g, pl, &ws64, dw64, x64, gy64)

				x, w, b, gy := to32s(x64), to32s(w64), to32s(b64), to32s(gy64)
				y, dx, dw := nans32(len(y64)), nans32(len(dx64)), nans32(len(dw64))
				for range 2 { // buffers are reused: the second run must agree too
					convForward(g, pl, &ws32, y, x, w, b)
					convDx(g, pl, &ws32, dx, w, gy)
					convDw(g, pl, &ws32, dw, x, gy)
					near(t, "y", y, y64, float64(g.rows()))
					near(t, "∂x", dx, dx64, float64(g.o*g.k*g.k))
					near(t, "∂W", dw, dw64, float64(g.n*g.pix()))
				}
			})
		}
	}
}

// near fails unless got matches want to float32 rounding over sums of
// terms terms of size ≤ 1.
func near(t *testing.T, what string, got []float32, want []float64, terms float64) {
	t.Helper()
	for i, w := range want {
		if d := math.Abs(float64(got[i]) - w); !(d <= 4e-7*terms+1e-6*math.Abs(w)) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], w)
		}
	}
}

func randF64(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(2*rng.Float64() - 1))
	}
	return v
}

func to32s(v []float64) []float32 {
	o := make([]float32, len(v))
	for i, x := range v {
		o[i] = float32(x)
	}
	return o
}

func nans32(n int) []float32 {
	o := make([]float32, n)
	for i := range o {
		o[i] = float32(math.NaN())
	}
	return o
}

// TestLinearFloat32 checks the float32 Linear forward, ∂x and ∂W against
// the float64 ops, on every level, with the tiles (batch-wide for batches
// ≥ 16) and through internal/blas.
func TestLinearFloat32(t *testing.T) {
	eachLevel(t, func(t *testing.T, l simdLevel) { testLinearFloat32(t) })
}

func testLinearFloat32(t *testing.T) {
	defer func(u, d bool) { useTiles, useTilesDW = u, d }(useTiles, useTilesDW)
	for _, c := range []struct{ n, in, out int }{{128, 256, 64}, {128, 64, 1}, {37, 5, 19}, {16, 784, 3}, {5, 7, 3}} {
		for _, tiles := range []bool{false, true} {
			useTiles, useTilesDW = tiles, tiles
			rng := rand.New(rand.NewPCG(uint64(c.in), uint64(c.out)))
			x64, w64, b64, gy64 := randF64(rng, c.n*c.in), randF64(rng, c.out*c.in), randF64(rng, c.out), randF64(rng, c.n*c.out)
			dense := func(v []float64, shape ...int) *tensor.Dense {
				return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
			}
			dense32 := func(v []float64, shape ...int) *tensor.Dense {
				return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(to32s(v)))
			}
			y64, err := (&linearOp{bias: true}).Do(dense(x64, c.n, c.in), dense(w64, c.out, c.in), dense(b64, c.out))
			if err != nil {
				t.Fatal(err)
			}
			dx64, err := (&linearDxOp{}).Do(dense(gy64, c.n, c.out), dense(w64, c.out, c.in))
			if err != nil {
				t.Fatal(err)
			}
			dw64, err := (&linearDwOp{}).Do(dense(gy64, c.n, c.out), dense(x64, c.n, c.in))
			if err != nil {
				t.Fatal(err)
			}
			fwd, dxo, dwo := &linearOp{bias: true}, &linearDxOp{}, &linearDwOp{}
			for range 2 {
				y, err := fwd.Do(dense32(x64, c.n, c.in), dense32(w64, c.out, c.in), dense32(b64, c.out))
				if err != nil {
					t.Fatal(err)
				}
				dx, err := dxo.Do(dense32(gy64, c.n, c.out), dense32(w64, c.out, c.in))
				if err != nil {
					t.Fatal(err)
				}
				near(t, fmt.Sprintf("%+v tiles=%v: y", c, tiles), y.Data().([]float32), y64.Data().([]float64), float64(c.in))
				near(t, fmt.Sprintf("%+v tiles=%v: ∂x", c, tiles), dx.Data().([]float32), dx64.Data().([]float64), float64(c.out))
				dw, err := dwo.Do(dense32(gy64, c.n, c.out), dense32(x64, c.n, c.in))
				if err != nil {
					t.Fatal(err)
				}
				near(t, fmt.Sprintf("%+v tiles=%v: ∂W", c, tiles), dw.Data().([]float32), dw64.Data().([]float64), float64(c.n))
			}
		}
	}
}

// TestPackedFiltersFollowWeights checks that filters packed once are
// packed again when the weights change between calls, as an optimiser
// step changes them in place.
func TestPackedFiltersFollowWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	g := geometry(tensor.Shape{16, 4, 6, 6}, tensor.Shape{5, 4, 3, 3}, 2, 1)
	pl := g.plan()
	x, w, gy := to32s(randF64(rng, 16*g.sampleSize())), to32s(randF64(rng, g.o*g.rows())), to32s(randF64(rng, g.n*g.o*g.pix()))
	var ws, wsx, fresh, freshx work
	y, dx := make([]float32, len(gy)), make([]float32, len(x))
	convForward(g, pl, &ws, y, x, w, nil)
	convDx(g, pl, &wsx, dx, w, gy)
	w[3] += 0.5 // in place, as Adam does
	convForward(g, pl, &ws, y, x, w, nil)
	convDx(g, pl, &wsx, dx, w, gy)
	y2, dx2 := make([]float32, len(gy)), make([]float32, len(x))
	convForward(g, pl, &fresh, y2, x, w, nil)
	convDx(g, pl, &freshx, dx2, w, gy)
	for i := range y {
		if y[i] != y2[i] {
			t.Fatalf("y[%d] = %v after the weights changed, want %v", i, y[i], y2[i])
		}
	}
	for i := range dx {
		if dx[i] != dx2[i] {
			t.Fatalf("∂x[%d] = %v after the weights changed, want %v", i, dx[i], dx2[i])
		}
	}
}

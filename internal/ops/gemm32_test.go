package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestTileGemm checks every tile shape, lane masks and both kinds of
// layout against a float64 product, on every level's tiles.
func TestTileGemm(t *testing.T) {
	eachLevel(t, testTileGemm)
}

func testTileGemm(t *testing.T, _ simdLevel) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ m, n, k, per int }{
		{1, 16, 1, 0}, {6, 64, 3, 0}, {7, 70, 5, 0}, {13, 129, 17, 0}, {16, 1280, 25, 0},
		{25, 1280, 16, 0}, {64, 56, 576, 0}, {5, 200, 9, 0}, {12, 5, 2, 0},
		{32, 192, 144, 64}, {64, 112, 288, 16}, {3, 96, 7, 32},
		{1, 70, 9, 0}, {1, 200, 31, 0}, {1, 48, 5, 0}, {1, 192, 144, 64}, // one row: the wide tiles
	} {
		for _, withBias := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%dx%d/per%d/bias%v", c.m, c.n, c.k, c.per, withBias), func(t *testing.T) {
				a := randF32(rng, c.m*c.k)
				var bias []float32
				if withBias {
					bias = randF32(rng, c.m)
				}
				// B: k rows of n columns. Plain: row-major with a row stride
				// of n+3. Segmented: NCHW-like, segments of per columns, rows
				// per apart within a segment, segments k·per apart.
				var bbuf, cbuf []float32
				var bl, cl vecLayout
				var boff []int
				var ldc int
				bat := func(p, q int) *float32 { return nil }
				cat := func(i, q int) *float32 { return nil }
				if c.per == 0 {
					ldb := c.n + 3
					bbuf = randF32(rng, c.k*ldb)
					boff = make([]int, c.k)
					for p := range boff {
						boff[p] = p * ldb * 4
					}
					bl = vecLayout{base: unsafe.Pointer(&bbuf[0]), per: c.n, step: 64}
					bat = func(p, q int) *float32 { return &bbuf[p*ldb+q] }
					ldcv := c.n + 5
					cbuf = make([]float32, c.m*ldcv)
					cl = vecLayout{base: unsafe.Pointer(&cbuf[0]), per: c.n, step: 64}
					cat = func(i, q int) *float32 { return &cbuf[i*ldcv+q] }
					ldc = ldcv * 4
				} else {
					segs := c.n / c.per
					bbuf = randF32(rng, segs*c.k*c.per)
					boff = make([]int, c.k)
					for p := range boff {
						boff[p] = p * c.per * 4
					}
					bl = vecLayout{base: unsafe.Pointer(&bbuf[0]), per: c.per / lanes, stride: c.k * c.per * 4, step: 64}
					bat = func(p, q int) *float32 { return &bbuf[(q/c.per)*c.k*c.per+p*c.per+q%c.per] }
					cbuf = make([]float32, segs*c.m*c.per)
					cl = vecLayout{base: unsafe.Pointer(&cbuf[0]), per: c.per / lanes, stride: c.m * c.per * 4, step: 64}
					cat = func(i, q int) *float32 { return &cbuf[(q/c.per)*c.m*c.per+i*c.per+q%c.per] }
					ldc = c.per * 4
				}
				for i := range cbuf {
					cbuf[i] = float32(math.NaN()) // every output must be written; the rest untouched
				}
				ap := packA(make([]float32, c.m*c.k), a, c.m, c.k, c.k, 1)
				tileGemm(c.m, c.n, c.k, ap, boff, bl, cl, ldc, bias)
				written := 0
				for i := range c.m {
					for q := range c.n {
						want := 0.0
						scale := 0.0
						if bias != nil {
							want, scale = float64(bias[i]), math.Abs(float64(bias[i]))
						}
						for p := range c.k {
							v := float64(a[i*c.k+p]) * float64(*bat(p, q))
							want += v
							scale += math.Abs(v)
						}
						got := float64(*cat(i, q))
						if math.Abs(got-want) > 1e-6*(scale+1) {
							t.Fatalf("C[%d, %d] = %v, want %v", i, q, got, want)
						}
						written++
					}
				}
				nan := 0
				for _, v := range cbuf {
					if v != v {
						nan++
					}
				}
				if nan != len(cbuf)-written {
					t.Errorf("%d values outside C were written", len(cbuf)-written-nan)
				}
			})
		}
	}
}

func randF32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(2*rng.Float64() - 1)
	}
	return v
}

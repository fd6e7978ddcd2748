package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

func sigmoid64(x float64) float64 { return sigmoid(x) }

// testInputs returns edge cases and n random values of scale 6.
func testInputs(rng *rand.Rand, n int) []float32 {
	x := []float32{0, 1, -1, 1e-8, -1e-8, 5, -5, 20, -20, 87, -87, 88.5, -88.5, 100, -100, 1e30, -1e30,
		float32(math.Inf(1)), float32(math.NaN())}
	for range n {
		x = append(x, float32(6*rng.NormFloat64()))
	}
	return x
}

// TestLogisticKernels checks every SIMD level this CPU has (and the pure-Go
// one) against float64 math, on lengths that exercise the tails.
func TestLogisticKernels(t *testing.T) {
	defer saveKernels().restore()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, l := range simdLevels() {
		setLevel(l)
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 33, 1000, 70001} {
			x := testInputs(rng, n)
			gy := make([]float32, len(x))
			for i := range gy {
				gy[i] = float32(rng.NormFloat64())
			}
			y := make([]float32, len(x))
			s := make([]float32, len(x))
			gx := make([]float32, len(x))
			SiLU32(y, x)
			Sigmoid32(s, x)
			SiLUGrad32(gx, x, gy)
			// The one-pass forward with the derivative, and the product the
			// backward then is, must agree with the two above bit for bit
			// in value (they run the same arithmetic).
			y2, d, gx2 := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
			SiLUD32(y2, d, x)
			Mul32(gx2, gy, d)
			for i := range x {
				if !sameF32(y2[i], y[i]) || !sameF32(gx2[i], gx[i]) {
					t.Fatalf("%v n=%d: SiLUD32/Mul32 at x = %v: %v, %v; SiLU32/SiLUGrad32: %v, %v", l, n, x[i], y2[i], gx2[i], y[i], gx[i])
				}
			}
			for i, v := range x {
				xv := float64(v)
				sr := sigmoid64(xv)
				if math.IsNaN(xv) {
					if !math.IsNaN(float64(y[i])) || !math.IsNaN(float64(s[i])) || !math.IsNaN(float64(gx[i])) {
						t.Fatalf("%v: NaN input gave silu %v, sigmoid %v, grad %v", l, y[i], s[i], gx[i])
					}
					continue
				}
				check := func(what string, got float32, want, scale float64) {
					if float64(got) == want || math.IsNaN(want) && math.IsNaN(float64(got)) {
						return
					}
					if d := math.Abs(float64(got) - want); d > 4e-7*scale+1e-35 || math.IsNaN(d) {
						t.Fatalf("%v n=%d: %s(%v) = %v, want %v (error %.3g, scale %.3g)", l, n, what, v, got, want, d, scale)
					}
				}
				check("sigmoid", s[i], sr, sr)
				check("silu", y[i], xv*sr, math.Abs(xv*sr))
				d := sr * (1 + xv*(1-sr))
				// 1 − σ(x) loses digits when σ ≈ 1, in float32 as in PyTorch:
				// the error scale carries an |x|·σ term.
				check("silu'", gx[i], float64(gy[i])*d, math.Abs(float64(gy[i]))*sr*(1+2*math.Abs(xv)))
			}
		}
	}
}

func BenchmarkSiLU32(b *testing.B) {
	defer saveKernels().restore()
	x := make([]float32, 128*16*16*16)
	for i := range x {
		x[i] = float32(i%200)/20 - 5
	}
	y := make([]float32, len(x))
	gy := make([]float32, len(x))
	for _, l := range simdLevels() {
		setLevel(l)
		b.Run("fwd/"+l.String(), func(b *testing.B) {
			for b.Loop() {
				SiLU32(y, x)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(x)), "ns/elem")
		})
		b.Run("bwd/"+l.String(), func(b *testing.B) {
			for b.Loop() {
				SiLUGrad32(y, x, gy)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(x)), "ns/elem")
		})
	}
}

func sameF32(a, b float32) bool { return a == b || a != a && b != b }

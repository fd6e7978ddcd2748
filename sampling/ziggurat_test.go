package sampling

import (
	"math"
	"strconv"
	"testing"
)

// TestZigguratNormal checks the per-chain normal draws against the
// standard normal: mean, variance and fourth moment, and the CDF at points
// inside the layers, at the tail's start and in the tail, each within
// contZ standard errors, over several seeds of 10⁶ draws.
func TestZigguratNormal(t *testing.T) {
	const n = 1_000_000
	qs := []float64{-4.5, -zigR, -2, -1, -0.3, 0, 0.3, 1, 2, zigR, 4.5}
	for _, seed := range contSeeds {
		var g chainRand
		g.seed(seed)
		var m1, m2, m4 float64
		below := make([]int, len(qs))
		draws := make([]float64, n)
		g.fill(draws[:n-1]) // odd length: the last half of a draw is dropped
		g.fill(draws[n-1:])
		for _, x := range draws {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("seed %d: draw %v", seed, x)
			}
			m1 += x
			m2 += x * x
			m4 += x * x * x * x
			for k, q := range qs {
				if x <= q {
					below[k]++
				}
			}
		}
		m1, m2, m4 = m1/n, m2/n, m4/n
		check := func(what string, got, want, sd float64) {
			if se := sd / math.Sqrt(n); math.Abs(got-want) > contZ*se {
				t.Errorf("seed %d: %s = %.6g, want %.6g ± %.3g", seed, what, got, want, se)
			}
		}
		check("mean", m1, 0, 1)
		check("E[x²]", m2, 1, math.Sqrt(2))
		check("E[x⁴]", m4, 3, math.Sqrt(96))
		for k, q := range qs {
			p := 0.5 * math.Erfc(-q/math.Sqrt2)
			check("P(x ≤ "+strconv.FormatFloat(q, 'g', 4, 64)+")", float64(below[k])/n, p, math.Sqrt(p*(1-p)))
		}
	}
}

package sampling

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// Small discrete models and exact enumeration shared by the tests of the
// discrete samplers.

// discIsing returns energy.NewIsing(l, j, h) or fails the test.
func discIsing(t testing.TB, l int, j, h float64) *energy.Ising {
	t.Helper()
	m, err := energy.NewIsing(l, j, h)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// discPotts returns energy.NewPotts(l, q, j) or fails the test.
func discPotts(t testing.TB, l, q int, j float64) *energy.Potts {
	t.Helper()
	m, err := energy.NewPotts(l, q, j)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// discNoSite hides an energy's SiteLogits, so that Gibbs evaluates f.
type discNoSite struct{ DiscreteDifferentiable }

// discExact enumerates all K^D states of e (D ≤ 20) and returns them, row
// major, with their exact probabilities and log Z.
func discExact(t testing.TB, e energy.Discrete) (states, probs []float64, logZ float64) {
	d, vals := e.Dim(), e.Values()
	k := len(vals)
	total := 1
	for range d {
		total *= k
	}
	states = make([]float64, total*d)
	for s := range total {
		r := s
		for i := range d {
			states[s*d+i] = vals[r%k]
			r /= k
		}
	}
	f := make([]float64, total)
	if err := e.F(f, states); err != nil {
		t.Fatal(err)
	}
	m := math.Inf(-1)
	for _, v := range f {
		m = math.Max(m, v)
	}
	var z float64
	for _, v := range f {
		z += math.Exp(v - m)
	}
	probs = make([]float64, total)
	for s, v := range f {
		probs[s] = math.Exp(v-m) / z
	}
	return states, probs, m + math.Log(z)
}

// discStatTest is a chi-square goodness-of-fit test of the statistic stat
// over n independent draws (rows of x) against its exact distribution
// under the enumerated states. Bins with expected count below 5 are merged
// into their neighbour. It returns the p-value and the statistic.
func discStatTest(t testing.TB, states, probs, x []float64, d int, stat func(s []float64) int) (pval, chi2 float64, df int) {
	exact := map[int]float64{}
	for s := range probs {
		exact[stat(states[s*d:(s+1)*d])] += probs[s]
	}
	obs := map[int]float64{}
	n := len(x) / d
	for c := range n {
		k := stat(x[c*d : (c+1)*d])
		if _, ok := exact[k]; !ok {
			t.Fatalf("sample %d has statistic %d, impossible under the exact distribution", c, k)
		}
		obs[k]++
	}
	keys := make([]int, 0, len(exact))
	for k := range exact {
		keys = append(keys, k)
	}
	for i := range keys { // insertion sort: few keys
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	var bins [][2]float64 // expected, observed
	var e, o float64
	for _, k := range keys {
		e += exact[k] * float64(n)
		o += obs[k]
		if e >= 5 {
			bins = append(bins, [2]float64{e, o})
			e, o = 0, 0
		}
	}
	if e > 0 {
		if len(bins) == 0 {
			bins = append(bins, [2]float64{})
		}
		bins[len(bins)-1][0] += e
		bins[len(bins)-1][1] += o
	}
	for _, b := range bins {
		chi2 += (b[1] - b[0]) * (b[1] - b[0]) / b[0]
	}
	df = len(bins) - 1
	return discChi2Sf(chi2, df), chi2, df
}

// discChi2Sf is the chi-square survival function P(χ²_df > x), the
// regularised upper incomplete gamma Q(df/2, x/2).
func discChi2Sf(x float64, df int) float64 {
	if df <= 0 {
		return 1
	}
	a, z := float64(df)/2, x/2
	if z <= 0 {
		return 1
	}
	lg, _ := math.Lgamma(a)
	if z < a+1 { // series for P
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= z / (a + float64(n))
			sum += term
			if term < sum*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-z+a*math.Log(z)-lg)
	}
	// Continued fraction for Q (Lentz).
	b := z + 1 - a
	c := 1 / 1e-300
	dd := 1 / b
	h := dd
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		dd = an*dd + b
		if math.Abs(dd) < 1e-300 {
			dd = 1e-300
		}
		c = b + an/c
		if math.Abs(c) < 1e-300 {
			c = 1e-300
		}
		dd = 1 / dd
		del := dd * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-z+a*math.Log(z)-lg) * h
}

func TestDiscChi2Sf(t *testing.T) {
	// Reference values of R's pchisq(x, df, lower.tail = FALSE).
	for _, c := range []struct {
		x    float64
		df   int
		want float64
	}{{3.84145882069412, 1, 0.05}, {18.307038053275146, 10, 0.05}, {2, 4, 0.7357588823428847}, {50, 20, 0.0002214766382487836}, {0.5, 3, 0.91889141165467592}} {
		if got := discChi2Sf(c.x, c.df); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("χ² sf(%v, %d) = %.12g, want %.12g", c.x, c.df, got, c.want)
		}
	}
}

// discRandomStart returns n random starting states over vals.
func discRandomStart(rng *rand.Rand, n, d int, vals []float64) []float64 {
	x := make([]float64, n*d)
	for i := range x {
		x[i] = vals[rng.IntN(len(vals))]
	}
	return x
}

// discStateIndex returns the index of s in discExact's enumeration order.
func discStateIndex(s, vals []float64) int {
	idx, mul := 0, 1
	for _, v := range s {
		idx += valueIndex(vals, v) * mul
		mul *= len(vals)
	}
	return idx
}

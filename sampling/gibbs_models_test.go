package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Small discrete models and exact enumeration shared by the tests of the
// discrete samplers and of AIS.

// discIsing is the periodic l×l Ising model with ±1 spins:
// f(s) = J Σ_<ab> s_a s_b + h Σ_a s_a, each bond (right and down
// neighbour) counted once.
type discIsing struct {
	l    int
	j, h float64
}

func (m *discIsing) Dim() int          { return m.l * m.l }
func (m *discIsing) Values() []float64 { return []float64{-1, 1} }
func (m *discIsing) nbrSum(s []float64, a int) float64 {
	l := m.l
	r, c := a/l, a%l
	return s[r*l+(c+1)%l] + s[r*l+(c+l-1)%l] + s[((r+1)%l)*l+c] + s[((r+l-1)%l)*l+c]
}

func (m *discIsing) F(dst, x []float64) error { return m.FGrad(dst, nil, x) }

func (m *discIsing) FGrad(dst, grad, x []float64) error {
	d := m.Dim()
	if len(x) != len(dst)*d {
		return fmt.Errorf("discIsing: %d values for %d samples", len(x), len(dst))
	}
	for n := range dst {
		s := x[n*d : (n+1)*d]
		var f float64
		for a := range d {
			r, c := a/m.l, a%m.l
			f += m.j*s[a]*(s[r*m.l+(c+1)%m.l]+s[((r+1)%m.l)*m.l+c]) + m.h*s[a]
			if grad != nil {
				grad[n*d+a] = m.j*m.nbrSum(s, a) + m.h
			}
		}
		dst[n] = f
	}
	return nil
}

func (m *discIsing) SiteLogits(logits, x []float64, i int) error {
	d := m.Dim()
	for n := range len(x) / d {
		s := x[n*d : (n+1)*d]
		field := m.j*m.nbrSum(s, i) + m.h
		logits[2*n] = (-1 - s[i]) * field
		logits[2*n+1] = (1 - s[i]) * field
	}
	return nil
}

// discPotts is the periodic l×l q-state Potts model on values 0…q−1:
// f(s) = J Σ_<ab> δ(s_a, s_b).
type discPotts struct {
	l, q int
	j    float64
}

func (m *discPotts) Dim() int { return m.l * m.l }
func (m *discPotts) Values() []float64 {
	v := make([]float64, m.q)
	for k := range v {
		v[k] = float64(k)
	}
	return v
}

func (m *discPotts) F(dst, x []float64) error {
	d, l := m.Dim(), m.l
	for n := range dst {
		s := x[n*d : (n+1)*d]
		var f float64
		for a := range d {
			r, c := a/l, a%l
			if s[a] == s[r*l+(c+1)%l] {
				f += m.j
			}
			if s[a] == s[((r+1)%l)*l+c] {
				f += m.j
			}
		}
		dst[n] = f
	}
	return nil
}

// discRBM is the binary RBM with visible units v ∈ {0,1}^nv marginalised
// over hidden units: f(v) = b·v + Σ_j softplus(c_j + Σ_i v_i W_ij), W
// row-major nv×nh.
type discRBM struct {
	nv, nh  int
	w, b, c []float64
}

func newDiscRBM(nv, nh int, scale float64, rng *rand.Rand) *discRBM {
	m := &discRBM{nv: nv, nh: nh, w: make([]float64, nv*nh), b: make([]float64, nv), c: make([]float64, nh)}
	for i := range m.w {
		m.w[i] = scale * rng.NormFloat64()
	}
	for i := range m.b {
		m.b[i] = scale * rng.NormFloat64()
	}
	for i := range m.c {
		m.c[i] = scale * rng.NormFloat64()
	}
	return m
}

func discSoftplus(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }
func discSigmoid(x float64) float64  { return 0.5 + 0.5*math.Tanh(x/2) }

func (m *discRBM) Dim() int          { return m.nv }
func (m *discRBM) Values() []float64 { return []float64{0, 1} }
func (m *discRBM) F(dst, x []float64) error {
	return m.FGrad(dst, nil, x)
}

func (m *discRBM) preact(a, v []float64) {
	copy(a, m.c)
	for i, vi := range v {
		if vi != 0 {
			for j := range a {
				a[j] += vi * m.w[i*m.nh+j]
			}
		}
	}
}

func (m *discRBM) FGrad(dst, grad, x []float64) error {
	if len(x) != len(dst)*m.nv {
		return fmt.Errorf("discRBM: %d values for %d samples", len(x), len(dst))
	}
	a := make([]float64, m.nh)
	for n := range dst {
		v := x[n*m.nv : (n+1)*m.nv]
		m.preact(a, v)
		var f float64
		for i := range v {
			f += m.b[i] * v[i]
		}
		for _, aj := range a {
			f += discSoftplus(aj)
		}
		dst[n] = f
		if grad != nil {
			for i := range v {
				g := m.b[i]
				for j, aj := range a {
					g += discSigmoid(aj) * m.w[i*m.nh+j]
				}
				grad[n*m.nv+i] = g
			}
		}
	}
	return nil
}

func (m *discRBM) SiteLogits(logits, x []float64, i int) error {
	a := make([]float64, m.nh)
	for n := range len(x) / m.nv {
		v := x[n*m.nv : (n+1)*m.nv]
		m.preact(a, v)
		var on float64 // f(v_i = 1) − f(v_i = 0)
		on = m.b[i]
		for j := range a {
			a0 := a[j] - v[i]*m.w[i*m.nh+j]
			on += discSoftplus(a0+m.w[i*m.nh+j]) - discSoftplus(a0)
		}
		if v[i] == 0 {
			logits[2*n], logits[2*n+1] = 0, on
		} else {
			logits[2*n], logits[2*n+1] = -on, 0
		}
	}
	return nil
}

func (m *discRBM) Hidden() int { return m.nh }

func (m *discRBM) SampleHidden(rng *rand.Rand, h, v []float64) error {
	a := make([]float64, m.nh)
	for n := range len(v) / m.nv {
		m.preact(a, v[n*m.nv:(n+1)*m.nv])
		for j, aj := range a {
			h[n*m.nh+j] = 0
			if rng.Float64() < discSigmoid(aj) {
				h[n*m.nh+j] = 1
			}
		}
	}
	return nil
}

func (m *discRBM) SampleVisible(rng *rand.Rand, v, h []float64) error {
	for n := range len(h) / m.nh {
		for i := range m.nv {
			a := m.b[i]
			for j := range m.nh {
				a += m.w[i*m.nh+j] * h[n*m.nh+j]
			}
			v[n*m.nv+i] = 0
			if rng.Float64() < discSigmoid(a) {
				v[n*m.nv+i] = 1
			}
		}
	}
	return nil
}

// discNoSite hides an energy's SiteLogits, so that Gibbs evaluates f.
type discNoSite struct{ DiscreteDifferentiable }

// discExact enumerates all K^D states of e (D ≤ 20) and returns them, row
// major, with their exact probabilities and log Z.
func discExact(t testing.TB, e discreteEnergy) (states, probs []float64, logZ float64) {
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

func (m *discRBM) Visible() int                { return m.nv }
func (m *discRBM) Params() (w, b, c []float64) { return m.w, m.b, m.c }

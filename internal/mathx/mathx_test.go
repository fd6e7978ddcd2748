package mathx

import (
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// bigExp returns eˣ to 200 bits: the Taylor series of e^{x/2¹⁰}, squared
// ten times.
func bigExp(x float64) *big.Float {
	f := new(big.Float).SetPrec(200).SetFloat64(math.Ldexp(x, -10))
	sum := new(big.Float).SetPrec(200).SetFloat64(1)
	term := new(big.Float).SetPrec(200).SetFloat64(1)
	for n := 1; n < 80; n++ {
		term.Mul(term, f)
		term.Quo(term, new(big.Float).SetPrec(200).SetFloat64(float64(n)))
		sum.Add(sum, term)
	}
	for range 10 {
		sum.Mul(sum, sum)
	}
	return sum
}

// bigLog1p returns log(1 + y) for 0 ≤ y ≤ 1 to 200 bits, as
// 2·atanh(z) = 2 Σ z^{2k+1}/(2k+1) with z = y/(2 + y) ≤ 1/3.
func bigLog1p(y *big.Float) *big.Float {
	two := new(big.Float).SetPrec(200).SetFloat64(2)
	z := new(big.Float).SetPrec(200).Quo(y, new(big.Float).SetPrec(200).Add(two, y))
	z2 := new(big.Float).SetPrec(200).Mul(z, z)
	sum := new(big.Float).SetPrec(200)
	pow := new(big.Float).SetPrec(200).Set(z)
	for k := 0; k < 100; k++ {
		t := new(big.Float).SetPrec(200).Quo(pow, new(big.Float).SetPrec(200).SetFloat64(float64(2*k+1)))
		sum.Add(sum, t)
		pow.Mul(pow, z2)
	}
	return sum.Mul(sum, two)
}

// refSoftplus is log(1 + eˣ) = max(x, 0) + log(1 + e^{−|x|}) to 200 bits,
// rounded to float64.
func refSoftplus(x float64) float64 {
	r := bigLog1p(bigExp(-math.Abs(x)))
	r.Add(r, new(big.Float).SetPrec(200).SetFloat64(math.Max(x, 0)))
	v, _ := r.Float64()
	return v
}

func TestSoftplus(t *testing.T) {
	for _, x := range []float64{-800, -745, -40, -20, -1, -1e-10, 0, 1e-10, 0.5, 1, 20, 36, 40, 700, 800, math.MaxFloat64} {
		got := Softplus(x)
		want := x
		if x < 700 {
			want = refSoftplus(x)
		}
		if math.Abs(got-want) > 4e-16*math.Max(math.Abs(want), 1e-300) && got != want {
			t.Errorf("Softplus(%g) = %.17g, want %.17g", x, got, want)
		}
		if math.IsInf(got, 0) || math.IsNaN(got) || got < 0 {
			t.Errorf("Softplus(%g) = %g", x, got)
		}
	}
	if got := Softplus(math.Inf(-1)); got != 0 {
		t.Errorf("Softplus(−Inf) = %g, want 0", got)
	}
	if got := Softplus(math.Inf(1)); !math.IsInf(got, 1) {
		t.Errorf("Softplus(+Inf) = %g, want +Inf", got)
	}
	if !math.IsNaN(Softplus(math.NaN())) {
		t.Error("Softplus(NaN) is not NaN")
	}
}

func TestSigmoid(t *testing.T) {
	for _, x := range []float64{-800, -40, -3, -1e-9, 0, 1e-9, 2, 40, 800} {
		got := Sigmoid(x)
		want := math.Exp(x) // σ(x) = eˣ to within 1e-347 relative below −700
		if x > -700 {
			den := bigExp(-x)
			den.Add(den, new(big.Float).SetPrec(200).SetFloat64(1))
			want, _ = new(big.Float).SetPrec(200).Quo(new(big.Float).SetPrec(200).SetFloat64(1), den).Float64()
		}
		if math.Abs(got-want) > 4e-16*want {
			t.Errorf("Sigmoid(%g) = %.17g, want %.17g", x, got, want)
		}
		if s := got + Sigmoid(-x); math.Abs(s-1) > 3e-16 {
			t.Errorf("σ(%g) + σ(%g) = %.17g, want 1", x, -x, s)
		}
	}
	if Sigmoid(math.Inf(1)) != 1 || Sigmoid(math.Inf(-1)) != 0 {
		t.Error("σ(±Inf) is not 1 and 0")
	}
}

func TestSumSoftplus(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 511, 512, 513, 5000} {
		for _, scale := range []float64{0.1, 5, 300} {
			a := make([]float64, n)
			var want float64
			for i := range a {
				a[i] = scale * rng.NormFloat64()
				want += Softplus(a[i])
			}
			got := SumSoftplus(a)
			if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Errorf("n = %d, scale %g: SumSoftplus = %.15g, Σ Softplus = %.15g", n, scale, got, want)
			}
		}
	}
	// 10⁵ values of −0.5: the product form must not underflow or overflow.
	a := make([]float64, 100000)
	for i := range a {
		a[i] = -0.5
	}
	if got, want := SumSoftplus(a), 1e5*Softplus(-0.5); math.Abs(got-want) > 1e-9*want {
		t.Errorf("SumSoftplus of 10⁵ × −0.5 = %.15g, want %.15g", got, want)
	}
	if !math.IsNaN(SumSoftplus([]float64{1, math.NaN()})) {
		t.Error("SumSoftplus with a NaN is not NaN")
	}
}

func TestLogSumExp(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		want float64
	}{
		{nil, math.Inf(-1)},
		{[]float64{3}, 3},
		{[]float64{0, 0}, math.Ln2},
		{[]float64{1000, 1000}, 1000 + math.Ln2},
		{[]float64{-1000, -1000, -1000, -1000}, -1000 + 2*math.Ln2},
		{[]float64{math.Inf(-1), 5}, 5},
		{[]float64{math.Inf(-1), math.Inf(-1)}, math.Inf(-1)},
		{[]float64{1, math.Inf(1)}, math.Inf(1)},
		{[]float64{0, math.Log(3)}, 2 * math.Ln2},
	} {
		got := LogSumExp(tc.v)
		if !(got == tc.want || math.Abs(got-tc.want) < 1e-14*math.Max(1, math.Abs(tc.want))) {
			t.Errorf("LogSumExp(%v) = %.17g, want %.17g", tc.v, got, tc.want)
		}
	}
	if !math.IsNaN(LogSumExp([]float64{1, math.NaN()})) {
		t.Error("LogSumExp with a NaN is not NaN")
	}
	if got := LogMeanExp([]float64{1000, 1000 + math.Log(3)}); math.Abs(got-(1000+math.Ln2)) > 1e-12 {
		t.Errorf("LogMeanExp = %.17g, want %.17g", got, 1000+math.Ln2)
	}
	if !math.IsNaN(LogMeanExp(nil)) {
		t.Error("LogMeanExp(nil) is not NaN")
	}
}

func TestRowsCoversEveryRowOnce(t *testing.T) {
	for _, tc := range []struct{ rows, cols int }{{0, 5}, {1, 3}, {15, 1}, {17, 1000}, {1000, 100}} {
		seen := make([]int32, tc.rows)
		Rows(tc.rows, tc.cols, func(lo, hi int) {
			if hi-lo > BlockRows || lo%BlockRows != 0 {
				t.Errorf("block [%d, %d)", lo, hi)
			}
			for r := lo; r < hi; r++ {
				seen[r]++ // blocks are disjoint: no race
			}
		})
		for r, c := range seen {
			if c != 1 {
				t.Fatalf("%d×%d: row %d visited %d times", tc.rows, tc.cols, r, c)
			}
		}
	}
}

// TestBernoulli checks the draws' means against p within 4 standard
// errors, over several seeds, and that they do not depend on GOMAXPROCS.
func TestBernoulli(t *testing.T) {
	const rows, cols = 2000, 50
	p := make([]float64, rows*cols)
	for i := range p {
		p[i] = float64(i%cols) / float64(cols-1) // 0 … 1 by column
	}
	for seed := range uint64(3) {
		x := slices.Clone(p)
		Bernoulli(rand.New(rand.NewPCG(seed, 9)), x, cols)
		for j := range cols {
			var s float64
			for r := range rows {
				v := x[r*cols+j]
				if v != 0 && v != 1 {
					t.Fatalf("draw %v", v)
				}
				s += v
			}
			q := p[j]
			mean := s / rows
			se := math.Sqrt(q * (1 - q) / rows)
			if (q == 0 || q == 1) && mean != q || math.Abs(mean-q) > 4*se+1e-12 {
				t.Errorf("seed %d, p = %.3f: mean %.4f (se %.4f)", seed, q, mean, se)
			}
		}
		prev := runtime.GOMAXPROCS(1)
		y := slices.Clone(p)
		Bernoulli(rand.New(rand.NewPCG(seed, 9)), y, cols)
		runtime.GOMAXPROCS(prev)
		if !slices.Equal(x, y) {
			t.Errorf("seed %d: draws differ between GOMAXPROCS %d and 1", seed, prev)
		}
	}
}

func TestMeanVar(t *testing.T) {
	m, v := MeanVar([]float64{1, 2, 3, 4})
	if m != 2.5 || math.Abs(v-5.0/3) > 1e-15 {
		t.Errorf("MeanVar(1, 2, 3, 4) = %v, %v; want 2.5, 5/3", m, v)
	}
	if m, v := MeanVar([]float64{7}); m != 7 || !math.IsNaN(v) {
		t.Errorf("MeanVar(7) = %v, %v; want 7, NaN", m, v)
	}
}

package energy_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/gradcheck"
)

// independent is a discrete energy of independent categorical variables,
// f(x) = Σ_i θ_i(x_i), whose log Z and moments are known in closed form.
type independent struct {
	vals  []float64
	theta [][]float64 // theta[i][k]
}

func (e *independent) Dim() int          { return len(e.theta) }
func (e *independent) Values() []float64 { return e.vals }
func (e *independent) F(dst, x []float64) error {
	d := e.Dim()
	for n := range dst {
		var f float64
		for i := 0; i < d; i++ {
			for k, v := range e.vals {
				if x[n*d+i] == v {
					f += e.theta[i][k]
				}
			}
		}
		dst[n] = f
	}
	return nil
}

func TestEnumerateIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	e := &independent{vals: []float64{-1, 0.5, 2}}
	for i := 0; i < 7; i++ {
		th := []float64{rng.NormFloat64(), rng.NormFloat64(), 3000 + rng.NormFloat64()}
		e.theta = append(e.theta, th)
	}
	var wantLogZ float64
	wantMean := make([]float64, e.Dim())
	wantVar := make([]float64, e.Dim())
	for i, th := range e.theta {
		lz := math.Log(math.Exp(th[0]-3000)+math.Exp(th[1]-3000)+math.Exp(th[2]-3000)) + 3000
		wantLogZ += lz
		var m1, m2 float64
		for k, v := range e.vals {
			p := math.Exp(th[k] - lz)
			m1 += p * v
			m2 += p * v * v
		}
		wantMean[i], wantVar[i] = m1, m2-m1*m1
	}
	lz, err := energy.LogZEnumerate(e)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(lz-wantLogZ) > 1e-12*math.Abs(wantLogZ) {
		t.Errorf("LogZEnumerate = %.17g, want %.17g", lz, wantLogZ)
	}
	r, err := energy.Enumerate(t.Context(), e)
	if err != nil {
		t.Fatal(err)
	}
	if r.States != 3*3*3*3*3*3*3 || r.LogZ != lz {
		t.Errorf("Enumerate: %d states, log Z %v; want 2187, %v", r.States, r.LogZ, lz)
	}
	d := e.Dim()
	for i := 0; i < d; i++ {
		if math.Abs(r.Mean[i]-wantMean[i]) > 1e-12 {
			t.Errorf("mean[%d] = %v, want %v", i, r.Mean[i], wantMean[i])
		}
		for j := 0; j < d; j++ {
			want := 0.0
			if i == j {
				want = wantVar[i]
			}
			if math.Abs(r.Cov[i*d+j]-want) > 1e-12 {
				t.Errorf("cov[%d][%d] = %v, want %v", i, j, r.Cov[i*d+j], want)
			}
		}
	}
}

// bruteIsing computes log Z of the l×l periodic Ising model by nested
// loops over the spins and an explicit bond sum, independent of package
// energy's lattice code.
func bruteIsing(l int, j, h float64) float64 {
	n := l * l
	var terms []float64
	s := make([]float64, n)
	for state := 0; state < 1<<n; state++ {
		for i := range s {
			s[i] = float64(2*(state>>i&1) - 1)
		}
		var f float64
		for r := 0; r < l; r++ {
			for c := 0; c < l; c++ {
				si := s[r*l+c]
				f += j*si*s[r*l+(c+1)%l] + j*si*s[((r+1)%l)*l+c] + h*si
			}
		}
		terms = append(terms, f)
	}
	m := math.Inf(-1)
	for _, f := range terms {
		m = math.Max(m, f)
	}
	var z float64
	for _, f := range terms {
		z += math.Exp(f - m)
	}
	return m + math.Log(z)
}

// TestIsingLogZ checks Kaufman's closed form, the transfer matrix and
// enumeration against brute force and each other, at and around the
// critical coupling, ferro- and antiferromagnetic, with and without field.
func TestIsingLogZ(t *testing.T) {
	jc := 0.5 * math.Log(1+math.Sqrt2)
	for _, l := range []int{2, 3, 4} {
		for _, j := range []float64{0, 0.1, jc, 0.8, -0.3, 3} {
			for _, h := range []float64{0, 0.2, -1} {
				m := must(energy.NewIsing(l, j, h))
				want := bruteIsing(l, j, h)
				got, err := m.LogZ()
				if err != nil {
					t.Fatal(err)
				}
				en, err := energy.LogZEnumerate(m)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) || math.Abs(en-want) > 1e-12*math.Max(1, math.Abs(want)) {
					t.Errorf("l=%d J=%.4f h=%g: LogZ %.15g, LogZEnumerate %.15g, brute force %.15g", l, j, h, got, en, want)
				}
			}
		}
	}
	// Larger lattices: Kaufman (h = 0) against the transfer matrix (the
	// same model as a 2-state Potts-like table, which LogZ only uses for h ≠ 0).
	for _, l := range []int{5, 6, 8} {
		for _, j := range []float64{0.2, jc, 0.7, -0.5} {
			if j < 0 && l%2 == 1 {
				continue
			}
			k := must(must(energy.NewIsing(l, j, 0)).LogZ())
			// A vanishing field sends LogZ to the transfer matrix.
			tm := must(must(energy.NewIsing(l, j, 1e-300)).LogZ())
			if math.Abs(k-tm) > 1e-12*math.Abs(k) {
				t.Errorf("l=%d J=%.4f: Kaufman %.15g, transfer matrix %.15g", l, j, k, tm)
			}
		}
	}
}

// TestIsingLargeCouplings checks that log Z stays finite and right for
// |f| ~ 1e4 (ground states dominate: log Z → max f + log #ground states)
// and for a 64×64 lattice by Kaufman's formula.
func TestIsingLargeCouplings(t *testing.T) {
	for _, tc := range []struct {
		l    int
		j, h float64
		want float64 // asymptotic log Z
	}{
		{4, 300, 0, 2 * 16 * 300},  // two ground states: + log 2
		{4, -300, 0, 2 * 16 * 300}, // two Néel states
		{3, 500, 5, 2*9*500 + 9*5}, // one ground state
		{3, -200, 0.3, 0},          // frustrated, log-domain transfer matrix: checked against enumeration
		{4, 150, -0.7, 0},
		{64, 3, 0, 2*64*64*3 + math.Ln2}, // Kaufman; corrections e^{−8J}·N ≈ 2e−7
	} {
		m := must(energy.NewIsing(tc.l, tc.j, tc.h))
		got, err := m.LogZ()
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(got) || math.IsInf(got, 0) {
			t.Fatalf("l=%d J=%g h=%g: log Z = %v", tc.l, tc.j, tc.h, got)
		}
		want := tc.want
		if tc.l <= 4 && tc.h == 0 {
			want += math.Ln2
		}
		if tc.want == 0 {
			want = must(energy.LogZEnumerate(m))
		}
		tol := 1e-9 * math.Abs(want)
		if tc.l == 64 {
			tol = 1e-6
		}
		if math.Abs(got-want) > tol {
			t.Errorf("l=%d J=%g h=%g: log Z = %.12g, want %.12g", tc.l, tc.j, tc.h, got, want)
		}
	}
}

func TestPottsLogZ(t *testing.T) {
	for _, tc := range []struct {
		l, q int
		j    float64
	}{{2, 3, 0.7}, {3, 3, 1.0}, {3, 3, -0.4}, {2, 4, 1.2}, {3, 2, 0.9}, {2, 5, 400}} {
		p := must(energy.NewPotts(tc.l, tc.q, tc.j))
		got := must(p.LogZ())
		want := must(energy.LogZEnumerate(p))
		if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("l=%d q=%d J=%g: transfer matrix %.15g, enumeration %.15g", tc.l, tc.q, tc.j, got, want)
		}
	}
	// q = 2 Potts at coupling J is Ising at J/2 shifted by J·l².
	for _, j := range []float64{0.5, 1.2, 3} {
		p := must(must(energy.NewPotts(8, 2, j)).LogZ())
		is := must(must(energy.NewIsing(8, j/2, 0)).LogZ())
		if want := is + j*64; math.Abs(p-want) > 1e-11*want {
			t.Errorf("8×8 q=2 Potts J=%g: %.15g, Ising (Kaufman) gives %.15g", j, p, want)
		}
	}
}

// TestSiteLogits checks every SiteConditional against differences of F,
// for every variable of a random batch.
func TestSiteLogits(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, e := range []energy.SiteConditional{
		must(energy.NewIsing(3, 0.7, -0.3)),
		must(energy.NewIsing(2, -0.4, 0.2)),
		must(energy.NewPotts(3, 4, 0.9)),
		must(energy.NewPotts(2, 3, -1.1)),
		must(energy.NewRandomRBM(rng, 7, 5, energy.RBMInit{WeightScale: 1, BiasScale: 1})),
		must(energy.NewRandomRBM(rng, 4, 9, energy.RBMInit{WeightScale: 2, BiasScale: 2})),
	} {
		name := fmt.Sprintf("%T", e)
		d, vals := e.Dim(), e.Values()
		k := len(vals)
		const n = 6
		x := make([]float64, n*d)
		for i := range x {
			x[i] = vals[rng.IntN(k)]
		}
		logits := make([]float64, n*k)
		f0 := make([]float64, n)
		if err := e.F(f0, x); err != nil {
			t.Fatal(err)
		}
		f1 := make([]float64, n)
		for i := 0; i < d; i++ {
			if err := e.SiteLogits(logits, x, i); err != nil {
				t.Fatal(err)
			}
			for kk, v := range vals {
				y := append([]float64(nil), x...)
				for s := 0; s < n; s++ {
					y[s*d+i] = v
				}
				if err := e.F(f1, y); err != nil {
					t.Fatal(err)
				}
				for s := 0; s < n; s++ {
					want := f1[s] - f0[s]
					if math.Abs(logits[s*k+kk]-want) > 1e-12*math.Max(1, math.Abs(want)) {
						t.Errorf("%s: sample %d, variable %d = %g: logit %v, F difference %v", name, s, i, v, logits[s*k+kk], want)
					}
				}
			}
		}
		if err := e.SiteLogits(logits, x, d); !errors.Is(err, energy.ErrShape) {
			t.Errorf("%s: variable out of range: %v, want ErrShape", name, err)
		}
		if err := e.SiteLogits(logits[1:], x, 0); !errors.Is(err, energy.ErrShape) {
			t.Errorf("%s: short logits: %v, want ErrShape", name, err)
		}
	}
}

// TestRelaxationGradients checks the Ising and RBM gradients on real
// inputs against central differences.
func TestRelaxationGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, e := range []energy.Differentiable{
		must(energy.NewIsing(3, 0.7, -0.3)),
		must(energy.NewIsing(2, 1.3, 0.4)),
		must(energy.NewIsing(5, -0.5, 0)),
		must(energy.NewRandomRBM(rng, 6, 4, energy.RBMInit{WeightScale: 1, BiasScale: 1})),
		must(energy.NewRandomRBM(rng, 3, 11, energy.RBMInit{WeightScale: 3, BiasScale: 3})),
	} {
		d := e.Dim()
		const n = 3
		x := make([]float64, n*d)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		f := make([]float64, n)
		g := make([]float64, n*d)
		if err := e.FGrad(f, g, x); err != nil {
			t.Fatal(err)
		}
		f2 := make([]float64, n)
		if err := e.F(f2, x); err != nil {
			t.Fatal(err)
		}
		for s := 0; s < n; s++ {
			if math.Abs(f[s]-f2[s]) > 1e-12*math.Max(1, math.Abs(f[s])) {
				t.Errorf("%T: FGrad f %v, F %v", e, f[s], f2[s])
			}
			one := func(p []float64) float64 {
				var v [1]float64
				if err := e.F(v[:], p); err != nil {
					t.Fatal(err)
				}
				return v[0]
			}
			if err := gradcheck.Check(fmt.Sprintf("%T sample %d", e, s), one, append([]float64(nil), x[s*d:(s+1)*d]...), g[s*d:(s+1)*d], 1e-5, 1e-7); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestEnumerateLimits(t *testing.T) {
	m := must(energy.NewIsing(5, 0.3, 0.1)) // 25 spins: 2^25 states
	if _, err := energy.LogZEnumerate(m); !errors.Is(err, energy.ErrTooLarge) {
		t.Errorf("25 spins: %v, want ErrTooLarge", err)
	} else {
		t.Log(err)
	}
	if _, err := must(energy.NewIsing(11, 0.3, 0.1)).LogZ(); !errors.Is(err, energy.ErrTooLarge) {
		t.Errorf("11×11 Ising with a field: %v, want ErrTooLarge", err)
	}
	if _, err := must(energy.NewPotts(7, 3, 1)).LogZ(); !errors.Is(err, energy.ErrTooLarge) {
		t.Errorf("7×7 3-state Potts: %v, want ErrTooLarge", err)
	}
	r := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 30, 25, energy.RBMInit{WeightScale: 0.1, BiasScale: 0.1}))
	if _, err := r.LogZ(); !errors.Is(err, energy.ErrTooLarge) {
		t.Errorf("30×25 RBM: %v, want ErrTooLarge", err)
	} else {
		t.Log(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := energy.Enumerate(ctx, must(energy.NewIsing(3, 0.3, 0))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Enumerate: %v", err)
	}
	if _, err := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 20, 30, energy.RBMInit{WeightScale: 0.1, BiasScale: 0.1})).LogZContext(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled RBM.LogZ: %v", err)
	}
}

func TestDiscreteBadParameters(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err, want error
	}{
		{"ising l", second(energy.NewIsing(1, 1, 0)), energy.ErrParameter},
		{"ising J", second(energy.NewIsing(3, math.NaN(), 0)), energy.ErrParameter},
		{"potts q", second(energy.NewPotts(3, 1, 1)), energy.ErrParameter},
		{"potts l", second(energy.NewPotts(0, 3, 1)), energy.ErrParameter},
		{"rbm sizes", second(energy.NewRBM(0, 3, nil, nil, make([]float64, 3))), energy.ErrParameter},
		{"rbm W", second(energy.NewRBM(2, 3, make([]float64, 5), make([]float64, 2), make([]float64, 3))), energy.ErrShape},
		{"rbm b", second(energy.NewRBM(2, 3, make([]float64, 6), make([]float64, 3), make([]float64, 3))), energy.ErrShape},
		{"rbm c", second(energy.NewRBM(2, 3, make([]float64, 6), make([]float64, 2), make([]float64, 2))), energy.ErrShape},
		{"rbm NaN", second(energy.NewRBM(1, 1, []float64{math.NaN()}, []float64{0}, []float64{0})), energy.ErrParameter},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want an error wrapping %v", tc.name, tc.err, tc.want)
		} else {
			t.Logf("%s: %v", tc.name, tc.err)
		}
	}
}

// TestDiscreteFGradNilGradient checks the FGrad contract on the
// relaxations of the discrete energies: a nil gradient is a shape error,
// as for every Differentiable (F gives the values alone).
func TestDiscreteFGradNilGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, e := range []energy.Differentiable{
		must(energy.NewIsing(3, 0.7, -0.3)),
		must(energy.NewRandomRBM(rng, 6, 4, energy.RBMInit{WeightScale: 1, BiasScale: 1})),
	} {
		if err := e.FGrad(make([]float64, 2), nil, make([]float64, 2*e.Dim())); !errors.Is(err, energy.ErrShape) {
			t.Errorf("%T: FGrad with a nil gradient: %v, want ErrShape", e, err)
		}
	}
}

package energy_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

func transpose(r *energy.RBM) *energy.RBM {
	w, b, c := r.Params()
	nv, nh := r.Visible(), r.Hidden()
	wt := make([]float64, nv*nh)
	for i := 0; i < nv; i++ {
		for j := 0; j < nh; j++ {
			wt[j*nv+i] = w[i*nh+j]
		}
	}
	return must(energy.NewRBM(nh, nv, wt, c, b))
}

// TestRBMLogZ compares the exact log Z (enumerating the smaller layer in
// Gray-code order) with LogZEnumerate over the visible units (through F),
// for RBMs wider and narrower than tall, and with weights large enough
// that |f| ~ 1e4.
func TestRBMLogZ(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	for _, tc := range []struct {
		nv, nh int
		scale  float64
	}{{1, 1, 1}, {5, 3, 1}, {3, 5, 1}, {6, 6, 2}, {12, 2, 0.5}, {10, 9, 300}, {14, 20, 1}} {
		r := must(energy.NewRandomRBM(rng, tc.nv, tc.nh, energy.RBMInit{WeightScale: tc.scale, BiasScale: tc.scale}))
		got, err := r.LogZ()
		if err != nil {
			t.Fatal(err)
		}
		want, err := energy.LogZEnumerate(r)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsInf(got, 0) || math.IsNaN(got) || math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("%d×%d scale %g: LogZ %.15g, LogZEnumerate %.15g", tc.nv, tc.nh, tc.scale, got, want)
		}
		// The joint density is symmetric in the two layers.
		if gt := must(transpose(r).LogZ()); math.Abs(gt-got) > 1e-12*math.Max(1, math.Abs(got)) {
			t.Errorf("%d×%d: transposed RBM log Z %.15g, want %.15g", tc.nv, tc.nh, gt, got)
		}
		if tc.scale == 300 && math.Abs(want) < 1e3 {
			t.Errorf("scale 300: |log Z| = %g, expected ≳ 1e4", want)
		}
	}
}

// TestRBMLogZMNISTSize checks that the 784×16 RBM's log Z, summed over the
// 2^16 hidden states, equals LogZEnumerate of its transpose, summed over
// 2^16 visible states through F.
func TestRBMLogZMNISTSize(t *testing.T) {
	if testing.Short() {
		t.Skip("enumerates 2^16 states through F")
	}
	r := must(energy.NewRandomRBM(rand.New(rand.NewPCG(3, 4)), 784, 16, energy.RBMInit{WeightScale: 0.05, BiasScale: 0.05}))
	got := must(r.LogZ())
	want := must(energy.LogZEnumerate(transpose(r)))
	if math.Abs(got-want) > 1e-11*math.Abs(want) {
		t.Errorf("784×16: LogZ %.15g, enumeration of the transpose %.15g", got, want)
	}
}

// TestRBMFreeEnergy checks f(v) = log Σ_h exp g(v, h) and the block
// conditionals against the joint log-density.
func TestRBMFreeEnergy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const nv, nh = 4, 5
	r := must(energy.NewRandomRBM(rng, nv, nh, energy.RBMInit{WeightScale: 1.5, BiasScale: 1.5}))
	v := []float64{1, 0, 1, 1}
	// All 2^nh hidden states for this v.
	hs := make([]float64, (1<<nh)*nh)
	vs := make([]float64, (1<<nh)*nv)
	for s := 0; s < 1<<nh; s++ {
		for j := 0; j < nh; j++ {
			hs[s*nh+j] = float64(s >> j & 1)
		}
		copy(vs[s*nv:], v)
	}
	g := make([]float64, 1<<nh)
	if err := r.JointF(g, vs, hs); err != nil {
		t.Fatal(err)
	}
	var f [1]float64
	if err := r.F(f[:], v); err != nil {
		t.Fatal(err)
	}
	m := math.Inf(-1)
	for _, x := range g {
		m = math.Max(m, x)
	}
	var z float64
	for _, x := range g {
		z += math.Exp(x - m)
	}
	if want := m + math.Log(z); math.Abs(f[0]-want) > 1e-12 {
		t.Errorf("f(v) = %v, log Σ_h exp g(v,h) = %v", f[0], want)
	}
	// p(h_j = 1 | v) from the joint.
	p := make([]float64, nh)
	if err := r.HiddenProbs(p, v); err != nil {
		t.Fatal(err)
	}
	for j := 0; j < nh; j++ {
		var num float64
		for s, x := range g {
			if s>>j&1 == 1 {
				num += math.Exp(x - m)
			}
		}
		if want := num / z; math.Abs(p[j]-want) > 1e-12 {
			t.Errorf("p(h_%d=1|v) = %v, from the joint %v", j, p[j], want)
		}
	}
	// p(v_i = 1 | h): flip v_i in the joint.
	h := []float64{0, 1, 1, 0, 1}
	pv := make([]float64, nv)
	if err := r.VisibleProbs(pv, h); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < nv; i++ {
		v0 := []float64{1, 0, 1, 1}
		v1 := append([]float64(nil), v0...)
		v0[i], v1[i] = 0, 1
		var g0, g1 [1]float64
		_ = r.JointF(g0[:], v0, h)
		_ = r.JointF(g1[:], v1, h)
		if want := 1 / (1 + math.Exp(g0[0]-g1[0])); math.Abs(pv[i]-want) > 1e-12 {
			t.Errorf("p(v_%d=1|h) = %v, from the joint %v", i, pv[i], want)
		}
	}
}

// TestRBMSampling checks the block samplers' frequencies against the
// conditional probabilities, over several seeds, within 4.5 standard
// errors.
func TestRBMSampling(t *testing.T) {
	r := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 2)), 6, 4, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	const n = 20000
	v := make([]float64, n*6)
	h := make([]float64, n*4)
	for s := 0; s < n; s++ {
		copy(v[s*6:], []float64{1, 1, 0, 0, 1, 0})
		copy(h[s*4:], []float64{0, 1, 1, 0})
	}
	ph := make([]float64, 4)
	pv := make([]float64, 6)
	_ = r.HiddenProbs(ph, v[:6])
	_ = r.VisibleProbs(pv, h[:4])
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 77))
		hs := make([]float64, n*4)
		vs := make([]float64, n*6)
		if err := r.SampleHidden(rng, hs, v); err != nil {
			t.Fatal(err)
		}
		if err := r.SampleVisible(rng, vs, h); err != nil {
			t.Fatal(err)
		}
		check := func(name string, x []float64, p []float64) {
			k := len(p)
			for j, pj := range p {
				var c float64
				for s := 0; s < n; s++ {
					c += x[s*k+j]
				}
				if se := math.Sqrt(pj * (1 - pj) / n); math.Abs(c/n-pj) > 4.5*se {
					t.Errorf("seed %d: %s[%d] frequency %.4f, probability %.4f", seed, name, j, c/n, pj)
				}
			}
		}
		check("h", hs, ph)
		check("v", vs, pv)
	}
	if err := r.HiddenProbs(make([]float64, 3), make([]float64, 6)); !errors.Is(err, energy.ErrShape) {
		t.Errorf("HiddenProbs with short p: %v", err)
	}
	if err := r.VisibleProbs(make([]float64, 6), make([]float64, 5)); !errors.Is(err, energy.ErrShape) {
		t.Errorf("VisibleProbs with ragged h: %v", err)
	}
	if err := r.JointF(make([]float64, 2), make([]float64, 12), make([]float64, 4)); !errors.Is(err, energy.ErrShape) {
		t.Errorf("JointF with short h: %v", err)
	}
}

// TestRBMSiteLogitsCache runs a Gibbs-like sequence (one variable of each
// chain changes between calls, sometimes many, sometimes the parameters)
// and checks every SiteLogits against differences of F.
func TestRBMSiteLogitsCache(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	const nv, nh, n = 9, 6, 4
	r := must(energy.NewRandomRBM(rng, nv, nh, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	x := make([]float64, n*nv)
	for i := range x {
		x[i] = float64(rng.IntN(2))
	}
	logits := make([]float64, 2*n)
	f0, f1 := make([]float64, n), make([]float64, n)
	for step := 0; step < 400; step++ {
		switch {
		case step%97 == 50:
			w, b, c := r.Params()
			w[3] += 0.5
			b[1] -= 0.25
			c[0] += 1
			if err := r.SetParams(w, b, c); err != nil {
				t.Fatal(err)
			}
		case step%37 == 20:
			for i := range x {
				x[i] = float64(rng.IntN(2))
			}
		default:
			s, i := rng.IntN(n), rng.IntN(nv)
			x[s*nv+i] = 1 - x[s*nv+i]
		}
		i := rng.IntN(nv)
		if err := r.SiteLogits(logits, x, i); err != nil {
			t.Fatal(err)
		}
		_ = r.F(f0, x)
		for k := 0; k < 2; k++ {
			y := append([]float64(nil), x...)
			for s := 0; s < n; s++ {
				y[s*nv+i] = float64(k)
			}
			_ = r.F(f1, y)
			for s := 0; s < n; s++ {
				if want := f1[s] - f0[s]; math.Abs(logits[2*s+k]-want) > 1e-11 {
					t.Fatalf("step %d: sample %d variable %d → %d: logit %v, F difference %v", step, s, i, k, logits[2*s+k], want)
				}
			}
		}
	}
	if err := r.SetParams(make([]float64, 3), nil, nil); !errors.Is(err, energy.ErrShape) {
		t.Errorf("SetParams with a short W: %v", err)
	}
}

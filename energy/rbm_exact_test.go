package energy_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/mathx"
)

// TestNewRandomRBM checks the draws' scales, the base-rate visible biases
// from data and the errors for values a user sets.
func TestNewRandomRBM(t *testing.T) {
	const nv, nh = 50, 40
	r := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), nv, nh, energy.RBMInit{}))
	w, b, c := r.Params()
	var ss float64
	for _, x := range w {
		ss += x * x
	}
	// 2000 N(0, 0.01²) draws: the sample variance is within 4 standard
	// errors (√(2/n)·σ²) of σ².
	if v := ss / float64(len(w)); math.Abs(v-1e-4) > 4*math.Sqrt(2.0/float64(len(w)))*1e-4 {
		t.Errorf("default weights: variance %g, want 1e-4", v)
	}
	if slices.ContainsFunc(b, func(x float64) bool { return x != 0 }) || slices.ContainsFunc(c, func(x float64) bool { return x != 0 }) {
		t.Error("default biases are not zero")
	}
	data := make([]float64, 4*nv)
	for i := range data {
		if i%nv < 10 || i%3 == 0 {
			data[i] = 1
		}
	}
	r = must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), nv, nh, energy.RBMInit{WeightScale: 0.1, BiasScale: 0.5, Data: data}))
	w2, b, c := r.Params()
	if want := must(energy.BaseRateBias(data, nv, 1)); !slices.Equal(b, want) {
		t.Error("visible biases are not BaseRateBias(data)")
	}
	for i := range w {
		if math.Abs(w2[i]-10*w[i]) > 1e-15 {
			t.Fatalf("weight %d is %v, want 10× the default draw %v (same stream)", i, w2[i], w[i])
		}
	}
	if !slices.ContainsFunc(c, func(x float64) bool { return x != 0 }) {
		t.Error("BiasScale 0.5 left the hidden biases at zero")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tc := range []struct {
		nv, nh int
		init   energy.RBMInit
		want   error
	}{
		{0, 3, energy.RBMInit{}, energy.ErrParameter},
		{3, -1, energy.RBMInit{}, energy.ErrParameter},
		{3, 3, energy.RBMInit{WeightScale: -1}, energy.ErrParameter},
		{3, 3, energy.RBMInit{WeightScale: math.NaN()}, energy.ErrParameter},
		{3, 3, energy.RBMInit{BiasScale: math.Inf(1)}, energy.ErrParameter},
		{3, 3, energy.RBMInit{Data: []float64{0, 1, 1, 0}}, energy.ErrShape},
		{3, 3, energy.RBMInit{Data: []float64{0, 1, 2}}, energy.ErrParameter},
	} {
		if _, err := energy.NewRandomRBM(rng, tc.nv, tc.nh, tc.init); !errors.Is(err, tc.want) {
			t.Errorf("NewRandomRBM(%d, %d, %+v): %v, want %v", tc.nv, tc.nh, tc.init, err, tc.want)
		}
	}
}

func TestBaseRateBias(t *testing.T) {
	// Three rows of two units: unit 0 on twice, unit 1 never.
	b := must(energy.BaseRateBias([]float64{1, 0, 1, 0, 0, 0}, 2, 1))
	for i, p := range []float64{3.0 / 5, 1.0 / 5} {
		if want := math.Log(p / (1 - p)); math.Abs(b[i]-want) > 1e-15 {
			t.Errorf("b[%d] = %v, want logit(%v) = %v", i, b[i], p, want)
		}
	}
	for _, tc := range []struct {
		data  []float64
		nv    int
		alpha float64
		want  error
	}{
		{nil, 2, 1, energy.ErrShape},
		{[]float64{1, 0, 1}, 2, 1, energy.ErrShape},
		{[]float64{1, 0}, 0, 1, energy.ErrShape},
		{[]float64{1, 0}, 2, 0, energy.ErrParameter},
		{[]float64{1, math.NaN()}, 2, 1, energy.ErrParameter},
	} {
		if _, err := energy.BaseRateBias(tc.data, tc.nv, tc.alpha); !errors.Is(err, tc.want) {
			t.Errorf("BaseRateBias(%v, %d, %v): %v, want %v", tc.data, tc.nv, tc.alpha, err, tc.want)
		}
	}
}

// TestRBMLogZNoWeights checks the closed form of an RBM without weights
// against enumeration, and at 784×500, where nothing else can check it,
// against the formula.
func TestRBMLogZNoWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	b := []float64{0.3, -1.2, 2, 0, -0.7}
	c := []float64{1.5, -0.4, 0.9}
	r := must(energy.NewRBM(5, 3, make([]float64, 15), b, c))
	got := must(r.LogZ())
	want := must(energy.LogZEnumerate(r))
	if math.Abs(got-want) > 1e-13*math.Abs(want) {
		t.Errorf("5×3 without weights: LogZ %.15g, enumeration %.15g", got, want)
	}
	data := make([]float64, 100*784)
	for i := range data {
		data[i] = float64(rng.IntN(2))
	}
	base := must(energy.NewBaseRateRBM(data, 784, 500))
	_, bb, _ := base.Params()
	want = 500 * math.Ln2
	for _, x := range bb {
		want += mathx.Softplus(x)
	}
	if got := must(base.LogZ()); math.Abs(got-want) > 1e-12*want {
		t.Errorf("784×500 base-rate RBM: log Z %.15g, want %.15g", got, want)
	}
}

// TestRBMSampleExact checks exact sampling, enumerating either layer and
// without weights, against the exact visible marginal: the frequency of
// every visible state is within 4.5 standard errors of its probability,
// over several seeds.
func TestRBMSampleExact(t *testing.T) {
	for _, tc := range []struct {
		name   string
		nv, nh int
		noW    bool
	}{{"hidden enumerated", 4, 3, false}, {"visible enumerated", 3, 6, false}, {"no weights", 4, 5, true}} {
		r := must(energy.NewRandomRBM(rand.New(rand.NewPCG(7, 7)), tc.nv, tc.nh, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
		if tc.noW {
			_, b, c := r.Params()
			r = must(energy.NewRBM(tc.nv, tc.nh, make([]float64, tc.nv*tc.nh), b, c))
		}
		// Exact p(v) by enumerating v through F.
		states := 1 << tc.nv
		x := make([]float64, states*tc.nv)
		for s := range states {
			for i := range tc.nv {
				x[s*tc.nv+i] = float64(s >> i & 1)
			}
		}
		f := make([]float64, states)
		if err := r.F(f, x); err != nil {
			t.Fatal(err)
		}
		logZ := must(r.LogZ())
		const n = 40000
		for seed := range uint64(3) {
			v := make([]float64, n*tc.nv)
			if err := r.Sample(rand.New(rand.NewPCG(seed, 3)), v); err != nil {
				t.Fatal(err)
			}
			count := make([]float64, states)
			for k := range n {
				s := 0
				for i := range tc.nv {
					s |= int(v[k*tc.nv+i]) << i
				}
				count[s]++
			}
			for s, c := range count {
				p := math.Exp(f[s] - logZ)
				if se := math.Sqrt(p * (1 - p) / n); math.Abs(c/n-p) > 4.5*se {
					t.Errorf("%s, seed %d: state %0*b frequency %.4f, probability %.4f (se %.4f)", tc.name, seed, tc.nv, s, c/n, p, se)
				}
			}
		}
	}
	big := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 30, 25, energy.RBMInit{}))
	if err := big.Sample(rand.New(rand.NewPCG(1, 1)), make([]float64, 30)); !errors.Is(err, energy.ErrTooLarge) {
		t.Errorf("30×25 RBM: Sample %v, want ErrTooLarge", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	small := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 30, 12, energy.RBMInit{}))
	if err := small.SampleContext(ctx, rand.New(rand.NewPCG(1, 1)), make([]float64, 30)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled SampleContext: %v", err)
	}
	if err := small.Sample(rand.New(rand.NewPCG(1, 1)), make([]float64, 31)); !errors.Is(err, energy.ErrShape) {
		t.Errorf("Sample of 31 values for 30 units: %v, want ErrShape", err)
	}
}

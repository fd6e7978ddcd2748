package energy_test

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// The batched (matrix-product) and per-sample conditionals agree.
func TestRBMConditionalsBatched(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	r := must(energy.NewRandomRBM(rng, 64, 32, energy.RBMInit{WeightScale: 0.5, BiasScale: 0.5}))
	const n = 40 // 40·64·32 ≥ 2¹⁶: the batch goes through GEMM
	v := make([]float64, n*64)
	h := make([]float64, n*32)
	for i := range v {
		v[i] = float64(rng.IntN(2))
	}
	for i := range h {
		h[i] = float64(rng.IntN(2))
	}
	ph := make([]float64, n*32)
	pv := make([]float64, n*64)
	if err := r.HiddenProbs(ph, v); err != nil {
		t.Fatal(err)
	}
	if err := r.VisibleProbs(pv, h); err != nil {
		t.Fatal(err)
	}
	// The inputs are the probabilities' logits.
	ah, av := make([]float64, n*32), make([]float64, n*64)
	if err := r.HiddenInputs(ah, v); err != nil {
		t.Fatal(err)
	}
	if err := r.VisibleInputs(av, h); err != nil {
		t.Fatal(err)
	}
	for j, a := range ah {
		if math.Abs(1/(1+math.Exp(-a))-ph[j]) > 1e-15 {
			t.Fatalf("hidden input %d: σ(%v) ≠ %v", j, a, ph[j])
		}
	}
	for i, a := range av {
		if math.Abs(1/(1+math.Exp(-a))-pv[i]) > 1e-15 {
			t.Fatalf("visible input %d: σ(%v) ≠ %v", i, a, pv[i])
		}
	}
	one := make([]float64, 64)
	for s := range n {
		r.HiddenProbs(one[:32], v[s*64:(s+1)*64])
		for j := range 32 {
			if math.Abs(one[j]-ph[s*32+j]) > 1e-12 {
				t.Fatalf("hidden %d,%d: batched %v, single %v", s, j, ph[s*32+j], one[j])
			}
		}
		r.VisibleProbs(one, h[s*32:(s+1)*32])
		for i := range 64 {
			if math.Abs(one[i]-pv[s*64+i]) > 1e-12 {
				t.Fatalf("visible %d,%d: batched %v, single %v", s, i, pv[s*64+i], one[i])
			}
		}
	}
}

// The block samplers' draws depend on the generator alone, not on how many
// goroutines ran them.
func TestRBMSamplingIndependentOfGOMAXPROCS(t *testing.T) {
	r := must(energy.NewRandomRBM(rand.New(rand.NewPCG(4, 4)), 200, 100, energy.RBMInit{WeightScale: 0.5}))
	const n = 100 // 100×100 hidden values: the parallel path
	v := make([]float64, n*200)
	for i := range v {
		v[i] = float64(i % 2)
	}
	draw := func() []float64 {
		h := make([]float64, n*100)
		if err := r.SampleHidden(rand.New(rand.NewPCG(8, 8)), h, v); err != nil {
			t.Fatal(err)
		}
		return h
	}
	a := draw()
	prev := runtime.GOMAXPROCS(1)
	b := draw()
	runtime.GOMAXPROCS(prev)
	if !slices.Equal(a, b) {
		t.Errorf("hidden draws differ between GOMAXPROCS %d and 1", prev)
	}
}

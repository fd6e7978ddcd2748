package energy_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// The batched (matrix-product) and per-sample conditionals agree.
func TestRBMConditionalsBatched(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	r := energy.NewRandomRBM(64, 32, 0.5, rng)
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

package sampling

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

func TestGWGIsingExact(t *testing.T) {
	ising := discIsing(t, 4, 0.3, 0.1)
	states, probs, _ := discExact(t, ising)
	g, err := NewGWG(ising)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 21))
		x := discRun(t, g, rng, 2000, 16, ising.Values(), 300)
		checkFit(t, fmt.Sprintf("seed %d", seed), states, probs, x, 16, isingStats(4))
	}
}

func TestGWGRBMExact(t *testing.T) {
	for seed := range uint64(3) {
		rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(seed, 1)), 6, 4, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
		states, probs, _ := discExact(t, rbm)
		g, err := NewGWG(rbm)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 22))
		x := discRun(t, g, rng, 4000, 6, rbm.Values(), 150)
		checkFit(t, fmt.Sprintf("seed %d", seed), states, probs, x, 6, []func([]float64) int{rbmJoint})
	}
}

// TestGWGAcceptance checks the Metropolis–Hastings ratio itself: from a
// fixed state, the acceptance probability of every proposal equals the
// value computed from the definition by brute force.
func TestGWGAcceptance(t *testing.T) {
	rbm := testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(4, 4)), 5, 3, energy.RBMInit{WeightScale: 1.5, BiasScale: 1.5}))
	g, _ := NewGWG(rbm)
	x0 := []float64{1, 0, 0, 1, 1}
	logq := func(x []float64) []float64 {
		f := make([]float64, 1)
		grad := make([]float64, 5)
		rbm.FGrad(f, grad, x)
		out := make([]float64, 5)
		m := math.Inf(-1)
		for i := range x {
			out[i] = (1 - 2*x[i]) * grad[i] / 2
			m = math.Max(m, out[i])
		}
		var z float64
		for _, v := range out {
			z += math.Exp(v - m)
		}
		for i := range out {
			out[i] -= m + math.Log(z)
		}
		return out
	}
	f := func(x []float64) float64 { d := make([]float64, 1); rbm.F(d, x); return d[0] }
	q0 := logq(x0)
	seen := map[int]bool{}
	rng := rand.New(rand.NewPCG(1, 23))
	for range 200 {
		s, _ := g.Init(x0, 1)
		s, info, err := g.Step(rng, s)
		if err != nil {
			t.Fatal(err)
		}
		i := g.site[0]
		seen[i] = true
		x1 := append([]float64(nil), x0...)
		x1[i] = 1 - x1[i]
		want := math.Min(1, math.Exp(f(x1)-f(x0)+logq(x1)[i]-q0[i]))
		if math.Abs(info.AcceptProb[0]-want) > 1e-12 {
			t.Fatalf("flip %d: acceptance %.15g, want %.15g", i, info.AcceptProb[0], want)
		}
		if info.Accepted[0] != (s.X[i] != x0[i]) {
			t.Fatalf("Accepted = %v but the chain is %v", info.Accepted[0], s.X)
		}
	}
	if len(seen) < 3 {
		t.Errorf("only %d distinct flips proposed in 200 steps", len(seen))
	}
}

func TestGWGDivergence(t *testing.T) {
	e := discNaN{discIsing(t, 3, 0.2, 0)}
	g, _ := NewGWG(e)
	start := make([]float64, 9)
	for i := range start {
		start[i] = 1
	}
	start[0] = -1 // f is NaN once spin 1 flips to +1: it is +1 already, so flip spin 1 to −1 first
	start[1] = -1
	s, err := g.Init(start, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 24))
	div := 0
	for range 500 {
		var info Info
		s, info, err = g.Step(rng, s)
		if err != nil {
			t.Fatal(err)
		}
		div += info.Divergences()
		if math.IsNaN(s.F[0]) {
			t.Fatal("NaN energy accepted")
		}
	}
	if div == 0 {
		t.Error("no divergence in 500 steps next to NaN states")
	}
}

func benchGWG(b *testing.B, e DiscreteDifferentiable, chains int) {
	g, err := NewGWG(e)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	s, err := g.Init(discRandomStart(rng, chains, e.Dim(), e.Values()), chains)
	if err != nil {
		b.Fatal(err)
	}
	var accept float64
	for b.Loop() {
		var info Info
		if s, info, err = g.Step(rng, s); err != nil {
			b.Fatal(err)
		}
		accept += info.MeanAccept()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(accept/float64(b.N), "accept")
}

func BenchmarkGWGIsing32x32(b *testing.B) { benchGWG(b, discIsing(b, 32, 0.4, 0), 100) }
func BenchmarkGWGRBM784x500(b *testing.B) {
	benchGWG(b, testRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 784, 500, energy.RBMInit{WeightScale: 0.01, BiasScale: 0.01})), 100)
}

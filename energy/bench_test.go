package energy_test

import (
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// benchFGrad measures FGrad on a batch of 128 samples, in samples/s.
func benchFGrad(b *testing.B, e energy.Differentiable) {
	const n = 128
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, n*e.Dim())
	for i := range x {
		x[i] = float64(rng.IntN(2))
	}
	f := make([]float64, n)
	g := make([]float64, len(x))
	for b.Loop() {
		if err := e.FGrad(f, g, x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "samples/s")
}

func BenchmarkFGradGaussian100(b *testing.B) {
	benchFGrad(b, must(energy.NewIllConditionedGaussian(100, 1e4, rand.New(rand.NewPCG(1, 1)))))
}
func BenchmarkFGradBanana(b *testing.B)     { benchFGrad(b, must(energy.NewBanana(0.1, 10))) }
func BenchmarkFGradRosenbrock(b *testing.B) { benchFGrad(b, must(energy.NewRosenbrock(1, 100))) }
func BenchmarkFGradFunnel10(b *testing.B)   { benchFGrad(b, must(energy.NewFunnel(10, 3))) }
func BenchmarkFGradMixture(b *testing.B) {
	c1 := must(energy.NewDiagGaussian([]float64{-2, 0}, []float64{1, 1}))
	c2 := must(energy.NewDiagGaussian([]float64{2, 0}, []float64{1, 1}))
	benchFGrad(b, must(energy.NewMixture([]float64{1, 1}, []*energy.Gaussian{c1, c2})))
}
func BenchmarkFGradIsing32(b *testing.B) { benchFGrad(b, must(energy.NewIsing(32, 0.44, 0))) }
func BenchmarkFGradRBM784x64(b *testing.B) {
	benchFGrad(b, must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 784, 64, energy.RBMInit{WeightScale: 0.05, BiasScale: 0.05})))
}

// BenchmarkSiteLogitsRBM784x64 is one single-site Gibbs sweep over 784
// visible units of 16 chains, one variable changing between calls, in
// sweeps/s.
func BenchmarkSiteLogitsRBM784x64(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	r := must(energy.NewRandomRBM(rng, 784, 64, energy.RBMInit{WeightScale: 0.05, BiasScale: 0.05}))
	const n = 16
	x := make([]float64, n*784)
	logits := make([]float64, 2*n)
	for b.Loop() {
		for i := 0; i < 784; i++ {
			if err := r.SiteLogits(logits, x, i); err != nil {
				b.Fatal(err)
			}
			for s := 0; s < n; s++ {
				x[s*784+i] = float64(rng.IntN(2))
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sweeps/s")
}

func BenchmarkLogZRBM784x16(b *testing.B) {
	r := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 784, 16, energy.RBMInit{WeightScale: 0.05, BiasScale: 0.05}))
	for b.Loop() {
		if _, err := r.LogZ(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLogZIsingTransfer8(b *testing.B) {
	m := must(energy.NewIsing(8, 0.44, 0.1))
	for b.Loop() {
		if _, err := m.LogZ(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLogZIsingKaufman256(b *testing.B) {
	m := must(energy.NewIsing(256, 0.44, 0))
	for b.Loop() {
		if _, err := m.LogZ(); err != nil {
			b.Fatal(err)
		}
	}
}

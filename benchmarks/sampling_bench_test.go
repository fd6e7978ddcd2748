package benchmarks

import (
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/diagnostics"
)

// benchGauss runs HMC or NUTS and reports gradient evaluations per second
// and the effective sample size per second of the first, middle and last
// coordinates (σ = 0.1, 0.55, 1), averaged.
func benchGauss(b *testing.B, kind string) {
	r, err := NewGaussRun(rand.New(rand.NewPCG(1, 5)), kind)
	if err != nil {
		b.Fatal(err)
	}
	coords := []int{0, GaussDim / 2, GaussDim - 1}
	traces := make([][][]float64, len(coords)) // [coord][chain][t]
	for i := range traces {
		traces[i] = make([][]float64, GaussChains)
	}
	evals0 := r.Evals
	for b.Loop() {
		if err := r.Step(); err != nil {
			b.Fatal(err)
		}
		for i, c := range coords {
			for n := range GaussChains {
				traces[i][n] = append(traces[i][n], r.S.X[n*GaussDim+c])
			}
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64((r.Evals-evals0)*GaussChains)/sec, "grad-evals/s")
	b.ReportMetric(float64(b.N)/sec, "transitions/s")
	if b.N >= 100 {
		var ess float64
		for i := range coords {
			e, err := diagnostics.ESS(traces[i])
			if err != nil {
				b.Fatal(err)
			}
			ess += e
		}
		b.ReportMetric(ess/float64(len(coords))/sec, "ESS/s")
	}
}

func BenchmarkHMCGauss100(b *testing.B)  { benchGauss(b, "hmc") }
func BenchmarkNUTSGauss100(b *testing.B) { benchGauss(b, "nuts") }

func BenchmarkGibbsRBM784x500(b *testing.B) {
	r, err := NewRBMRun(rand.New(rand.NewPCG(1, 6)))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := r.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sweeps/s")
	b.ReportMetric(float64(b.N*RBMChains)/b.Elapsed().Seconds(), "samples/s")
}

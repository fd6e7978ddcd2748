package diagnostics

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkSummarize8x10000 summarises one quantity of 8 AR(1) chains of
// 10,000 draws, what Run diagnoses per coordinate of a long run.
func BenchmarkSummarize8x10000(b *testing.B) {
	x := diagAR1(rand.New(rand.NewPCG(1, 1)), 8, 10000, 0.9, func(int) float64 { return 0 })
	for b.Loop() {
		if _, err := Summarize(x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSummarizeMixing8x10000 is BenchmarkSummarize8x10000 for chains
// that mix well (ρ = 0.3), whose ESS needs only the first lags.
func BenchmarkSummarizeMixing8x10000(b *testing.B) {
	x := diagAR1(rand.New(rand.NewPCG(1, 1)), 8, 10000, 0.3, func(int) float64 { return 0 })
	for b.Loop() {
		if _, err := Summarize(x); err != nil {
			b.Fatal(err)
		}
	}
}

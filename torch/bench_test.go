//go:build torch

package torch

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/sampling"
)

// langevinBench measures Langevin steps per second through libtorch, with
// the chains kept on the device for the whole run (steps per call), as a
// trainer runs them: the UvA recipe (noise first, clipped gradient, pixels
// clamped to [−1, 1]) for images, plain Langevin for the 2-D toy.
func langevinBench(b *testing.B, m graph.Model, shape []int, n int, cfg sampling.LangevinConfig) {
	dev := DefaultDevice()
	tm, err := NewModel(m, shape, dev)
	if err != nil {
		b.Fatal(err)
	}
	defer tm.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, n*tm.Dim())
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	const steps = 20
	ctx := context.Background()
	if _, err := tm.Langevin(ctx, x, n, cfg, 2); err != nil { // warm-up
		b.Fatal(err)
	}
	b.ResetTimer()
	total := 0
	for b.Loop() {
		if _, err := tm.Langevin(ctx, x, n, cfg, steps); err != nil {
			b.Fatal(err)
		}
		total += steps
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "steps/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(total), "ms/step")
}

func BenchmarkLangevinToyMLP(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	langevinBench(b, nn.NewMLP(rng, nn.SiLU, 2, 128, 128, 1), []int{2}, 1024, sampling.LangevinConfig{StepSize: 0.01})
}

func BenchmarkLangevinImageMLP(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	langevinBench(b, nn.NewImageMLP(rng, nn.SiLU, 784, 256, 256, 1), []int{1, 28, 28}, 128, sampling.ClippedLangevin(10, 0.005))
}

func BenchmarkLangevinMNISTCNN(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	langevinBench(b, nn.NewMNISTCNN(rng, 32), []int{1, 28, 28}, 128, sampling.ClippedLangevin(10, 0.005))
}

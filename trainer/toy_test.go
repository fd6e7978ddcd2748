package trainer_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

// toyNLL returns the test negative log-likelihood of the model in nats,
// −mean f(x) + log Z, with Z by quadrature over box.
func toyNLL(t *testing.T, m graph.Model, test []float64, box datasets.Box) float64 {
	t.Helper()
	e, err := graph.NewEnergy(m, graph.Config{Shape: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := energy.Quadrature(context.Background(), e, energy.Grid{Lo: []float64{box.XMin, box.YMin}, Hi: []float64{box.XMax, box.YMax}, N: []int{400, 400}})
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float64, len(test)/2)
	if err := e.F(f, test); err != nil {
		t.Fatal(err)
	}
	s := 0.0
	for _, v := range f {
		s += v
	}
	return -s/float64(len(f)) + q.LogZ
}

func toyKernel(e energy.Differentiable) (sampling.Kernel, error) {
	return sampling.NewLangevin(e, sampling.LangevinConfig{StepSize: 0.02, Noise: math.Sqrt(0.02)})
}

func TestToyNLLImproves(t *testing.T) {
	toy, err := datasets.ToyByName("8gaussians")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	train := toy.SampleN(rng, 20000)
	test := toy.SampleN(rng, 5000)
	box := toy.Bounds()
	model := nn.NewMLP(rng, nn.SiLU, 2, 64, 64, 1)
	before := toyNLL(t, model, test, box)
	noise := func(rng *rand.Rand, x []float64) {
		for i := 0; i+1 < len(x); i += 2 {
			x[i] = box.XMin + (box.XMax-box.XMin)*rng.Float64()
			x[i+1] = box.YMin + (box.YMax-box.YMin)*rng.Float64()
		}
	}
	data := mustBatches(datasets.NewBatches(train, 2, datasets.BatchConfig{Size: 128, Seed: 3}))
	tr, err := trainer.New(model, data, trainer.Config{
		Shape: []int{2}, Iterations: 300, Steps: 30, Kernel: toyKernel, Noise: noise,
		Adam: optimCfg(1e-3), Alpha: 0.01, BufferSize: 4096, Seed: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := toyNLL(t, model, test, box)
	h := toy.Entropy()
	t.Logf("8gaussians: entropy %.3f nats; test NLL untrained %.3f (gap %.3f), trained %.3f (gap %.3f)", h, before, before-h, after, after-h)
	if !(after-h < 0.3*(before-h)) {
		t.Errorf("NLL gap to the entropy went from %.3f to %.3f; want it below 30%% of the start", before-h, after-h)
	}
}

//go:build torch

package torch

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

func moonsTrainer(t *testing.T, b trainer.Backend, iters int, dir string) *trainer.Trainer {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	toy, err := datasets.ToyByName("moons")
	if err != nil {
		t.Fatal(err)
	}
	data, err := datasets.NewBatches(toy.SampleN(rng, 2000), 2, datasets.BatchConfig{Size: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	model := nn.NewMLP(rng, nn.SiLU, 2, 32, 32, 1)
	tr, err := trainer.New(model, data, trainer.Config{
		Shape:           []int{2},
		Iterations:      iters,
		Steps:           20,
		Adam:            optim.AdamConfig{LR: 1e-3},
		Alpha:           0.1,
		ClipGradNorm:    1,
		Seed:            1,
		Dir:             dir,
		CheckpointEvery: 10,
		Backend:         b,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestBackendTrains trains on two moons with the whole step on the
// device, and with sampling only on the device.
func TestBackendTrains(t *testing.T) {
	for _, sampleOnly := range []bool{false, true} {
		b := NewBackend(BackendConfig{
			Device:     testDev,
			Sampler:    LangevinSampler{sampling.LangevinConfig{StepSize: 0.02}},
			SampleOnly: sampleOnly,
		})
		tr := moonsTrainer(t, b, 60, "")
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		h := tr.History()
		last := h[len(h)-1]
		if !(last.FPos > last.FNeg) {
			t.Errorf("sample-only %v: after %d iterations mean f on data %.3f ≤ on samples %.3f", sampleOnly, len(h), last.FPos, last.FNeg)
		}
		tr.Close()
	}
}

// TestBackendResume: a run killed at a checkpoint and resumed ends with
// the parameters of the uninterrupted run, bit for bit.
func TestBackendResume(t *testing.T) {
	newBackend := func() trainer.Backend {
		return NewBackend(BackendConfig{Device: testDev, Sampler: LangevinSampler{sampling.LangevinConfig{StepSize: 0.02}}})
	}
	whole := moonsTrainer(t, newBackend(), 30, t.TempDir())
	if err := whole.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer whole.Close()

	dir := t.TempDir()
	first := moonsTrainer(t, newBackend(), 20, dir)
	if err := first.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := moonsTrainer(t, newBackend(), 30, dir)
	defer second.Close()
	if second.Resumed() != 20 {
		t.Fatalf("resumed at %d, want 20", second.Resumed())
	}
	if err := second.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Run syncs the parameters at its final checkpoint.
	for i, p := range second.Model().Params() {
		want := whole.Model().Params()[i].Float64s(nil)
		for j, v := range p.Float64s(nil) {
			if v != want[j] {
				t.Fatalf("%s[%d]: resumed %v, uninterrupted %v", p.Name, j, v, want[j])
			}
		}
	}
}

// TestBackendConfigErrors: a negative thread count is an error, not a
// silent default.
func TestBackendConfigErrors(t *testing.T) {
	defer noLeak(t)()
	b := NewBackend(BackendConfig{Device: testDev, Threads: -1})
	model := nn.NewMLP(rand.New(rand.NewPCG(1, 2)), nn.SiLU, 2, 4, 1)
	if err := b.Setup(model, &trainer.Config{Shape: []int{2}, Steps: 1}, 8); err == nil || !strings.Contains(err.Error(), "Threads -1") {
		t.Errorf("Threads -1: got %v", err)
	}
	b.Close()
}

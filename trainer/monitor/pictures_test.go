package monitor_test

import (
	"context"
	"errors"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/trainer"
	"github.com/ebmgo/ebm/trainer/monitor"
)

// train runs a few iterations of a small model on data of the given shape
// with the monitors installed.
func train(t *testing.T, dir string, shape []int, model graph.Model, data []float64, iters int, mons ...trainer.Monitor) error {
	t.Helper()
	dim := 1
	for _, d := range shape {
		dim *= d
	}
	b, err := datasets.NewBatches(data, dim, datasets.BatchConfig{Size: 16, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trainer.New(model, b, trainer.Config{
		Shape: shape, Iterations: iters, Steps: 5, BufferSize: 64,
		Adam: optim.AdamConfig{LR: 1e-3}, Dir: dir, CheckpointEvery: 4, Monitors: mons, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	return tr.Run(context.Background())
}

// pngSize decodes a PNG file and returns its size.
func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func TestPicturesImages(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]float64, 64*16)
	for i := range data {
		data[i] = 2*rng.Float64() - 1
	}
	model := nn.NewImageMLP(rng, nn.SiLU, 16, 8, 1)
	if err := train(t, dir, []int{1, 4, 4}, model, data, 6, &monitor.Pictures{Every: 3}); err != nil {
		t.Fatal(err)
	}
	// Grids at iterations 3 and 6 (every 3, and the last); curves at the
	// checkpoints (4 and 6).
	for _, name := range []string{"samples/000003.png", "samples/000006.png", "buffer/000003.png", "buffer/000006.png", "loss.png", "energy.png"} {
		if w, h := pngSize(t, filepath.Join(dir, name)); w == 0 || h == 0 {
			t.Errorf("%s is empty", name)
		}
	}
	for _, name := range []string{"samples/000004.png", "landscape"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want it absent", name, err)
		}
	}
}

func TestPicturesLandscape(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	toy, err := datasets.ToyByName("moons")
	if err != nil {
		t.Fatal(err)
	}
	model := nn.NewMLP(rng, nn.SiLU, 2, 16, 1)
	if err := train(t, dir, []int{2}, model, toy.SampleN(rng, 256), 4, &monitor.Pictures{}); err != nil {
		t.Fatal(err)
	}
	if w, h := pngSize(t, filepath.Join(dir, "landscape", "000004.png")); w < 128 || h < 128 {
		t.Errorf("landscape is %d×%d, want at least the 128×128 field", w, h)
	}
	if _, err := os.Stat(filepath.Join(dir, "samples")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("2-D data drew sample grids: %v", err)
	}
}

// A monitor that cannot write ends the run with an error naming the
// iteration and leaves the checkpoint of that iteration on disk.
func TestPicturesErrorEndsRun(t *testing.T) {
	dir := t.TempDir()
	blocked := filepath.Join(dir, "blocked")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	toy, _ := datasets.ToyByName("moons")
	model := nn.NewMLP(rng, nn.SiLU, 2, 8, 1)
	err := train(t, filepath.Join(dir, "run"), []int{2}, model, toy.SampleN(rng, 256), 8,
		&monitor.Pictures{Dir: blocked, Every: 4}) // a file, not a folder
	if err == nil || !strings.Contains(err.Error(), "iteration 4: monitor") {
		t.Fatalf("got %v, want an error from the monitor at iteration 4", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "checkpoint.safetensors")); err != nil {
		t.Errorf("checkpoint of iteration 4: %v", err)
	}
}

package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/quality"
)

// The command on images of its user's own: a folder of PNG files of
// coloured shapes (datasets.Shapes, one sub-folder per class) trains a
// colour EBM sized from the data; with a judge trained on the same
// images in the run folder (what cmd/train-classifier -data writes), its
// fresh samples are told apart from noise and
// classified with confidence far above chance, and sample and eval work
// on the run with the shape the run recorded.
func TestTrainOnShapesFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 30 s")
	}
	ctx := context.Background()
	shapes, err := datasets.Shapes(datasets.ShapesConfig{N: 800, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "shapes")
	if err := datasets.WriteImageFolder(data, shapes); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// The judge: trained on a held-out split of the same images, with
	// their test statistics as the Fréchet reference.
	train, test, err := shapes.HoldOut(200, 1)
	if err != nil {
		t.Fatal(err)
	}
	judge, err := quality.NewClassifierFor(rand.New(rand.NewPCG(1, 1)), quality.ClassifierConfig{
		Channels: 3, Height: 16, Width: 16, ClassNames: shapes.Classes})
	if err != nil {
		t.Fatal(err)
	}
	res, err := quality.Train(ctx, judge, train, test, quality.TrainConfig{Epochs: 4, Batch: 50, Seed: 2})
	if err != nil || res.TestAccuracy < 0.95 {
		t.Fatalf("judge: test accuracy %.3f, %v", res.TestAccuracy, err)
	}
	if err := judge.SetReference(ctx, test.Images, test.N); err != nil {
		t.Fatal(err)
	}
	if err := judge.SaveFile(filepath.Join(dir, judgeFile)); err != nil {
		t.Fatal(err)
	}

	args := []string{"train", "-data", data, "-dir", dir, "-hidden", "16", "-iterations", "500", "-steps", "30",
		"-batch", "32", "-buffer", "512", "-checkpoint-every", "50", "-sample-every", "150",
		"-num-samples", "16"}
	code, out, stderr := runCmd(t, args...)
	t.Logf("train:\n%s", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"on 800 images of 3×16×16", "image folder", "Sample quality, scored by the classifier " + filepath.Join(dir, judgeFile), "fresh samples (fitted Gaussian + 30 Langevin steps)"} {
		if !strings.Contains(out, want) {
			t.Errorf("training output lacks %q", want)
		}
	}
	cfg, err := parse("sample", []string{"-dir", dir}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Size != "16x16" || cfg.Channels != 3 || cfg.Data != data {
		t.Errorf("the run's settings record size %q, channels %d, data %q", cfg.Size, cfg.Channels, cfg.Data)
	}

	// Above chance: the judge is sure of fresh samples — the chain
	// training ran, from the Gaussian fitted to the images — far more
	// often than of noise (chance, for a judge that cannot place an
	// image, is a confidence of 1/4), and their features are nearer the
	// real images'.
	m, shape, _, err := loadModel(ctx, cfg, "sample")
	if err != nil {
		t.Fatal(err)
	}
	n := 400
	fresh, err := drawSamples(ctx, cfg, m, shape, n, cfg.sampleSteps(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := quality.Score(ctx, judge, fresh, n)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := quality.Reference(ctx, judge, quality.ReferenceConfig{N: n, Data: shapes, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("samples: %v\nreal: %v\nnoise: %v", samples, refs.Real, refs.Noise)
	if !(samples.Confident > refs.Noise.Confident+0.15) || !(samples.Confidence > refs.Noise.Confidence+0.2) {
		t.Errorf("the judge is sure of %.1f%% of the samples (mean confidence %.3f), of %.1f%% of noise (%.3f)",
			100*samples.Confident, samples.Confidence, 100*refs.Noise.Confident, refs.Noise.Confidence)
	}
	if !(samples.FD < refs.Noise.FD/5) {
		t.Errorf("FD of the samples %.1f, of noise %.1f", samples.FD, refs.Noise.FD)
	}
	if nonzero := len(slices.DeleteFunc(slices.Clone(samples.Histogram), func(c int) bool { return c < n/20 })); nonzero < 3 {
		t.Errorf("the samples fall in fewer than 3 of the 4 classes: %v", samples.Histogram)
	}

	code, out, stderr = runCmd(t, "sample", "-dir", dir)
	if code != 0 || !strings.Contains(out, "16 samples") {
		t.Errorf("sample: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "samples.png")); err != nil {
		t.Error(err)
	}
	code, out, stderr = runCmd(t, "eval", "-dir", dir, "-num-samples", "100", "-sample-steps", "20")
	t.Logf("eval:\n%s", out)
	if code != 0 || !strings.Contains(out, "training images against") || !strings.Contains(out, "upside-down images") || !strings.Contains(out, "real images of shapes") {
		t.Errorf("eval: exit %d\n%s", code, stderr)
	}
}

// Without a judge for the data, training and eval say how to make one
// and score nothing; a judge of another shape is an error.
func TestNoJudge(t *testing.T) {
	shapes, err := datasets.Shapes(datasets.ShapesConfig{N: 64, Size: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(t.TempDir(), "tiny")
	if err := datasets.WriteImageFolder(data, shapes); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	code, out, stderr := runCmd(t, tinyTrain(dir, data)...)
	if code != 0 || !strings.Contains(out, "no judge for "+data+": train one with `go run ./cmd/train-classifier -data "+data) {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = runCmd(t, "eval", "-dir", dir, "-judge", "mnist", "-num-samples", "8", "-sample-steps", "2")
	if code != 1 || !strings.Contains(stderr, "takes images of 1×28×28, the run's are 3×8×8") {
		t.Errorf("eval with MNIST's judge: exit %d\n%s", code, stderr)
	}
	// -data without -dir trains in runs/NAME.
	cfg, err := parse("train", []string{"-data", data}, os.Stderr)
	if err != nil || cfg.Dir != filepath.Join("runs", "tiny") {
		t.Errorf("run folder %q, %v; want runs/tiny", cfg.Dir, err)
	}
}

// Every format the command detects trains and evaluates end to end: the
// committed fixtures of datasets (CIFAR-10 batches, an EMNIST set, a
// Fashion-MNIST-style IDX pair, a labelled image folder of mixed formats).
func TestTrainOnEveryFormat(t *testing.T) {
	fixtures := filepath.Join("..", "..", "datasets", "testdata")
	for _, tc := range []struct {
		data  string
		more  []string
		shape string
	}{
		{filepath.Join(fixtures, "cifar"), nil, "3×32×32"},
		{filepath.Join(fixtures, "emnist", "emnist-letters"), nil, "1×6×6"},
		{filepath.Join(fixtures, "idx"), []string{"-size", "8"}, "1×8×8"},
		{filepath.Join(fixtures, "folder", "labelled"), []string{"-channels", "1"}, "1×16×16"},
	} {
		t.Run(filepath.Base(tc.data), func(t *testing.T) {
			dir := t.TempDir()
			code, out, stderr := runCmd(t, append(tinyTrain(dir, tc.data, "-batch", "2"), tc.more...)...)
			if code != 0 || !strings.Contains(out, "images of "+tc.shape) {
				t.Fatalf("train: exit %d\n%s\n%s", code, out, stderr)
			}
			code, out, stderr = runCmd(t, "eval", "-dir", dir, "-num-samples", "4", "-sample-steps", "2")
			if code != 0 || !strings.Contains(out, "AUROC") || !strings.Contains(out, "no judge for") {
				t.Fatalf("eval: exit %d\n%s\n%s", code, out, stderr)
			}
		})
	}
}

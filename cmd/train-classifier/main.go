package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/internal/ops"
	"github.com/ebmgo/ebm/quality"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "train-classifier:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("train-classifier", flag.ContinueOnError)
	path := fs.String("out", "quality/classifier.safetensors", "where to write the classifier")
	epochs := fs.Int("epochs", 12, "passes over the training set")
	batch := fs.Int("batch", 128, "mini-batch size")
	lr := fs.Float64("lr", 2e-3, "Adam's peak learning rate")
	shift := fs.Int("shift", 2, "random translation of up to this many pixels (0: none)")
	seed := fs.Uint64("seed", 1, "seed of the initial weights, the shuffling and the shifts")
	dir := fs.String("data", "", "folder with the MNIST IDX files (default: the Go module cache)")
	limit := fs.Int("limit", 0, "train on the first n training images only (0: all)")
	minAcc := fs.Float64("min-acc", 0, "fail without writing if the final test accuracy is below this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for name, v := range map[string]int{"-epochs": *epochs, "-batch": *batch} {
		if v <= 0 {
			return fmt.Errorf("%s %d: must be positive", name, v)
		}
	}
	if *shift < 0 || *shift > 8 {
		return fmt.Errorf("-shift %d: must be in 0..8", *shift)
	}
	if *limit < 0 {
		return fmt.Errorf("-limit %d: must be non-negative", *limit)
	}
	if !(*lr > 0) {
		return fmt.Errorf("-lr %g: must be positive", *lr)
	}

	train, err := datasets.LoadMNIST(ctx, datasets.Train, datasets.MNISTConfig{Dir: *dir, Limit: *limit})
	if err != nil {
		return err
	}
	test, err := datasets.LoadMNIST(ctx, datasets.Test, datasets.MNISTConfig{Dir: *dir})
	if err != nil {
		return err
	}
	if *batch > train.N {
		return fmt.Errorf("-batch %d: larger than the %d training images", *batch, train.N)
	}
	fmt.Fprintf(out, "MNIST: %d training images (%s), %d test images\n", train.N, train.ImageFile, test.N)
	fmt.Fprintf(out, "kernels: %s; BLAS: %s; %d threads\n", ops.Kernels(), ops.BLAS(), runtime.GOMAXPROCS(0))

	c := quality.NewClassifier(rand.New(rand.NewPCG(*seed, 1)))
	fmt.Fprintf(out, "model: %v\n", c.Net)
	cfg := quality.TrainConfig{
		Epochs: *epochs, Batch: *batch, LR: *lr, MaxShift: *shift, Seed: *seed,
		Progress: func(p quality.TrainProgress) {
			if p.EpochEnd {
				fmt.Fprintf(out, "epoch %d/%d  step %5d/%d  loss %.4f  train acc %.4f  TEST ACC %.4f  %.1f it/s  %s\n",
					p.Epoch, *epochs, p.Step, p.Steps, p.Loss, p.TrainAccuracy, p.TestAccuracy, p.ItPerSec, p.Elapsed.Round(time.Second))
				return
			}
			fmt.Fprintf(out, "epoch %d/%d  step %5d/%d  loss %.4f  train acc %.4f  %.1f it/s  %s\n",
				p.Epoch, *epochs, p.Step, p.Steps, p.Loss, p.TrainAccuracy, p.ItPerSec, p.Elapsed.Round(time.Second))
		},
	}
	res, err := quality.Train(ctx, c, train, test, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "final test accuracy %.4f (%d/%d) after %d steps in %s\n",
		res.TestAccuracy, int(res.TestAccuracy*float64(test.N)+0.5), test.N, res.Steps, res.Elapsed.Round(time.Second))
	if res.TestAccuracy < *minAcc {
		return fmt.Errorf("test accuracy %.4f is below -min-acc %.4f; %s not written", res.TestAccuracy, *minAcc, *path)
	}
	if err := c.SetReference(ctx, test.Images, test.N); err != nil {
		return err
	}
	c.Meta = map[string]string{
		"test_accuracy": strconv.FormatFloat(res.TestAccuracy, 'f', 4, 64),
		"command":       strings.Join(append([]string{"go run ./cmd/train-classifier"}, args...), " "),
		"train_images":  strconv.Itoa(train.N),
		"epochs":        strconv.Itoa(*epochs),
		"reference":     "penultimate features of the MNIST test set (t10k)",
	}
	if err := c.SaveFile(*path); err != nil {
		return err
	}
	st, err := os.Stat(*path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s (%d bytes)\n", *path, st.Size())
	return nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/platform"
	"github.com/ebmgo/ebm/quality"
)

func main() {
	ctx, stop := platform.NotifyContext(context.Background())
	code := exitCode(ctx, run(ctx, os.Args[1:], os.Stdout), os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode prints err in one line and returns the exit status: 0 for
// success and -h, 2 for a usage error, 128+n after signal n (130 for
// Ctrl-C), 1 for any other failure.
func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "train-classifier:", err)
	if code, ok := platform.ExitCode(ctx); ok {
		return code
	}
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// mnistOut is where the MNIST classifier goes: the file package quality
// embeds.
const mnistOut = "quality/classifier.safetensors"

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("train-classifier", flag.ContinueOnError)
	path := fs.String("out", "", "where to write the classifier (default for MNIST: "+mnistOut+"; required with -data)")
	epochs := fs.Int("epochs", 12, "passes over the training set")
	batch := fs.Int("batch", 128, "mini-batch size")
	lr := fs.Float64("lr", 2e-3, "Adam's peak learning rate")
	shift := fs.Int("shift", 2, "random translation of up to this many pixels (0: none)")
	flip := fs.Bool("flip", false, "random left-right mirror images (for photographs, not digits)")
	filters := fs.Int("filters", 16, "channels of the first convolution (doubled by each further one)")
	seed := fs.Uint64("seed", 1, "seed of the initial weights, the shuffling and the shifts")
	dir := fs.String("data", "", "labelled images: a folder with one sub-folder per class, IDX files or CIFAR-10 batches (default: MNIST from the Go module cache)")
	size := fs.String("size", "", "bring images to this size, N or WxH (default: as stored)")
	channels := fs.Int("channels", 0, "1 (gray) or 3 (RGB); 0: as stored")
	fit := fs.String("fit", "resize-crop", "how -size is reached: resize-crop, resize or crop")
	holdOut := fs.Float64("holdout", 0.1, "fraction of the training images held out as the test set when -data has no test split")
	limit := fs.Int("limit", 0, "train on n training images only: the first n, or an image folder's spread over its classes (0: all)")
	minAcc := fs.Float64("min-acc", 0, "fail without writing if the final test accuracy is below this")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	for name, v := range map[string]int{"-epochs": *epochs, "-batch": *batch, "-filters": *filters} {
		if v <= 0 {
			return usagef("%s %d: must be positive", name, v)
		}
	}
	if *shift < 0 || *shift > 8 {
		return usagef("-shift %d: must be in 0..8", *shift)
	}
	if *limit < 0 {
		return usagef("-limit %d: must be non-negative", *limit)
	}
	if !(*lr > 0) {
		return usagef("-lr %g: must be positive", *lr)
	}
	if !(*holdOut > 0 && *holdOut < 1) {
		return usagef("-holdout %g: must be above 0 and below 1", *holdOut)
	}
	if *path == "" {
		if *dir != "" {
			return usagef("-out: say where to write the classifier of %s, e.g. beside the run that will use it (runs/NAME/judge.safetensors)", *dir)
		}
		*path = mnistOut
	}
	icfg := datasets.ImagesConfig{Channels: *channels, Limit: *limit}
	var err error
	if icfg.Height, icfg.Width, err = datasets.ParseSize(*size); err != nil {
		return usagef("-size: %w", err)
	}
	if icfg.Fit, err = datasets.ParseFit(*fit); err != nil {
		return usagef("-fit: %w", err)
	}
	if *channels != 0 && *channels != 1 && *channels != 3 {
		return usagef("-channels %d: must be 1, 3 or 0 (as stored)", *channels)
	}
	icfg.Progress = loadProgress(out, *dir)

	train, test, held, err := datasets.LoadTrainTest(ctx, *dir, icfg, *holdOut, *seed)
	if err != nil {
		return err
	}
	if !train.Labelled() {
		return fmt.Errorf("%s has no labels: a classifier needs one sub-folder per class", train.Source)
	}
	if *batch > train.N {
		return fmt.Errorf("-batch %d: larger than the %d training images", *batch, train.N)
	}
	testFrom := test.Source
	if held {
		testFrom = fmt.Sprintf("held out from %s (-holdout %g, seed %d)", train.Source, *holdOut, *seed)
	}
	fmt.Fprintf(out, "data: %s, %d training images of %s (%s), %d test images (%s)\n",
		train.Format, train.N, shapeText(train.Shape()), train.Source, test.N, testFrom)
	fmt.Fprintf(out, "classes (%d): %s\n", len(train.Classes), strings.Join(train.Classes, ", "))
	fmt.Fprintf(out, "kernels: %s\n", platform.Kernels())

	c, err := quality.NewClassifierFor(rand.New(rand.NewPCG(*seed, 1)), quality.ClassifierConfig{
		Channels: train.Channels, Height: train.Height, Width: train.Width,
		ClassNames: train.Classes, Filters: *filters,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "model: %v\n", c.Net)
	cfg := quality.TrainConfig{
		Epochs: *epochs, Batch: *batch, LR: *lr, MaxShift: *shift, Flip: *flip, Seed: *seed,
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
	if test.N < 2 {
		return fmt.Errorf("%d test image: the reference statistics need at least 2; %s not written", test.N, *path)
	}
	if err := c.SetReference(ctx, test.Images, test.N); err != nil {
		return err
	}
	reference := "penultimate features of the MNIST test set (t10k)"
	if *dir != "" {
		reference = fmt.Sprintf("penultimate features of the %d test images (%s)", test.N, testFrom)
	}
	c.Meta = map[string]string{
		"test_accuracy": strconv.FormatFloat(res.TestAccuracy, 'f', 4, 64),
		"command":       strings.Join(append([]string{"go run ./cmd/train-classifier"}, args...), " "),
		"train_images":  strconv.Itoa(train.N),
		"epochs":        strconv.Itoa(*epochs),
		"reference":     reference,
	}
	if *dir != "" {
		c.Meta["data"] = *dir
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

// loadProgress prints a line when a load passes each tenth of its images
// and when it ends.
func loadProgress(out io.Writer, dir string) func(done, total int) {
	if dir == "" {
		dir = "MNIST"
	}
	next := -1
	start := time.Now()
	return func(done, total int) {
		if next < 0 {
			next = total / 10
		}
		if done < next && done < total {
			return
		}
		if done == total {
			fmt.Fprintf(out, "loaded %s: %d images in %s\n", dir, total, time.Since(start).Round(time.Millisecond))
			next, start = -1, time.Now()
			return
		}
		fmt.Fprintf(out, "loading %s: %d/%d images\n", dir, done, total)
		next = done + max(1, total/10)
	}
}

// shapeText formats a sample shape C×H×W.
func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, "×")
}

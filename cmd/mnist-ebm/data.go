package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/quality"
)

// mnistShape is the sample shape of MNIST, the default data.
var mnistShape = []int{1, 28, 28}

// imagesConfig is how the run reads its images (-size, -channels, -fit),
// validated by Config.validate.
func (c Config) imagesConfig() datasets.ImagesConfig {
	h, w, _ := datasets.ParseSize(c.Size)
	fit, _ := datasets.ParseFit(c.Fit)
	return datasets.ImagesConfig{Height: h, Width: w, Channels: c.Channels, Fit: fit}
}

// shape returns the shape (C, H, W) of the run's images: as training
// recorded it in the run's settings (-size and -channels), MNIST's for the
// default data, or else that of the first image of -data.
func (c Config) shape(ctx context.Context) ([]int, error) {
	h, w, err := datasets.ParseSize(c.Size)
	if err != nil {
		return nil, err
	}
	if h > 0 && c.Channels > 0 {
		return []int{c.Channels, h, w}, nil
	}
	if c.Data == "" && (h == 0 || h == 28 && w == 28) && (c.Channels == 0 || c.Channels == 1) {
		return mnistShape, nil
	}
	first, err := loadImages(ctx, c, datasets.Train, 1, nil)
	if err != nil {
		return nil, fmt.Errorf("the image shape of the model: %w", err)
	}
	return first.Shape(), nil
}

// record sets -size and -channels to the shape of the data training
// loaded, so that the run's settings rebuild the same model.
func (c *Config) record(data *datasets.ImageSet) {
	c.Size = fmt.Sprintf("%dx%d", data.Width, data.Height)
	c.Channels = data.Channels
}

// buildModel builds the run's network for images of the given shape with
// its initial parameters: -arch cnn (NewMNISTCNN's parameters for MNIST)
// or resnet, -hidden wide.
func (c Config) buildModel(shape []int) (*nn.Sequential, error) {
	rng := rand.New(rand.NewPCG(c.Seed, 1))
	if c.Arch == "resnet" {
		return nn.NewResNet(rng, nn.ResNetConfig{Channels: shape[0], Height: shape[1], Width: shape[2], Filters: c.Hidden})
	}
	cfg := nn.CNNConfig{Channels: shape[0], Height: shape[1], Width: shape[2], Hidden: c.Hidden}
	if c.noiseConditional() {
		return nn.NewNoiseCNN(rng, cfg)
	}
	return nn.NewCNN(rng, cfg)
}

// dataName names the run's data in messages.
func (c Config) dataName() string {
	if c.Data == "" {
		return "MNIST"
	}
	return c.Data
}

// loadImages reads a split of the run's data, reporting progress on out
// for large image folders.
func loadImages(ctx context.Context, cfg Config, split datasets.Split, limit int, out io.Writer) (*datasets.ImageSet, error) {
	icfg := cfg.imagesConfig()
	icfg.Limit = limit
	if out != nil && cfg.Data != "" {
		next, start := -1, time.Now()
		icfg.Progress = func(done, total int) {
			if next < 0 {
				next = total / 10
			}
			switch {
			case done == total && total >= 1000:
				fmt.Fprintf(out, "mnist-ebm: loaded %d %v images of %s in %s\n", total, split, cfg.Data, time.Since(start).Round(time.Millisecond))
			case done >= next && done < total && total >= 1000:
				fmt.Fprintf(out, "mnist-ebm: loading %s: %d/%d images\n", cfg.Data, done, total)
				next = done + total/10
			}
		}
	}
	return datasets.LoadImages(ctx, cfg.Data, split, icfg)
}

// loadTest reads the run's test split, or, for a source without one (an
// image folder without test/), the training split, saying so.
func loadTest(ctx context.Context, cfg Config, out io.Writer) (*datasets.ImageSet, string, error) {
	test, err := loadImages(ctx, cfg, datasets.Test, 0, out)
	if err == nil {
		return test, "test images", nil
	}
	if !errors.Is(err, datasets.ErrNotFound) || cfg.Data == "" {
		return nil, "", err
	}
	if _, e := datasets.DetectFormat(cfg.Data); e != nil {
		return nil, "", err
	}
	train, e := loadImages(ctx, cfg, datasets.Train, 0, out)
	if e != nil {
		return nil, "", e
	}
	fmt.Fprintf(out, "mnist-ebm: %s has no test split; evaluating on its training images\n", cfg.Data)
	return train, "training images", nil
}

// judgeFile is where a run keeps the classifier that scores its samples
// (written by cmd/train-classifier -out DIR/judge.safetensors).
const judgeFile = "judge.safetensors"

// judge returns the classifier that scores the run's samples, and what it
// is: -judge, else the run folder's judge.safetensors, else, for MNIST,
// the embedded digit classifier. With none, it returns nil and a hint
// saying how to train one.
func (c Config) judge(shape []int) (*quality.Classifier, string, error) {
	path := c.Judge
	if path == "" {
		p := filepath.Join(c.Dir, judgeFile)
		if _, err := os.Stat(p); err == nil {
			path = p
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	var clf *quality.Classifier
	var what string
	var err error
	switch {
	case path == "mnist" || path == "" && c.Data == "":
		clf, err = quality.LoadClassifier()
		what = "the digit classifier of package quality"
	case path == "":
		return nil, fmt.Sprintf("no judge for %s: train one with `go run ./cmd/train-classifier -data %s -out %s` (the images must be labelled), then run eval",
			c.Data, c.Data, filepath.Join(c.Dir, judgeFile)), nil
	default:
		clf, err = quality.LoadClassifierFile(path)
		what = "the classifier " + path
	}
	if err != nil {
		return nil, "", err
	}
	if s := clf.Shape(); s[0] != shape[0] || s[1] != shape[1] || s[2] != shape[2] {
		return nil, "", fmt.Errorf("%s takes images of %d×%d×%d, the run's are %d×%d×%d", what, s[0], s[1], s[2], shape[0], shape[1], shape[2])
	}
	return clf, what, nil
}

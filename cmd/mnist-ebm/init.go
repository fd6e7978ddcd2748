package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/trainer"
)

// initImages is how many training images -init gaussian fits its
// Gaussian to: the first ones of an IDX or CIFAR file (in random order
// already), spread evenly over an image folder.
const initImages = 10000

// initRidge keeps the fitted covariance positive definite where pixels
// never vary (MNIST's corners): 1% of the mean pixel variance.
const initRidge = 0.01

// startNoise returns what fresh chains start from (-init): uniform noise
// on [−1, 1], or draws from N(μ, Σ) fitted to the run's first training
// images, clamped to [−1, 1]. Training, sample and eval fit the same
// Gaussian, from the same images, so a model is sampled from the
// distribution it was trained from.
func (c Config) startNoise(ctx context.Context) (func(*rand.Rand, []float64), error) {
	if c.Init != "gaussian" {
		return trainer.UniformNoise, nil
	}
	images, err := loadImages(ctx, c, datasets.Train, initImages, nil)
	if err != nil {
		return nil, fmt.Errorf("-init gaussian: %w", err)
	}
	g, err := energy.FitGaussian(images.Images, images.N, initRidge)
	if err != nil {
		return nil, fmt.Errorf("-init gaussian: fitting %d images of %s: %w", images.N, c.dataName(), err)
	}
	return trainer.GaussianNoise(g, -1, 1), nil
}

// startText names the fresh chains' starting distribution in messages.
func (c Config) startText() string {
	if c.Init == "gaussian" {
		return "a Gaussian fitted to the data"
	}
	return "uniform noise"
}

// olderRunSettings completes the settings file of a run written before
// a setting existed, with the value every run then had: such runs
// trained on a replay buffer from uniform noise.
func olderRunSettings(keys []string, c *Config) {
	if !slices.Contains(keys, "chains") {
		c.Chains = "replay"
	}
	if !slices.Contains(keys, "init") {
		c.Init = "uniform"
	}
}

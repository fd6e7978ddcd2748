package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"sort"
	"unicode/utf8"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/safetensors"
	"github.com/ebmgo/ebm/quality"
	"github.com/ebmgo/ebm/trainer"
)

// scoreN is how many images every quality score uses: the Fréchet distance
// is biased upwards by O(1/N), so only scores of equally many images
// compare.
const scoreN = 1000

type scored struct {
	name string
	s    quality.Scores
}

// qualityTable scores each set of samples (the first scoreN images of
// each) with the run's judge (see Config.judge) and prints them beside
// real training images (from the run's data) and noise. Without a judge it
// says how to train one and scores nothing.
func qualityTable(ctx context.Context, w io.Writer, sets map[string][]float64, shape []int, cfg Config) error {
	clf, what, err := cfg.judge(shape)
	if err != nil {
		return err
	}
	if clf == nil {
		fmt.Fprintf(w, "\nSample quality: %s\n", what)
		return nil
	}
	dim := shape[0] * shape[1] * shape[2]
	var rows []scored
	names := make([]string, 0, len(sets))
	for k := range sets {
		names = append(names, k)
	}
	sort.Strings(names)
	n := scoreN
	for _, name := range names {
		n = min(n, len(sets[name])/dim)
	}
	// The real images for scale come from the training split: as many as
	// the samples, drawn from its first 10·n (IDX and CIFAR files are in
	// random order), or from all of an image folder, whose files come
	// class by class.
	limit := 10 * n
	if f, err := datasets.DetectFormat(cfg.Data); cfg.Data != "" && err == nil && f == datasets.FormatFolder {
		limit = 0
	}
	train, err := loadImages(ctx, cfg, datasets.Train, limit, nil)
	if err != nil {
		return err
	}
	n = min(n, train.N)
	if n < 2 {
		return fmt.Errorf("%s has %d training images: too few to score samples against", cfg.dataName(), train.N)
	}
	for _, name := range names {
		s, err := quality.Score(ctx, clf, sets[name][:n*dim], n)
		if err != nil {
			return fmt.Errorf("scoring %s: %w", name, err)
		}
		rows = append(rows, scored{name, s})
	}
	ref, err := quality.Reference(ctx, clf, quality.ReferenceConfig{N: n, Seed: cfg.Seed, Data: train})
	if err != nil {
		return err
	}
	realName := "real images of " + filepath.Base(cfg.Data) + " (for scale)"
	if cfg.Data == "" {
		realName = "real MNIST digits (for scale)"
	}
	rows = append(rows, scored{realName, ref.Real}, scored{"uniform noise (for scale)", ref.Noise})
	fmt.Fprintf(w, "\nSample quality, scored by %s (N = %d each)\n", what, n)
	width := 44
	for _, r := range rows {
		width = max(width, utf8.RuneCountInString(r.name))
	}
	fmt.Fprintf(w, "  %-*s %10s %8s %13s %11s %9s\n", width, "", "confidence", "p > 0.9", "class entropy", "clf. score", "FD")
	for _, r := range rows {
		pad := width - utf8.RuneCountInString(r.name)
		fmt.Fprintf(w, "  %s%*s %10.3f %7.1f%% %13.3f %11.2f %9.2f\n", r.name, pad, "", r.s.Confidence, 100*r.s.Confident, r.s.ClassEntropy, r.s.ClassifierScore, r.s.FD)
	}
	k := clf.NumClasses()
	fmt.Fprintf(w, "  (confidence: mean max p(class|x); class entropy: log %d = %.3f is balanced; FD: Fréchet distance of classifier features to test images, lower is better)\n", k, math.Log(float64(k)))
	return nil
}

// evalQuality scores samples drawn from noise, the run's replay buffer if
// it has a checkpoint, or the samples of a file given with -samples.
func evalQuality(ctx context.Context, cfg Config, m graph.Model, shape []int, w io.Writer) error {
	dim := shape[0] * shape[1] * shape[2]
	sets := map[string][]float64{}
	if cfg.Samples != "" {
		f, err := safetensors.Open(cfg.Samples)
		if err != nil {
			return fmt.Errorf("-samples: %w", err)
		}
		defer f.Close()
		for _, name := range f.Names() {
			x, err := f.Float64s(name, nil)
			if err != nil {
				return fmt.Errorf("-samples %s: %w", cfg.Samples, err)
			}
			if len(x)%dim != 0 || len(x) < 2*dim {
				return fmt.Errorf("-samples %s: tensor %q has %d values, want N×%s with N ≥ 2", cfg.Samples, name, len(x), shapeText(shape))
			}
			sets[fmt.Sprintf("%s: %s", cfg.Samples, name)] = x
		}
	} else {
		n := max(cfg.NumSamples, scoreN)
		x, err := drawSamples(ctx, cfg, m, shape, n, cfg.sampleSteps(), 0, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.modelPath(), err)
		}
		sets["fresh samples ("+cfg.samplesLabel()+")"] = x
		// The run's replay buffer, if it has a checkpoint: a corrupt one is
		// an error, not a row quietly left out. Objectives without model
		// samples, and short-run, PCD and CD chains, keep none.
		if cfg.keepsBuffer() {
			buf, _, err := trainer.ReadBuffer(cfg.Dir)
			switch {
			case err == nil:
				sets["replay buffer of the run (newest)"] = buf
			case !errors.Is(err, fs.ErrNotExist):
				return fmt.Errorf("the run's replay buffer: %w (move the checkpoint away to evaluate the model alone)", err)
			}
		}
	}
	return qualityTable(ctx, w, sets, shape, cfg)
}

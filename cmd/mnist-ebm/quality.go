package main

import (
	"context"
	"fmt"
	"io"
	"sort"

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
// each) with the embedded digit classifier and prints them beside real
// digits (from the run's -data folder, as training) and noise.
func qualityTable(ctx context.Context, w io.Writer, sets map[string][]float64, cfg Config) error {
	clf, err := quality.LoadClassifier()
	if err != nil {
		return err
	}
	var rows []scored
	names := make([]string, 0, len(sets))
	for k := range sets {
		names = append(names, k)
	}
	sort.Strings(names)
	n := scoreN
	for _, name := range names {
		n = min(n, len(sets[name])/784)
	}
	// The real digits for scale come from the training split: as many as
	// the samples, if it has that many.
	train, err := datasets.LoadMNIST(ctx, datasets.Train, datasets.MNISTConfig{Dir: cfg.Data, Limit: n})
	if err != nil {
		return err
	}
	n = min(n, train.N)
	for _, name := range names {
		s, err := quality.Score(ctx, clf, sets[name][:n*784], n)
		if err != nil {
			return fmt.Errorf("scoring %s: %w", name, err)
		}
		rows = append(rows, scored{name, s})
	}
	ref, err := quality.Reference(ctx, clf, quality.ReferenceConfig{N: n, Seed: cfg.Seed, Dir: cfg.Data})
	if err != nil {
		return err
	}
	rows = append(rows, scored{"real MNIST digits (for scale)", ref.Real}, scored{"uniform noise (for scale)", ref.Noise})
	fmt.Fprintf(w, "\nSample quality, scored by the digit classifier of package quality (N = %d each)\n", n)
	fmt.Fprintf(w, "  %-44s %10s %8s %13s %11s %9s\n", "", "confidence", "p > 0.9", "class entropy", "clf. score", "FD")
	for _, r := range rows {
		fmt.Fprintf(w, "  %-44s %10.3f %7.1f%% %13.3f %11.2f %9.2f\n", r.name, r.s.Confidence, 100*r.s.Confident, r.s.ClassEntropy, r.s.ClassifierScore, r.s.FD)
	}
	fmt.Fprintf(w, "  (confidence: mean max p(digit|x); class entropy: log 10 = 2.303 is balanced; FD: Fréchet distance of classifier features to test digits, lower is better)\n")
	return nil
}

// scoreRun scores the replay buffer at the end of training.
func scoreRun(ctx context.Context, cfg Config, m graph.Model, buffer []float64, w io.Writer) error {
	return qualityTable(ctx, w, map[string][]float64{"replay buffer (newest samples)": buffer}, cfg)
}

// evalQuality scores samples drawn from noise, the run's replay buffer if
// it has a checkpoint, or the samples of a file given with -samples.
func evalQuality(ctx context.Context, cfg Config, m graph.Model, w io.Writer) error {
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
			if len(x)%784 != 0 || len(x) < 2*784 {
				return fmt.Errorf("-samples %s: tensor %q has %d values, want N×1×28×28 with N ≥ 2", cfg.Samples, name, len(x))
			}
			sets[fmt.Sprintf("%s: %s", cfg.Samples, name)] = x
		}
	} else {
		n := max(cfg.NumSamples, scoreN)
		x, err := drawSamples(ctx, cfg, m, n, cfg.SampleSteps, 0, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.modelPath(), err)
		}
		sets[fmt.Sprintf("fresh samples (noise + %d Langevin steps)", cfg.SampleSteps)] = x
		if buf, _, err := trainer.ReadBuffer(cfg.Dir); err == nil {
			sets["replay buffer of the run (newest)"] = buf
		}
	}
	return qualityTable(ctx, w, sets, cfg)
}

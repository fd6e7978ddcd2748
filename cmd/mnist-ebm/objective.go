package main

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

var objectiveNames = map[string]bool{"cd": true, "icd": true, "dsm": true, "ssm": true, "nce": true}

// noiseConditional reports whether the run trains a noise-conditional
// score model: denoising score matching over a ladder of levels.
func (c Config) noiseConditional() bool { return c.Objective == "dsm" && c.Levels > 1 }

// sampled reports whether training draws model samples into the replay
// buffer (the CD objectives).
func (c Config) sampled() bool { return c.Objective == "cd" || c.Objective == "icd" }

// ladder is the run's noise levels, largest first.
func (c Config) ladder() ([]float64, error) {
	if c.Levels <= 1 {
		return []float64{c.Sigma}, nil
	}
	return trainer.GeometricLadder(c.SigmaMax, c.SigmaMin, c.Levels)
}

// objective is the trainer's Objective for the run's settings (nil: CD).
func (c Config) objective() trainer.Objective {
	switch c.Objective {
	case "icd":
		// The KL term's differentiable step is one more step of the run's
		// sampler: noise σ, then the gradient step λ.
		noise := c.Noise
		if noise == 0 {
			noise = -1
		}
		return trainer.ImprovedCD{KL: c.KL, KLStep: c.StepSize, KLNoise: noise}
	case "dsm":
		if c.Levels <= 1 {
			return trainer.DenoisingScoreMatching{Sigma: c.Sigma}
		}
		return trainer.DenoisingScoreMatching{Levels: c.Levels, SigmaMax: c.SigmaMax, SigmaMin: c.SigmaMin, Conditional: true}
	case "ssm":
		return trainer.SlicedScoreMatching{Rademacher: true}
	case "nce":
		return trainer.NCE{}
	}
	return nil
}

// describeObjective is the line train prints about what it minimises.
func (c Config) describeObjective() string {
	switch c.Objective {
	case "icd":
		return fmt.Sprintf("improved CD: the KL term (weight %g) through one more Langevin step", c.KL)
	case "dsm":
		if c.Levels <= 1 {
			return fmt.Sprintf("denoising score matching at σ = %g", c.Sigma)
		}
		return fmt.Sprintf("denoising score matching over %d noise levels %g … %g, noise-conditional; sampled by annealed Langevin (%d steps in all, ε = %g)",
			c.Levels, c.SigmaMax, c.SigmaMin, c.sampleSteps(), c.AnnealStep)
	case "ssm":
		return "sliced score matching (one Rademacher projection, variance-reduced)"
	case "nce":
		return "noise-contrastive estimation against a Gaussian fitted to the data, with a learned log Z"
	}
	return "contrastive divergence"
}

// drawAnnealed draws n samples of a noise-conditional model by annealed
// Langevin dynamics from uniform noise: steps in all over the run's
// levels, pixels clamped to [−1, 1], then Tweedie's denoising step at
// the smallest level. snap, if not nil, gets the first batch's chains at
// the end of every snapEvery-th step.
func drawAnnealed(ctx context.Context, cfg Config, m graph.Model, shape []int, n, steps, snapEvery int, snap func(step int, x []float64)) ([]float64, error) {
	ladder, err := cfg.ladder()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	batch := min(n, 128)
	dim := shape[0] * shape[1] * shape[2]
	e, err := graph.NewEnergy(m, graph.Config{Shape: shape, Batch: batch})
	if err != nil {
		return nil, err
	}
	k, err := sampling.NewAnnealedLangevin(e, sampling.AnnealedLangevinConfig{
		Sigmas: ladder, StepsPerLevel: max(1, steps/len(ladder)), StepSize: cfg.AnnealStep, Min: -1, Max: 1})
	if err != nil {
		return nil, err
	}
	out := make([]float64, 0, n*dim)
	x := make([]float64, batch*dim)
	for done := 0; done < n; done += batch {
		b := min(batch, n-done)
		trainer.UniformNoise(rng, x[:b*dim])
		x = x[:b*dim]
		s, err := k.Init(x, b)
		if err != nil {
			return nil, err
		}
		if snap != nil && done == 0 {
			snap(0, s.X)
		}
		divergent := 0
		for step := 1; !k.Done(); step++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var info sampling.Info
			if s, info, err = k.Step(rng, s); err != nil {
				return nil, err
			}
			divergent += info.Divergences()
			if snap != nil && done == 0 && snapEvery > 0 && step%snapEvery == 0 {
				snap(step, s.X)
			}
		}
		if divergent > 0 {
			return nil, fmt.Errorf("the model gave NaN or infinite energies or gradients in %d chain steps of annealed Langevin dynamics: its chains cannot move, so there are no samples to show", divergent)
		}
		if err := k.Denoise(s); err != nil {
			return nil, err
		}
		out = append(out, s.X...)
	}
	return out, nil
}

// samplerText says how sample and eval draw fresh samples.
func (c Config) samplerText() string {
	if c.noiseConditional() {
		return fmt.Sprintf("annealed Langevin from uniform noise: %d levels %g … %g, %d steps each (ε = %g), then Tweedie's step",
			c.Levels, c.SigmaMax, c.SigmaMin, max(1, c.sampleSteps()/c.Levels), c.AnnealStep)
	}
	return fmt.Sprintf("%d Langevin steps from %s", c.sampleSteps(), c.startText())
}

// samplesLabel names fresh samples in quality tables.
func (c Config) samplesLabel() string {
	if c.noiseConditional() {
		return fmt.Sprintf("noise + annealed Langevin, %d levels × %d steps", c.Levels, max(1, c.sampleSteps()/c.Levels))
	}
	if c.Init == "gaussian" {
		return fmt.Sprintf("fitted Gaussian + %d Langevin steps", c.sampleSteps())
	}
	return fmt.Sprintf("noise + %d Langevin steps", c.sampleSteps())
}

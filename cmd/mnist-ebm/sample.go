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

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/viz"
)

// modelPath is the file of parameters sample and eval load.
func (c Config) modelPath() string {
	if c.Model != "" {
		return c.Model
	}
	return filepath.Join(c.Dir, "model.safetensors")
}

// loadModel builds the run's network for its image shape and loads its
// trained parameters, after checking that what mode (sample or eval) will
// hold fits in memory.
func loadModel(ctx context.Context, cfg Config, mode string) (*nn.Sequential, []int, string, error) {
	path := cfg.modelPath()
	shape, err := cfg.shape(ctx)
	if err != nil {
		return nil, nil, path, err
	}
	if err := checkMemory(cfg.memoryNeeds(mode, shape[0]*shape[1]*shape[2])); err != nil {
		return nil, nil, path, err
	}
	m, err := cfg.buildModel(shape)
	if err != nil {
		return nil, nil, path, err
	}
	if err := nn.LoadFile(path, m); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, path, fmt.Errorf("no trained model at %s: train one first (go run ./cmd/mnist-ebm -dir %s) or give -model", path, cfg.Dir)
		}
		return nil, nil, path, fmt.Errorf("loading %s (built with -arch %s -hidden %d for %s images): %w", path, cfg.Arch, cfg.Hidden, shapeText(shape), err)
	}
	for _, p := range m.Params() {
		v := p.Float64s(nil)
		if k := firstNonFinite(v); k >= 0 {
			return nil, nil, path, fmt.Errorf("%s: parameter %q holds %g (element %d): a model with NaN or infinite parameters gives NaN energies", path, p.Name, v[k], k)
		}
	}
	return m, shape, path, nil
}

// shapeText formats a sample shape as C×H×W.
func shapeText(s []int) string {
	return fmt.Sprintf("%d×%d×%d", s[0], s[1], s[2])
}

// drawSamples runs the run's Langevin sampler on n chains from -init's
// noise for steps steps, in batches of at most 128 chains. snap, if not
// nil, is called with the first batch's chains every snapEvery steps.
func drawSamples(ctx context.Context, cfg Config, m graph.Model, shape []int, n, steps int, snapEvery int, snap func(step int, x []float64)) ([]float64, error) {
	if cfg.noiseConditional() {
		return drawAnnealed(ctx, cfg, m, shape, n, steps, snapEvery, snap)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	batch := min(n, 128)
	dim := shape[0] * shape[1] * shape[2]
	e, err := graph.NewEnergy(m, graph.Config{Shape: shape, Batch: batch})
	if err != nil {
		return nil, err
	}
	k, err := sampling.NewLangevin(e, cfg.langevin())
	if err != nil {
		return nil, err
	}
	noise, err := cfg.startNoise(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]float64, 0, n*dim)
	x := make([]float64, batch*dim)
	divergent := 0
	for done := 0; done < n; done += batch {
		b := min(batch, n-done)
		noise(rng, x[:b*dim])
		if b != batch { // the last, smaller batch compiles its own machines once
			x = x[:b*dim]
		}
		s, err := k.Init(x, b)
		if err != nil {
			return nil, err
		}
		if snap != nil && done == 0 {
			snap(0, s.X)
		}
		for step := 1; step <= steps; step++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var info sampling.Info
			if s, info, err = k.Step(rng, s); err != nil {
				return nil, err
			}
			for _, d := range info.Divergent {
				if d {
					divergent++
				}
			}
			if snap != nil && done == 0 && snapEvery > 0 && step%snapEvery == 0 {
				snap(step, s.X)
			}
		}
		// A chain whose energy or gradient was ever NaN or infinite stood
		// still at that step; its end point is no sample of the model.
		if c := firstNonFinite(s.F); c >= 0 || divergent > 0 {
			return nil, fmt.Errorf("the model gave NaN or infinite energies or gradients in %d of %d Langevin transitions (chains 1–%d, %d steps each): its chains cannot move, so there are no samples to show", divergent, steps*(done+b), done+b, steps)
		}
		out = append(out, s.X...)
	}
	return out, nil
}

func sample(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	out := cfg.Out
	if out == "" {
		out = filepath.Join(cfg.Dir, "samples.png")
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return fmt.Errorf("-out %s is a directory; give a file name such as %s: %w", out, filepath.Join(out, "samples.png"), errUsage)
	}
	m, shape, path, err := loadModel(ctx, cfg, "sample")
	if err != nil {
		return err
	}
	dim := shape[0] * shape[1] * shape[2]
	if err := checkWritable(filepath.Dir(out)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "mnist-ebm: %d samples from %s, %s\n", cfg.NumSamples, path, cfg.samplerText())
	// The chain figure: 8 chains (rows) at 9 moments (columns).
	const chains, cols = 8, 9
	every := max(1, cfg.sampleSteps()/(cols-1))
	evolution := make([]float64, chains*cols*dim)
	record := func(col int, x []float64) {
		for c := range min(chains, len(x)/dim) {
			copy(evolution[(c*cols+col)*dim:][:dim], x[c*dim:(c+1)*dim])
		}
	}
	x, err := drawSamples(ctx, cfg, m, shape, cfg.NumSamples, cfg.sampleSteps(), every, func(step int, x []float64) {
		if col := step / every; col < cols {
			record(col, x)
		}
	})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	grid := viz.GridConfig{Low: -1, High: 1, Scale: 2}
	if err := viz.SaveImageGrid(out, x, shape, grid); err != nil {
		return err
	}
	chainPath := filepath.Join(filepath.Dir(out), "sample_chains.png")
	grid.Cols = cols
	if err := viz.SaveImageGrid(chainPath, evolution, shape, grid); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  wrote %s and %s (8 chains, left to right: steps 0, %d, %d, ...)\n", out, chainPath, every, 2*every)
	return nil
}

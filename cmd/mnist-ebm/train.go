package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/atomicfile"
	"github.com/ebmgo/ebm/internal/runlock"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
	"github.com/ebmgo/ebm/trainer/monitor"
	"github.com/ebmgo/ebm/viz"
)

// langevin is the sampler of the run: the UvA tutorial's Langevin dynamics
// with the run's step size, noise and gradient clip.
func (c Config) langevin() sampling.LangevinConfig {
	l := sampling.ClippedLangevin(c.StepSize, c.Noise)
	l.GradClip = c.GradClip
	return l
}

// checkWritable makes dir and checks a file can be written in it, so that
// a run fails at once rather than at its first checkpoint.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create run folder: %w", err)
	}
	f, err := os.CreateTemp(dir, ".write-test.tmp*")
	if err != nil {
		return fmt.Errorf("cannot write to run folder %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// trainingFiles are the files training writes in the run folder; the
// sub-folders samples, buffer and landscape hold only training's pictures.
var trainingFiles = map[string]bool{
	"checkpoint.safetensors": true, "model.safetensors": true, "metrics.jsonl": true,
	"config.json": true, "config-history.jsonl": true, "loss.png": true, "energy.png": true,
	"samples_final.png": true, "write-test": true,
}

// removeStaleTemps removes the temporary files of training's files that a
// killed run left in dir (up to one checkpoint's size each); the caller
// holds dir's lock, so no other training writes them. sample's outputs
// are left alone, since a sample command may be writing them.
func removeStaleTemps(dir string) (n int, size int64, err error) {
	for sub, keep := range map[string]func(string) bool{
		"":          func(t string) bool { return trainingFiles[t] },
		"samples":   func(string) bool { return true },
		"buffer":    func(string) bool { return true },
		"landscape": func(string) bool { return true },
	} {
		removed, b, err := atomicfile.RemoveTemps(filepath.Join(dir, sub), keep)
		n, size = n+len(removed), size+b
		if err != nil {
			return n, size, fmt.Errorf("removing temporary files left in %s: %w", dir, err)
		}
	}
	return n, size, nil
}

func train(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	// A rank of a data-parallel run (torchrun, or -nproc) joins the others
	// first; only rank 0 writes the run folder and reports.
	group, err := joinRun(ctx, cfg)
	if err != nil {
		return err
	}
	if group != nil {
		defer group.Close()
		stdout = quiet(group, stdout)
	}
	if group == nil || group.Rank() == 0 {
		if err := checkWritable(cfg.Dir); err != nil {
			return err
		}
		// One training per run folder: a second one would interleave its
		// checkpoints and metrics with the first's.
		lock, err := runlock.Acquire(cfg.Dir)
		if err != nil {
			return err
		}
		defer lock.Release()
		if n, size, err := removeStaleTemps(cfg.Dir); err != nil {
			return err
		} else if n > 0 {
			fmt.Fprintf(stdout, "mnist-ebm: removed %d temporary files (%.1f MB) that an interrupted run left in %s\n", n, float64(size)/1e6, cfg.Dir)
		}
		if err := cfg.checkResume(); err != nil {
			return err
		}
	}
	sched, err := optim.ParseSchedule(cfg.Schedule)
	if err != nil {
		return fmt.Errorf("-schedule: %v: %w", err, errUsage)
	}
	backend, compute, err := newBackend(cfg, localRank(group))
	if err != nil {
		return err
	}
	start := time.Now()
	images, err := loadImages(ctx, cfg, datasets.Train, 0, stdout)
	if err != nil {
		return err
	}
	// The model is sized from the data; the run's settings record the
	// shape for sample and eval.
	cfg.record(images)
	shape := images.Shape()
	print := fingerprint(images)
	if err := cfg.checkData(print); err != nil {
		return err
	}
	if err := checkMemory(cfg.memoryNeeds("train", images.Dim())); err != nil {
		return err
	}
	model, err := cfg.buildModel(shape)
	if err != nil {
		return fmt.Errorf("%s: %w", images.Source, err)
	}
	data, err := rankData(images, cfg, group)
	if err != nil {
		return err
	}
	lcfg := cfg.langevin()
	chains, err := trainer.ParseChains(cfg.Chains)
	if err != nil {
		return fmt.Errorf("-chains: %v: %w", err, errUsage)
	}
	noise, err := cfg.startNoise(ctx)
	if err != nil {
		return err
	}
	bar := newProgressBar(stderr)
	bar.scoreOnly = !cfg.sampled()
	policy := trainer.Stop
	if cfg.OnDiverge == "rollback" {
		policy = trainer.Rollback
	}
	tcfg := trainer.Config{
		Shape: shape, Iterations: cfg.Iterations, Alpha: cfg.Alpha,
		Adam:         optim.AdamConfig{LR: cfg.LR, Beta1: cfg.Beta1, Beta2: cfg.Beta2},
		ClipGradNorm: cfg.ClipNorm, Schedule: sched,
		Chains: chains, Noise: noise, Steps: cfg.Steps, BufferSize: cfg.Buffer, ReinitProb: reinit(cfg.Reinit),
		Kernel: func(e energy.Differentiable) (sampling.Kernel, error) {
			return sampling.NewLangevin(e, lcfg)
		},
		DataNoise: cfg.DataNoise, DataMin: -1, DataMax: 1,
		MaxGap: cfg.MaxGap, OnDiverge: policy,
		Dir: cfg.Dir, CheckpointEvery: cfg.CheckpointEvery,
		Monitors: []trainer.Monitor{&monitor.Pictures{Every: cfg.SampleEvery}},
		Seed:     cfg.Seed, Backend: backend, Progress: bar.update,
		Objective: cfg.objective(),
	}
	if group != nil {
		tcfg.Collective = group
	}
	tr, err := trainer.New(model, data, tcfg)
	if err != nil {
		return err
	}
	defer tr.Close()
	if group == nil || group.Rank() == 0 {
		if err := cfg.writeSettings(tr.Iteration(), print); err != nil {
			return err
		}
	}
	if cfg.Data == "" {
		fmt.Fprintf(stdout, "mnist-ebm: training %s, %d parameters, on %d MNIST digits\n", model, graph.NumParams(model), images.N)
	} else {
		fmt.Fprintf(stdout, "mnist-ebm: training %s, %d parameters, on %d images of %s (%s, %s)\n",
			model, graph.NumParams(model), images.N, shapeText(shape), images.Source, images.Format)
	}
	fmt.Fprintf(stdout, "  backend %s, %d threads; run folder %s\n", compute, runtime.GOMAXPROCS(0), cfg.Dir)
	if group != nil {
		buffer := ""
		if cfg.keepsBuffer() {
			buffer = fmt.Sprintf(" and a buffer of %d", cfg.Buffer)
		}
		fmt.Fprintf(stdout, "  data-parallel: %d ranks (%s), each with 1/%d of the images, a batch of %d%s; gradients averaged (%d samples per update)\n",
			group.Size(), group.Backend(), group.Size(), cfg.Batch, buffer, cfg.Batch*group.Size())
	}
	if cfg.sampled() {
		fmt.Fprintf(stdout, "  %d iterations of batch %d; %d Langevin steps (λ=%g, σ=%g, clip ±%g) %s; Adam lr %g β=(%g, %g); α=%g\n",
			cfg.Iterations, cfg.Batch, cfg.Steps, cfg.StepSize, cfg.Noise, cfg.GradClip, cfg.chainsText(), cfg.LR, cfg.Beta1, cfg.Beta2, cfg.Alpha)
	} else {
		fmt.Fprintf(stdout, "  %d iterations of batch %d; Adam lr %g β=(%g, %g)\n", cfg.Iterations, cfg.Batch, cfg.LR, cfg.Beta1, cfg.Beta2)
	}
	fmt.Fprintf(stdout, "  objective: %s\n", cfg.describeObjective())
	if r := tr.Resumed(); r > 0 {
		fmt.Fprintf(stdout, "  resuming from the checkpoint at iteration %d\n", r)
	}
	for _, ch := range cfg.resume.changes {
		fmt.Fprintf(stdout, "  changed on resuming: %s\n", ch)
	}
	if tr.Iteration() >= cfg.Iterations {
		fmt.Fprintf(stdout, "  already trained for %d iterations; raise -iterations to go on\n", tr.Iteration())
	}
	runCtx := ctx
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	startIter := tr.Iteration()
	err = tr.Run(runCtx)
	bar.finish()
	switch {
	case err == nil:
	case ctx.Err() != nil:
		fmt.Fprintf(stdout, "mnist-ebm: stopped at iteration %d; checkpoint saved in %s — run the same command to resume\n", tr.Iteration(), cfg.Dir)
		return context.Canceled
	case errors.Is(err, context.DeadlineExceeded) && tr.Iteration() == startIter:
		// Not one iteration fitted in: no new samples to draw or score.
		fmt.Fprintf(stdout, "mnist-ebm: -duration %s ended before the first iteration finished: nothing was trained; checkpoint of iteration %d saved in %s (raise -duration to train)\n", cfg.Duration, tr.Iteration(), cfg.Dir)
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stdout, "mnist-ebm: -duration %s reached at iteration %d; checkpoint saved (raise -duration or rerun to go on)\n", cfg.Duration, tr.Iteration())
	case errors.Is(err, sampling.ErrDiverged):
		hint := "try a smaller -lr"
		if cfg.OnDiverge == "stop" {
			hint += ", or -on-diverge rollback"
		}
		return fmt.Errorf("%w (%s)", err, hint)
	default:
		return err
	}
	if group != nil && group.Rank() != 0 {
		return nil // rank 0 draws and scores the run's samples
	}
	elapsed := time.Since(start)
	fmt.Fprintf(stdout, "mnist-ebm: trained to iteration %d in %s; wrote %s\n", tr.Iteration(), elapsed.Round(time.Second), cfg.Dir)
	if h := tr.History(); len(h) > 0 {
		m := h[len(h)-1]
		if cfg.sampled() {
			fmt.Fprintf(stdout, "  last iteration: f(data) %+.4f, f(samples) %+.4f, gap %+.4f, loss %+.4f\n", m.FPos, m.FNeg, m.Gap, m.Loss)
		} else {
			fmt.Fprintf(stdout, "  last iteration: loss %+.4f\n", m.Loss)
		}
	}
	// What sample writes: fresh samples from noise, scored beside the
	// replay buffer's newest samples where the run keeps one. The final
	// picture is of the buffer (the chains training ended with), or of
	// fresh samples for runs without one.
	fmt.Fprintf(stdout, "  drawing %d fresh samples (%s)\n", scoreN, cfg.samplerText())
	x, err := drawSamples(ctx, cfg, model, shape, scoreN, cfg.sampleSteps(), 0, nil)
	if err != nil {
		return err
	}
	sets := map[string][]float64{"fresh samples (" + cfg.samplesLabel() + ")": x}
	final := x[:64*images.Dim()]
	if buf := tr.Buffer(); buf != nil {
		sets["replay buffer (newest samples)"] = buf.Samples(buf.Len())
		final = buf.Samples(64)
	}
	if err := viz.SaveImageGrid(filepath.Join(cfg.Dir, "samples_final.png"), final, shape,
		viz.GridConfig{Low: -1, High: 1, Scale: 2}); err != nil {
		return err
	}
	return qualityTable(ctx, stdout, sets, shape, cfg)
}

// chainsText says where the training chains start, for the start-up line.
func (c Config) chainsText() string {
	switch c.Chains {
	case "short-run":
		return "from " + c.startText() + " every iteration (short-run)"
	case "pcd":
		return "continued from the last iteration (persistent CD)"
	case "cd":
		return "from the data batch (CD-k)"
	}
	return fmt.Sprintf("from a buffer of %d, %.0f%% fresh from %s", c.Buffer, 100*c.Reinit, c.startText())
}

// keepsBuffer reports whether training keeps a replay buffer, which eval
// scores beside fresh samples.
func (c Config) keepsBuffer() bool { return c.sampled() && c.Chains == "replay" }

// sampleSteps is how many Langevin steps sample and eval run from noise:
// -sample-steps, or training's -steps when it is 0 — the chain a
// short-run model was trained to run.
func (c Config) sampleSteps() int {
	if c.SampleSteps == 0 {
		return c.Steps
	}
	return c.SampleSteps
}

// reinit maps the flag's 0 ("never") to the trainer's "never".
func reinit(p float64) float64 {
	if p == 0 {
		return -1
	}
	return p
}

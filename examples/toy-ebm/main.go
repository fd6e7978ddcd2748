package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/platform"
	"github.com/ebmgo/ebm/trainer"
	"github.com/ebmgo/ebm/viz"
)

func main() {
	ctx, stop := platform.NotifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaults is the recipe of the results table in examples/README.md.
func defaults() config {
	return config{
		Dir:        filepath.Join("runs", "toy-ebm"),
		Data:       datasets.ToyNames(),
		Hidden:     128,
		InitScale:  4,
		Iterations: 10000,
		Batch:      256,
		Steps:      4,
		Sampler:    "hmc",
		StepSize:   0.05,
		Accept:     0.8,
		Leapfrogs:  5,
		LR:         3e-3,
		MinLR:      1e-4,
		Beta1:      0.9,
		Alpha:      0.01,
		Buffer:     10000,
		Reinit:     0.05,
		Restart:    "data",
		Train:      50000,
		Seed:       1,
		Test:       20480,
		Grid:       512,
		Chains:     2000,
		EvalSteps:  100,
		PictureRes: 200,
		Jobs:       runtime.GOMAXPROCS(0),
	}
}

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := defaults()
	fs := flag.NewFlagSet("toy-ebm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", strings.Join(cfg.Data, ","), "comma-separated toy data sets")
	fs.StringVar(&cfg.Dir, "out", cfg.Dir, "output folder")
	fs.IntVar(&cfg.Hidden, "hidden", cfg.Hidden, "width of the MLP's two hidden layers")
	fs.Float64Var(&cfg.InitScale, "init-scale", cfg.InitScale, "factor on the first layer's initial weights and biases")
	fs.IntVar(&cfg.Iterations, "iters", cfg.Iterations, "training iterations per data set")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "batch size (data and model samples)")
	fs.IntVar(&cfg.Steps, "steps", cfg.Steps, "sampler steps per iteration")
	fs.StringVar(&cfg.Sampler, "sampler", cfg.Sampler, "training sampler: mala (step adapted to -accept) or langevin (unadjusted, σ = √ε)")
	fs.Float64Var(&cfg.StepSize, "step", cfg.StepSize, "MALA's initial step h, or Langevin's ε")
	fs.Float64Var(&cfg.Accept, "accept", cfg.Accept, "MALA's or HMC's target acceptance rate")
	fs.IntVar(&cfg.Leapfrogs, "leapfrogs", cfg.Leapfrogs, "HMC's leapfrog steps per transition")
	fs.Float64Var(&cfg.Clip, "clip", cfg.Clip, "Langevin's gradient clip (0: none)")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "Adam learning rate")
	fs.Float64Var(&cfg.MinLR, "min-lr", cfg.MinLR, "final learning rate of the cosine schedule (0: constant rate)")
	fs.Float64Var(&cfg.Beta1, "beta1", cfg.Beta1, "Adam β1")
	fs.Float64Var(&cfg.Alpha, "alpha", cfg.Alpha, "energy regulariser α·mean(f(x⁺)² + f(x⁻)²)")
	fs.Float64Var(&cfg.ClipGrad, "clip-grad", cfg.ClipGrad, "clip the parameters' gradient norm to this (0: no clipping)")
	fs.IntVar(&cfg.Buffer, "buffer", cfg.Buffer, "replay-buffer capacity")
	fs.Float64Var(&cfg.Reinit, "reinit", cfg.Reinit, "probability that a chain restarts from uniform noise over the box")
	fs.StringVar(&cfg.Restart, "restart", cfg.Restart, "where restarted chains begin: uniform (over the box), data (training points) or mixed")
	fs.IntVar(&cfg.Train, "train", cfg.Train, "training points")
	fs.IntVar(&cfg.Test, "test", cfg.Test, "test points")
	fs.IntVar(&cfg.Grid, "grid", cfg.Grid, "quadrature intervals per axis (even)")
	fs.IntVar(&cfg.Chains, "chains", cfg.Chains, "model samples drawn for the pictures")
	fs.IntVar(&cfg.EvalSteps, "eval-steps", cfg.EvalSteps, "MALA steps from the replay buffer for those samples")
	fs.IntVar(&cfg.PictureRes, "res", cfg.PictureRes, "heatmap cells per axis")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	fs.IntVar(&cfg.Jobs, "jobs", cfg.Jobs, "data sets trained at once")
	fs.BoolVar(&cfg.Fresh, "fresh", false, "delete earlier checkpoints in -dir instead of resuming from them")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: toy-ebm [flags]\n\nTrains an EBM on 2-D toy data and reports test NLL and KL(p_data‖p_θ).\nData sets: %s.\n\n", strings.Join(datasets.ToyNames(), ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.Data = nil
	for _, d := range strings.Split(*data, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if _, err := datasets.ToyByName(d); err != nil {
			return cfg, fmt.Errorf("-data: %w", err)
		}
		cfg.Data = append(cfg.Data, d)
	}
	return cfg, cfg.validate()
}

func (c config) validate() error {
	switch {
	case len(c.Data) == 0:
		return errors.New("-data: no data set")
	case c.Sampler != "mala" && c.Sampler != "hmc" && c.Sampler != "langevin":
		return fmt.Errorf("-sampler %q: want mala, hmc or langevin", c.Sampler)
	case c.Restart != "uniform" && c.Restart != "data" && c.Restart != "mixed":
		return fmt.Errorf("-restart %q: want uniform, data or mixed", c.Restart)
	case c.Hidden < 1 || c.Iterations < 1 || c.Batch < 1 || c.Steps < 1:
		return errors.New("-hidden, -iters, -batch and -steps must be positive")
	case c.StepSize <= 0 || c.LR <= 0:
		return errors.New("-step and -lr must be positive")
	case c.Accept <= 0 || c.Accept >= 1:
		return fmt.Errorf("-accept %g: want a rate in (0, 1)", c.Accept)
	case c.Train < c.Batch:
		return fmt.Errorf("-train %d: want at least one batch (%d)", c.Train, c.Batch)
	case c.Test < 2 || c.Chains < 1 || c.EvalSteps < 0 || c.PictureRes < 2:
		return errors.New("-test must be at least 2, -chains and -res positive, -eval-steps not negative")
	case c.Grid < 4 || c.Grid%2 != 0:
		return fmt.Errorf("-grid %d: want an even number ≥ 4", c.Grid)
	case c.Jobs < 1:
		return fmt.Errorf("-jobs %d: want at least 1", c.Jobs)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "toy-ebm: %v\n", err)
		return 2
	}
	rep, err := study(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "toy-ebm: %v\n", err)
		if code, ok := platform.ExitCode(ctx); ok {
			fmt.Fprintln(stderr, "toy-ebm: interrupted; checkpoints are written, the same command resumes")
			return code
		}
		return 1
	}
	rep.markdown(stdout)
	return 0
}

// study trains and evaluates every data set of cfg, cfg.Jobs at a time,
// and writes the table and pictures into cfg.Dir.
func study(ctx context.Context, cfg config, log io.Writer) (*report, error) {
	start, cpu0 := time.Now(), platform.CPUSeconds()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runs := make([]*toyRun, len(cfg.Data))
	errs := make([]error, len(cfg.Data))
	var mu sync.Mutex
	logf := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(log, format, a...)
	}
	logf("toy-ebm: %d data sets, %d at a time, %d iterations each, output in %s\n", len(cfg.Data), cfg.Jobs, cfg.Iterations, cfg.Dir)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.Jobs, len(cfg.Data)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				name := cfg.Data[i]
				var last time.Time
				progress := func(p trainer.Progress) {
					if p.Iteration != p.Iterations && time.Since(last) < 15*time.Second {
						return
					}
					last = time.Now()
					logf("  %-12s iter %5d/%d  %5.1f it/s  f+ %+7.3f  f− %+7.3f  accept %.2f  ETA %s\n",
						name, p.Iteration, p.Iterations, p.ItPerSec, p.Metrics.FPos, p.Metrics.FNeg, p.Metrics.Accept, p.ETA.Round(time.Second))
				}
				r, err := runToy(ctx, cfg, name, progress)
				if err == nil {
					err = r.savePictures()
				}
				if err != nil {
					errs[i] = err
					cancel()
					continue
				}
				runs[i] = r
				x := r.result
				logf("%-12s done: NLL %.4f ± %.4f (H %.4f, untrained %.3f), KL %.4f ± %.4f nats, log Z err %.1e, edge mass %.1e, %.0f s\n",
					name, x.NLL, x.NLLSE, x.Entropy, x.UntrainedNLL, x.KL, x.KLSE, x.QuadErr, x.EdgeMass, x.TrainSec+x.EvalSec)
			}
		}()
	}
	for i := range cfg.Data {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rep := &report{Config: cfg, GoArch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	for _, r := range runs {
		rep.Results = append(rep.Results, r.result)
	}
	if err := saveSummary(filepath.Join(cfg.Dir, "summary.png"), runs); err != nil {
		return nil, err
	}
	rep.WallSec, rep.CPUSec = time.Since(start).Seconds(), platform.CPUSeconds()-cpu0
	b, err := rep.json()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, "results.json"), b, 0o644); err != nil {
		return nil, err
	}
	var md strings.Builder
	rep.markdown(&md)
	if err := os.WriteFile(filepath.Join(cfg.Dir, "results.md"), []byte(md.String()), 0o644); err != nil {
		return nil, err
	}
	logf("toy-ebm: wrote %s (results.md, results.json, summary.png); %.0f s wall, %.0f s CPU\n", cfg.Dir, rep.WallSec, rep.CPUSec)
	return rep, nil
}

// savePictures writes density.png into the data set's folder.
func (r *toyRun) savePictures() error {
	truth, learned, err := r.fields()
	if err != nil {
		return err
	}
	imgs, err := r.panels(truth, learned, 420, 400, true)
	if err != nil {
		return err
	}
	return viz.SavePNG(filepath.Join(r.cfg.Dir, r.toy.Name(), "density.png"), viz.Tile(imgs, 3))
}

// saveSummary writes one picture of every data set: data density beside
// the model's, with samples, two data sets per row.
func saveSummary(path string, runs []*toyRun) error {
	var imgs []image.Image
	for _, r := range runs {
		truth, learned, err := r.fields()
		if err != nil {
			return err
		}
		p, err := r.panels(truth, learned, 250, 240, false)
		if err != nil {
			return err
		}
		imgs = append(imgs, p...)
	}
	return viz.SavePNG(path, viz.Tile(imgs, 4))
}

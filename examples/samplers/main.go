package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ebmgo/ebm/platform"
)

func main() {
	ctx, stop := platform.NotifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// defaults are the settings of the table in examples/README.md.
func defaults() config {
	return config{
		Dir:      filepath.Join("runs", "samplers"),
		Targets:  targetNames,
		Samplers: samplerNames,
		Chains:   4,
		Warmup:   1000,
		Draws:    2000,
		MALAMult: 10,
		HMCTime:  2,
		Jitter:   0.2,
		Cond:     1e4,
		Reps:     3,
		Seed:     1,
		Jobs:     runtime.GOMAXPROCS(0),
		Res:      240,
	}
}

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := defaults()
	fs := flag.NewFlagSet("samplers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tg := fs.String("targets", strings.Join(cfg.Targets, ","), "comma-separated targets: "+strings.Join(targetNames, ", "))
	sm := fs.String("samplers", strings.Join(cfg.Samplers, ","), "comma-separated samplers: "+strings.Join(samplerNames, ", "))
	fs.StringVar(&cfg.Dir, "dir", cfg.Dir, "run folder: results and pictures")
	fs.IntVar(&cfg.Chains, "chains", cfg.Chains, "chains per run")
	fs.IntVar(&cfg.Warmup, "warmup", cfg.Warmup, "warm-up iterations of HMC and NUTS")
	fs.IntVar(&cfg.Draws, "draws", cfg.Draws, "draws per chain of HMC and NUTS")
	fs.IntVar(&cfg.MALAMult, "mala-mult", cfg.MALAMult, "MALA runs this many times the warm-up and draws (it pays one gradient per iteration)")
	fs.Float64Var(&cfg.HMCTime, "hmc-time", cfg.HMCTime, "HMC's integration time in the adapted metric: ⌊T/ε⌋ leapfrog steps")
	fs.Float64Var(&cfg.Jitter, "jitter", cfg.Jitter, "HMC's step-size jitter, a fraction in [0, 1)")
	fs.Float64Var(&cfg.Cond, "cond", cfg.Cond, "condition number of the 100-d Gaussian")
	fs.IntVar(&cfg.Reps, "reps", cfg.Reps, "independent repetitions (seeds) of every run")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	fs.IntVar(&cfg.Jobs, "jobs", cfg.Jobs, "runs at once")
	fs.IntVar(&cfg.Res, "res", cfg.Res, "heatmap cells per axis")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: samplers [flags]\n\nHMC, NUTS and MALA on targets with exact moments; writes a results table and pictures.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.Targets, err = list("-targets", *tg, targetNames); err != nil {
		return cfg, err
	}
	if cfg.Samplers, err = list("-samplers", *sm, samplerNames); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate()
}

// list splits a comma-separated flag and checks every name is known.
func list(flagName, v string, known []string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(known, s) {
			return nil, fmt.Errorf("%s: unknown %q (want some of %s)", flagName, s, strings.Join(known, ", "))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty", flagName)
	}
	return out, nil
}

func (c config) validate() error {
	switch {
	case c.Chains < 2:
		return fmt.Errorf("-chains %d: R̂ needs at least 2", c.Chains)
	case c.Warmup < 0 || c.Draws < 4 || c.MALAMult < 1 || c.Reps < 1 || c.Jobs < 1 || c.Res < 2:
		return errors.New("-warmup must not be negative, -draws at least 4, and -mala-mult, -reps, -jobs, -res positive")
	case !(c.HMCTime > 0):
		return fmt.Errorf("-hmc-time %g: want a positive time", c.HMCTime)
	case !(c.Jitter >= 0 && c.Jitter < 1):
		return fmt.Errorf("-jitter %g: want a fraction in [0, 1)", c.Jitter)
	case !(c.Cond >= 1):
		return fmt.Errorf("-cond %g: want at least 1", c.Cond)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "samplers: %v\n", err)
		return 2
	}
	rep, err := study(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "samplers: %v\n", err)
		if code, ok := platform.ExitCode(ctx); ok {
			return code
		}
		return 1
	}
	rep.markdown(stdout)
	return 0
}

// job is one run of the study.
type job struct {
	t       *target
	sampler string
	rep     int
}

// study runs every target × sampler × repetition, cfg.Jobs at a time,
// and writes the table and pictures into cfg.Dir.
func study(ctx context.Context, cfg config, log io.Writer) (*report, error) {
	start, cpu0 := time.Now(), platform.CPUSeconds()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	rep := &report{Config: cfg, Targets: map[string]string{}, CPUs: runtime.NumCPU()}
	var targets []*target
	var jobs []job
	for _, name := range cfg.Targets {
		t, err := newTarget(name, cfg.Cond, cfg.Seed)
		if err != nil {
			return nil, err
		}
		targets = append(targets, t)
		rep.Targets[name] = t.Desc
		for r := range cfg.Reps {
			for _, s := range cfg.Samplers {
				jobs = append(jobs, job{t, s, r})
			}
		}
	}
	fmt.Fprintf(log, "samplers: %d runs (%d targets × %d samplers × %d repetitions), %d at a time, output in %s\n",
		len(jobs), len(targets), len(cfg.Samplers), cfg.Reps, cfg.Jobs, cfg.Dir)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outs := make([]*runOutput, len(jobs))
	errs := make([]error, len(jobs))
	var mu sync.Mutex
	done := 0
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.Jobs, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := jobs[i]
				o, err := runOne(ctx, j.t, j.sampler, j.rep, cfg)
				mu.Lock()
				done++
				if err != nil {
					errs[i] = err
					cancel()
				} else {
					outs[i] = o
					fmt.Fprintf(log, "  [%2d/%d] %-10s %-4s rep %d: min bulk ESS %6.0f, %8.0f grads/chain, max R̂ %.3f, max |z| %.1f mean %.1f var, %d divergent, %.1f s\n",
						done, len(jobs), j.t.Name, j.sampler, j.rep+1, o.MinESSBulk, o.Grads, o.MaxRHat, o.MaxZMean, o.MaxZVar, o.Divergences, o.WarmupSec+o.SampleSec)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	byTarget := map[string][]*runOutput{}
	for _, o := range outs {
		rep.Results = append(rep.Results, o.runResult)
		if o.Rep == 0 {
			byTarget[o.Target] = append(byTarget[o.Target], o)
		}
	}
	if err := pictures(cfg.Dir, targets, byTarget, cfg.Res); err != nil {
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
	fmt.Fprintf(log, "samplers: wrote %s (results.md, results.json, pictures); %.0f s wall, %.0f s CPU\n", cfg.Dir, rep.WallSec, rep.CPUSec)
	return rep, nil
}

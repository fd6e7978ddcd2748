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
	"strings"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/platform"
)

func main() {
	ctx, stop := platform.NotifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is one run of the study.
type config struct {
	Dir        string        `json:"dir"`
	Data       []string      `json:"data"`
	Objectives []string      `json:"objectives"`
	Budget     time.Duration `json:"budget"` // wall-clock training time per data set and objective
	Hidden     int           `json:"hidden"` // MLP 2-H-H-1, SiLU
	Batch      int           `json:"batch"`
	LR         float64       `json:"lr"`
	Train      int           `json:"train"` // training points
	Test       int           `json:"test"`  // test points
	Grid       int           `json:"grid"`  // quadrature intervals per axis
	Seed       uint64        `json:"seed"`
}

func defaults() config {
	return config{
		Dir:        filepath.Join("runs", "score-matching"),
		Data:       datasets.ToyNames(),
		Objectives: objectiveNames(),
		Budget:     20 * time.Second,
		Hidden:     128,
		Batch:      256,
		LR:         1e-3,
		Train:      50000,
		Test:       20480,
		Grid:       400,
		Seed:       1,
	}
}

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := defaults()
	fs := flag.NewFlagSet("score-matching", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", strings.Join(cfg.Data, ","), "comma-separated toy data sets")
	objs := fs.String("objectives", strings.Join(cfg.Objectives, ","), "comma-separated objectives: "+strings.Join(objectiveNames(), ", "))
	fs.StringVar(&cfg.Dir, "dir", cfg.Dir, "run folder: results and pictures")
	fs.DurationVar(&cfg.Budget, "budget", cfg.Budget, "wall-clock training time per data set and objective")
	fs.IntVar(&cfg.Hidden, "hidden", cfg.Hidden, "width of the MLP's two hidden layers")
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "batch size")
	fs.Float64Var(&cfg.LR, "lr", cfg.LR, "Adam learning rate (β = 0.9, 0.999, constant)")
	fs.IntVar(&cfg.Train, "train", cfg.Train, "training points drawn from each toy")
	fs.IntVar(&cfg.Test, "test", cfg.Test, "test points")
	fs.IntVar(&cfg.Grid, "grid", cfg.Grid, "quadrature intervals per axis for log Z")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Data = split(*data)
	cfg.Objectives = split(*objs)
	for _, d := range cfg.Data {
		if _, err := datasets.ToyByName(d); err != nil {
			return cfg, fmt.Errorf("-data: %w", err)
		}
	}
	for _, o := range cfg.Objectives {
		if _, ok := recipes[o]; !ok {
			return cfg, fmt.Errorf("-objectives: unknown objective %q (want %s)", o, strings.Join(objectiveNames(), ", "))
		}
	}
	switch {
	case len(cfg.Data) == 0 || len(cfg.Objectives) == 0:
		return cfg, errors.New("-data and -objectives must name at least one each")
	case cfg.Budget <= 0:
		return cfg, fmt.Errorf("-budget %v: want a positive duration", cfg.Budget)
	case cfg.Hidden < 1 || cfg.Batch < 1 || cfg.Train < cfg.Batch || cfg.Test < 2 || cfg.Grid < 8:
		return cfg, fmt.Errorf("-hidden %d, -batch %d, -train %d, -test %d, -grid %d: want ≥ 1, ≥ 1, ≥ batch, ≥ 2, ≥ 8", cfg.Hidden, cfg.Batch, cfg.Train, cfg.Test, cfg.Grid)
	case !(cfg.LR > 0):
		return cfg, fmt.Errorf("-lr %v: want positive", cfg.LR)
	}
	return cfg, nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "score-matching:", err)
		return 2
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		fmt.Fprintln(stderr, "score-matching:", err)
		return 1
	}
	start := time.Now()
	rep := &report{Config: cfg, CPUs: runtime.GOMAXPROCS(0)}
	for _, name := range cfg.Data {
		s, err := newStudy(cfg, name)
		if err != nil {
			fmt.Fprintln(stderr, "score-matching:", err)
			return 1
		}
		for _, obj := range cfg.Objectives {
			r, err := s.train(ctx, obj)
			if err != nil {
				if code, ok := platform.ExitCode(ctx); ok {
					fmt.Fprintln(stderr, "score-matching: interrupted")
					return code
				}
				fmt.Fprintf(stderr, "score-matching: %s, %s: %v\n", name, obj, err)
				return 1
			}
			fmt.Fprintf(stderr, "%-12s %-5s %6d iterations in %5.1f s: KL %.3f ± %.3f nats\n", name, obj, r.Iterations, r.TrainSec, r.KL, r.KLSE)
			rep.Results = append(rep.Results, r)
		}
		rep.pictures = append(rep.pictures, s.panels...)
	}
	rep.WallSec = time.Since(start).Seconds()
	if err := rep.write(cfg.Dir, len(cfg.Objectives)+1); err != nil {
		fmt.Fprintln(stderr, "score-matching:", err)
		return 1
	}
	rep.markdown(stdout)
	return 0
}

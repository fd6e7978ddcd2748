package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/ebmgo/ebm/platform"
	"github.com/ebmgo/ebm/torch/dist"
)

const usageHead = `usage: mnist-ebm [train|sample|eval] [flags]

  train   train a CNN energy on MNIST, or on -data DIR (default); resumes from -dir's checkpoint
  sample  draw samples from a trained model with Langevin dynamics, write a PNG
  eval    AUROC of test images against noise, corrupted and shifted images,
          and sample quality scored by a classifier (MNIST's, or DIR/judge.safetensors)

Settings: -preset (%s), then -config FILE.json, then flags.
Resuming: training in a run folder with a checkpoint resumes it with the
run's settings (DIR/config.json); flags, -config and an explicit -preset
may change only -iterations, -duration, -checkpoint-every, -sample-every,
-backend, -device, the data-parallel transport and what only sample and
eval use (and -data, to the same images elsewhere). Any other change is
refused unless -allow-changed-settings; every training segment's settings
are kept in DIR/config-history.jsonl.

`

// errUsage marks errors caused by the command line: exit code 2.
var errUsage = errors.New("usage")

func main() {
	// SIGINT, SIGTERM and SIGHUP cancel ctx: training writes a checkpoint
	// and the command exits with 128 + the signal; a second one exits at
	// once.
	ctx, stop := platform.NotifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	all := args
	mode := "train"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	if mode != "train" && mode != "sample" && mode != "eval" {
		fmt.Fprintf(stderr, "mnist-ebm: unknown mode %q (want train, sample or eval; -h for help)\n", mode)
		return 2
	}
	cfg, err := parse(mode, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "mnist-ebm: %v\n", strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	}
	if mode == "train" && cfg.NProc > 1 && !dist.InEnv() {
		return launchRanks(ctx, cfg, all, stdout, stderr)
	}
	switch mode {
	case "train":
		err = train(ctx, cfg, stdout, stderr)
	case "sample":
		err = sample(ctx, cfg, stdout, stderr)
	case "eval":
		err = eval(ctx, cfg, stdout, stderr)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		if code, ok := platform.ExitCode(ctx); ok {
			fmt.Fprintf(stderr, "mnist-ebm: stopped: %v\n", context.Cause(ctx))
			return code
		}
		fmt.Fprintf(stderr, "mnist-ebm: interrupted\n")
		return 130
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "mnist-ebm: %s\n", strings.TrimSuffix(err.Error(), ": "+errUsage.Error()))
		return 2
	default:
		fmt.Fprintf(stderr, "mnist-ebm: %v\n", err)
		return 1
	}
}

// parse builds the configuration: preset, then the run folder's saved
// config (sample and eval), then -config, then the flags given. Training
// in a folder with a checkpoint takes the run's saved settings with only
// what the command line sets explicitly changed, and lists those changes
// (see settings.go).
func parse(mode string, args []string, stderr io.Writer) (Config, error) {
	preset, file, dir, data := "default", "", "", ""
	presetGiven := false
	for i := 0; i < len(args); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || (name != "preset" && name != "config" && name != "dir" && name != "data") {
			continue
		}
		if !hasVal && i+1 < len(args) {
			val = args[i+1]
		}
		switch name {
		case "preset":
			preset, presetGiven = val, true
		case "config":
			file = val
		case "dir":
			dir = val
		case "data":
			data = val
		}
	}
	cfg, ok := presets[preset]
	if !ok {
		return cfg, fmt.Errorf("-preset %q: want one of %s: %w", preset, presetNames(), errUsage)
	}
	presetDir := cfg.Dir
	if mode != "train" {
		d := cfg.Dir
		if dir == "" && data != "" {
			d = runDirFor(data)
		}
		if dir != "" {
			d = dir
		}
		if _, err := os.Stat(filepath.Join(d, "config.json")); err == nil {
			keys, err := loadConfigFile(filepath.Join(d, "config.json"), "the run's settings", &cfg)
			if err != nil {
				return cfg, err
			}
			olderRunSettings(keys, &cfg)
		}
	}
	var fileKeys []string
	if file != "" {
		var err error
		if fileKeys, err = loadConfigFile(file, "-config", &cfg); err != nil {
			return cfg, err
		}
	}
	fs := flag.NewFlagSet("mnist-ebm", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bind(fs, &cfg)
	fs.String("preset", "default", "preset: "+presetNames())
	fs.String("config", "", "JSON file of settings (keys are flag names)")
	allow := fs.Bool("allow-changed-settings", false, "train: resume a run even with settings that change what it computes (kept in DIR/config-history.jsonl)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, usageHead, presetNames())
			fs.SetOutput(stderr)
			fs.PrintDefaults()
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if dir == "" && cfg.Dir == presetDir && cfg.Data != "" {
		cfg.Dir = runDirFor(cfg.Data)
	}
	if mode == "train" {
		r := resumeInfo{allow: *allow, args: append([]string{mode}, args...)}
		if _, err := os.Stat(filepath.Join(cfg.Dir, "checkpoint.safetensors")); err == nil {
			r.resuming = true
			explicit := map[string]bool{}
			for _, k := range fileKeys {
				explicit[k] = true
			}
			fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
			if presetGiven { // every setting the preset gives a value
				v := reflect.ValueOf(presets[preset])
				for i := range v.NumField() {
					if v.Type().Field(i).IsExported() && !v.Field(i).IsZero() {
						explicit[v.Type().Field(i).Tag.Get("json")] = true
					}
				}
			}
			if _, err := os.Stat(filepath.Join(cfg.Dir, settingsFile)); err == nil {
				var err error
				if cfg, r.changes, err = resumeSettings(cfg, explicit, filepath.Join(cfg.Dir, settingsFile)); err != nil {
					return cfg, err
				}
			}
		}
		cfg.resume = r
	}
	return cfg, cfg.validate(mode)
}

// runDirFor is the run folder of training on data when -dir is not given:
// runs/NAME, NAME the last element of the data's path.
func runDirFor(data string) string {
	name := filepath.Base(filepath.Clean(data))
	if name == "." || name == ".." || name == string(filepath.Separator) {
		name = "data"
	}
	return filepath.Join("runs", name)
}

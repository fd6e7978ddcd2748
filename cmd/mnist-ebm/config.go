package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/ebmgo/ebm/datasets"
)

// Config is every setting of a run. Flags, a JSON config file (-config) and
// presets (-preset) all set these fields; the JSON keys are the flag names.
type Config struct {
	Dir    string `json:"dir"`    // run folder
	Data   string `json:"data"`   // training images (format detected); empty: MNIST from the Go module cache
	Seed   uint64 `json:"seed"`   // random seed
	Hidden int    `json:"hidden"` // CNN width: channels hidden/2, hidden, 2·hidden; ResNet: channels of the first stage

	// The images: training records the size and channels it used, so
	// that sample and eval rebuild the same model.
	Size     string `json:"size"`     // N or WxH; empty: as stored
	Channels int    `json:"channels"` // 1 or 3; 0: as stored
	Fit      string `json:"fit"`      // resize-crop, resize or crop
	Arch     string `json:"arch"`     // cnn or resnet
	Judge    string `json:"judge"`    // classifier scoring samples; empty: DIR/judge.safetensors, or MNIST's

	Iterations int           `json:"iterations"` // parameter updates
	Duration   time.Duration `json:"duration"`   // stop (with a checkpoint) after this long; 0: no limit
	Batch      int           `json:"batch"`
	LR         float64       `json:"lr"`
	Beta1      float64       `json:"beta1"`
	Beta2      float64       `json:"beta2"`
	Alpha      float64       `json:"alpha"` // energy regulariser
	ClipNorm   float64       `json:"clip-norm"`
	Schedule   string        `json:"schedule"`   // optim.ParseSchedule syntax
	DataNoise  float64       `json:"data-noise"` // Gaussian noise on data batches

	Steps    int     `json:"steps"`     // Langevin steps per iteration
	StepSize float64 `json:"step-size"` // Langevin step size λ (x += λ·∇f)
	Noise    float64 `json:"noise"`     // Langevin noise σ
	GradClip float64 `json:"grad-clip"` // per-pixel gradient clip
	Buffer   int     `json:"buffer"`    // replay buffer capacity
	Reinit   float64 `json:"reinit"`    // fresh-noise probability
	Chains   string  `json:"chains"`    // where chains start: replay, short-run, pcd or cd (trainer.ParseChains)
	Init     string  `json:"init"`      // what fresh chains start from: uniform or gaussian (fitted to the data)

	// The training objective (trainer.Objective): cd, icd, dsm, ssm or
	// nce. dsm with -levels ≥ 2 trains a noise-conditional score model
	// over the geometric ladder -sigma-max … -sigma-min, sampled by
	// annealed Langevin dynamics.
	Objective string  `json:"objective"`
	KL        float64 `json:"kl"`        // icd: weight of the KL term
	Sigma     float64 `json:"sigma"`     // dsm with -levels 1: the noise level
	SigmaMax  float64 `json:"sigma-max"` // dsm: the ladder's largest level
	SigmaMin  float64 `json:"sigma-min"` // dsm: the ladder's smallest level
	Levels    int     `json:"levels"`    // dsm: noise levels (1: one level, -sigma)

	MaxGap    float64 `json:"max-gap"`    // |f(data) − f(samples)| beyond this is a divergence; 0: no bound
	OnDiverge string  `json:"on-diverge"` // rollback or stop

	CheckpointEvery int    `json:"checkpoint-every"`
	SampleEvery     int    `json:"sample-every"`
	Backend         string `json:"backend"` // go or torch
	Device          string `json:"device"`  // torch device: auto, cpu, cuda

	// Data-parallel training (builds with -tags torch): each rank trains
	// on its shard of the images with its own buffer; gradients are
	// averaged over the ranks.
	NProc       int           `json:"nproc"`        // train: start this many ranks on this host; 0 or 1: one process
	MasterPort  int           `json:"master-port"`  // -nproc: the rendezvous port; 0: a free one
	DistBackend string        `json:"dist-backend"` // auto, gloo or nccl
	DistTimeout time.Duration `json:"dist-timeout"` // bounds the rendezvous and every collective

	// sample and eval
	Model       string  `json:"model"`        // parameters to load; empty: DIR/model.safetensors
	SampleSteps int     `json:"sample-steps"` // Langevin steps from noise (annealed: in all, over the levels); 0: -steps
	AnnealStep  float64 `json:"anneal-step"`  // annealed Langevin's ε at the smallest level
	NumSamples  int     `json:"num-samples"`
	Out         string  `json:"out"` // sample: PNG path
	Samples     string  `json:"samples"`

	// resume is no setting: what parse learned about resuming the run
	// folder (see settings.go).
	resume resumeInfo
}

// presets are named starting points; flags and config files override them.
var presets = map[string]Config{
	// default: short-run training (Nijkamp et al. 2019) from an
	// informative start. Every iteration starts all 128 chains afresh
	// from N(μ, Σ) fitted to the training images and runs 60 steps of
	// the tutorial's Langevin dynamics (λ = 10, σ = 0.005, gradient
	// clipped to ±0.03, pixels clamped to [−1, 1]); sample and eval run
	// the very same chain, so what training shapes is what users get.
	// The CNN, α = 0.1 and Adam β = (0, 0.999) are the tutorial's; the
	// learning rate 1e-3 anneals to 1e-5 (cosine) so that the last update
	// does not move the model away from its own samples. About 10
	// minutes on 2 cores; the README has the measurements behind each
	// choice.
	"default": {
		Dir: "runs/mnist", Seed: 1, Hidden: 32,
		Iterations: 1500, Batch: 128, LR: 1e-3, Beta1: 0, Beta2: 0.999, Alpha: 0.1, DataNoise: 0.005,
		Schedule: "cosine:1500:1e-5",
		Steps:    60, StepSize: 10, Noise: 0.005, GradClip: 0.03, Buffer: 8192, Reinit: 0.05, Chains: "short-run", Init: "gaussian",
		Objective: "cd", KL: 1, Sigma: 0.1, SigmaMax: 2, SigmaMin: 0.02, Levels: 10,
		MaxGap: 5, OnDiverge: "rollback", Fit: "resize-crop", Arch: "cnn",
		CheckpointEvery: 100, SampleEvery: 100, Backend: "go", Device: "auto",
		DistBackend: "auto", DistTimeout: 10 * time.Minute,
		SampleSteps: 0, AnnealStep: 8e-5, NumSamples: 64,
	},
}

func init() {
	// tutorial-lr2e-3: the published MNIST EBM recipe (UvA deep-learning
	// tutorial 8 after Du & Mordatch 2019: replay buffer of 8192 samples
	// with 5% fresh uniform noise, 60 Langevin steps per iteration) with
	// Adam's learning rate 2e-3 instead of 1e-4, which learns digits some
	// 10 times faster; fresh samples are 256 steps from uniform noise, as
	// the tutorial draws them. The buffer's samples are good, fresh ones
	// are not: the README compares it with the default.
	tut := presets["default"]
	tut.Dir, tut.LR, tut.Schedule, tut.Chains, tut.Init, tut.SampleSteps = "runs/mnist-tutorial-lr2e-3", 2e-3, "", "replay", "uniform", 256
	presets["tutorial-lr2e-3"] = tut
	long := tut
	// long: four times tutorial-lr2e-3's training, the learning rate
	// annealed to 1e-4 (cosine) so that the model settles instead of
	// oscillating.
	long.Dir, long.Iterations, long.CheckpointEvery, long.SampleEvery = "runs/mnist-long", 6000, 250, 500
	long.Schedule = "cosine:6000:1e-4"
	presets["long"] = long
	// quick: a tiny replay-buffer run to try the command (seconds).
	quick := tut
	quick.Dir, quick.Iterations, quick.Steps, quick.Hidden, quick.Buffer = "runs/mnist-quick", 20, 10, 8, 512
	quick.CheckpointEvery, quick.SampleEvery, quick.SampleSteps, quick.NumSamples = 10, 10, 20, 16
	presets["quick"] = quick
	// dsm: a noise-conditional score model (NewNoiseCNN) trained by
	// denoising score matching over 10 levels σ = 2 … 0.02 (NCSN, Song &
	// Ermon 2019, their MNIST ladder 1 … 0.01 scaled to pixels in
	// [−1, 1]), sampled by annealed Langevin dynamics, 100 steps per level
	// with ε = 8e-5 (their 2e-5 likewise scaled) and Tweedie's final
	// step. An iteration is one loss evaluation, no sampling: many more
	// iterations fit in the default's 10 minutes.
	dsm := tut
	dsm.Dir, dsm.Objective, dsm.Iterations, dsm.LR, dsm.Beta1 = "runs/mnist-dsm", "dsm", 8000, 1e-3, 0.9
	dsm.Alpha, dsm.DataNoise, dsm.CheckpointEvery, dsm.SampleEvery, dsm.SampleSteps = 0, 0, 500, 1000, 1000
	presets["dsm"] = dsm
}

func presetNames() string {
	var n []string
	for k := range presets {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ", ")
}

// bind registers a flag for every Config field, pointing into c.
func bind(fs *flag.FlagSet, c *Config) {
	help := map[string]string{
		"dir":  "run folder: checkpoints, metrics, pictures (a run resumes from it)",
		"data": "training images, format detected: a folder of PNG/JPEG/GIF files (one sub-folder per class, or none), IDX files (Fashion-MNIST, KMNIST, EMNIST DIR/emnist-SET) or CIFAR-10 batches (default: MNIST from the Go module cache)",
		"seed": "random seed", "hidden": "CNN width (channels hidden/2, hidden, 2·hidden); ResNet: channels of its first stage",
		"size": "bring every image to this size, N or WxH (default: as stored)", "channels": "1 (gray) or 3 (RGB); 0: as stored",
		"fit":        "how -size is reached: resize-crop (keep the aspect ratio, cut the centre), resize (stretch) or crop",
		"arch":       "energy network: cnn (the tutorial CNN sized from the images) or resnet (a small IGEBM-style ResNet)",
		"judge":      "classifier that scores samples, from cmd/train-classifier (default: DIR/judge.safetensors, or the embedded MNIST one for MNIST; \"mnist\": the embedded one)",
		"iterations": "parameter updates", "duration": "stop with a checkpoint after this long, e.g. 10m (0: no limit)",
		"batch": "batch size", "lr": "Adam learning rate", "beta1": "Adam β1", "beta2": "Adam β2",
		"alpha": "energy regulariser α", "clip-norm": "clip the gradient norm (0: off)",
		"schedule":   "learning-rate schedule: constant, step:EVERY:GAMMA, exp:GAMMA, cosine:TOTAL[:MIN][,warmup:N]",
		"data-noise": "Gaussian noise added to data batches", "steps": "Langevin steps per iteration",
		"step-size": "Langevin step size λ (x ← x + λ·clip(∇f) + σ·ξ)", "noise": "Langevin noise σ",
		"grad-clip": "clip ∇f per pixel to ±this", "buffer": "replay buffer capacity", "reinit": "probability a chain restarts from noise",
		"chains":    "where each iteration's chains start: replay (a buffer of -buffer past samples, -reinit of them fresh noise), short-run (every chain from uniform noise for -steps steps, the sampler that sample then runs; no buffer), pcd (the same chains go on) or cd (at the data batch)",
		"init":      "what fresh chains start from, in training and in sample and eval: uniform (noise on [−1, 1]) or gaussian (N(μ, Σ) fitted to the first 10 000 training images, clamped to [−1, 1])",
		"objective": "training objective: cd (contrastive divergence), icd (CD with improved CD's KL term), dsm (denoising score matching; noise-conditional over a ladder with -levels ≥ 2, sampled by annealed Langevin), ssm (sliced score matching) or nce (noise-contrastive estimation)",
		"kl":        "icd: weight of the KL term (gradient through the last Langevin step)",
		"sigma":     "dsm with -levels 1: the noise level σ", "sigma-max": "dsm: the largest noise level of the ladder", "sigma-min": "dsm: the smallest noise level of the ladder",
		"levels":           "dsm: noise levels, geometric from -sigma-max to -sigma-min (1: one level, -sigma, an unconditional model)",
		"anneal-step":      "sampling a dsm run with -levels ≥ 2: annealed Langevin's step ε at the smallest level (αᵢ = ε σᵢ²/σ_min²)",
		"max-gap":          "an energy gap |f(data) − f(samples)| beyond this counts as divergence (0: no bound)",
		"on-diverge":       "on NaN/Inf or a gap past -max-gap: rollback (to the last checkpoint, learning rate halved) or stop",
		"checkpoint-every": "iterations between checkpoints", "sample-every": "iterations between sample grids",
		"backend": "go (Gorgonia, pure Go) or torch (libtorch; needs a build with -tags torch)", "device": "torch device: auto, cpu or cuda",
		"nproc":        "train on this many processes of this host, data-parallel (each a shard of the images, a batch of -batch, its own -buffer); needs -tags torch; under torchrun leave it out",
		"master-port":  "-nproc: TCP port of the rendezvous on 127.0.0.1 (0: a free one)",
		"dist-backend": "data-parallel backend: auto (nccl for -backend torch on CUDA, else gloo), gloo or nccl",
		"dist-timeout": "data-parallel runs: how long to wait for the other ranks (rendezvous, every collective) before failing",
		"model":        "parameters to load (default: DIR/model.safetensors)",
		"sample-steps": "Langevin steps from noise when sampling (0: as many as training's -steps)", "num-samples": "number of samples to draw",
		"out": "sample: PNG file to write (default: DIR/samples.png)", "samples": "eval: score samples from this safetensors file (tensors of N×C×H×W values, N×1×28×28 for MNIST) instead of drawing them",
	}
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if !t.Field(i).IsExported() {
			continue
		}
		name := t.Field(i).Tag.Get("json")
		p := v.Field(i).Addr().Interface()
		switch p := p.(type) {
		case *string:
			fs.StringVar(p, name, *p, help[name])
		case *int:
			fs.IntVar(p, name, *p, help[name])
		case *uint64:
			fs.Uint64Var(p, name, *p, help[name])
		case *float64:
			fs.Float64Var(p, name, *p, help[name])
		case *time.Duration:
			fs.DurationVar(p, name, *p, help[name])
		default:
			panic(fmt.Sprintf("config field %s has unsupported type %T", name, p))
		}
	}
}

// maxSettingsFile bounds what is read of a settings file: -config
// /dev/zero, or a config.json linked to it, must not read without end.
const maxSettingsFile = 1 << 20

// readSmallFile reads a settings file of at most maxSettingsFile bytes;
// what names the file in errors ("-config" or the run's config.json). A
// pipe (-config /dev/stdin) is read too, up to the bound.
func readSmallFile(path, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s %s is a directory, not a JSON settings file", what, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSettingsFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	if len(b) > maxSettingsFile {
		return nil, fmt.Errorf("%s %s: larger than %d KiB, not a JSON settings file", what, path, maxSettingsFile>>10)
	}
	return b, nil
}

// loadConfigFile reads a JSON config; unknown keys are errors so that a
// typo does not pass silently. Durations are strings such as "10m". what
// names the file in errors. It returns the keys the file sets.
func loadConfigFile(path, what string, c *Config) ([]string, error) {
	b, err := readSmallFile(path, what)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for key, dst := range map[string]*time.Duration{"duration": &c.Duration, "dist-timeout": &c.DistTimeout} {
		d, ok := raw[key]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(d, &s); err != nil {
			return nil, fmt.Errorf("%s %s: %s must be a string such as \"10m\"", what, path, key)
		}
		dur, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %s: %w", what, path, key, err)
		}
		*dst = dur
		delete(raw, key)
	}
	rest, _ := json.Marshal(raw)
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return keys, nil
}

// MarshalJSON writes Duration as a string, as loadConfigFile reads it.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	b, err := json.Marshal(plain(c))
	if err != nil {
		return nil, err
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	m["duration"] = c.Duration.String()
	m["dist-timeout"] = c.DistTimeout.String()
	return json.MarshalIndent(m, "", "  ")
}

func (c *Config) validate(mode string) error {
	// Every float setting must be a finite number: NaN passes no
	// comparison and Inf passes "positive", so they are refused first,
	// naming the flag, before the range checks below.
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		if f, ok := v.Field(i).Interface().(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return fmt.Errorf("-%s %g: must be a finite number", v.Type().Field(i).Tag.Get("json"), f)
		}
	}
	type check struct {
		bad  bool
		flag string
		msg  string
	}
	for _, k := range []check{
		{c.Hidden < 2, "hidden", "must be at least 2"},
		{c.Iterations <= 0, "iterations", "must be positive"},
		{c.Duration < 0, "duration", "must not be negative"},
		{c.Batch <= 0, "batch", "must be positive"},
		{!(c.LR > 0), "lr", "must be positive"},
		{c.Beta1 < 0 || c.Beta1 >= 1, "beta1", "must be in [0, 1)"},
		{c.Beta2 <= 0 || c.Beta2 >= 1, "beta2", "must be in (0, 1)"},
		{c.Alpha < 0, "alpha", "must not be negative"},
		{c.ClipNorm < 0, "clip-norm", "must not be negative"},
		{c.DataNoise < 0, "data-noise", "must not be negative"},
		{c.Steps <= 0, "steps", "must be positive"},
		{!(c.StepSize > 0), "step-size", "must be positive"},
		{c.Noise < 0, "noise", "must not be negative"},
		{c.GradClip < 0, "grad-clip", "must not be negative"},
		{c.Buffer <= 0, "buffer", "must be positive"},
		{c.Reinit < 0 || c.Reinit > 1, "reinit", "must be in [0, 1]"},
		{c.Chains != "replay" && c.Chains != "short-run" && c.Chains != "pcd" && c.Chains != "cd", "chains", "must be replay, short-run, pcd or cd"},
		{c.Init != "uniform" && c.Init != "gaussian", "init", "must be uniform or gaussian"},
		{!(c.MaxGap >= 0), "max-gap", "must not be negative"},
		{c.OnDiverge != "rollback" && c.OnDiverge != "stop", "on-diverge", "must be rollback or stop"},
		{c.CheckpointEvery <= 0, "checkpoint-every", "must be positive"},
		{c.SampleSteps < 0, "sample-steps", "must not be negative (0: as many as -steps)"},
		{c.NumSamples <= 0, "num-samples", "must be positive"},
		{c.Backend != "go" && c.Backend != "torch", "backend", "must be go or torch"},
		{c.Device != "auto" && c.Device != "cpu" && c.Device != "cuda", "device", "must be auto, cpu or cuda"},
		{c.NProc < 0, "nproc", "must not be negative"},
		{c.MasterPort < 0 || c.MasterPort > 65535, "master-port", "must be a TCP port, 0 to 65535 (0: a free one)"},
		{c.DistBackend != "auto" && c.DistBackend != "gloo" && c.DistBackend != "nccl", "dist-backend", "must be auto, gloo or nccl"},
		{c.DistTimeout <= 0, "dist-timeout", "must be positive"},
		{c.Dir == "", "dir", "must not be empty"},
		{c.Channels != 0 && c.Channels != 1 && c.Channels != 3, "channels", "must be 1, 3 or 0 (as stored)"},
		{c.Arch != "cnn" && c.Arch != "resnet", "arch", "must be cnn or resnet"},
		{!objectiveNames[c.Objective], "objective", "must be cd, icd, dsm, ssm or nce"},
		{c.KL < 0, "kl", "must not be negative"},
		{c.Levels < 1, "levels", "must be at least 1"},
		{c.Objective == "dsm" && c.Levels == 1 && !(c.Sigma > 0), "sigma", "must be positive"},
		{c.Objective == "dsm" && c.Levels > 1 && !(c.SigmaMin > 0 && c.SigmaMax > c.SigmaMin), "sigma-max", "must exceed -sigma-min, and -sigma-min be positive"},
		{c.noiseConditional() && c.Arch != "cnn", "arch", "must be cnn for a noise-conditional dsm run (-levels ≥ 2)"},
		{!(c.AnnealStep > 0), "anneal-step", "must be positive"},
	} {
		if k.bad {
			return fmt.Errorf("-%s %s", k.flag, k.msg)
		}
	}
	if _, _, err := datasets.ParseSize(c.Size); err != nil {
		return fmt.Errorf("-size %q: want N or WxH with sides 1 to 4096", c.Size)
	}
	if _, err := datasets.ParseFit(c.Fit); err != nil {
		return fmt.Errorf("-fit %q: must be resize-crop, resize or crop", c.Fit)
	}
	return nil
}

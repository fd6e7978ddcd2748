package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := run(context.Background(), args, &out, &errw)
	return code, out.String(), errw.String()
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-no-such-flag"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"fly"}, `unknown mode "fly"`},
		{[]string{"-preset", "huge"}, `-preset "huge"`},
		{[]string{"-lr", "-1"}, "-lr must be positive"},
		{[]string{"-iterations", "x"}, `invalid value "x" for flag -iterations`},
		{[]string{"-backend", "tpu"}, "-backend must be go or torch"},
		{[]string{"-schedule", "linear", "-dir", "DIR"}, "-schedule"},
		{[]string{"-config", "/no/such/file.json"}, "-config"},
		{[]string{"train", "extra"}, `unexpected argument "extra"`},
		// Non-finite values are refused by name before any range check.
		{[]string{"-alpha", "NaN"}, "-alpha NaN: must be a finite number"},
		{[]string{"-beta1", "NaN"}, "-beta1 NaN: must be a finite number"},
		{[]string{"-lr", "Inf"}, "-lr +Inf: must be a finite number"},
		{[]string{"-max-gap", "Inf"}, "-max-gap +Inf: must be a finite number"},
		{[]string{"-grad-clip", "NaN"}, "-grad-clip NaN: must be a finite number"},
		{[]string{"-step-size", "-Inf"}, "-step-size -Inf: must be a finite number"},
		{[]string{"sample", "-noise", "nan"}, "-noise NaN: must be a finite number"},
	} {
		for i, a := range tc.args {
			if a == "DIR" {
				tc.args[i] = t.TempDir()
			}
		}
		code, _, stderr := runCmd(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-dir", filepath.Join(file, "run")}, "cannot create run folder"},
		{[]string{"-dir", t.TempDir(), "-data", "/no/such/mnist"}, "/no/such/mnist"},
		{[]string{"sample", "-dir", t.TempDir()}, "no trained model at"},
		{[]string{"-dir", t.TempDir(), "-backend", "torch"}, "without the libtorch backend"},
	} {
		if torchBackend != nil && strings.Contains(tc.want, "libtorch") {
			continue // built with -tags torch: the backend exists
		}
		code, _, stderr := runCmd(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code == 0 || len(lines) != 1 || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, stderr %q; want a non-zero exit and one line containing %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.json")
	os.WriteFile(file, []byte(`{"lr": 0.001, "steps": 7, "duration": "90s"}`), 0o644)
	cfg, err := parse("train", []string{"-preset", "quick", "-config", file, "-steps", "9"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LR != 0.001 || cfg.Steps != 9 || cfg.Iterations != presets["quick"].Iterations || cfg.Duration.Seconds() != 90 {
		t.Errorf("got lr %g steps %d iterations %d duration %v", cfg.LR, cfg.Steps, cfg.Iterations, cfg.Duration)
	}
	os.WriteFile(file, []byte(`{"lr": 0.001, "stepz": 7}`), 0o644)
	if _, err := parse("train", []string{"-config", file}, os.Stderr); err == nil || !strings.Contains(err.Error(), "stepz") {
		t.Errorf("unknown key: %v", err)
	}
}

// TestTrainSampleEval runs every mode end to end with a tiny network.
func TestTrainSampleEval(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST and trains")
	}
	dir := t.TempDir()
	common := []string{"-dir", dir, "-hidden", "2", "-num-samples", "8", "-sample-steps", "3"}
	code, out, stderr := runCmd(t, append([]string{"train", "-preset", "quick", "-iterations", "4", "-steps", "2",
		"-batch", "8", "-buffer", "32", "-checkpoint-every", "2", "-sample-every", "2"}, common...)...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, f := range []string{"checkpoint.safetensors", "model.safetensors", "metrics.jsonl", "config.json",
		"loss.png", "energy.png", "samples/000004.png", "buffer/000004.png", "samples_final.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("train did not write %s", f)
		}
	}
	if !strings.Contains(out, "Sample quality") || !strings.Contains(stderr, "iter 4/4") {
		t.Errorf("train output lacks the quality table or the progress line:\n%s\n%s", out, stderr)
	}
	// Resuming a finished run says so; more iterations continue it.
	code, out, _ = runCmd(t, append([]string{"train", "-preset", "quick", "-iterations", "6", "-steps", "2", "-batch", "8", "-buffer", "32"}, common...)...)
	if code != 0 || !strings.Contains(out, "resuming from the checkpoint at iteration 4") {
		t.Errorf("resume: exit %d\n%s", code, out)
	}
	if torchBackend != nil {
		code, out, stderr := runCmd(t, "train", "-preset", "quick", "-iterations", "2", "-steps", "2",
			"-batch", "8", "-buffer", "32", "-backend", "torch", "-dir", t.TempDir(), "-hidden", "2")
		if code != 0 || !strings.Contains(out, "torch (libtorch)") {
			t.Errorf("train -backend torch: exit %d\n%s\n%s", code, out, stderr)
		}
	}
	code, out, stderr = runCmd(t, append([]string{"sample"}, common...)...)
	if code != 0 {
		t.Fatalf("sample: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, f := range []string{"samples.png", "sample_chains.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("sample did not write %s", f)
		}
	}
	code, out, stderr = runCmd(t, append([]string{"eval"}, common...)...)
	if code != 0 || !strings.Contains(out, "AUROC") || !strings.Contains(out, "uniform noise") {
		t.Fatalf("eval: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestAUROC(t *testing.T) {
	for _, tc := range []struct {
		pos, neg []float64
		want     float64
	}{
		{[]float64{3, 4}, []float64{1, 2}, 1},
		{[]float64{1, 2}, []float64{3, 4}, 0},
		{[]float64{1, 3}, []float64{2}, 0.5},
		{[]float64{1, 1}, []float64{1}, 0.5}, // ties count half
		{[]float64{2, 3, 5}, []float64{1, 4}, 4.0 / 6},
	} {
		if got := auroc(tc.pos, tc.neg); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("auroc(%v, %v) = %g, want %g", tc.pos, tc.neg, got, tc.want)
		}
	}
}

// A divergence (here: any energy gap at all, -max-gap 1e-9) stops training
// with one line that names the iteration and the bound; with rollback the
// trainer restores the last checkpoint with a halved learning rate until
// its rollbacks run out.
func TestTrainDiverges(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST and trains")
	}
	for _, policy := range []string{"stop", "rollback"} {
		code, out, stderr := runCmd(t, "train", "-preset", "quick", "-iterations", "4", "-steps", "2", "-batch", "8",
			"-buffer", "32", "-hidden", "2", "-checkpoint-every", "1", "-dir", t.TempDir(),
			"-max-gap", "1e-9", "-on-diverge", policy)
		if code != 1 || !strings.Contains(stderr, "energy gap") || !strings.Contains(stderr, "exceeds 1e-09: diverged") {
			t.Errorf("-on-diverge %s: exit %d\n%s\n%s", policy, code, out, stderr)
		}
		if policy == "rollback" && !strings.Contains(stderr, "after 5 rollbacks") {
			t.Errorf("-on-diverge rollback: the error does not say the rollbacks ran out:\n%s", stderr)
		}
	}
	code, _, stderr := runCmd(t, "train", "-on-diverge", "retry")
	if code != 2 || !strings.Contains(stderr, "-on-diverge must be rollback or stop") {
		t.Errorf("-on-diverge retry: exit %d\n%s", code, stderr)
	}
}

// Every float setting is checked for NaN and ±Inf, whichever way it is set
// (here through -config, where JSON cannot say NaN but can overflow).
func TestNonFiniteSettings(t *testing.T) {
	v := reflect.ValueOf(presets["quick"])
	for i := range v.NumField() {
		if v.Field(i).Kind() != reflect.Float64 {
			continue
		}
		name := v.Type().Field(i).Tag.Get("json")
		for _, bad := range []string{"NaN", "Inf", "-Inf"} {
			code, _, stderr := runCmd(t, "-preset", "quick", "-dir", t.TempDir(), "-"+name, bad)
			if code != 2 || !strings.Contains(stderr, "-"+name+" ") || !strings.Contains(stderr, "must be a finite number") {
				t.Errorf("-%s %s: exit %d, stderr %q; want exit 2 naming the flag", name, bad, code, stderr)
			}
		}
	}
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte(`{"alpha": 1e999}`), 0o644)
	code, _, stderr := runCmd(t, "-config", file, "-dir", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "alpha") || !strings.Contains(stderr, file) {
		t.Errorf("-config with alpha 1e999: exit %d, stderr %q", code, stderr)
	}
}

// Settings files and outputs that are directories, devices or endless get
// one line that says what is wrong with which file, and nothing hangs.
func TestSettingsFileErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-config", dir}, "-config " + dir + " is a directory"},
		{[]string{"sample", "-dir", t.TempDir(), "-out", dir}, "-out " + dir + " is a directory"},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"-config", "/dev/zero"}, "-config /dev/zero: larger than 1024 KiB"})
		// A run folder whose config.json is linked to /dev/zero.
		run := t.TempDir()
		if err := os.Symlink("/dev/zero", filepath.Join(run, "config.json")); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			args []string
			want string
		}{[]string{"eval", "-dir", run}, "config.json: larger than 1024 KiB"})
	}
	for _, tc := range cases {
		code, _, stderr := runCmd(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, code, stderr, tc.want)
		}
	}
}

// Scores that are not numbers cannot stall the AUROC (its tie loop once
// spun for ever on NaN).
func TestAUROCNaN(t *testing.T) {
	nan := math.NaN()
	done := make(chan float64)
	go func() { done <- auroc([]float64{nan, 1, nan}, []float64{nan, 0}) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("auroc with NaN scores did not return")
	}
}

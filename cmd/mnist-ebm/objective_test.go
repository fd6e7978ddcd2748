package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// -objective dsm end to end on the quick preset: train a noise-conditional
// score model, draw fresh samples by annealed Langevin dynamics at the
// end and with sample, score them with eval; and the other objectives
// train and report.
func TestObjectivesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("trains")
	}
	dir := t.TempDir()
	code, stdout, stderr := runCmd(t, "-preset", "quick", "-objective", "dsm", "-dir", dir, "-iterations", "6", "-sample-steps", "20", "-num-samples", "8")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"NoiseBias", "objective: denoising score matching over 10 noise levels", "fresh samples (noise + annealed Langevin, 10 levels × 2 steps)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stderr, "gap") {
		t.Errorf("the progress of a score-matching run shows an energy gap:\n%s", stderr)
	}
	for _, f := range []string{"model.safetensors", "checkpoint.safetensors", "samples_final.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	code, stdout, stderr = runCmd(t, "sample", "-dir", dir, "-sample-steps", "20", "-num-samples", "8")
	if code != 0 || !strings.Contains(stdout, "annealed Langevin from uniform noise: 10 levels") {
		t.Fatalf("sample: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCmd(t, "eval", "-dir", dir, "-sample-steps", "20", "-num-samples", "8")
	if code != 0 || !strings.Contains(stdout, "f(x; σ = 0.02)") || !strings.Contains(stdout, "AUROC") {
		t.Fatalf("eval: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Resuming with another objective is a changed setting.
	code, _, stderr = runCmd(t, "-preset", "quick", "-objective", "cd", "-dir", dir, "-iterations", "8")
	if code == 0 || !strings.Contains(stderr, "-objective") {
		t.Errorf("resuming a dsm run as cd: exit %d, %s", code, stderr)
	}
	for _, obj := range []string{"icd", "ssm", "nce"} {
		code, stdout, stderr := runCmd(t, "-preset", "quick", "-objective", obj, "-dir", t.TempDir(), "-iterations", "3", "-sample-steps", "5")
		if code != 0 || !strings.Contains(stdout, "objective: ") {
			t.Errorf("-objective %s: exit %d\n%s\n%s", obj, code, stdout, stderr)
		}
	}
}

func TestObjectiveUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-objective", "esm"}, "-objective must be cd, icd, dsm, ssm or nce"},
		{[]string{"-objective", "dsm", "-sigma-max", "0.01"}, "-sigma-max must exceed -sigma-min"},
		{[]string{"-objective", "dsm", "-levels", "1", "-sigma", "0"}, "-sigma must be positive"},
		{[]string{"-objective", "dsm", "-arch", "resnet"}, "-arch must be cnn for a noise-conditional dsm run"},
		{[]string{"-levels", "0"}, "-levels must be at least 1"},
		{[]string{"-anneal-step", "0"}, "-anneal-step must be positive"},
	} {
		code, _, stderr := runCmd(t, append(tc.args, "-dir", t.TempDir())...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line containing %q", tc.args, code, stderr, tc.want)
		}
	}
}

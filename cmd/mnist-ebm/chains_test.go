package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/trainer"
)

// -chains short-run end to end: training keeps no buffer and scores the
// fresh samples sample draws, with training's -steps when -sample-steps
// is 0; sample and eval run the same chain, eval scores no buffer; a
// resumed run may not change where its chains start.
func TestShortRunEndToEnd(t *testing.T) {
	data := writeMNIST(t, 64, 40, 28, 28)
	dir := t.TempDir()
	code, out, stderr := runCmd(t, tinyTrain(dir, data, "-judge", "mnist", "-chains", "short-run", "-sample-steps", "0")...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"from uniform noise every iteration (short-run)", "fresh samples (noise + 2 Langevin steps)"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "replay buffer") {
		t.Errorf("a short-run training scores a replay buffer:\n%s", out)
	}
	if _, _, err := trainer.ReadBuffer(dir); err == nil {
		t.Error("the checkpoint of a short-run training holds a replay buffer")
	}
	if _, err := os.Stat(filepath.Join(dir, "samples_final.png")); err != nil {
		t.Error(err)
	}
	code, out, stderr = runCmd(t, "sample", "-dir", dir, "-num-samples", "8")
	if code != 0 || !strings.Contains(out, "2 Langevin steps from uniform noise") {
		t.Fatalf("sample: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCmd(t, "eval", "-dir", dir, "-num-samples", "8")
	if code != 0 || !strings.Contains(out, "fresh samples (noise + 2 Langevin steps)") || strings.Contains(out, "replay buffer") {
		t.Fatalf("eval: exit %d\n%s\n%s", code, out, stderr)
	}
	// Where chains start changes what the run computes.
	code, _, stderr = runCmd(t, tinyTrain(dir, data, "-judge", "mnist", "-chains", "replay", "-iterations", "6")...)
	if code != 2 || !strings.Contains(stderr, "-chains replay (the run has short-run)") {
		t.Errorf("resuming a short-run training with -chains replay: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCmd(t, "-chains", "buffer", "-dir", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "-chains must be replay, short-run, pcd or cd") {
		t.Errorf("-chains buffer: exit %d, %s", code, stderr)
	}
}

// Training on the replay buffer scores both what sample draws from noise
// and the buffer's newest samples; eval does the same.
func TestReplayScoresFreshAndBuffer(t *testing.T) {
	data := writeMNIST(t, 64, 40, 28, 28)
	dir := t.TempDir()
	code, out, stderr := runCmd(t, tinyTrain(dir, data, "-judge", "mnist")...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"fresh samples (noise + 3 Langevin steps)", "replay buffer (newest samples)"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	code, out, stderr = runCmd(t, "eval", "-dir", dir, "-num-samples", "8")
	for _, want := range []string{"fresh samples (noise + 3 Langevin steps)", "replay buffer of the run (newest)"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("eval: exit %d, output lacks %q:\n%s\n%s", code, want, out, stderr)
		}
	}
}

// -init gaussian: training starts its fresh chains from a Gaussian fitted
// to the data, and sample and eval draw from the same one.
func TestGaussianInitEndToEnd(t *testing.T) {
	data := writeMNIST(t, 64, 40, 28, 28)
	dir := t.TempDir()
	code, out, stderr := runCmd(t, tinyTrain(dir, data, "-judge", "mnist", "-init", "gaussian")...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"fresh from a Gaussian fitted to the data", "fresh samples (fitted Gaussian + 3 Langevin steps)"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	code, out, stderr = runCmd(t, "sample", "-dir", dir, "-num-samples", "8")
	if code != 0 || !strings.Contains(out, "3 Langevin steps from a Gaussian fitted to the data") {
		t.Fatalf("sample: exit %d\n%s\n%s", code, out, stderr)
	}
	code, _, stderr = runCmd(t, "-init", "normal", "-dir", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "-init must be uniform or gaussian") {
		t.Errorf("-init normal: exit %d, %s", code, stderr)
	}
}

// A run folder whose settings predate -chains and -init trained on a
// replay buffer from uniform noise, whatever the presets say now.
func TestOlderRunSettings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"dir": "x", "steps": 7}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parse("sample", []string{"-dir", dir}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Chains != "replay" || cfg.Init != "uniform" || cfg.Steps != 7 {
		t.Errorf("settings without chains and init: -chains %s -init %s -steps %d, want replay, uniform, 7", cfg.Chains, cfg.Init, cfg.Steps)
	}
}

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/platform"
	"github.com/ebmgo/ebm/quality"
)

// A short run writes a classifier that loads, with its reference
// statistics and the command in its metadata; bad flags are errors that
// name the flag.
func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clf.safetensors")
	var out bytes.Buffer
	args := []string{"-out", path, "-limit", "1000", "-epochs", "1", "-batch", "100"}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	for _, want := range []string{"epoch 1/1  step    10/10", "TEST ACC", "final test accuracy", "wrote " + path} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	c, err := quality.LoadClassifierFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ref == nil || c.Ref.N != 10000 || c.Meta["command"] != "go run ./cmd/train-classifier "+strings.Join(args, " ") {
		t.Errorf("loaded classifier: reference %v, metadata %v", c.Ref != nil, c.Meta)
	}

	for _, bad := range [][]string{{"-epochs", "0"}, {"-shift", "-1"}, {"-lr", "0"}, {"-min-acc", "1.1", "-limit", "100", "-epochs", "1", "-batch", "100"}, {"extra"}} {
		err := run(context.Background(), append([]string{"-out", path}, bad...), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), bad[0]) {
			t.Errorf("%v: error %v, want one naming %s", bad, err, bad[0])
		}
	}
}

// Any labelled source: a folder of PNG files, one sub-folder per class,
// without a test split (one is held out), trains a judge of its shape with
// its class names; bad sources are one clear error.
func TestRunOnFolder(t *testing.T) {
	shapes, err := datasets.Shapes(datasets.ShapesConfig{N: 300, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "shapes")
	if err := datasets.WriteImageFolder(dir, shapes); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "judge.safetensors")
	var out bytes.Buffer
	args := []string{"-data", dir, "-out", path, "-epochs", "10", "-batch", "30", "-shift", "1", "-flip", "-holdout", "0.2", "-min-acc", "0.9"}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	for _, want := range []string{"240 training images of 3×16×16", "60 test images (held out from", "classes (4): blue cross, green square, red disc, yellow ring", "wrote " + path} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	c, err := quality.LoadClassifierFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := c.Config(); cfg.Channels != 3 || cfg.Height != 16 || cfg.Classes != 4 || cfg.ClassNames[2] != "red disc" || c.Ref == nil || c.Ref.N != 60 || c.Meta["data"] != dir {
		t.Errorf("loaded judge: %+v, reference %v, metadata %v", cfg, c.Ref != nil, c.Meta)
	}

	unlabelled := filepath.Join(t.TempDir(), "flat")
	shapes.Labels = nil
	if err := datasets.WriteImageFolder(unlabelled, shapes); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", dir}, "-out: say where"},
		{[]string{"-data", unlabelled, "-out", path}, "has no labels"},
		{[]string{"-data", filepath.Join(dir, "missing"), "-out", path}, "missing"},
		{[]string{"-data", dir, "-out", path, "-size", "0x3"}, "-size"},
		{[]string{"-data", dir, "-out", path, "-fit", "zoom"}, "-fit"},
		{[]string{"-data", dir, "-out", path, "-holdout", "1"}, "-holdout"},
	} {
		err := run(context.Background(), bad.args, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), bad.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line saying %q", bad.args, err, bad.want)
		}
	}
}

// Exit statuses follow the programs' convention: 0 for -h, 2 for a usage
// error, 1 for a failure, 128+n after signal n.
func TestExitCodes(t *testing.T) {
	ctx := context.Background()
	var stderr bytes.Buffer
	if code := exitCode(ctx, run(ctx, []string{"-h"}, &bytes.Buffer{}), &stderr); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	if code := exitCode(ctx, run(ctx, []string{"-epochs", "0"}, &bytes.Buffer{}), &stderr); code != 2 {
		t.Errorf("-epochs 0: exit %d", code)
	}
	if code := exitCode(ctx, run(ctx, []string{"-no-such-flag"}, &bytes.Buffer{}), &stderr); code != 2 {
		t.Errorf("unknown flag: exit %d", code)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	if code := exitCode(ctx, run(ctx, []string{"-data", missing, "-out", filepath.Join(t.TempDir(), "j.safetensors")}, &bytes.Buffer{}), &stderr); code != 1 {
		t.Errorf("missing data: exit %d\n%s", code, stderr.String())
	}
	sctx, stop := platform.NotifyContext(ctx)
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-sctx.Done()
	if code := exitCode(sctx, sctx.Err(), &stderr); code != 143 {
		t.Errorf("SIGTERM: exit %d, want 143", code)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The whole study on one data set with a tiny budget: every objective
// trains, is evaluated, and lands in the tables and files.
func TestSmoke(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-data", "moons", "-budget", "300ms", "-test", "500", "-grid", "40", "-train", "2000", "-hidden", "16", "-dir", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, o := range objectiveNames() {
		if !strings.Contains(stderr.String(), "moons        "+o) {
			t.Errorf("no progress line for %s:\n%s", o, stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "| moons |") || !strings.Contains(stdout.String(), "NCE's learned log Z") {
		t.Errorf("table:\n%s", stdout.String())
	}
	var rep report
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != len(objectiveNames()) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(objectiveNames()))
	}
	for _, r := range rep.Results {
		if r.Iterations < 1 || !(r.KL > -0.05) {
			t.Errorf("%s: %d iterations, KL %v", r.Objective, r.Iterations, r.KL)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "summary.png")); err != nil {
		t.Error(err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-objectives", "cd,xyz"}, {"-data", "nope"}, {"-budget", "0s"}, {"-batch", "0"}, {"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 || strings.Count(strings.TrimSpace(stderr.String()), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr.String())
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readSegments reads a run's config-history.jsonl.
func readSegments(t *testing.T, dir string) []segment {
	t.Helper()
	h, err := readHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Resuming takes the run's settings; a command line that changes what the
// run computes (-lr, -seed, other images) is refused with one line naming
// each change, and leaves config.json and the history as they were, unless
// -allow-changed-settings, which records the change; settings that only
// say how long and where to train may change, and are recorded too.
func TestResumeSettings(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	if code, out, stderr := runCmd(t, tinyTrain(dir, data)...); code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, stderr)
	}
	settings, err := os.ReadFile(filepath.Join(dir, settingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if h := readSegments(t, dir); len(h) != 1 || h[0].Segment != 1 || h[0].StartIteration != 0 || h[0].Data.Images != 64 || h[0].Data.CRC32C == "" {
		t.Fatalf("history after the first run: %+v", h)
	}

	// Changes of meaning are refused, one line naming each.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-lr", "0.001"}, []string{"-lr 0.001 (the run has 0.002)"}},
		{[]string{"-seed", "2", "-steps", "3"}, []string{"-seed 2 (the run has 1)", "-steps 3 (the run has 2)"}},
		{[]string{"-preset", "quick"}, []string{"-steps 10 (the run has 2)", "-hidden 8 (the run has 2)"}},
	} {
		code, out, stderr := runCmd(t, append([]string{"train", "-dir", dir, "-data", data, "-iterations", "6"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		ok := code == 2 && len(lines) == 1 && strings.Contains(stderr, "-allow-changed-settings")
		for _, w := range tc.want {
			ok = ok && strings.Contains(stderr, w)
		}
		if !ok {
			t.Errorf("resume with %v: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 2 and one line naming %q", tc.args, code, out, stderr, tc.want)
		}
		if now, _ := os.ReadFile(filepath.Join(dir, settingsFile)); string(now) != string(settings) {
			t.Errorf("a refused resume with %v rewrote config.json", tc.args)
		}
		if h := readSegments(t, dir); len(h) != 1 {
			t.Errorf("a refused resume with %v added to the history: %d segments", tc.args, len(h))
		}
	}

	// No flags but the folder and the data: the run's own settings (width 2,
	// 2 steps; the default preset has 32 and 60), nothing changed.
	code, out, stderr := runCmd(t, "train", "-dir", dir, "-data", data)
	if code != 0 || strings.Contains(out, "changed on resuming") || !strings.Contains(out, "already trained for 4 iterations") {
		t.Fatalf("resume with the run's settings: exit %d\n%s\n%s", code, out, stderr)
	}
	var saved Config
	if _, err := loadConfigFile(filepath.Join(dir, settingsFile), "config.json", &saved); err != nil || saved.Hidden != 2 || saved.Steps != 2 {
		t.Errorf("config.json after resuming: hidden %d steps %d (%v), want the run's 2 and 2", saved.Hidden, saved.Steps, err)
	}

	// How long to train may change; it is said and recorded.
	code, out, stderr = runCmd(t, "train", "-dir", dir, "-data", data, "-iterations", "6", "-checkpoint-every", "3")
	if code != 0 || !strings.Contains(out, "changed on resuming: -iterations 6 (the run has 4)") || !strings.Contains(out, "trained to iteration 6") {
		t.Fatalf("resume with -iterations 6: exit %d\n%s\n%s", code, out, stderr)
	}
	h := readSegments(t, dir)
	if len(h) != 3 || h[2].StartIteration != 4 || len(h[2].Changed) != 2 || h[2].Allowed {
		t.Fatalf("history after resuming with -iterations 6: %+v", h)
	}

	// A change of meaning with -allow-changed-settings goes on, recorded.
	code, out, stderr = runCmd(t, "train", "-dir", dir, "-data", data, "-iterations", "7", "-lr", "0.001", "-allow-changed-settings")
	if code != 0 || !strings.Contains(out, "changed on resuming: -lr 0.001 (the run has 0.002)") {
		t.Fatalf("resume with -lr and -allow-changed-settings: exit %d\n%s\n%s", code, out, stderr)
	}
	h = readSegments(t, dir)
	if last := h[len(h)-1]; len(h) != 4 || !last.Allowed || last.StartIteration != 6 || !strings.Contains(string(last.Settings), `"lr":0.001`) {
		t.Errorf("history after an allowed change: %+v", h)
	}
	if !strings.Contains(string(mustRead(t, filepath.Join(dir, settingsFile))), `"lr": 0.001`) {
		t.Errorf("config.json does not hold the allowed -lr")
	}

	// The same images elsewhere are the same data; other images are not.
	moved := filepath.Join(t.TempDir(), "mnist-copy")
	os.Mkdir(moved, 0o755)
	for _, n := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		os.WriteFile(filepath.Join(moved, n), mustRead(t, filepath.Join(data, n)), 0o644)
	}
	code, out, stderr = runCmd(t, "train", "-dir", dir, "-data", moved, "-iterations", "8")
	if code != 0 || !strings.Contains(out, "trained to iteration 8") {
		t.Errorf("resume on the same images in another folder: exit %d\n%s\n%s", code, out, stderr)
	}
	other := writeMNIST(t, 65, 16, 28, 28)
	code, out, stderr = runCmd(t, "train", "-dir", dir, "-data", other, "-iterations", "9")
	if code != 2 || !strings.Contains(stderr, "on other images") || !strings.Contains(stderr, "65 images of 1×28×28") {
		t.Errorf("resume on other images: exit %d\n%s\n%s", code, out, stderr)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/nn"
)

// writeMNIST writes a tiny MNIST-format data set into a new folder: nTrain
// and nTest rows×cols images of random strokes with random labels, as the
// four IDX files -data expects.
func writeMNIST(t *testing.T, nTrain, nTest, rows, cols int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(nTrain), uint64(nTest)))
	write := func(name string, m *datasets.IDX) {
		var b bytes.Buffer
		if err := datasets.WriteIDX(&b, m); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []struct {
		img, lbl string
		n        int
	}{{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", nTrain}, {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", nTest}} {
		pix := make([]byte, s.n*rows*cols)
		for i := range pix {
			if rng.IntN(4) == 0 {
				pix[i] = byte(128 + rng.IntN(128))
			}
		}
		lbl := make([]byte, s.n)
		for i := range lbl {
			lbl[i] = byte(rng.IntN(10))
		}
		write(s.img, &datasets.IDX{Type: datasets.IDXUint8, Dims: []int{s.n, rows, cols}, Data: pix})
		write(s.lbl, &datasets.IDX{Type: datasets.IDXUint8, Dims: []int{s.n}, Data: lbl})
	}
	return dir
}

// writeModel writes the parameters of cfg's network for MNIST, changed by edit if
// it is not nil, to a new file and returns its path.
func writeModel(t *testing.T, cfg Config, edit func(m *nn.Sequential)) string {
	t.Helper()
	m, err := cfg.buildModel(mnistShape)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := nn.SaveFile(path, m); err != nil {
		t.Fatal(err)
	}
	return path
}

// hideModuleCache makes the Go module cache, and with it the MNIST copy
// there, unreachable for the rest of the test: any use of MNIST that does
// not honour -data fails.
func hideModuleCache(t *testing.T) {
	empty := t.TempDir()
	for _, k := range []string{"GOMODCACHE", "GOPATH", "HOME"} {
		t.Setenv(k, empty)
	}
	t.Setenv("PATH", empty)
}

// tinyTrain is a training command line that takes about a second: the
// quick preset at width 2 on a tiny data set.
func tinyTrain(dir, data string, more ...string) []string {
	return append([]string{"train", "-preset", "quick", "-dir", dir, "-data", data, "-hidden", "2",
		"-iterations", "4", "-steps", "2", "-batch", "8", "-buffer", "32", "-checkpoint-every", "2",
		"-sample-every", "2", "-num-samples", "8", "-sample-steps", "3"}, more...)
}

// -data is the one source of MNIST: training, its closing quality score
// (with the built-in digit classifier, -judge mnist, which the run's
// settings keep), sample and eval all run with the module cache out of
// reach.
func TestDataFolderIsHonoured(t *testing.T) {
	data := writeMNIST(t, 64, 40, 28, 28)
	hideModuleCache(t)
	dir := t.TempDir()
	const scored = "Sample quality, scored by the digit classifier of package quality"
	code, out, stderr := runCmd(t, tinyTrain(dir, data, "-judge", "mnist")...)
	if code != 0 || !strings.Contains(out, scored) {
		t.Fatalf("train -data: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCmd(t, "eval", "-dir", dir, "-num-samples", "8", "-sample-steps", "2")
	if code != 0 || !strings.Contains(out, "AUROC") || !strings.Contains(out, scored) {
		t.Fatalf("eval of a run trained with -data: exit %d\n%s\n%s", code, out, stderr)
	}
}

// A model with NaN parameters, or finite ones whose energies overflow, is
// an error in sample and eval — one line that says so, promptly — not a
// hang in the AUROC's tie loop nor PNGs of noise.
func TestNaNModel(t *testing.T) {
	data := writeMNIST(t, 16, 24, 28, 28)
	quick := presets["quick"]
	nanModel := writeModel(t, quick, func(m *nn.Sequential) {
		p := m.Params()[0]
		v := p.Float64s(nil)
		v[3] = math.NaN()
		p.SetFloat64s(v)
	})
	// Every weight and bias at 3e38: finite, but the energies overflow
	// float32.
	hugeModel := writeModel(t, quick, func(m *nn.Sequential) {
		for _, p := range m.Params() {
			v := p.Float64s(nil)
			for i := range v {
				v[i] = 3e38
			}
			p.SetFloat64s(v)
		}
	})
	for _, tc := range []struct {
		model, want string
	}{
		{nanModel, "holds NaN (element 3)"},
		{hugeModel, "NaN or infinite energies"},
	} {
		for _, mode := range []string{"eval", "sample"} {
			dir := t.TempDir()
			done := make(chan struct{})
			var code int
			var out, stderr string
			go func() {
				defer close(done)
				code, out, stderr = runCmd(t, mode, "-preset", "quick", "-dir", dir, "-data", data, "-model", tc.model,
					"-num-samples", "4", "-sample-steps", "3")
			}()
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				t.Fatalf("%s of %s: still running after 2 minutes", mode, tc.model)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != 1 || len(lines) != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s of a model with %q: exit %d\nstdout:\n%s\nstderr:\n%s", mode, tc.want, code, out, stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "samples.png")); err == nil {
				t.Errorf("%s of a model with %q wrote samples.png", mode, tc.want)
			}
		}
	}
}

// A -duration shorter than one iteration stops cleanly with a checkpoint
// and says that nothing was trained; the run then resumes.
func TestDurationShorterThanAnIteration(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	code, out, stderr := runCmd(t, tinyTrain(dir, data, "-duration", "1ns")...)
	if code != 0 || !strings.Contains(out, "nothing was trained") || stderr != "" {
		t.Fatalf("-duration 1ns: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
		t.Errorf("-duration 1ns left no checkpoint: %v", err)
	}
	code, out, stderr = runCmd(t, tinyTrain(dir, data)...)
	if code != 0 || !strings.Contains(out, "trained to iteration 4") {
		t.Errorf("resuming after -duration 1ns: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
}

// The temporary files a killed run leaves (a checkpoint's is as large as
// the checkpoint) are removed when training starts again; those of files
// the sample command writes are not, since one may be running.
func TestStaleTemporariesRemoved(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	stale := []string{".checkpoint.safetensors.tmp1234567", ".model.safetensors.tmp42", ".loss.png.tmp9",
		".config.json.tmp3", ".metrics.jsonl.tmp5", "samples/.000100.png.tmp77", "buffer/.000100.png.tmp8"}
	kept := []string{".samples.png.tmp31", ".notes.txt.tmp5", "notes.txt"}
	for _, n := range append(stale, kept...) {
		path := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, make([]byte, 100_000), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := runCmd(t, tinyTrain(dir, data)...)
	if code != 0 || !strings.Contains(out, "removed 7 temporary files (0.7 MB)") {
		t.Fatalf("train: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			t.Errorf("%s is still there", n)
		}
	}
	for _, n := range kept {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed", n)
		}
	}
}

// An empty data set, or images of no pixels, is one line naming the
// file, not a panic.
func TestEmptyData(t *testing.T) {
	for _, tc := range []struct {
		n, rows, cols int
		want          string
	}{
		{0, 28, 28, "holds 0×28×28 images: nothing to load"},
		{5, 28, 0, "holds 5×28×0 images: nothing to load"},
		{5, 0, 28, "holds 5×0×28 images: nothing to load"},
	} {
		data := writeMNIST(t, tc.n, 4, tc.rows, tc.cols)
		code, out, stderr := runCmd(t, tinyTrain(t.TempDir(), data)...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 1 || len(lines) != 1 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, filepath.Join(data, "train-images-idx3-ubyte")) {
			t.Errorf("%d images of %d×%d: exit %d\nstdout:\n%s\nstderr:\n%s", tc.n, tc.rows, tc.cols, code, out, stderr)
		}
	}
}

// eval refuses a corrupt checkpoint instead of leaving its replay buffer
// out of the table unsaid, and a test split without images instead of a
// table of NaN.
func TestEvalCorruptCheckpointAndEmptyTest(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	if code, out, stderr := runCmd(t, tinyTrain(dir, data)...); code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, stderr)
	}
	path := filepath.Join(dir, "checkpoint.safetensors")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-100] ^= 0x40 // in the last tensor's data
	os.WriteFile(path, b, 0o644)
	code, out, stderr := runCmd(t, "eval", "-dir", dir, "-num-samples", "8", "-sample-steps", "2")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(stderr, path) || !strings.Contains(stderr, "fails its CRC-32C check") {
		t.Errorf("eval with a corrupt checkpoint: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	// The same run's model against a test split of no images.
	empty := writeMNIST(t, 64, 0, 28, 28)
	code, out, stderr = runCmd(t, "eval", "-dir", dir, "-data", empty, "-num-samples", "8", "-sample-steps", "2")
	lines = strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 1 || len(lines) != 1 || !strings.Contains(stderr, "t10k-images-idx3-ubyte") || strings.Contains(out, "NaN") {
		t.Errorf("eval on 0 test images: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
}

// Sizes that cannot fit in memory are refused at once with one line that
// names the flag, instead of "fatal error: runtime: out of memory" and a
// 180-line dump.
func TestMemoryBounds(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	model := writeModel(t, presets["quick"], nil)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{tinyTrain(t.TempDir(), data, "-buffer", "1000000000"), "-buffer 1000000000: the replay buffer would need at least 2.9 TiB"},
		{tinyTrain(t.TempDir(), data, "-batch", "1000000000"), "-batch 1000000000: a training step would need at least"},
		{tinyTrain(t.TempDir(), data, "-hidden", "10000000"), "-hidden 10000000: the network's parameters"},
		{[]string{"sample", "-preset", "quick", "-dir", t.TempDir(), "-model", model, "-num-samples", "1000000000"}, "-num-samples 1000000000: the samples would need at least 5.7 TiB"},
		{[]string{"eval", "-preset", "quick", "-dir", t.TempDir(), "-model", model, "-num-samples", "1000000000"}, "-num-samples 1000000000: the samples"},
	} {
		code, out, stderr := runCmd(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "of memory") || strings.HasSuffix(strings.TrimSpace(stderr), "usage") {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 2 and one line containing %q", tc.args[len(tc.args)-2:], code, out, stderr, tc.want)
		}
	}
	// What the presets ask for fits in what this machine has.
	for name, p := range presets {
		for _, mode := range []string{"train", "sample", "eval"} {
			if err := checkMemory(p.memoryNeeds(mode, 784)); err != nil {
				t.Errorf("preset %s, %s: %v", name, mode, err)
			}
		}
	}
}

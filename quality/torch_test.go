package quality

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/internal/safetensors"
)

// TestTorchAgrees rebuilds the embedded classifier in PyTorch from its
// file (testdata/check_torch.py), as the architecture documented at
// NewClassifier, and checks that it computes the same features and logits
// on test digits. A control with one logit perturbed by 1e-3 must be
// reported as a mismatch. It is skipped with -short and where
// /usr/bin/python3 cannot import torch (apt install python3-torch).
func TestTorchAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PyTorch")
	}
	const python = "/usr/bin/python3"
	probe := "import importlib.util, sys; sys.exit(importlib.util.find_spec('torch') is None)"
	if err := exec.Command(python, "-c", probe).Run(); err != nil {
		t.Skipf("%s cannot import torch: %v", python, err)
	}
	dir := t.TempDir()
	model := filepath.Join(dir, "classifier.safetensors")
	if err := os.WriteFile(model, classifierFile, 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 16
	test := mnistTest(t)
	x := test.Images[:n*Pixels]
	o, err := embedded(t).Run(context.Background(), x, n)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"testdata/check_torch.py", model}
	for _, control := range []bool{false, true} {
		logits := slices.Clone(o.Logits)
		name := "digits.safetensors"
		if control {
			logits[3] += 1e-3
			name = "control.safetensors"
		}
		io := filepath.Join(dir, name)
		err := safetensors.WriteFile(io, []safetensors.Tensor{
			safetensors.Float64Tensor("x", []int{n, 1, Side, Side}, x),
			safetensors.Float64Tensor("features", []int{n, FeatureDim}, o.Features),
			safetensors.Float64Tensor("logits", []int{n, Classes}, logits),
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, io)
	}
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=PASSIVE")
	out, err := cmd.CombinedOutput()
	t.Logf("check_torch.py:\n%s", bytes.TrimSpace(out))
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"ok digits.safetensors:", "MISMATCH control.safetensors:"}
	if len(lines) != len(want) {
		t.Fatalf("check_torch.py printed %d lines, want %d (%v)", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to start with %q", i+1, lines[i], w)
		}
	}
}

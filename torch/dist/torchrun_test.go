//go:build torch

package dist_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ebmgo/ebm/torch/dist"
)

// Under torchrun (its launcher hosts the store; the workers are all its
// clients) the ranks join and run every collective.
func TestTorchrun(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch.distributed.run").Run(); err != nil {
		t.Skipf("no torchrun (%s with torch): %v", py, err)
	}
	port, err := dist.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// --redirects 1 --tee 1 (stdout to a log and to the console): torch
	// 1.13's launcher under Python 3.11 fails on its default, no
	// redirection (fixed in torch 2).
	cmd := exec.CommandContext(ctx, py, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", strconv.Itoa(port),
		"--redirects", "1", "--tee", "1", "--log_dir", t.TempDir(), "--no_python", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"=collectives", "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "rank 0 of 2 ok") || !strings.Contains(string(out), "rank 1 of 2 ok") {
		t.Fatalf("torchrun: %v\n%s", err, out)
	}
}

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

// torchrunPy runs torch.distributed.run; it first repairs torch 1.13's
// launcher under Python 3.11, where the redirect settings' default (no
// redirects) is read as None and every launch fails (fixed in torch 2).
const torchrunPy = `
import sys, runpy
import torch.distributed.elastic.multiprocessing as m
from torch.distributed.elastic.multiprocessing import api
orig = api.to_map
def to_map(v, n):
    if v is None:
        return {i: api.Std.NONE for i in range(n)}
    return orig(v, n)
api.to_map = to_map
m.to_map = to_map
sys.argv[0] = "torchrun"
runpy.run_module("torch.distributed.run", run_name="__main__")
`

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
	cmd := exec.CommandContext(ctx, py, "-c", torchrunPy, "--nproc_per_node", "2", "--master_port", strconv.Itoa(port),
		"--no_python", os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), workerEnv+"=collectives", "OMP_NUM_THREADS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "rank 0 of 2 ok") || !strings.Contains(string(out), "rank 1 of 2 ok") {
		t.Fatalf("torchrun: %v\n%s", err, out)
	}
}

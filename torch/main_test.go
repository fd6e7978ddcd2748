//go:build torch

package torch

import (
	"fmt"
	"os"
	"testing"
)

// testDev is the device the tests run on: the CPU, or the first GPU with
// EBM_TORCH_DEVICE=cuda (as scripts/torch/gpu.sh sets it).
var testDev = CPU

func TestMain(m *testing.M) {
	switch d := os.Getenv("EBM_TORCH_DEVICE"); d {
	case "", "cpu":
	case "cuda":
		if !CUDAAvailable() {
			fmt.Fprintln(os.Stderr, "EBM_TORCH_DEVICE=cuda but libtorch sees no CUDA device")
			os.Exit(1)
		}
		testDev = CUDA(0)
		// Float32 parity with Gorgonia needs full float32 arithmetic.
		if err := SetAllowTF32(false); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "EBM_TORCH_DEVICE=%q: want cpu or cuda\n", d)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// noLeak returns a function that fails t if the package holds more or
// fewer tensor handles than when noLeak was called: defer noLeak(t)() at
// the top of a test whose models are closed by its end.
func noLeak(t *testing.T) func() {
	t.Helper()
	before := live.Load()
	return func() {
		t.Helper()
		if after := live.Load(); after != before {
			t.Errorf("%d tensor handles live at the end, %d at the start", after, before)
		}
	}
}

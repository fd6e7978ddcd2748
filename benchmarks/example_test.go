package benchmarks_test

import (
	"fmt"
	"strings"

	"github.com/ebmgo/ebm/benchmarks"
)

// The workloads that go test -bench and the compare command measure (a
// build with -tags torch adds NAME@torch, the same on the libtorch
// backend).
func ExampleWorkloads() {
	for _, w := range benchmarks.Workloads() {
		if strings.HasSuffix(w.Name, "@torch") {
			continue
		}
		if w.Torch {
			fmt.Printf("%-18s %s (PyTorch reference)\n", w.Name, w.Unit)
		} else {
			fmt.Printf("%-18s %s\n", w.Name, w.Unit)
		}
	}
	// Output:
	// dsm/cnn            iters/s (PyTorch reference)
	// gibbs/rbm784x500   sweeps/s (PyTorch reference)
	// hmc/gauss100       transitions/s (PyTorch reference)
	// langevin/cnn       steps/s (PyTorch reference)
	// langevin/mlp784    steps/s (PyTorch reference)
	// langevin/toy2d     steps/s (PyTorch reference)
	// nuts/gauss100      transitions/s
	// train/cnn          iters/s (PyTorch reference)
}

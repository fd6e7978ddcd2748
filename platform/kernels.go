package platform

import (
	"fmt"
	"runtime"

	"github.com/ebmgo/ebm/internal/ops"
)

// Kernels describes what does the arithmetic of the pure-Go backend: the
// library behind matrix products (OpenBLAS loaded at run time, or gonum's
// pure Go), the instruction set of the float32 kernels and how products run
// (EBM_SIMD caps it), and the number of threads, for a program to print at
// start-up.
func Kernels() string {
	return fmt.Sprintf("BLAS %s, kernels %s, %d threads", ops.BLAS(), ops.Kernels(), runtime.GOMAXPROCS(0))
}

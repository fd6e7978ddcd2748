package platform

import (
	"fmt"
	"runtime"

	"github.com/ebmgo/ebm/internal/ops"
)

// Kernels describes what does the arithmetic of the pure-Go backend: the
// library behind matrix products (OpenBLAS loaded at run time, or gonum's
// pure Go), the instruction set of the element-wise and product kernels,
// and the number of threads, for a program to print at start-up.
func Kernels() string {
	return fmt.Sprintf("BLAS %s, element-wise kernels %s, %d threads", ops.BLAS(), ops.SIMD(), runtime.GOMAXPROCS(0))
}

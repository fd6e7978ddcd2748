package blas_test

import (
	"fmt"

	"github.com/ebmgo/ebm/internal/blas"
)

// C = A·Bᵀ for row-major A (2×3) and B (2×3), as a Linear layer computes
// x·Wᵀ. The result is the same whichever implementation runs.
func ExampleSgemm() {
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{1, 0, 1, 0, 1, 0}
	c := make([]float32, 4)
	blas.Sgemm(false, true, 2, 2, 3, 1, a, 3, b, 3, 0, c, 2)
	fmt.Println(c)
	// Output: [4 2 10 5]
}

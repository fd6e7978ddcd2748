package blas

import (
	"os"
	"sync"
)

// A native library runs single-threaded and this package splits a large
// product into blocks of C computed on separate goroutines: OpenBLAS's own
// threads spin (sched_yield) for a while after each call, which steals the
// cores from the goroutines that run im2col and the element-wise kernels
// between products. EBM_BLAS_THREADS=native leaves threading to the library
// instead.

// minSplitFlops is the smallest product (m·n·k) worth splitting.
const minSplitFlops = 1 << 18

var goSplit = os.Getenv("EBM_BLAS_THREADS") != "native"

// splitWays returns how many goroutines should share a product.
func splitWays(m, n, k int) int {
	if !goSplit || !IsNative() || threads <= 1 || m*n*k < minSplitFlops {
		return 1
	}
	return threads
}

// split runs f on p blocks of C: column blocks when C is wider than tall,
// row blocks otherwise. Each call gets the matching parts of A or B.
func split[T float32 | float64](tA, tB bool, m, n, p int, a []T, lda int, b []T, ldb int, c []T, ldc int,
	f func(m, n int, a, b, c []T)) {
	var wg sync.WaitGroup
	if n >= m {
		// C[:, j0:j1] = op(A) · op(B)[:, j0:j1]
		step := (n/p + 15) &^ 15
		for j0 := 0; j0 < n; j0 += step {
			j1 := min(j0+step, n)
			var bb []T
			if tB {
				bb = b[j0*ldb:] // row j0 of Bᵀ's storage
			} else {
				bb = b[j0:] // column j0 of B
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				f(m, j1-j0, a, bb, c[j0:])
			}()
		}
	} else {
		step := (m/p + 3) &^ 3
		for i0 := 0; i0 < m; i0 += step {
			i1 := min(i0+step, m)
			var aa []T
			if tA {
				aa = a[i0:]
			} else {
				aa = a[i0*lda:]
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				f(i1-i0, n, aa, b, c[i0*ldc:])
			}()
		}
	}
	wg.Wait()
}

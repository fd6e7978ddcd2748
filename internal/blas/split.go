package blas

import (
	"os"
	"sync"
	"sync/atomic"
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

// split runs f on blocks of C on p goroutines: column blocks when C is
// wider than tall, row blocks otherwise, each call with the matching parts
// of A or B. There are twice as many blocks as goroutines, handed out from
// a shared counter, so a goroutine whose thread is descheduled on a busy
// machine does not hold the others up at the join.
func split[T float32 | float64](tA, tB bool, m, n, p int, a []T, lda int, b []T, ldb int, c []T, ldc int,
	f func(m, n int, a, b, c []T)) {
	long, align := n, 16 // split the longer side, in multiples of align
	if n < m {
		long, align = m, 4
	}
	blocks := 2 * p
	step := max(align, (long/blocks+align-1)/align*align)
	nblocks := (long + step - 1) / step
	block := func(i int) {
		lo, hi := i*step, min((i+1)*step, long)
		if n >= m {
			// C[:, lo:hi] = op(A) · op(B)[:, lo:hi]
			var bb []T
			if tB {
				bb = b[lo*ldb:] // row lo of Bᵀ's storage
			} else {
				bb = b[lo:] // column lo of B
			}
			f(m, hi-lo, a, bb, c[lo:])
			return
		}
		var aa []T
		if tA {
			aa = a[lo:]
		} else {
			aa = a[lo*lda:]
		}
		f(hi-lo, n, aa, b, c[lo*ldc:])
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= nblocks {
				return
			}
			block(i)
		}
	}
	for range min(p, nblocks) - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

package ops

import (
	"runtime"
	"sync"
)

// minChunk is the fewest elements worth a goroutine in element-wise work.
const minChunk = 1 << 15

// parallelChunks splits [0, n) into up to GOMAXPROCS contiguous chunks
// (multiples of 64 elements, at least minChunk each) and runs fn on them
// concurrently; small n runs inline.
func parallelChunks(n int, fn func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n/minChunk)
	if p <= 1 {
		fn(0, n)
		return
	}
	size := (n/p + 63) &^ 63
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// parallelFor runs fn(i) for i in [0, n) on up to GOMAXPROCS goroutines,
// each taking a contiguous block of indices; worker is the goroutine's
// index in [0, workers), for per-worker scratch space.
func parallelFor(n int, fn func(worker, lo, hi int)) {
	p := min(Workers(), n)
	if p <= 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range p {
		lo, hi := w*n/p, (w+1)*n/p
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w, lo, hi)
		}()
	}
	wg.Wait()
}

// Workers returns the number of goroutines the ops split work over:
// runtime.GOMAXPROCS(0).
func Workers() int { return runtime.GOMAXPROCS(0) }

package ops

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Parallel loops hand out small pieces of work from a shared counter
// instead of one fixed block per goroutine: when the machine is busy and
// one goroutine's thread is descheduled, the others take over its share
// instead of waiting for it at the join.

// minChunk is the fewest elements worth a goroutine in element-wise work.
const minChunk = 1 << 15

// parallelChunks splits [0, n) into pieces of at least minChunk elements
// (multiples of 64) and runs fn on them on up to GOMAXPROCS goroutines;
// small n runs inline.
func parallelChunks(n int, fn func(lo, hi int)) {
	p := min(Workers(), n/minChunk)
	if p <= 1 {
		fn(0, n)
		return
	}
	pieces := min(4*p, n/minChunk)
	size := (n/pieces + 63) &^ 63
	parallelFor((n+size-1)/size, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i*size, min((i+1)*size, n))
		}
	})
}

// parallelFor runs fn over [0, n) on up to GOMAXPROCS goroutines. Each
// goroutine repeatedly takes the next index from a shared counter and calls
// fn(worker, i, i+1), where worker in [0, GOMAXPROCS) is the goroutine's
// own index, for per-worker scratch space.
func parallelFor(n int, fn func(worker, lo, hi int)) {
	p := min(Workers(), n)
	if p <= 1 {
		fn(0, 0, n)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func(w int) {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			fn(w, i, i+1)
		}
	}
	for w := 1; w < p; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	work(0) // the calling goroutine works too
	wg.Wait()
}

// Workers returns the number of goroutines the ops split work over:
// runtime.GOMAXPROCS(0).
func Workers() int { return runtime.GOMAXPROCS(0) }

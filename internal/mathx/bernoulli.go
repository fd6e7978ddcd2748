package mathx

import (
	"math/rand/v2"
	"runtime"
	"sync"
)

// BlockRows is the number of rows of a matrix that Bernoulli and Rows hand
// to one goroutine at a time, and that share one generator in Bernoulli.
const BlockRows = 16

// parallelMin is the number of values below which Rows and Bernoulli work
// on the calling goroutine: smaller matrices cost less than a goroutine
// start-up.
const parallelMin = 8192

// Rows calls fn(lo, hi) on consecutive blocks of BlockRows rows of a
// matrix of the given number of rows and cols, covering [0, rows), on up
// to GOMAXPROCS goroutines when the matrix has at least 8192 values, and
// returns when every call has returned. fn must only touch its own rows.
func Rows(rows, cols int, fn func(lo, hi int)) {
	blocks := (rows + BlockRows - 1) / BlockRows
	workers := min(runtime.GOMAXPROCS(0), blocks)
	if workers <= 1 || rows*cols < parallelMin {
		for b := range blocks {
			fn(b*BlockRows, min((b+1)*BlockRows, rows))
		}
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				b := next
				next++
				mu.Unlock()
				if b >= blocks {
					return
				}
				fn(b*BlockRows, min((b+1)*BlockRows, rows))
			}
		}()
	}
	wg.Wait()
}

// Bernoulli replaces every probability p[i] of the row-major matrix p
// (rows of cols values) by a draw from Bernoulli(p[i]): 1 with probability
// p[i], else 0. Each block of BlockRows rows draws from its own PCG
// generator seeded with two values from rng, taken block by block in
// order, so the draws depend on rng's state alone, whatever GOMAXPROCS is;
// the blocks run in parallel as Rows says. It advances rng by two values
// per block. It panics if rng is nil or len(p) is not a multiple of cols.
func Bernoulli(rng *rand.Rand, p []float64, cols int) {
	if rng == nil {
		panic("mathx: Bernoulli: nil rng")
	}
	if cols <= 0 || len(p)%cols != 0 {
		panic("mathx: Bernoulli: the matrix is not a whole number of rows")
	}
	rows := len(p) / cols
	blocks := (rows + BlockRows - 1) / BlockRows
	seeds := make([][2]uint64, blocks)
	for b := range seeds {
		seeds[b] = [2]uint64{rng.Uint64(), rng.Uint64()}
	}
	Rows(rows, cols, func(lo, hi int) {
		s := seeds[lo/BlockRows]
		r := rand.New(rand.NewPCG(s[0], s[1]))
		for i, q := range p[lo*cols : hi*cols] {
			if r.Float64() < q {
				p[lo*cols+i] = 1
			} else {
				p[lo*cols+i] = 0
			}
		}
	})
}

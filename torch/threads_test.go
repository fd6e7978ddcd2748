//go:build torch

package torch

import (
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/ebmgo/ebm/nn"
)

// TestThreadsEveryOSThread: libtorch's OpenMP thread count is a setting
// of each OS thread, fixed when a thread first runs a parallel operation,
// while Go moves goroutines between OS threads. A count set on one thread
// must hold on a thread that ran libtorch work before.
func TestThreadsEveryOSThread(t *testing.T) {
	if os.Getenv("OMP_NUM_THREADS") != "" {
		t.Skip("OMP_NUM_THREADS is set")
	}
	defer noLeak(t)()
	if got, want := NumThreads(), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("default: %d threads, want GOMAXPROCS = %d", got, want)
	}
	defer SetNumThreads(runtime.GOMAXPROCS(0))
	tm, err := NewModel(nn.NewMLP(rand.New(rand.NewPCG(1, 2)), nn.SiLU, 64, 256, 1), []int{64}, CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	x := make([]float64, 512*64)
	work := make(chan func())
	done := make(chan struct{})
	go func() { // one goroutine on one OS thread for the whole test
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for f := range work {
			f()
			done <- struct{}{}
		}
	}()
	defer close(work)
	on := func(f func()) { work <- f; <-done }
	for _, n := range []int{1, 3, 2} {
		if err := SetNumThreads(n); err != nil { // on this goroutine's thread, not the worker's
			t.Fatal(err)
		}
		var got int
		on(func() {
			if err := tm.FGrad(make([]float64, 512), make([]float64, len(x)), x); err != nil {
				t.Error(err)
			}
			got = NumThreads()
		})
		if got != n {
			t.Errorf("SetNumThreads(%d) on another OS thread: a thread that ran libtorch work uses %d threads", n, got)
		}
	}
}

// TestMallocSettings: on glibc the package's malloc settings are
// accepted (mallopt reports success), and any of malloc's environment
// variables leaves malloc to the environment. What they are for, fewer
// page faults per step, is measured by benchmarks/libtorch and
// benchmarks/cmd/compare, not here.
func TestMallocSettings(t *testing.T) {
	NumThreads() // the first call applies the settings
	for _, v := range []string{"GLIBC_TUNABLES", "MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"} {
		if _, ok := os.LookupEnv(v); ok {
			if malloced {
				t.Errorf("%s is set, yet the package changed malloc's settings", v)
			}
			t.Skipf("%s is set", v)
		}
	}
	if !malloced {
		t.Skip("not glibc")
	}
	if !tuneMalloc() {
		t.Error("mallopt refused the settings")
	}
	t.Setenv("MALLOC_ARENA_MAX", "2")
	if tuneMalloc() {
		t.Error("MALLOC_ARENA_MAX is set, yet tuneMalloc changed malloc's settings")
	}
}

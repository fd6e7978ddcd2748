//go:build (linux || darwin || freebsd || netbsd) && !android

package blas

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

var defaultPaths = []string{
	"libopenblas.so.0",
	"libopenblas.so",
	"/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
	"/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
	"/usr/lib64/libopenblas.so.0",
	"/usr/local/lib/libopenblas.so",
	"/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
	"/usr/local/opt/openblas/lib/libopenblas.dylib",
}

// native calls the Fortran-interface sgemm_/dgemm_ of a shared library.
// Every Fortran argument is a pointer, so purego.SyscallN (integer
// registers only) can call it without reflection. Row-major C = op(A)·op(B)
// is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: B and A swap places.
type native struct {
	path           string
	sgemm_, dgemm_ uintptr
	setNumThreads  uintptr // openblas_set_num_threads(int), or 0
	config         string
}

// gemmArgs holds the scalars passed by address.
type gemmArgs struct {
	ta, tb  byte
	_       [6]byte
	m, n, k int32
	lda     int32
	ldb     int32
	ldc     int32
	alpha32 float32
	beta32  float32
	alpha64 float64
	beta64  float64
}

var argPool = sync.Pool{New: func() any { return new(gemmArgs) }}

// threadsEnv is the variable OpenBLAS reads its thread count from when it
// is loaded.
const threadsEnv = "OPENBLAS_NUM_THREADS"

func loadOpenBLAS(paths []string) (backend, error) {
	if goSplit {
		// This package runs OpenBLAS single-threaded and splits products
		// over goroutines. Loaded with its default thread count, OpenBLAS
		// starts a thread per core that burns CPU time while it waits
		// for work that never comes: about 10 % of a CNN Langevin step's
		// CPU time. Load it with one thread unless the user asked for a
		// count, and put the environment back, so that child processes
		// (a PyTorch run started by the benchmarks, say) see the user's.
		if _, set := os.LookupEnv(threadsEnv); !set {
			os.Setenv(threadsEnv, "1")
			defer os.Unsetenv(threadsEnv)
		}
	}
	var errs []string
	for _, p := range paths {
		h, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		nb := &native{path: p}
		if nb.sgemm_, err = purego.Dlsym(h, "sgemm_"); err != nil {
			return nil, fmt.Errorf("blas: %s has no sgemm_: %w", p, err)
		}
		if nb.dgemm_, err = purego.Dlsym(h, "dgemm_"); err != nil {
			return nil, fmt.Errorf("blas: %s has no dgemm_: %w", p, err)
		}
		nb.setNumThreads, _ = purego.Dlsym(h, "openblas_set_num_threads")
		if f, err := purego.Dlsym(h, "openblas_get_config"); err == nil {
			var getConfig func() string
			purego.RegisterFunc(&getConfig, f)
			nb.config = getConfig()
		}
		return nb, nil
	}
	return nil, errors.New("blas: no OpenBLAS found (on Debian: apt-get install libopenblas0-pthread): " + strings.Join(errs, "; "))
}

func (nb *native) name() string {
	how := "goroutines"
	if !goSplit {
		how = "OpenBLAS threads"
	}
	s := fmt.Sprintf("openblas %s (%d %s)", nb.path, threads, how)
	if nb.config != "" {
		s += " " + strings.TrimSpace(nb.config)
	}
	return s
}

func (nb *native) setThreads(n int) {
	if goSplit {
		n = 1 // this package splits products over goroutines itself
	}
	if nb.setNumThreads != 0 {
		purego.SyscallN(nb.setNumThreads, uintptr(n))
	}
}

func fortranTrans(t bool) byte {
	if t {
		return 'T'
	}
	return 'N'
}

func (nb *native) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := argPool.Get().(*gemmArgs)
	p.ta, p.tb = fortranTrans(tA), fortranTrans(tB)
	p.m, p.n, p.k = int32(m), int32(n), int32(k)
	p.lda, p.ldb, p.ldc = int32(lda), int32(ldb), int32(ldc)
	p.alpha32, p.beta32 = alpha, beta
	purego.SyscallN(nb.sgemm_,
		uintptr(unsafe.Pointer(&p.tb)), uintptr(unsafe.Pointer(&p.ta)),
		uintptr(unsafe.Pointer(&p.n)), uintptr(unsafe.Pointer(&p.m)), uintptr(unsafe.Pointer(&p.k)),
		uintptr(unsafe.Pointer(&p.alpha32)),
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&p.ldb)),
		uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&p.lda)),
		uintptr(unsafe.Pointer(&p.beta32)),
		uintptr(unsafe.Pointer(&c[0])), uintptr(unsafe.Pointer(&p.ldc)))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	argPool.Put(p)
}

func (nb *native) dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	p := argPool.Get().(*gemmArgs)
	p.ta, p.tb = fortranTrans(tA), fortranTrans(tB)
	p.m, p.n, p.k = int32(m), int32(n), int32(k)
	p.lda, p.ldb, p.ldc = int32(lda), int32(ldb), int32(ldc)
	p.alpha64, p.beta64 = alpha, beta
	purego.SyscallN(nb.dgemm_,
		uintptr(unsafe.Pointer(&p.tb)), uintptr(unsafe.Pointer(&p.ta)),
		uintptr(unsafe.Pointer(&p.n)), uintptr(unsafe.Pointer(&p.m)), uintptr(unsafe.Pointer(&p.k)),
		uintptr(unsafe.Pointer(&p.alpha64)),
		uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&p.ldb)),
		uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&p.lda)),
		uintptr(unsafe.Pointer(&p.beta64)),
		uintptr(unsafe.Pointer(&c[0])), uintptr(unsafe.Pointer(&p.ldc)))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	argPool.Put(p)
}

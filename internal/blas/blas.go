package blas

import (
	"fmt"
	"os"
	"runtime"
	"sync"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// backend is one GEMM implementation.
type backend interface {
	name() string
	sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	setThreads(n int)
}

var (
	once    sync.Once
	active  backend
	loadErr error
	threads int
)

// EnvVar is the environment variable that selects the implementation.
const EnvVar = "EBM_BLAS"

func get() backend {
	once.Do(func() {
		active, loadErr = choose(os.Getenv(EnvVar))
		threads = runtime.GOMAXPROCS(0)
		active.setThreads(threads)
	})
	return active
}

func choose(env string) (backend, error) {
	switch env {
	case "gonum", "go", "purego":
		return gonumBackend{}, nil
	case "", "openblas":
		b, err := loadOpenBLAS(defaultPaths)
		if err != nil {
			if env == "" {
				err = nil // silently fall back: OpenBLAS is optional
			}
			return gonumBackend{}, err
		}
		return b, nil
	default:
		b, err := loadOpenBLAS([]string{env})
		if err != nil {
			return gonumBackend{}, err
		}
		return b, nil
	}
}

// Name describes the implementation in use, for example
// "openblas /usr/lib/x86_64-linux-gnu/libopenblas.so.0 (2 threads)" or
// "gonum (pure Go)". It loads the implementation if it is not loaded yet.
func Name() string {
	b := get()
	s := b.name()
	if loadErr != nil {
		s += fmt.Sprintf(" [%s=%q failed: %v]", EnvVar, os.Getenv(EnvVar), loadErr)
	}
	return s
}

// IsNative reports whether a native library (not gonum's pure Go) runs.
func IsNative() bool { _, ok := get().(gonumBackend); return !ok }

// LoadError returns why the library EBM_BLAS asked for could not be loaded,
// or nil. With EBM_BLAS unset a missing OpenBLAS is not an error.
func LoadError() error { get(); return loadErr }

// SetThreads sets the number of threads the native library may use for one
// call (n < 1 means runtime.GOMAXPROCS(0)). gonum's implementation ignores
// it. It is global to the process.
func SetThreads(n int) {
	b := get()
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	threads = n
	b.setThreads(n)
}

// Threads returns the thread count last set for the native library.
func Threads() int { get(); return threads }

// Sgemm computes C ← α·op(A)·op(B) + β·C on row-major float32 matrices:
// op(A) is m×k, op(B) k×n, C m×n; tA and tB say whether A and B are
// transposed. lda, ldb and ldc are row strides. It panics, like gonum, on
// inconsistent sizes.
func Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale32(m, n, beta, c, ldc)
		return
	}
	be := get()
	if p := splitWays(m, n, k); p > 1 {
		split(tA, tB, m, n, p, a, lda, b, ldb, c, ldc, func(m, n int, a, b, c []float32) {
			be.sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		})
		return
	}
	be.sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm in float64.
func Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale64(m, n, beta, c, ldc)
		return
	}
	be := get()
	if p := splitWays(m, n, k); p > 1 {
		split(tA, tB, m, n, p, a, lda, b, ldb, c, ldc, func(m, n int, a, b, c []float64) {
			be.dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		})
		return
	}
	be.dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm on the calling goroutine only: it never splits the
// product, for callers that already run one product per core.
func SgemmSerial(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale32(m, n, beta, c, ldc)
		return
	}
	get().sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// DgemmSerial is Dgemm on the calling goroutine only.
func DgemmSerial(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkGemm(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scale64(m, n, beta, c, ldc)
		return
	}
	get().dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func scale32(m, n int, beta float32, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}

func scale64(m, n int, beta float64, c []float64, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			if beta == 0 {
				row[j] = 0
			} else {
				row[j] *= beta
			}
		}
	}
}

// checkGemm panics if the slices cannot hold the matrices.
func checkGemm(tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("blas: negative size m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	need := func(what string, rows, cols, ld, have int) {
		if ld < max(1, cols) {
			panic(fmt.Sprintf("blas: %s: row stride %d < %d columns", what, ld, cols))
		}
		if rows > 0 && cols > 0 && have < (rows-1)*ld+cols {
			panic(fmt.Sprintf("blas: %s: %d values for a %d×%d matrix with stride %d", what, have, rows, cols, ld))
		}
	}
	need("A", ar, ac, lda, la)
	need("B", br, bc, ldb, lb)
	need("C", m, n, ldc, lc)
}

func trans(t bool) gblas.Transpose {
	if t {
		return gblas.Trans
	}
	return gblas.NoTrans
}

// gonumBackend is gonum's pure-Go BLAS.
type gonumBackend struct{}

func (gonumBackend) name() string   { return "gonum (pure Go)" }
func (gonumBackend) setThreads(int) {}
func (gonumBackend) sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonum.Implementation{}.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
func (gonumBackend) dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonum.Implementation{}.Dgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Gorgonia is a complete BLAS (gonum's pure-Go implementation) whose Sgemm
// and Dgemm go through this package, for gorgonia.Use(blas.Gorgonia{}) and
// tensor.Use: Gorgonia's own matrix products then run on OpenBLAS when it
// is loaded.
type Gorgonia struct{ gonum.Implementation }

// Sgemm implements gonum's blas.Float32 through [Sgemm].
func (Gorgonia) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(tA != gblas.NoTrans, tB != gblas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm implements gonum's blas.Float64 through [Dgemm].
func (Gorgonia) Dgemm(tA, tB gblas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	Dgemm(tA != gblas.NoTrans, tB != gblas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Package blas is the matrix-multiply engine behind ebm's layers: general
// matrix products
//
//	C ← α·op(A)·op(B) + β·C,   op(X) = X or Xᵀ,
//
// on row-major float32 (Sgemm) and float64 (Dgemm) slices, with A m×k, B k×n
// and C m×n after op.
//
// Two implementations sit behind one API:
//
//   - OpenBLAS, loaded at run time from a shared library with
//     github.com/ebitengine/purego, so the build needs no cgo and no C
//     library: on Debian, apt-get install libopenblas0-pthread. Products
//     are split over runtime.GOMAXPROCS(0) goroutines, each calling
//     OpenBLAS single-threaded (see [SetThreads] and split.go); unless
//     OPENBLAS_NUM_THREADS is set, the library is loaded with it set to 1,
//     since the threads OpenBLAS would start otherwise only spin, costing
//     CPU time. EBM_BLAS_THREADS=native leaves threading to OpenBLAS.
//   - gonum's pure-Go implementation (gonum.org/v1/gonum/blas/gonum), always
//     there, and about 15× slower on large float32 products.
//
// The environment variable EBM_BLAS chooses, read once on first use:
//
//	EBM_BLAS unset or ""   OpenBLAS if a library is found (libopenblas.so.0,
//	                       libopenblas.so, the Debian and Homebrew paths),
//	                       gonum otherwise
//	EBM_BLAS=gonum         always gonum
//	EBM_BLAS=openblas      OpenBLAS from the usual places; gonum if missing,
//	                       with the reason in [LoadError]
//	EBM_BLAS=/path/lib.so  that library: any shared library exporting the
//	                       Fortran sgemm_/dgemm_ symbols (OpenBLAS, BLIS,
//	                       reference BLAS, MKL's libmkl_rt)
//
// [Name] says which one runs, for a command to print at start-up.
// [Gorgonia] adapts the engine to gorgonia.G.Use, so Gorgonia's own
// matrix products use it too.
package blas

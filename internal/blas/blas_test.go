package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// naive computes C ← α·op(A)·op(B) + β·C in float64.
func naive(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := range m {
		for j := range n {
			var s float64
			for l := range k {
				var av, bv float64
				if tA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if tB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func randSlice(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// backends returns gonum and, when a library loads, OpenBLAS.
func backends(t testing.TB) map[string]backend {
	bs := map[string]backend{"gonum": gonumBackend{}}
	if nb, err := loadOpenBLAS(defaultPaths); err == nil {
		nb.setThreads(runtime.GOMAXPROCS(0))
		bs["openblas"] = nb
	} else {
		t.Logf("OpenBLAS not tested: %v", err)
	}
	return bs
}

func TestGemmAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for name, be := range backends(t) {
		for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 9}, {64, 48, 130}} {
			m, n, k := sz[0], sz[1], sz[2]
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					// Padded strides check that ld is honoured.
					lda, ldb, ldc := k+2, n+1, n+3
					ar, br := m, k
					if tA {
						lda, ar = m+2, k
					}
					if tB {
						ldb, br = k+1, n
					}
					a := randSlice(rng, ar*lda)
					b := randSlice(rng, br*ldb)
					c := randSlice(rng, m*ldc)
					want := append([]float64(nil), c...)
					naive(tA, tB, m, n, k, 0.7, a, lda, b, ldb, -0.3, want, ldc)

					got := append([]float64(nil), c...)
					be.dgemm(tA, tB, m, n, k, 0.7, a, lda, b, ldb, -0.3, got, ldc)
					for i := range got {
						if math.Abs(got[i]-want[i]) > 1e-12*float64(k+1) {
							t.Fatalf("%s dgemm %v tA=%v tB=%v: C[%d] = %v, want %v", name, sz, tA, tB, i, got[i], want[i])
						}
					}
					got32 := to32(c)
					be.sgemm(tA, tB, m, n, k, 0.7, to32(a), lda, to32(b), ldb, -0.3, got32, ldc)
					for i := range got32 {
						if math.Abs(float64(got32[i])-want[i]) > 1e-5*float64(k+1) {
							t.Fatalf("%s sgemm %v tA=%v tB=%v: C[%d] = %v, want %v", name, sz, tA, tB, i, got32[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestChoose(t *testing.T) {
	b, err := choose("gonum")
	if err != nil || b.name() != "gonum (pure Go)" {
		t.Fatalf("EBM_BLAS=gonum gave %v, %v", b.name(), err)
	}
	b, err = choose("/nonexistent/libblas.so")
	if err == nil {
		t.Fatalf("a missing library loaded: %v", b.name())
	}
	if _, ok := b.(gonumBackend); !ok {
		t.Fatalf("a missing library did not fall back to gonum: %v", b.name())
	}
	if _, err := choose(""); err != nil {
		t.Fatalf("auto choice returned an error: %v", err)
	}
}

func TestPublicAPIChecksSizes(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Sgemm with a short C did not panic")
		}
	}()
	Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 3), 2)
}

func TestZeroK(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 2, c, 2)
	if c[3] != 8 {
		t.Fatalf("k = 0 should scale C by β: %v", c)
	}
}

func benchSgemm(b *testing.B, be backend, m, n, k int) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := to32(randSlice(rng, m*k))
	bb := to32(randSlice(rng, k*n))
	c := make([]float32, m*n)
	for b.Loop() {
		be.sgemm(false, true, m, n, k, 1, a, k, bb, k, 0, c, n)
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkSgemm(b *testing.B) {
	for name, be := range backends(b) {
		for _, s := range [][3]int{{128, 256, 784}, {128, 256, 256}, {1024, 128, 128}, {64, 256, 576}, {1024, 1024, 1024}} {
			b.Run(fmt.Sprintf("%s/%dx%dx%d", name, s[0], s[1], s[2]), func(b *testing.B) { benchSgemm(b, be, s[0], s[1], s[2]) })
		}
	}
}

// TestSplitAgainstNaive checks products large enough to be split over
// goroutines, in all four transpositions and both split directions.
func TestSplitAgainstNaive(t *testing.T) {
	if !IsNative() {
		t.Skip("products are split only for a native library")
	}
	old := threads
	threads = 3
	defer func() { threads = old }()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][3]int{{70, 600, 64}, {600, 70, 64}} {
		m, n, k := sz[0], sz[1], sz[2]
		if splitWays(m, n, k) < 2 {
			t.Fatalf("%v not split", sz)
		}
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				lda, ldb := k, n
				if tA {
					lda = m
				}
				if tB {
					ldb = k
				}
				a := randSlice(rng, m*k)
				b := randSlice(rng, k*n)
				want := make([]float64, m*n)
				naive(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, want, n)
				got := make([]float32, m*n)
				Sgemm(tA, tB, m, n, k, 1, to32(a), lda, to32(b), ldb, 0, got, n)
				got64 := make([]float64, m*n)
				Dgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0, got64, n)
				for i := range want {
					if math.Abs(float64(got[i])-want[i]) > 1e-4 || math.Abs(got64[i]-want[i]) > 1e-10 {
						t.Fatalf("%v tA=%v tB=%v: C[%d] = %v (s), %v (d), want %v", sz, tA, tB, i, got[i], got64[i], want[i])
					}
				}
			}
		}
	}
}

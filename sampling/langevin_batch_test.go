package sampling

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// bigBatch is a batch large enough for per-chain noise and helper
// goroutines (langevinSplit): 64 chains of an isotropic Gaussian in 1024
// dimensions.
const bigChains, bigDim = 64, 1024

func bigRun(t *testing.T, procs int, seed uint64, steps int) State {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	k, err := NewLangevin(contIsoGaussian{d: bigDim}, LangevinConfig{StepSize: 0.1, Noise: 0.3, NoiseFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	s, err := k.Init(make([]float64, bigChains*bigDim), bigChains)
	if err != nil {
		t.Fatal(err)
	}
	for range steps {
		if s, _, err = k.Step(rng, s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestLangevinLargeBatch checks the large-batch path: the same draws for
// a seed whatever the number of goroutines, and the stationary variance
// of the noise-first chain on N(0, I), σ²a²/(1 − a²) with a = 1 − ε/2,
// within a few Monte Carlo standard errors, over several seeds.
func TestLangevinLargeBatch(t *testing.T) {
	if bigChains*bigDim < langevinSplit {
		t.Fatal("the batch is too small for the large-batch path")
	}
	a := 1 - 0.1/2
	want := 0.3 * 0.3 * a * a / (1 - a*a)
	for _, seed := range contSeeds[:3] {
		s1 := bigRun(t, 1, seed, 200)
		s4 := bigRun(t, 4, seed, 200)
		for i := range s1.X {
			if math.Float64bits(s1.X[i]) != math.Float64bits(s4.X[i]) {
				t.Fatalf("seed %d: 1 and 4 goroutines differ at %d: %v, %v", seed, i, s1.X[i], s4.X[i])
			}
		}
		// After 200 steps (a²⁰⁰ ≈ 4e-5) the values are independent draws
		// from N(0, want) but for the chains' weak time correlation, which
		// is not there across coordinates: 65536 values, variance known.
		var m2 float64
		for _, v := range s1.X {
			m2 += v * v
		}
		m2 /= float64(len(s1.X))
		se := want * math.Sqrt(2/float64(len(s1.X)))
		if math.Abs(m2-want) > contZ*se {
			t.Errorf("seed %d: variance %.5f, want %.5f ± %.5f", seed, m2, want, se)
		}
		// Chains draw independent noise: neighbouring chains' values are
		// uncorrelated (mean product 0, standard error want/√n).
		var c12 float64
		for c := 0; c+1 < bigChains; c += 2 {
			for i := range bigDim {
				c12 += s1.X[c*bigDim+i] * s1.X[(c+1)*bigDim+i]
			}
		}
		np := float64(bigChains / 2 * bigDim)
		if c12 /= np; math.Abs(c12) > contZ*want/math.Sqrt(np) {
			t.Errorf("seed %d: neighbouring chains correlate: mean product %.5f, variance %.5f", seed, c12, want)
		}
	}
}

// TestLangevinLargeBatchNoAllocs checks that large-batch steps, helpers
// included, allocate nothing once running, and that the helpers stop when
// the kernel is collected.
func TestLangevinLargeBatchNoAllocs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	func() {
		k, err := NewLangevin(contIsoGaussian{d: bigDim}, ClippedLangevin(0.1, 0.01))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		s, _ := k.Init(make([]float64, bigChains*bigDim), bigChains)
		s, _, _ = k.Step(rng, s)
		if n := testing.AllocsPerRun(20, func() { s, _, _ = k.Step(rng, s) }); n != 0 {
			t.Errorf("%v allocations per step", n)
		}
		if k.st.pool == nil || k.st.pool.helpers != 3 {
			t.Errorf("no pool of 3 helpers with GOMAXPROCS 4: %+v", k.st.pool)
		}
	}()
	// Dropped kernels' helpers stop (this test's and earlier ones').
	deadline := time.Now().Add(10 * time.Second)
	for helpersRunning.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d helper goroutines still run 10 s after their kernels were dropped", helpersRunning.Load())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

//go:build torch

package torch

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/sampling"
)

// logistic returns f(x) = Σ_i −softplus(x_i) − softplus(−x_i), the log
// density of d independent standard logistic variables (normalised: Z = 1),
// built from nn layers: mean 0, variance π²/3, E[x⁴] = 7π⁴/15.
func logistic(d int) *nn.Sequential {
	rng := rand.New(rand.NewPCG(0, 0))
	l1 := nn.NewLinear(rng, d, 2*d)
	l2 := nn.NewLinear(rng, 2*d, 1)
	w1 := make([]float64, 2*d*d)
	for i := 0; i < d; i++ {
		w1[i*d+i] = 1
		w1[(d+i)*d+i] = -1
	}
	l1.Weight.SetFloat64s(w1)
	l1.Bias.SetFloat64s(make([]float64, 2*d))
	w2 := make([]float64, 2*d)
	for i := range w2 {
		w2[i] = -1
	}
	l2.Weight.SetFloat64s(w2)
	l2.Bias.SetFloat64s([]float64{0})
	return nn.NewSequential(l1, nn.Softplus(), l2)
}

// TestLangevinMatchesGo runs the device loop and sampling.Langevin with
// (almost) no noise, where both are deterministic, and compares the paths:
// same drift, gradient clipping, clamping and order of operations.
func TestLangevinMatchesGo(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  sampling.LangevinConfig
	}{
		{"plain", sampling.LangevinConfig{StepSize: 0.1, Noise: 1e-300}},
		{"clip-clamp", sampling.LangevinConfig{StepSize: 20, Noise: 1e-300, GradClip: 0.03, Min: -1, Max: 1}},
		{"noise-first", sampling.LangevinConfig{StepSize: 20, Noise: 1e-300, GradClip: 0.03, Min: -1, Max: 1, NoiseFirst: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			m := nn.NewMLP(rng, nn.SiLU, 3, 16, 16, 1)
			graph.Cast(m, graph.Float64)
			tm, err := NewModel(m, []int{3}, testDev)
			if err != nil {
				t.Fatal(err)
			}
			defer tm.Close()
			ge, err := graph.NewEnergy(m, graph.Config{Shape: []int{3}})
			if err != nil {
				t.Fatal(err)
			}
			n, steps := 6, 25
			x0 := randn(rng, n*3)
			k, err := sampling.NewLangevin(ge, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := k.Init(x0, n)
			if err != nil {
				t.Fatal(err)
			}
			for range steps {
				if s, _, err = k.Step(rng, s); err != nil {
					t.Fatal(err)
				}
			}
			x := append([]float64(nil), x0...)
			st, err := tm.Langevin(context.Background(), x, n, tc.cfg, steps)
			if err != nil {
				t.Fatal(err)
			}
			if st.Divergences != 0 || st.MeanAccept != 1 || st.GradEvals != steps {
				t.Errorf("stats %+v", st)
			}
			for i := range x {
				if math.Abs(x[i]-s.X[i]) > 1e-12 {
					t.Fatalf("x[%d]: torch %.15g, Go %.15g", i, x[i], s.X[i])
				}
			}
			if !tc.cfg.NoiseFirst { // (with NoiseFirst, s.F is f at the last noised point)
				f := make([]float64, n)
				if err := tm.F(f, x); err != nil {
					t.Fatal(err)
				}
				for i := range f {
					if math.Abs(f[i]-s.F[i]) > 1e-12 {
						t.Fatalf("f[%d]: torch %.15g, Go %.15g", i, f[i], s.F[i])
					}
				}
			}
		})
	}
}

// momentCheck runs sample over several seeds and checks the mean and the
// second moment of the draws against the standard logistic's, within 4.5
// Monte Carlo standard errors of independent draws.
func momentCheck(t *testing.T, name string, sample func(seed int64) []float64) {
	t.Helper()
	const var2 = math.Pi * math.Pi / 3                        // E[x²]
	const m4 = 7 * math.Pi * math.Pi * math.Pi * math.Pi / 15 // E[x⁴]
	for seed := int64(1); seed <= 3; seed++ {
		xs := sample(seed)
		var s1, s2 float64
		for _, v := range xs {
			s1 += v
			s2 += v * v
		}
		n := float64(len(xs))
		mean, second := s1/n, s2/n
		seMean := math.Sqrt(var2 / n)
		seSecond := math.Sqrt((m4 - var2*var2) / n)
		if math.Abs(mean) > 4.5*seMean {
			t.Errorf("%s seed %d: mean %.4f, want 0 ± %.4f", name, seed, mean, 4.5*seMean)
		}
		if math.Abs(second-var2) > 4.5*seSecond {
			t.Errorf("%s seed %d: E[x²] %.4f, want %.4f ± %.4f", name, seed, second, var2, 4.5*seSecond)
		}
	}
}

// startNormal returns n·d standard normal starting values.
func startNormal(seed int64, n int) []float64 {
	return randn(rand.New(rand.NewPCG(uint64(seed), 99)), n)
}

func TestLangevinLogisticMoments(t *testing.T) {
	const d, n = 2, 4000
	tm, err := NewModel(logistic(d), []int{d}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	// ULA with ε = 0.05: the stationary law's variance is off by O(ε),
	// ~1%, well inside the tolerance.
	momentCheck(t, "Langevin", func(seed int64) []float64 {
		ManualSeed(seed)
		x := startNormal(seed, n*d)
		st, err := tm.Langevin(context.Background(), x, n, sampling.LangevinConfig{StepSize: 0.05}, 1500)
		if err != nil {
			t.Fatal(err)
		}
		if st.Divergences != 0 {
			t.Fatalf("%d divergences", st.Divergences)
		}
		return x
	})
}

func TestMALALogisticMoments(t *testing.T) {
	const d, n = 2, 4000
	tm, err := NewModel(logistic(d), []int{d}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	momentCheck(t, "MALA", func(seed int64) []float64 {
		ManualSeed(seed)
		x := startNormal(seed, n*d)
		st, err := tm.MALA(context.Background(), x, n, sampling.MALAConfig{StepSize: 0.8, InvMass: []float64{1.5, 3}}, 300)
		if err != nil {
			t.Fatal(err)
		}
		if st.MeanAccept < 0.3 || st.MeanAccept > 0.99 || st.Divergences != 0 {
			t.Fatalf("stats: mean accept %.3f, %d divergences", st.MeanAccept, st.Divergences)
		}
		return x
	})
}

func TestHMCLogisticMoments(t *testing.T) {
	const d, n = 2, 4000
	tm, err := NewModel(logistic(d), []int{d}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	momentCheck(t, "HMC", func(seed int64) []float64 {
		ManualSeed(seed)
		x := startNormal(seed, n*d)
		st, err := tm.HMC(context.Background(), x, n, sampling.HMCConfig{StepSize: 0.6, NumSteps: 5, Jitter: 0.2, InvMass: []float64{3, 3}}, 60)
		if err != nil {
			t.Fatal(err)
		}
		if st.MeanAccept < 0.5 || st.Divergences != 0 || st.GradEvals != 300 {
			t.Fatalf("stats: mean accept %.3f, %d divergences, %d gradient evaluations", st.MeanAccept, st.Divergences, st.GradEvals)
		}
		return x
	})
}

// TestHMCDivergence: with a huge step the energy error exceeds the bound
// at once: every transition is divergent and no chain moves.
func TestHMCDivergence(t *testing.T) {
	defer noLeak(t)()
	tm, err := NewModel(logistic(2), []int{2}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	x := []float64{0.5, -0.5, 1, 2}
	st, err := tm.HMC(context.Background(), x, 2, sampling.HMCConfig{StepSize: 1e6, NumSteps: 3}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if st.Divergences != 10 || st.MeanAccept != 0 {
		t.Errorf("stats %+v, want 10 divergences", st)
	}
	if x[0] != 0.5 || x[3] != 2 {
		t.Errorf("divergent chains moved: %v", x)
	}
}

func TestSamplerErrors(t *testing.T) {
	defer noLeak(t)()
	tm, err := NewModel(logistic(2), []int{2}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	x := []float64{0, 0, math.Inf(1), 0}
	_, err = tm.Langevin(context.Background(), x, 2, sampling.LangevinConfig{StepSize: 0.1}, 5)
	if !errors.Is(err, sampling.ErrDiverged) || !strings.Contains(err.Error(), "chain 1") {
		t.Errorf("start at Inf: got %v", err)
	}
	_, err = tm.Langevin(context.Background(), make([]float64, 4), 2, sampling.LangevinConfig{}, 5)
	if err == nil || !strings.Contains(err.Error(), "StepSize") {
		t.Errorf("zero step size: got %v", err)
	}
	_, err = tm.MALA(context.Background(), make([]float64, 5), 2, sampling.MALAConfig{}, 5)
	if err == nil {
		t.Errorf("5 values for 2 chains of 2: no error")
	}
	for _, c := range []struct{ n, steps int }{{0, 5}, {-1, 5}, {2, -1}} {
		x := make([]float64, 4)
		for name, run := range map[string]func() error{
			"Langevin": func() error {
				_, err := tm.Langevin(context.Background(), x, c.n, sampling.LangevinConfig{StepSize: 0.1}, c.steps)
				return err
			},
			"MALA": func() error {
				_, err := tm.MALA(context.Background(), x, c.n, sampling.MALAConfig{StepSize: 0.1}, c.steps)
				return err
			},
			"HMC": func() error {
				_, err := tm.HMC(context.Background(), x, c.n, sampling.HMCConfig{StepSize: 0.1, NumSteps: 2}, c.steps)
				return err
			},
		} {
			if err := run(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s with %d chains, %d steps: got %v, want an error naming the sampler", name, c.n, c.steps, err)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x = []float64{0.5, 0.25, 1, 2}
	if _, err := tm.Langevin(ctx, x, 2, sampling.LangevinConfig{StepSize: 0.1}, 5); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
	if x[0] != 0.5 || x[3] != 2 {
		t.Errorf("a cancelled run changed x: %v", x)
	}
}

// TestLangevinDivergence: a step that overflows float32 is divergent and
// leaves the chain where it was.
func TestLangevinDivergence(t *testing.T) {
	defer noLeak(t)()
	rng := rand.New(rand.NewPCG(1, 1))
	l := nn.NewLinear(rng, 2, 1)
	l.Weight.SetFloat64s([]float64{1e30, 1e30})
	tm, err := NewModel(nn.NewSequential(l), []int{2}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	x := []float64{0.5, -0.5, 1, 2, 3, 4}
	st, err := tm.Langevin(context.Background(), x, 3, sampling.LangevinConfig{StepSize: 1e10, Noise: 1}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if st.Divergences != 12 || st.MeanAccept != 0 {
		t.Errorf("stats %+v, want 12 divergences", st)
	}
	if x[0] != 0.5 || x[5] != 4 {
		t.Errorf("divergent chains moved: %v", x)
	}
}

// TestLangevinDivergenceNoiseFirst: with the noise first, a step is
// divergent where f or ∇f at the noised point is not finite (here f
// overflows float32 inside the box) or where the drift leaves the reals
// (no box); the other chains move. The same in float64, where the checks
// differ.
func TestLangevinDivergenceNoiseFirst(t *testing.T) {
	defer noLeak(t)()
	for _, dtype := range []string{"float32", "float64"} {
		rng := rand.New(rand.NewPCG(1, 1))
		l := nn.NewLinear(rng, 2, 1)
		w, big := 3e38, 1e300 // f = w·(x₁+x₂) overflows for x₁+x₂ > 1.13 in float32
		if dtype == "float64" {
			w, big = 1.7e308, 1e300
			graph.Cast(l, graph.Float64)
		}
		l.Weight.SetFloat64s([]float64{w, w})
		l.Bias.SetFloat64s([]float64{0})
		// at rounds a start to the model's precision: where a chain stays.
		at := func(v float64) float64 {
			if dtype == "float32" {
				return float64(float32(v))
			}
			return v
		}
		tm, err := NewModel(nn.NewSequential(l), []int{2}, testDev)
		if err != nil {
			t.Fatal(err)
		}
		// Inside the box [−1, 1]: chain 0 overflows f, chain 1 does not.
		x := []float64{0.9, 0.9, -0.9, 0.95}
		cfg := sampling.LangevinConfig{StepSize: 1e-60, Noise: 1e-3, GradClip: 0.03, Min: -1, Max: 1, NoiseFirst: true}
		st, err := tm.Langevin(context.Background(), x, 2, cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		if st.Divergences != 5 || st.MeanAccept != 0.5 {
			t.Errorf("%s, box: stats %+v, want 5 divergences", dtype, st)
		}
		if x[0] != at(0.9) || x[1] != at(0.9) || x[2] == at(-0.9) {
			t.Errorf("%s, box: chain 0 moved or chain 1 did not: %v", dtype, x)
		}
		// No box: a huge step sends every chain to ±Inf.
		x = []float64{0.1, 0.2, -0.3, 0.4}
		cfg = sampling.LangevinConfig{StepSize: big, Noise: 1e-3, NoiseFirst: true}
		if st, err = tm.Langevin(context.Background(), x, 2, cfg, 3); err != nil {
			t.Fatal(err)
		}
		if st.Divergences != 6 || x[0] != at(0.1) || x[3] != at(0.4) {
			t.Errorf("%s, no box: stats %+v, x %v, want 6 divergences and no move", dtype, st, x)
		}
		tm.Close()
	}
}

func TestSamplerSeeded(t *testing.T) {
	defer noLeak(t)()
	tm, err := NewModel(logistic(3), []int{3}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	run := func(seed int64) []float64 {
		ManualSeed(seed)
		x := startNormal(1, 10*3)
		if _, err := tm.Langevin(context.Background(), x, 10, sampling.LangevinConfig{StepSize: 0.1}, 10); err != nil {
			t.Fatal(err)
		}
		return x
	}
	a, b, c := run(7), run(7), run(8)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different draws at %d: %v vs %v", i, a[i], b[i])
		}
	}
	if a[0] == c[0] {
		t.Errorf("different seeds gave the same draw")
	}
}

// rss returns the resident set size in bytes, from /proc/self/status.
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// TestMemoryFlat runs 10,000 Langevin steps of a small CNN and checks
// that the process's resident memory does not grow: every tensor and
// scalar a step makes is freed within the step.
func TestMemoryFlat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	tm, err := NewModel(nn.NewSequential(
		nn.NewConv2d(rng, 1, 4, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.SiLU(),
		nn.NewConv2d(rng, 4, 4, 3, nn.Conv2dConfig{Padding: 1, NoBias: true}), nn.LeakyReLU(0.2),
		nn.Flatten{}, nn.NewLinear(rng, 4*4*4, 1)), []int{1, 8, 8}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	steps := 10000
	if testing.Short() {
		steps = 2000
	}
	n := 16
	x := randn(rng, n*tm.Dim())
	cfg := sampling.ClippedLangevin(10, 0.005)
	handles := live.Load()
	if _, err := tm.Langevin(context.Background(), x, n, cfg, 1000); err != nil {
		t.Fatal(err)
	}
	before := rss(t)
	if _, err := tm.Langevin(context.Background(), x, n, cfg, steps); err != nil {
		t.Fatal(err)
	}
	after := rss(t)
	if l := live.Load(); l != handles {
		t.Errorf("%d tensor handles live after the runs, %d before", l, handles)
	}
	t.Logf("RSS %d KiB before, %d KiB after %d steps", before>>10, after>>10, steps)
	if after > before+4<<20 {
		t.Errorf("RSS grew by %d KiB over %d steps", (after-before)>>10, steps)
	}
}

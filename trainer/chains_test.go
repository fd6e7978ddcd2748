package trainer_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Short-run chains start from Config.Noise at every iteration: nothing of
// the last iteration's chains carries over, and no buffer is kept.
func TestShortRunStartsFromNoise(t *testing.T) {
	s := newSetup(t, t.TempDir(), 6, trainer.ShortRun)
	calls := 0
	s.cfg.Noise = func(rng *rand.Rand, x []float64) {
		calls++
		if len(x) != 32*2 {
			t.Errorf("noise for %d values, want a whole batch of 32×2", len(x))
		}
		for i := range x {
			x[i] = 5 + 0.01*rng.NormFloat64() // far from the data, in a corner of its own
		}
	}
	s.cfg.Steps = 1
	tr, err := trainer.New(s.model, s.data, s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.Buffer() != nil {
		t.Error("short-run chains keep a replay buffer")
	}
	for i := range 6 {
		m, err := tr.Step(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if m.Fresh != 32 {
			t.Errorf("iteration %d: %d fresh chains, want all 32", i+1, m.Fresh)
		}
		// One Langevin step of ε = 0.02 moves a chain by about 0.14: every
		// chain is still near the noise it started from.
		for j, v := range tr.Samples() {
			if math.Abs(v-5) > 1 {
				t.Fatalf("iteration %d: chain value %d is %g, not one step from its fresh start at 5", i+1, j, v)
			}
		}
	}
	if calls != 6 {
		t.Errorf("noise drawn %d times in 6 iterations, want 6", calls)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := trainer.ReadBuffer(s.cfg.Dir); err == nil {
		t.Error("the checkpoint of a short-run training holds a replay buffer")
	}
	if c, err := trainer.ParseChains("short-run"); err != nil || c != trainer.ShortRun {
		t.Errorf("ParseChains(short-run) = %v, %v", c, err)
	}
}

// quadratic is f(x) = a·x + b·x² on one-dimensional samples: an
// exponential family whose sufficient statistics are x and x², so that
// ∇θ f = (x, x²) and a fixed point of contrastive training equates the
// first two moments of the data and of the negative samples.
func quadratic() graph.Model {
	w := graph.NewParam("w", tensor.Float64, 2, 1)
	w.SetFloat64s([]float64{0, -0.5})
	return graph.Func{P: []*graph.Param{w}, Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) {
		sq, err := G.Square(x)
		if err != nil {
			return nil, err
		}
		feat, err := G.Concat(1, x, sq)
		if err != nil {
			return nil, err
		}
		return G.Mul(feat, b.Param(w))
	}}
}

// TestShortRunMatchesDataMoments checks the defining property of short-run
// training (Nijkamp et al. 2019): the learned model makes its short chain —
// uniform noise, then K Langevin steps — produce samples whose moments,
// for the statistics the energy is built from, equal the data's, although
// the model's own density exp(f)/Z is far from the data. For f = a·x +
// b·x² the fixed point of learning is E_q[x] = E_data[x] and E_q[x²] =
// E_data[x²], q the distribution of the short chain's end points.
func TestShortRunMatchesDataMoments(t *testing.T) {
	const (
		mu, sd = 0.5, 0.3
		nData  = 5000
		batch  = 500
		steps  = 8
		iters  = 400
		nDraw  = 50000
	)
	kernel := sampling.LangevinConfig{StepSize: 0.02, Noise: 0.05}
	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, 99))
		data := make([]float64, nData)
		var m1, m2 float64
		for i := range data {
			data[i] = mu + sd*rng.NormFloat64()
			m1 += data[i] / nData
			m2 += data[i] * data[i] / nData
		}
		model := quadratic()
		batches, err := datasets.NewBatches(data, 1, datasets.BatchConfig{Size: batch, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := trainer.New(model, batches, trainer.Config{
			Shape: []int{1}, Iterations: iters, Chains: trainer.ShortRun, Steps: steps,
			Kernel:   func(e energy.Differentiable) (sampling.Kernel, error) { return sampling.NewLangevin(e, kernel) },
			Adam:     optim.AdamConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.999},
			Schedule: optim.Schedule{Kind: "cosine", Total: iters, MinLR: 1e-3},
			Seed:     seed,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		tr.Close()

		// The short chain of the trained model, run on many fresh starts.
		e, err := graph.NewEnergy(model, graph.Config{Shape: []int{1}, Batch: nDraw})
		if err != nil {
			t.Fatal(err)
		}
		k, err := sampling.NewLangevin(e, kernel)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, nDraw)
		trainer.UniformNoise(rng, x)
		st, err := k.Init(x, nDraw)
		if err != nil {
			t.Fatal(err)
		}
		for range steps {
			if st, _, err = k.Step(rng, st); err != nil {
				t.Fatal(err)
			}
		}
		var q1, q2 float64
		for _, v := range st.X {
			q1 += v / nDraw
			q2 += v * v / nDraw
		}
		w := model.Params()[0].Float64s(nil)
		a, b := w[0], w[1]
		modelMean, modelSD := -a/(2*b), math.Sqrt(-1/(2*b))
		t.Logf("seed %d: data mean %.4f sd %.4f; short-run samples mean %.4f sd %.4f; the model's own density mean %.4f sd %.4f",
			seed, m1, math.Sqrt(m2-m1*m1), q1, math.Sqrt(q2-q1*q1), modelMean, modelSD)
		// Tolerances: a few standard errors of a batch's moments, the
		// noise in each gradient that the final learning rate leaves.
		se1, se2 := sd/math.Sqrt(batch), math.Sqrt(2*sd*sd*sd*sd+4*mu*mu*sd*sd)/math.Sqrt(batch)
		if math.Abs(q1-m1) > 3*se1 || math.Abs(q2-m2) > 3*se2 {
			t.Errorf("seed %d: short-run samples E[x] %.4f, E[x²] %.4f; data %.4f, %.4f (tolerance %.4f, %.4f)", seed, q1, q2, m1, m2, 3*se1, 3*se2)
		}
		if math.Abs(modelMean-m1) < 10*se1 {
			t.Errorf("seed %d: the model's own density has mean %.4f, near the data's %.4f: the short chain converged, and the test shows nothing", seed, modelMean, m1)
		}
	}
}

// GaussianNoise draws from its Gaussian, clamped: the mean of clamped
// draws of N(0.5, 0.4²) to [0, 1] is the truncated-and-clamped mean,
// within 4 standard errors, and nothing falls outside [0, 1].
func TestGaussianNoise(t *testing.T) {
	g, err := energy.NewGaussian([]float64{0.5, 0}, []float64{0.16, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	noise := trainer.GaussianNoise(g, 0, 1)
	const n = 20000
	x := make([]float64, 2*n)
	noise(rand.New(rand.NewPCG(1, 2)), x)
	// E[clamp(Z, 0, 1)] for Z ~ N(0.5, 0.4²) is 0.5 by symmetry about 0.5;
	// the second coordinate, N(0, 1) clamped, has mean P(Z>1) + ∫₀¹ z φ(z) dz.
	phi := func(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }
	want := [2]float64{0.5, 0.5*math.Erfc(1/math.Sqrt2) + phi(0) - phi(1)}
	for c := range 2 {
		var m, m2 float64
		for i := range n {
			v := x[2*i+c]
			if v < 0 || v > 1 {
				t.Fatalf("draw %g outside [0, 1]", v)
			}
			m += v / n
			m2 += v * v / n
		}
		if se := math.Sqrt((m2 - m*m) / n); math.Abs(m-want[c]) > 4*se {
			t.Errorf("coordinate %d: mean %.4f, want %.4f ± %.4f", c, m, want[c], 4*se)
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "trainer: GaussianNoise") {
			t.Errorf("three values of a 2-d Gaussian: recovered %v, want a trainer: panic", r)
		}
	}()
	noise(rand.New(rand.NewPCG(1, 2)), make([]float64, 3))
}

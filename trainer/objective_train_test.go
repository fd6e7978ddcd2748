package trainer_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

// TestObjectivesTrainToy trains the same MLP energy on 8gaussians with
// every objective and checks that the test NLL's gap to the data entropy
// (KL(p_data‖p_θ), with log Z by quadrature) shrinks well below the
// untrained model's. NCE's learned log Z must also approach the
// quadrature's.
func TestObjectivesTrainToy(t *testing.T) {
	toy, err := datasets.ToyByName("8gaussians")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	train := toy.SampleN(rng, 20000)
	test := toy.SampleN(rng, 5000)
	box := toy.Bounds()
	h := toy.Entropy()
	for _, tc := range []struct {
		obj   trainer.Objective
		iters int
		lr    float64
	}{
		{trainer.ScoreMatching{}, 400, 3e-3},
		{trainer.SlicedScoreMatching{Projections: 2}, 400, 3e-3},
		{trainer.DenoisingScoreMatching{Sigma: 0.1}, 400, 3e-3},
		{trainer.NCE{Ratio: 4}, 400, 3e-3},
		{trainer.ImprovedCD{KL: 1, KLStep: 0.01, KLNoise: -1}, 300, 1e-3},
	} {
		t.Run(tc.obj.Name(), func(t *testing.T) {
			model := nn.NewMLP(rand.New(rand.NewPCG(5, 6)), nn.SiLU, 2, 64, 64, 1)
			before := toyNLL(t, model, test, box)
			data := mustBatches(datasets.NewBatches(train, 2, datasets.BatchConfig{Size: 128, Seed: 3}))
			noise := func(rng *rand.Rand, x []float64) {
				for i := 0; i+1 < len(x); i += 2 {
					x[i] = box.XMin + (box.XMax-box.XMin)*rng.Float64()
					x[i+1] = box.YMin + (box.YMax-box.YMin)*rng.Float64()
				}
			}
			tr, err := trainer.New(model, data, trainer.Config{
				Shape: []int{2}, Iterations: tc.iters, Objective: tc.obj,
				Steps: 30, Kernel: toyKernel, Noise: noise, Alpha: 0.01, BufferSize: 4096,
				Adam: optimCfg(tc.lr), Seed: 4,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			if err := tr.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			after := toyNLL(t, model, test, box)
			t.Logf("%s: test NLL − entropy: untrained %.3f, trained %.3f nats", tc.obj.Name(), before-h, after-h)
			if !(after-h < 0.35*(before-h)) {
				t.Errorf("gap went from %.3f to %.3f; want below 35%% of the start", before-h, after-h)
			}
			if !tc.obj.Sampled() {
				if _, nce := tc.obj.(trainer.NCE); !nce {
					if m := tr.History()[0]; m.Gap != 0 || m.FNeg != 0 || m.FPos == 0 {
						t.Errorf("score matching reports f(data) %g, f(samples) %g, gap %g; want f(data) alone", m.FPos, m.FNeg, m.Gap)
					}
				}
			}
			if _, ok := tc.obj.(trainer.NCE); ok {
				hist := tr.History()
				logZ := hist[len(hist)-1].LogZ
				quad := toyNLL(t, model, test, box) + meanF(t, model, test) // NLL = −mean f + log Z
				t.Logf("NCE's log Z %.3f, by quadrature %.3f", logZ, quad)
				if math.Abs(logZ-quad) > 0.2 {
					t.Errorf("NCE's log Z %.3f is more than 0.2 from the quadrature's %.3f", logZ, quad)
				}
			}
		})
	}
}

// A NaN in the data makes the score-matching loss NaN: the iteration is a
// divergence (sampling.ErrDiverged), handled as CD's are.
func TestObjectiveDivergence(t *testing.T) {
	x := make([]float64, 64*2)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	x[37] = math.NaN()
	for _, obj := range []trainer.Objective{trainer.DenoisingScoreMatching{Sigma: 0.1}, trainer.SlicedScoreMatching{}, trainer.NCE{Noise: mustGaussian(t)}} {
		t.Run(obj.Name(), func(t *testing.T) {
			data := mustBatches(datasets.NewBatches(x, 2, datasets.BatchConfig{Size: 64, Seed: 1}))
			tr, err := trainer.New(nn.NewMLP(rand.New(rand.NewPCG(1, 1)), nn.SiLU, 2, 8, 1), data, trainer.Config{
				Shape: []int{2}, Iterations: 3, Objective: obj, Adam: optimCfg(1e-3)})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			err = tr.Run(context.Background())
			if !errors.Is(err, sampling.ErrDiverged) {
				t.Fatalf("Run on data with a NaN: %v, want a divergence", err)
			}
		})
	}
}

func mustGaussian(t *testing.T) *energy.Gaussian {
	g, err := energy.NewGaussian([]float64{0, 0}, []float64{1, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func meanF(t *testing.T, m graph.Model, x []float64) float64 {
	e, err := graph.NewEnergy(m, graph.Config{Shape: []int{2}})
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float64, len(x)/2)
	if err := e.F(f, x); err != nil {
		t.Fatal(err)
	}
	s := 0.0
	for _, v := range f {
		s += v
	}
	return s / float64(len(f))
}

// Objectives resume bit for bit (NCE's learned log Z and its Adam moments
// are in the checkpoint), roll back after a NaN as CD does, and refuse a
// checkpoint made with another objective.
func TestObjectiveResumeAndRollback(t *testing.T) {
	for _, obj := range []trainer.Objective{
		trainer.DenoisingScoreMatching{Levels: 3, SigmaMax: 0.5, SigmaMin: 0.05},
		trainer.SlicedScoreMatching{Rademacher: true},
		trainer.NCE{Ratio: 2},
		trainer.ImprovedCD{KL: 0.5, KLStep: 0.01, Augment: trainer.Augmentation{Noise: 0.01}},
	} {
		t.Run(obj.Name(), func(t *testing.T) {
			const iters = 12
			dirA, dirB := t.TempDir(), t.TempDir()
			a := newSetup(t, dirA, iters, trainer.Replay)
			a.cfg.Objective = obj
			trA, err := a.run(t, context.Background())
			if err != nil {
				t.Fatal(err)
			}
			b := newSetup(t, dirB, iters, trainer.Replay)
			b.cfg.Objective = obj
			ctx, cancel := context.WithCancel(context.Background())
			b.cfg.Progress = func(p trainer.Progress) {
				if p.Iteration == 7 {
					cancel()
				}
			}
			if _, err := b.run(t, ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run returned %v", err)
			}
			r := newSetup(t, dirB, iters, trainer.Replay)
			r.cfg.Objective = obj
			trR, err := r.run(t, context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if trR.Resumed() != 7 || !sameBits(paramsOf(r.model), paramsOf(a.model)) {
				t.Errorf("resumed from %d: parameters differ from the uninterrupted run", trR.Resumed())
			}
			ha, hr := trA.History(), trR.History()
			if la, lr := ha[len(ha)-1], hr[len(hr)-1]; la.Loss != lr.Loss || la.LogZ != lr.LogZ {
				t.Errorf("last metrics: uninterrupted %+v, resumed %+v", la, lr)
			}

			// A checkpoint of this objective does not resume another one.
			o := newSetup(t, dirB, iters+5, trainer.Replay)
			o.cfg.Objective = trainer.ScoreMatching{}
			if _, err := trainer.New(o.model, o.data, o.cfg); !errors.Is(err, trainer.ErrCheckpoint) {
				t.Errorf("resuming a %s checkpoint as esm: %v", obj.Name(), err)
			}

			// A NaN weight after iteration 7: rolled back to 5, half the rate.
			s := newSetup(t, t.TempDir(), iters, trainer.Replay)
			s.cfg.Objective = obj
			s.cfg.OnDiverge = trainer.Rollback
			poisoned := false
			s.cfg.Progress = func(p trainer.Progress) {
				if p.Iteration == 7 && !poisoned {
					poisoned = true
					w := s.model.Params()[0]
					v := w.Float64s(nil)
					v[0] = math.NaN()
					w.SetFloat64s(v)
				}
			}
			tr, err := s.run(t, context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tr.History() {
				if want := map[bool]float64{false: 1e-2, true: 0.5e-2}[m.Iter > 5]; m.LR != want {
					t.Errorf("iteration %d: learning rate %g, want %g", m.Iter, m.LR, want)
				}
			}
			for _, v := range paramsOf(s.model) {
				for _, x := range v {
					if math.IsNaN(x) {
						t.Fatal("a NaN parameter survived the rollback")
					}
				}
			}
		})
	}
}

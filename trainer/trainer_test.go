package trainer_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

type setup struct {
	model *nn.Sequential
	data  *datasets.Batches
	cfg   trainer.Config
}

// newSetup returns a small 2-D training problem; every call with the same
// arguments builds identical objects.
func newSetup(t *testing.T, dir string, iters int, chains trainer.Chains) setup {
	t.Helper()
	rng := rand.New(rand.NewPCG(10, 11))
	toy, err := datasets.ToyByName("moons")
	if err != nil {
		t.Fatal(err)
	}
	train := toy.SampleN(rng, 2000)
	return setup{
		model: nn.NewMLP(rng, nn.SiLU, 2, 16, 16, 1),
		data:  mustBatches(datasets.NewBatches(train, 2, datasets.BatchConfig{Size: 32, Seed: 5})),
		cfg: trainer.Config{
			Shape: []int{2}, Iterations: iters, Steps: 5, Kernel: toyKernel, Chains: chains,
			Adam: optimCfg(1e-2), Alpha: 0.1, BufferSize: 100, ReinitProb: 0.2,
			Dir: dir, CheckpointEvery: 5, Seed: 9,
		},
	}
}

func (s setup) run(t *testing.T, ctx context.Context) (*trainer.Trainer, error) {
	t.Helper()
	tr, err := trainer.New(s.model, s.data, s.cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Run(ctx)
	tr.Close()
	return tr, err
}

func paramsOf(m graph.Model) [][]float64 {
	var out [][]float64
	for _, p := range m.Params() {
		out = append(out, p.Float64s(nil))
	}
	return out
}

func sameBits(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// metricsWithoutTimes reads metrics.jsonl and drops the wall-clock fields.
func metricsWithoutTimes(t *testing.T, dir string) []trainer.Metrics {
	ms, err := trainer.ReadMetrics(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ms {
		ms[i].SampleSec, ms[i].UpdateSec = 0, 0
	}
	return ms
}

func copyFile(t *testing.T, src, dst string) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestResumeIsBitForBit: a run cancelled at iteration 12, and a run killed
// at iteration 13 (its last checkpoint at 10), both resume to the same
// parameters, replay buffer and metrics as an uninterrupted run.
func TestResumeIsBitForBit(t *testing.T) {
	for _, chains := range []trainer.Chains{trainer.Replay, trainer.PCD, trainer.CD, trainer.ShortRun} {
		t.Run(chains.String(), func(t *testing.T) {
			const iters = 20
			dirA, dirB, dirC := t.TempDir(), t.TempDir(), t.TempDir()
			a := newSetup(t, dirA, iters, chains)
			if _, err := a.run(t, context.Background()); err != nil {
				t.Fatal(err)
			}

			b := newSetup(t, dirB, iters, chains)
			ctx, cancel := context.WithCancel(context.Background())
			b.cfg.Progress = func(p trainer.Progress) {
				if p.Iteration == 13 { // a kill here: keep the files as they are now
					for _, f := range []string{"checkpoint.safetensors", "metrics.jsonl"} {
						copyFile(t, filepath.Join(dirB, f), filepath.Join(dirC, f))
					}
				}
				if p.Iteration == 14 {
					cancel()
				}
			}
			if _, err := b.run(t, ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run returned %v", err)
			}

			for _, c := range []struct {
				dir  string
				from int
			}{{dirB, 14}, {dirC, 10}} {
				r := newSetup(t, c.dir, iters, chains) // fresh parameters, overwritten by the checkpoint
				tr, err := r.run(t, context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if tr.Resumed() != c.from {
					t.Errorf("resumed from %d, want %d", tr.Resumed(), c.from)
				}
				if !sameBits(paramsOf(r.model), paramsOf(a.model)) {
					t.Errorf("resumed from %d: parameters differ from the uninterrupted run", c.from)
				}
				ma, mr := metricsWithoutTimes(t, dirA), metricsWithoutTimes(t, c.dir)
				if len(ma) != iters || len(mr) != iters {
					t.Fatalf("metrics lines: %d and %d, want %d", len(ma), len(mr), iters)
				}
				for i := range ma {
					if ma[i] != mr[i] {
						t.Errorf("resumed from %d: iteration %d metrics %+v, uninterrupted %+v", c.from, i+1, mr[i], ma[i])
						break
					}
				}
			}
		})
	}
}

func TestDivergenceStops(t *testing.T) {
	s := newSetup(t, t.TempDir(), 20, trainer.Replay)
	s.cfg.MaxGap = 1e-12 // any gap at all is a divergence
	_, err := s.run(t, context.Background())
	if !errors.Is(err, sampling.ErrDiverged) || !strings.Contains(err.Error(), "iteration 1") {
		t.Fatalf("got %v, want ErrDiverged at iteration 1", err)
	}
}

func TestDivergenceRollsBack(t *testing.T) {
	s := newSetup(t, t.TempDir(), 20, trainer.Replay)
	s.cfg.OnDiverge = trainer.Rollback
	poisoned := false
	s.cfg.Progress = func(p trainer.Progress) {
		if p.Iteration == 7 && !poisoned { // a NaN weight: the next update diverges
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
	hist := tr.History()
	if tr.Iteration() != 20 || len(hist) != 20 {
		t.Fatalf("finished at iteration %d with %d metrics lines", tr.Iteration(), len(hist))
	}
	for _, m := range hist {
		want := 1e-2
		if m.Iter > 5 { // rolled back to the checkpoint at 5 with half the rate
			want = 0.5e-2
		}
		if m.LR != want {
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
}

func TestBadCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s := newSetup(t, dir, 5, trainer.Replay)
	if _, err := s.run(t, context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "checkpoint.safetensors")
	good, _ := os.ReadFile(path)

	// Another batch size.
	s2 := newSetup(t, dir, 10, trainer.Replay)
	s2.data = mustBatches(datasets.NewBatches(make([]float64, 200), 2, datasets.BatchConfig{Size: 16}))
	if _, err := trainer.New(s2.model, s2.data, s2.cfg); !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), "batch") {
		t.Errorf("mismatched batch size: %v", err)
	}
	// Truncated and corrupt files.
	for name, b := range map[string][]byte{"truncated": good[:len(good)/2], "garbage": []byte("not a checkpoint at all")} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s3 := newSetup(t, dir, 10, trainer.Replay)
		before := paramsOf(s3.model)
		_, err := trainer.New(s3.model, s3.data, s3.cfg)
		if !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s checkpoint: %v", name, err)
		}
		if !sameBits(before, paramsOf(s3.model)) {
			t.Errorf("%s checkpoint changed the parameters", name)
		}
	}
}

func TestReplayBuffer(t *testing.T) {
	if _, err := trainer.NewReplayBuffer(0, 2); err == nil {
		t.Error("NewReplayBuffer(0, 2) gave no error")
	}
	b, err := trainer.NewReplayBuffer(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float64, 4*2)
	noise := func(_ *rand.Rand, x []float64) {
		for i := range x {
			x[i] = -7
		}
	}
	if fresh := b.Init(rng, x, 4, 0, noise); fresh != 4 {
		t.Errorf("empty buffer: %d fresh starts, want 4", fresh)
	}
	b.Push([]float64{1, 1, 2, 2, 3, 3, 4, 4}, 4) // 4 overwrites 1
	if b.Len() != 3 {
		t.Fatalf("Len %d, want 3", b.Len())
	}
	if got := b.Samples(3); got[0] != 4 || got[2] != 3 || got[4] != 2 {
		t.Errorf("newest first: %v", got)
	}
	seen := map[float64]int{}
	for range 300 {
		b.Init(rng, x, 4, 0, noise)
		for i := 0; i < len(x); i += 2 {
			seen[x[i]]++
		}
	}
	if seen[1] != 0 || seen[-7] != 0 || seen[2] < 300 || seen[3] < 300 || seen[4] < 300 {
		t.Errorf("draws from the buffer: %v", seen)
	}
	// With reinit 1 every start is fresh.
	if fresh := b.Init(rng, x, 4, 1, noise); fresh != 4 {
		t.Errorf("reinit 1: %d fresh", fresh)
	}
}

func TestReadBuffer(t *testing.T) {
	dir := t.TempDir()
	s := newSetup(t, dir, 5, trainer.Replay)
	tr, err := s.run(t, context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, dim, err := trainer.ReadBuffer(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := tr.Buffer().Samples(tr.Buffer().Len())
	if dim != 2 || len(got) != len(want) {
		t.Fatalf("read %d values of dim %d, want %d of dim 2", len(got), dim, len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("value %d: %v, want %v", i, got[i], want[i])
		}
	}
	if _, _, err := trainer.ReadBuffer(t.TempDir()); err == nil {
		t.Error("no error for a folder without a checkpoint")
	}
}

// Step by hand gives the same parameters as Run.
func TestStepMatchesRun(t *testing.T) {
	a := newSetup(t, "", 6, trainer.Replay)
	if _, err := a.run(t, context.Background()); err != nil {
		t.Fatal(err)
	}
	b := newSetup(t, "", 6, trainer.Replay)
	tr, err := trainer.New(b.model, b.data, b.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		m, err := tr.Step(context.Background())
		if err != nil || m.Iter != i+1 {
			t.Fatalf("step %d: %v, iteration %d", i+1, err, m.Iter)
		}
	}
	if !sameBits(paramsOf(a.model), paramsOf(b.model)) {
		t.Error("Step and Run end with different parameters")
	}
}

//go:build torch

package dist_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/torch"
	"github.com/ebmgo/ebm/torch/dist"
	"github.com/ebmgo/ebm/trainer"
)

// The data-parallel problem of the training tests: two moons, shard r of
// the data for rank r, per-rank batches of 16, and replicas that start
// from different random parameters (rank 0's must win).
const (
	probBatch = 16
	probSeed  = 7
)

var probLangevin = sampling.LangevinConfig{StepSize: 0.02, Noise: math.Sqrt(0.02)}

func probShard(world, rank int) []float64 {
	rng := rand.New(rand.NewPCG(20, 21))
	toy, _ := datasets.ToyByName("moons")
	data := toy.SampleN(rng, 400*world)
	var s []float64
	for i := rank; i < len(data)/2; i += world {
		s = append(s, data[2*i], data[2*i+1])
	}
	return s
}

func probData(world, rank int) *datasets.Batches {
	b, err := datasets.NewBatches(probShard(world, rank), 2, datasets.BatchConfig{Size: probBatch, Seed: 100 + uint64(rank)})
	if err != nil {
		panic(err) // settings valid by construction
	}
	return b
}

func probModel(rank int) *nn.Sequential {
	return nn.NewMLP(rand.New(rand.NewPCG(uint64(rank)+1, 3)), nn.SiLU, 2, 16, 16, 1)
}

func probConfig(iters int, dir string) trainer.Config {
	return trainer.Config{
		Shape: []int{2}, Iterations: iters, Steps: 5, Alpha: 0.1,
		Kernel: func(e energy.Differentiable) (sampling.Kernel, error) {
			return sampling.NewLangevin(e, probLangevin)
		},
		Adam:         optim.AdamConfig{LR: 1e-2, Beta1: 0.5, Beta2: 0.99},
		ClipGradNorm: 0.5, BufferSize: 64, ReinitProb: 0.2, Seed: probSeed,
		Dir: dir, CheckpointEvery: 2,
	}
}

// probBackend is the training backend a worker uses: "go", or "torch"
// (the whole step in libtorch on the CPU, gradients all-reduced as
// tensors).
func probBackend(name string) trainer.Backend {
	if name == "torch" {
		return torch.NewBackend(torch.BackendConfig{Device: torch.CPU, Sampler: torch.LangevinSampler{Config: probLangevin}, Threads: 1})
	}
	return nil
}

func init() {
	// train: one rank of the problem. Environment: EBM_DIST_TEST_ITERS,
	// EBM_DIST_TEST_DIR (rank 0's run folder), EBM_DIST_TEST_OUT (where
	// rank r writes its parameters, params-r.safetensors),
	// EBM_DIST_TEST_BACKEND, EBM_DIST_TEST_DIE_AT (rank 1 kills itself
	// when it asks for the batch of that iteration), EBM_DIST_TEST_STEPS
	// (to configure a rank differently).
	workers["train"] = func() error {
		ctx := context.Background()
		g, err := dist.NewFromEnv(ctx, dist.Config{Timeout: workerTimeout()})
		if err != nil {
			return err
		}
		defer g.Close()
		cfg := probConfig(envInt("EBM_DIST_TEST_ITERS"), os.Getenv("EBM_DIST_TEST_DIR"))
		cfg.Collective = g
		cfg.Backend = probBackend(os.Getenv("EBM_DIST_TEST_BACKEND"))
		if s := envInt("EBM_DIST_TEST_STEPS"); s > 0 {
			cfg.Steps = s
		}
		var data trainer.Data = probData(g.Size(), g.Rank())
		if at := envInt("EBM_DIST_TEST_DIE_AT"); at > 0 && g.Rank() == 1 {
			data = &dieAt{Batches: probData(g.Size(), g.Rank()), at: at}
		}
		tr, err := trainer.New(probModel(g.Rank()), data, cfg)
		if err != nil {
			return err
		}
		defer tr.Close()
		start := time.Now()
		if err := tr.Run(ctx); err != nil {
			return fmt.Errorf("after %.1f s: %w", time.Since(start).Seconds(), err)
		}
		if err := tr.SyncModel(); err != nil {
			return err
		}
		out := filepath.Join(os.Getenv("EBM_DIST_TEST_OUT"), fmt.Sprintf("params-%d.safetensors", g.Rank()))
		if err := nn.SaveFile(out, tr.Model()); err != nil {
			return err
		}
		fmt.Printf("rank %d trained to iteration %d (resumed from %d)\n", g.Rank(), tr.Iteration(), tr.Resumed())
		return g.Barrier(ctx)
	}
}

// dieAt is a data stream that kills its process when asked for its
// at-th batch.
type dieAt struct {
	*datasets.Batches
	at, n int
}

func (d *dieAt) Next(dst []float64, idx []int) int {
	if d.n++; d.n == d.at {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	return d.Batches.Next(dst, idx)
}

// trainRanks runs the train worker in a world of n and returns each
// rank's parameters.
func trainRanks(t *testing.T, n int, backend string, iters int, dir string) [][][]float64 {
	t.Helper()
	out := t.TempDir()
	res := startRanks(t, "train", n, func(rank int) []string {
		return []string{"EBM_DIST_TEST_ITERS=" + strconv.Itoa(iters), "EBM_DIST_TEST_DIR=" + dir,
			"EBM_DIST_TEST_OUT=" + out, "EBM_DIST_TEST_BACKEND=" + backend, "OMP_NUM_THREADS=1"}
	}, 3*time.Minute)
	var params [][][]float64
	for r, x := range res {
		if x.code != 0 {
			t.Fatalf("rank %d: exit %d\n%s%s", r, x.code, x.stdout, x.stderr)
		}
		m := probModel(99)
		if err := nn.LoadFile(filepath.Join(out, fmt.Sprintf("params-%d.safetensors", r)), m); err != nil {
			t.Fatal(err)
		}
		params = append(params, paramsOf(m))
	}
	return params
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
		for j := range a[i] {
			if math.Float64bits(a[i][j]) != math.Float64bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// maxRelDiff is max |a−b| / max(|b|, 1e-3).
func maxRelDiff(a, b [][]float64) float64 {
	d := 0.0
	for i := range a {
		for j := range a[i] {
			d = max(d, math.Abs(a[i][j]-b[i][j])/max(math.Abs(b[i][j]), 1e-3))
		}
	}
	return d
}

// unionReference trains the problem in this process as one model on the
// union of the ranks' batches: each rank's chains drawn with that rank's
// random stream (trainer.NewRankSource), buffer and data shard, then one
// loss over all of them and one update. backend "go" samples with
// package sampling and updates with graph.Loss and optim.Adam; "torch"
// samples with torch.Model.Langevin and updates with torch.Trainer.
func unionReference(t *testing.T, world int, backend string, iters int) [][]float64 {
	t.Helper()
	cfg := probConfig(iters, "")
	model := probModel(0)
	b := probBatch
	var sample func(rng *rand.Rand, x []float64) error
	var update func(xpos, xneg []float64) error
	finish := func() error { return nil }
	switch backend {
	case "go":
		loss, err := graph.NewLoss(model, graph.LossConfig{Shape: cfg.Shape, Batches: []int{world * b, world * b}}, graph.CDLoss(cfg.Alpha))
		if err != nil {
			t.Fatal(err)
		}
		adam, err := optim.NewAdam(loss.Params(), cfg.Adam)
		if err != nil {
			t.Fatal(err)
		}
		e, err := graph.NewEnergy(model, graph.Config{Shape: cfg.Shape, Batch: b})
		if err != nil {
			t.Fatal(err)
		}
		kernel, err := cfg.Kernel(e)
		if err != nil {
			t.Fatal(err)
		}
		sample = func(rng *rand.Rand, x []float64) error {
			s, err := kernel.Init(x, b)
			if err != nil {
				return err
			}
			for range cfg.Steps {
				if s, _, err = kernel.Step(rng, s); err != nil {
					return err
				}
			}
			copy(x, s.X)
			return nil
		}
		update = func(xpos, xneg []float64) error {
			if _, err := loss.Run(xpos, xneg); err != nil {
				return err
			}
			optim.ClipGradNorm(loss.Grads(), cfg.ClipGradNorm)
			return adam.Step(loss.Grads())
		}
	case "torch":
		torch.SetNumThreads(1)
		m, err := torch.NewModel(model, cfg.Shape, torch.CPU)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		tt, err := torch.NewTrainer(m, torch.TrainConfig{Alpha: cfg.Alpha, Adam: cfg.Adam, ClipGradNorm: cfg.ClipGradNorm})
		if err != nil {
			t.Fatal(err)
		}
		defer tt.Close()
		finish = m.SyncToGraph
		sample = func(rng *rand.Rand, x []float64) error {
			torch.ManualSeed(int64(rng.Uint64() >> 1))
			_, err := m.Langevin(context.Background(), x, b, probLangevin, cfg.Steps)
			return err
		}
		update = func(xpos, xneg []float64) error {
			_, err := tt.Step(xpos, xneg)
			return err
		}
	}
	var rngs []*rand.Rand
	var bufs []*trainer.ReplayBuffer
	var datas []*datasets.Batches
	for r := range world {
		rngs = append(rngs, rand.New(trainer.NewRankSource(cfg.Seed, r)))
		buf, err := trainer.NewReplayBuffer(cfg.BufferSize, 2)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, buf)
		datas = append(datas, probData(world, r))
	}
	xpos, xneg := make([]float64, world*b*2), make([]float64, world*b*2)
	for range iters {
		for r := range world {
			pos, neg := xpos[r*b*2:(r+1)*b*2], xneg[r*b*2:(r+1)*b*2]
			datas[r].Next(pos, nil)
			bufs[r].Init(rngs[r], neg, b, cfg.ReinitProb, trainer.UniformNoise)
			if err := sample(rngs[r], neg); err != nil {
				t.Fatal(err)
			}
		}
		if err := update(xpos, xneg); err != nil {
			t.Fatal(err)
		}
		for r := range world {
			bufs[r].Push(xneg[r*b*2:(r+1)*b*2], b)
		}
	}
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	return paramsOf(model)
}

// TestTrainingMatchesUnionBatch: two processes training through Gloo end
// with the parameters of one process trained on the union of their
// batches (to float32 precision), on both backends, and with identical
// replicas.
func TestTrainingMatchesUnionBatch(t *testing.T) {
	const iters = 6
	for _, backend := range []string{"go", "torch"} {
		t.Run(backend, func(t *testing.T) {
			got := trainRanks(t, 2, backend, iters, "")
			if !sameBits(got[0], got[1]) {
				t.Errorf("the two replicas differ")
			}
			want := unionReference(t, 2, backend, iters)
			d := maxRelDiff(got[0], want)
			t.Logf("%s backend: largest relative difference to the union batch %.2g", backend, d)
			if d > 2e-5 {
				t.Errorf("parameters differ from the union batch's by %.3g, want float32 precision", d)
			}
			if moved := maxRelDiff(paramsOf(probModel(0)), want); moved < 1e-2 {
				t.Fatalf("training moved the parameters by %.3g only: the test proves nothing", moved)
			}
		})
	}
}

// TestResumeIsExact: a world of two stopped at a checkpoint and resumed
// ends bit for bit where the uninterrupted world ends, replay buffers
// included.
func TestResumeIsExact(t *testing.T) {
	const iters = 8
	for _, backend := range []string{"go", "torch"} {
		t.Run(backend, func(t *testing.T) {
			full := t.TempDir()
			want := trainRanks(t, 2, backend, iters, full)
			dir := t.TempDir()
			trainRanks(t, 2, backend, 4, dir)
			got := trainRanks(t, 2, backend, iters, dir)
			for r := range got {
				if !sameBits(got[r], want[r]) {
					t.Errorf("rank %d: resumed parameters differ from the uninterrupted run's", r)
				}
			}
			a, _, err := trainer.ReadBuffer(dir)
			if err != nil {
				t.Fatal(err)
			}
			b, _, err := trainer.ReadBuffer(full)
			if err != nil {
				t.Fatal(err)
			}
			if !sameBits([][]float64{a}, [][]float64{b}) || len(a) != 2*64*2 {
				t.Errorf("resumed replay buffers (%d values) differ from the uninterrupted run's (%d)", len(a), len(b))
			}
		})
	}
}

// TestKilledRank: when rank 1 dies, rank 0 stops with an error that names
// the collective, well within the timeout, and the last checkpoint
// resumes.
func TestKilledRank(t *testing.T) {
	dir := t.TempDir()
	const timeout = 20 * time.Second
	res := startRanks(t, "train", 2, func(rank int) []string {
		return []string{"EBM_DIST_TEST_ITERS=1000", "EBM_DIST_TEST_DIR=" + dir, "EBM_DIST_TEST_OUT=" + dir,
			"EBM_DIST_TEST_DIE_AT=6", "EBM_DIST_TEST_TIMEOUT=" + strconv.Itoa(int(timeout.Milliseconds()))}
	}, time.Minute)
	r0 := res[0]
	t.Logf("rank 0: exit %d: %s", r0.code, strings.TrimSpace(r0.stderr))
	if res[1].code != -1 && res[1].code != 137 {
		t.Errorf("rank 1 exited with %d, want killed", res[1].code)
	}
	if r0.code == 0 || !strings.Contains(r0.stderr, "dist: allreduce") || !strings.Contains(r0.stderr, "rank 0 of 2, gloo") ||
		strings.Count(strings.TrimSpace(r0.stderr), "\n") > 0 {
		t.Fatalf("rank 0: exit %d, want one line naming the allreduce:\n%s", r0.code, r0.stderr)
	}
	// The checkpoint of iteration 4 (every 2; rank 1 died asking for
	// batch 6) is whole: two fresh ranks resume from it.
	trainRanks(t, 2, "go", 6, dir)
	out, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), "\n"); n != 6 {
		t.Errorf("metrics.jsonl has %d lines after resuming to 6", n)
	}
}

// TestConfigMismatchAcrossProcesses: ranks started with different
// settings refuse to train; the odd rank names the setting.
func TestConfigMismatchAcrossProcesses(t *testing.T) {
	res := startRanks(t, "train", 2, func(rank int) []string {
		env := []string{"EBM_DIST_TEST_ITERS=4", "EBM_DIST_TEST_OUT=" + t.TempDir()}
		if rank == 1 {
			env = append(env, "EBM_DIST_TEST_STEPS=9")
		}
		return env
	}, time.Minute)
	if res[1].code == 0 || !strings.Contains(res[1].stderr, "Steps 9 here, 5 on rank 0") {
		t.Errorf("rank 1: exit %d, %s", res[1].code, res[1].stderr)
	}
	if res[0].code == 0 || !strings.Contains(res[0].stderr, "failed on rank 1") {
		t.Errorf("rank 0: exit %d, %s", res[0].code, res[0].stderr)
	}
}

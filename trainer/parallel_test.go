package trainer_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/trainer"
)

// localWorld is an in-process trainer.Collective for the tests: the ranks
// are goroutines, each collective an exchange of every rank's buffer.
// Sums run in rank order, so every rank gets the same bits, as with
// Gloo. (Package torch/dist is the real one; its tests run these
// properties across processes.)
type localWorld struct {
	n       int
	mu      sync.Mutex
	cond    *sync.Cond
	gen     int
	arrived int
	vals    []any
	result  []any
	calls   int // collectives completed
}

func newLocalWorld(n int) *localWorld {
	w := &localWorld{n: n, vals: make([]any, n)}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// rank returns the Collective of one rank.
func (w *localWorld) rank(r int) trainer.Collective { return &localRank{w, r} }

// exchange returns every rank's v, in rank order, once all have called it.
func (w *localWorld) exchange(rank int, v any) []any {
	w.mu.Lock()
	defer w.mu.Unlock()
	gen := w.gen
	w.vals[rank] = v
	w.arrived++
	if w.arrived == w.n {
		w.result, w.vals = w.vals, make([]any, w.n)
		w.arrived = 0
		w.gen++
		w.calls++
		w.cond.Broadcast()
	} else {
		for gen == w.gen {
			w.cond.Wait()
		}
	}
	return w.result
}

type localRank struct {
	w    *localWorld
	rank int
}

func (l *localRank) Rank() int { return l.rank }
func (l *localRank) Size() int { return l.w.n }

func (l *localRank) AllReduceFloat32(_ context.Context, x []float32) error {
	all := l.w.exchange(l.rank, append([]float32(nil), x...))
	for i := range x {
		var s float32
		for _, v := range all {
			s += v.([]float32)[i]
		}
		x[i] = s
	}
	return nil
}

func (l *localRank) AllReduceFloat64(_ context.Context, x []float64) error {
	all := l.w.exchange(l.rank, append([]float64(nil), x...))
	for i := range x {
		var s float64
		for _, v := range all {
			s += v.([]float64)[i]
		}
		x[i] = s
	}
	return nil
}

func (l *localRank) BroadcastBytes(_ context.Context, b []byte, root int) error {
	all := l.w.exchange(l.rank, append([]byte(nil), b...))
	if len(all[root].([]byte)) != len(b) {
		return fmt.Errorf("broadcast: %d bytes here, %d on the root", len(b), len(all[root].([]byte)))
	}
	copy(b, all[root].([]byte))
	return nil
}

func (l *localRank) GatherBytes(_ context.Context, in, out []byte, root int) error {
	all := l.w.exchange(l.rank, append([]byte(nil), in...))
	if l.rank == root {
		for r, v := range all {
			copy(out[r*len(in):], v.([]byte))
		}
	}
	return nil
}

// parallelProblem is a small data-parallel problem: the ranks' data are
// disjoint shards of one toy set, each replica starts from its own
// random parameters (the run must start them all from rank 0's).
type parallelProblem struct {
	world, batch int
	shards       [][]float64
	cfg          trainer.Config
}

func newParallelProblem(world, iters int, dir string) parallelProblem {
	rng := rand.New(rand.NewPCG(20, 21))
	toy, _ := datasets.ToyByName("moons")
	data := toy.SampleN(rng, 400*world)
	p := parallelProblem{world: world, batch: 16}
	for r := range world {
		// Rows r, r+world, r+2·world, ...
		var s []float64
		for i := r; i < len(data)/2; i += world {
			s = append(s, data[2*i], data[2*i+1])
		}
		p.shards = append(p.shards, s)
	}
	p.cfg = trainer.Config{
		Shape: []int{2}, Iterations: iters, Steps: 5, Kernel: toyKernel, Alpha: 0.1,
		Adam:         optim.AdamConfig{LR: 1e-2, Beta1: 0.5, Beta2: 0.99},
		ClipGradNorm: 0.5, BufferSize: 64, ReinitProb: 0.2, Seed: 7,
		Dir: dir, CheckpointEvery: 4,
	}
	return p
}

func (p parallelProblem) model(rank int) *nn.Sequential {
	return nn.NewMLP(rand.New(rand.NewPCG(uint64(rank)+1, 3)), nn.SiLU, 2, 16, 16, 1)
}

func (p parallelProblem) data(rank int) *datasets.Batches {
	return mustBatches(datasets.NewBatches(p.shards[rank], 2, datasets.BatchConfig{Size: p.batch, Seed: 100 + uint64(rank)}))
}

// run trains every rank of the world in its own goroutine, each with a
// context from ctxOf (nil: Background), and returns the trainers and
// the errors of New or Run.
func (p parallelProblem) run(t *testing.T, world *localWorld, cfgOf func(rank int, c trainer.Config) trainer.Config, ctxOf func(rank int) context.Context) ([]*trainer.Trainer, []error) {
	t.Helper()
	trs := make([]*trainer.Trainer, p.world)
	errs := make([]error, p.world)
	var wg sync.WaitGroup
	for r := range p.world {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := p.cfg
			cfg.Collective = world.rank(r)
			if r != 0 {
				cfg.Dir = filepath.Join(cfg.Dir, "not-rank-0") // only rank 0's folder is used
			}
			if p.cfg.Dir == "" {
				cfg.Dir = ""
			}
			if cfgOf != nil {
				cfg = cfgOf(r, cfg)
			}
			tr, err := trainer.New(p.model(r), p.data(r), cfg)
			if err != nil {
				errs[r] = err
				return
			}
			ctx := context.Background()
			if ctxOf != nil {
				ctx = ctxOf(r)
			}
			errs[r] = tr.Run(ctx)
			tr.Close()
			trs[r] = tr
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the ranks did not finish")
	}
	return trs, errs
}

// unionReference trains one model in one process on the union of the
// ranks' batches: each rank's chains drawn with that rank's random
// stream, buffer and data shard, one loss over all of them, one update.
func (p parallelProblem) unionReference(t *testing.T, iters int) ([][]float64, []float64) {
	t.Helper()
	cfg := p.cfg
	model := p.model(0)
	n, b := p.world, p.batch
	loss, err := graph.NewLoss(model, graph.LossConfig{Shape: cfg.Shape, Batches: []int{n * b, n * b}}, graph.CDLoss(cfg.Alpha))
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
	var rngs []*rand.Rand
	var bufs []*trainer.ReplayBuffer
	var datas []*datasets.Batches
	for r := range n {
		rngs = append(rngs, rand.New(trainer.NewRankSource(cfg.Seed, r)))
		buf, err := trainer.NewReplayBuffer(cfg.BufferSize, 2)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, buf)
		datas = append(datas, p.data(r))
	}
	xpos, xneg := make([]float64, n*b*2), make([]float64, n*b*2)
	var losses []float64
	for range iters {
		for r := range n {
			pos, neg := xpos[r*b*2:(r+1)*b*2], xneg[r*b*2:(r+1)*b*2]
			datas[r].Next(pos, nil)
			bufs[r].Init(rngs[r], neg, b, cfg.ReinitProb, trainer.UniformNoise)
			s, err := kernel.Init(neg, b)
			if err != nil {
				t.Fatal(err)
			}
			for range cfg.Steps {
				if s, _, err = kernel.Step(rngs[r], s); err != nil {
					t.Fatal(err)
				}
			}
			copy(neg, s.X)
		}
		l, err := loss.Run(xpos, xneg)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, l)
		optim.ClipGradNorm(loss.Grads(), cfg.ClipGradNorm)
		if err := adam.Step(loss.Grads()); err != nil {
			t.Fatal(err)
		}
		for r := range n {
			bufs[r].Push(xneg[r*b*2:(r+1)*b*2], b)
		}
	}
	return paramsOf(model), losses
}

// maxRelDiff is max |a−b| / max(|b|, 1e-3) over all values.
func maxRelDiff(a, b [][]float64) float64 {
	d := 0.0
	for i := range a {
		for j := range a[i] {
			d = max(d, math.Abs(a[i][j]-b[i][j])/max(math.Abs(b[i][j]), 1e-3))
		}
	}
	return d
}

// A world of N ranks trains as one process on the union of their batches:
// same parameters after k iterations to float32 precision, every replica
// bit for bit equal, losses the union's.
func TestDataParallelMatchesUnionBatch(t *testing.T) {
	const iters = 8
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprint(n, " ranks"), func(t *testing.T) {
			p := newParallelProblem(n, iters, "")
			trs, errs := p.run(t, newLocalWorld(n), nil, nil)
			for r, err := range errs {
				if err != nil {
					t.Fatalf("rank %d: %v", r, err)
				}
			}
			want, losses := p.unionReference(t, iters)
			got := paramsOf(trs[0].Model())
			for r := 1; r < n; r++ {
				if !sameBits(paramsOf(trs[r].Model()), got) {
					t.Errorf("rank %d's replica differs from rank 0's", r)
				}
			}
			d := maxRelDiff(got, want)
			t.Logf("relative difference %.3g", d)
			if d > 2e-5 {
				t.Errorf("parameters differ from the union batch's by %.3g (relative), want float32 precision", d)
			}
			if d := maxRelDiff(paramsOf(p.model(0)), want); d < 1e-2 {
				t.Fatalf("training moved the parameters by only %.3g: the test proves nothing", d)
			}
			for i, m := range trs[0].History() {
				if math.Abs(m.Loss-losses[i]) > 1e-5*max(1, math.Abs(losses[i])) {
					t.Errorf("iteration %d: loss %.7g, the union batch's %.7g", i+1, m.Loss, losses[i])
				}
			}
			for r := range n {
				if trs[r].Rank() != r || trs[r].World() != n {
					t.Errorf("rank %d reports rank %d of %d", r, trs[r].Rank(), trs[r].World())
				}
			}
		})
	}
}

// A data-parallel run resumed from its checkpoint (rank 0 writes every
// rank's shard) ends bit for bit where the uninterrupted run ends, on
// every rank.
func TestDataParallelResumeIsExact(t *testing.T) {
	const n, iters = 2, 10
	full := newParallelProblem(n, iters, t.TempDir())
	fullTrs, errs := full.run(t, newLocalWorld(n), nil, nil)
	if errors.Join(errs...) != nil {
		t.Fatal(errs)
	}
	dir := t.TempDir()
	first := newParallelProblem(n, 6, dir) // stops after a checkpoint at 4 and one at 6
	if _, errs := first.run(t, newLocalWorld(n), nil, nil); errors.Join(errs...) != nil {
		t.Fatal(errs)
	}
	second := newParallelProblem(n, iters, dir)
	trs, errs := second.run(t, newLocalWorld(n), nil, nil)
	if errors.Join(errs...) != nil {
		t.Fatal(errs)
	}
	for r := range n {
		if trs[r].Resumed() != 6 {
			t.Errorf("rank %d resumed from %d, want 6", r, trs[r].Resumed())
		}
		if !sameBits(paramsOf(trs[r].Model()), paramsOf(fullTrs[r].Model())) {
			t.Errorf("rank %d: resumed parameters differ from the uninterrupted run's", r)
		}
		a, b := trs[r].Buffer().Samples(64), fullTrs[r].Buffer().Samples(64)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("rank %d: resumed replay buffer differs", r)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "not-rank-0")); !os.IsNotExist(err) {
		t.Errorf("rank 1 touched its run folder: %v", err)
	}
	// The run's buffer is every rank's, interleaved newest first.
	samples, dim, err := trainer.ReadBuffer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if dim != 2 || len(samples) != n*64*2 {
		t.Fatalf("ReadBuffer: %d values of dimension %d, want %d", len(samples), dim, n*64*2)
	}
	for r := range n {
		newest := fullTrs[r].Buffer().Samples(1)
		if fmt.Sprint(samples[2*r:2*r+2]) != fmt.Sprint(newest) {
			t.Errorf("ReadBuffer sample %d = %v, want rank %d's newest %v", r, samples[2*r:2*r+2], r, newest)
		}
	}
	// A world of another size cannot resume it.
	one := newParallelProblem(1, iters, dir)
	one.shards = one.shards[:1]
	if _, err := trainer.New(one.model(0), one.data(0), one.cfg); !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), "world size 2, this run has 1") {
		t.Errorf("resuming a world of 2 in one process: %v", err)
	}
}

// Ranks configured differently refuse to start, and the rank that differs
// names the setting.
func TestDataParallelConfigMismatch(t *testing.T) {
	p := newParallelProblem(2, 4, "")
	_, errs := p.run(t, newLocalWorld(2), func(rank int, c trainer.Config) trainer.Config {
		if rank == 1 {
			c.Steps = 6
		}
		return c
	}, nil)
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "Steps 6 here, 5 on rank 0") {
		t.Errorf("rank 1: %v", errs[1])
	}
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "failed on rank 1") {
		t.Errorf("rank 0: %v", errs[0])
	}
}

// Cancelling one rank stops every rank at the same iteration, each with a
// checkpoint of it, and every rank's error is context.Canceled.
func TestDataParallelStopsTogether(t *testing.T) {
	p := newParallelProblem(2, 1000, t.TempDir())
	ctx1, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	trs, errs := p.run(t, newLocalWorld(2), func(rank int, c trainer.Config) trainer.Config {
		c.Progress = func(pr trainer.Progress) {
			if pr.Iteration == 7 {
				once.Do(cancel)
			}
		}
		return c
	}, func(rank int) context.Context {
		if rank == 1 {
			return ctx1 // rank 0 reports progress (and cancels rank 1)
		}
		return context.Background()
	})
	for r, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("rank %d: %v, want context.Canceled", r, err)
		}
	}
	if trs[0] == nil || trs[1] == nil || trs[0].Iteration() != trs[1].Iteration() {
		t.Fatalf("the ranks stopped at different iterations")
	}
	q := newParallelProblem(2, trs[0].Iteration(), p.cfg.Dir)
	resumed, errs := q.run(t, newLocalWorld(2), nil, nil)
	if errors.Join(errs...) != nil {
		t.Fatal(errs)
	}
	if resumed[0].Resumed() != trs[0].Iteration() {
		t.Errorf("the checkpoint is at iteration %d, the ranks stopped at %d", resumed[0].Resumed(), trs[0].Iteration())
	}
}

// A divergence seen in the averaged statistics stops every rank at the
// same iteration.
func TestDataParallelDivergesTogether(t *testing.T) {
	p := newParallelProblem(2, 50, "")
	p.cfg.MaxGap = 1e-9
	_, errs := p.run(t, newLocalWorld(2), nil, nil)
	for r, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "iteration 1: energy gap") {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}

// A run folder rank 0 cannot create fails every rank, with rank 0's
// error on rank 0 and a pointer to it elsewhere.
func TestDataParallelBadRunFolder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := newParallelProblem(2, 4, filepath.Join(file, "run")) // a folder inside a file
	_, errs := p.run(t, newLocalWorld(2), nil, nil)
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "trainer: run folder") {
		t.Errorf("rank 0: %v", errs[0])
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "failed on rank 0") {
		t.Errorf("rank 1: %v", errs[1])
	}
}

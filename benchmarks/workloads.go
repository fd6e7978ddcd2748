package benchmarks

import (
	"context"
	"math/rand/v2"
	"sort"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

// Workload is one benchmarked task. Setup builds everything (models,
// compiled graphs, buffers) and returns a function that performs one
// operation; Units is how many of Unit one operation does.
type Workload struct {
	Name  string // e.g. "langevin/cnn"
	Desc  string // shapes and settings, as in the README table
	Unit  string // what a user counts: "steps/s", "iters/s"
	Units float64
	// Torch says whether benchmarks/pytorch/bench.py implements it too.
	Torch bool
	Setup func(seed uint64) (op func() error, err error)
}

// Langevin settings of the UvA MNIST recipe (Du & Mordatch 2019, UvA DL
// tutorial 8): each step adds N(0, σ²) noise, clamps x to [−1, 1], moves
// along the clamped ∇x f and clamps again.
const (
	LangevinStepSize = 10
	LangevinNoise    = 0.005
	LangevinGradClip = 0.03
	// Training recipe: steps per iteration, CD regulariser α, Adam.
	TrainSteps = 60
	TrainAlpha = 0.1
	TrainLR    = 1e-4
	// Replay buffer of the recipe: capacity and fresh-noise probability.
	TrainBuffer = 8192
	TrainReinit = 0.05
	// TrainDataSize is the number of stand-in data images of train/cnn.
	TrainDataSize = 1024
)

var registry = map[string]Workload{}

func register(w Workload) { registry[w.Name] = w }

// Workloads returns every workload, sorted by name.
func Workloads() []Workload {
	var ws []Workload
	for _, w := range registry {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].Name < ws[j].Name })
	return ws
}

// Lookup returns the workload called name.
func Lookup(name string) (Workload, bool) {
	w, ok := registry[name]
	return w, ok
}

// LangevinModels are the models of the langevin/* workloads, with their
// sample shapes and batch sizes.
var LangevinModels = []struct {
	Name  string
	Desc  string
	Shape []int
	Batch int
	New   func(rng *rand.Rand) graph.Model
}{
	{"toy2d", "MLP 2-128-128-1 SiLU, batch 1024", []int{2}, 1024,
		func(rng *rand.Rand) graph.Model { return nn.NewMLP(rng, nn.SiLU, 2, 128, 128, 1) }},
	{"mlp784", "MLP 784-256-256-1 SiLU, batch 128", []int{1, 28, 28}, 128,
		func(rng *rand.Rand) graph.Model { return nn.NewImageMLP(rng, nn.SiLU, 784, 256, 256, 1) }},
	{"cnn", "MNIST CNN (hidden 32), batch 128", []int{1, 28, 28}, 128,
		func(rng *rand.Rand) graph.Model { return nn.NewMNISTCNN(rng, 32) }},
}

func init() {
	for i, lm := range LangevinModels {
		register(Workload{
			Name: "langevin/" + lm.Name, Desc: lm.Desc, Unit: "steps/s", Units: 1, Torch: true,
			Setup: func(seed uint64) (func() error, error) {
				rng := rand.New(rand.NewPCG(seed, uint64(i+1)))
				return langevinOp(rng, lm.New(rng), lm.Shape, lm.Batch)
			},
		})
	}
	register(Workload{
		Name: "train/cnn", Desc: "MNIST CNN: 60 Langevin steps + CD loss, ∇θ + Adam, batch 128", Unit: "iters/s", Units: 1, Torch: true,
		Setup: func(seed uint64) (func() error, error) {
			rng := rand.New(rand.NewPCG(seed, 4))
			return trainOp(rng, nn.NewMNISTCNN(rng, 32), []int{1, 28, 28}, 128, nil)
		},
	})
}

// Langevin is the sampler loop of the UvA recipe on a differentiable
// energy (a compiled graph.Energy, or a libtorch model with the torch tag)
// as users run it: package sampling's Langevin kernel with
// sampling.ClippedLangevin(LangevinStepSize, LangevinNoise) — per step,
// noise first, f and ∇x f at the noised point, the clipped gradient step,
// pixels clamped to [−1, 1].
type Langevin struct {
	E   energy.Differentiable
	N   int
	X   []float64 // the chains' positions, updated in place by Step
	k   *sampling.Langevin
	s   sampling.State
	rng *rand.Rand
}

// NewLangevin returns n chains of e started uniformly on [−1, 1].
func NewLangevin(rng *rand.Rand, e energy.Differentiable, n int) (*Langevin, error) {
	k, err := sampling.NewLangevin(e, sampling.ClippedLangevin(LangevinStepSize, LangevinNoise))
	if err != nil {
		return nil, err
	}
	x := make([]float64, n*e.Dim())
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	s, err := k.Init(x, n)
	if err != nil {
		return nil, err
	}
	return &Langevin{E: e, N: n, X: s.X, k: k, s: s, rng: rng}, nil
}

// Step performs one Langevin update of every chain.
func (l *Langevin) Step() error {
	s, _, err := l.k.Step(l.rng, l.s)
	l.s, l.X = s, s.X
	return err
}

func langevinOp(rng *rand.Rand, m graph.Model, shape []int, batch int) (func() error, error) {
	e, err := graph.NewEnergy(m, graph.Config{Shape: shape, Batch: batch})
	if err != nil {
		return nil, err
	}
	l, err := NewLangevin(rng, e, batch)
	if err != nil {
		return nil, err
	}
	return l.Step, nil
}

// trainOp is one iteration of the MNIST recipe as users run it:
// trainer.Trainer.Step on the given backend (nil: the Go backend) with
// cmd/mnist-ebm's default settings: a data batch with N(0, 0.005²) noise, chains from the replay
// buffer (5 % fresh noise), TrainSteps steps of the tutorial's Langevin
// sampler, then the CD loss, ∇θ and an Adam update. Real data is stood in by
// a fixed random set of TrainDataSize images: speed does not depend on the
// pixels.
func trainOp(rng *rand.Rand, m graph.Model, shape []int, batch int, backend trainer.Backend) (func() error, error) {
	dim := 1
	for _, d := range shape {
		dim *= d
	}
	data := make([]float64, TrainDataSize*dim)
	for i := range data {
		data[i] = 2*rng.Float64() - 1
	}
	batches, err := datasets.NewBatches(data, dim, datasets.BatchConfig{Size: batch, Seed: rng.Uint64()})
	if err != nil {
		return nil, err
	}
	tr, err := trainer.New(m, batches, trainer.Config{
		Shape: shape, Iterations: 1, Alpha: TrainAlpha,
		Adam:  optim.AdamConfig{LR: TrainLR, Beta1: 0, Beta2: 0.999},
		Steps: TrainSteps, BufferSize: TrainBuffer, ReinitProb: TrainReinit,
		DataNoise: LangevinNoise, DataMin: -1, DataMax: 1,
		Seed: rng.Uint64(), Backend: backend,
	})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	return func() error {
		_, err := tr.Step(ctx)
		return err
	}, nil
}

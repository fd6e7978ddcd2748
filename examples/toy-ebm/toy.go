package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
	"github.com/ebmgo/ebm/trainer/monitor"
)

// config is one run of the study: the recipe every data set is trained
// with, and how it is evaluated.
type config struct {
	Dir  string   // run folder
	Data []string // toy data sets, by datasets.ToyByName name

	// Model and training.
	Hidden     int     // width of the two hidden layers of the MLP 2-H-H-1 (SiLU)
	InitScale  float64 // factor on the first layer's initial weights and biases
	Iterations int     // parameter updates per data set
	Batch      int     // data and sample batch size
	Steps      int     // sampler transitions per iteration
	Sampler    string  // "mala" (default), "hmc" or "langevin"
	StepSize   float64 // MALA's initial h or HMC's initial ε (then adapted), or Langevin's ε
	Accept     float64 // MALA's or HMC's target acceptance
	Leapfrogs  int     // HMC's leapfrog steps per transition
	Clip       float64 // Langevin's gradient clip (0: none)
	LR         float64 // Adam's learning rate
	MinLR      float64 // cosine schedule's final learning rate
	Beta1      float64 // Adam's β1
	Alpha      float64 // energy regulariser α
	ClipGrad   float64 // gradient-norm clip (0: none)
	Buffer     int     // replay-buffer capacity
	Reinit     float64 // probability that a chain restarts
	Restart    string  // where chains restart: "uniform" over the box, "data" points, or "mixed" (half each)
	Train      int     // training points drawn from the toy
	Seed       uint64

	// Evaluation.
	Test       int // test points
	Grid       int // quadrature intervals per axis
	Chains     int // model samples drawn for the pictures
	EvalSteps  int // MALA steps from the replay buffer for those samples
	PictureRes int // heatmap cells per axis

	Jobs  int  // data sets trained at once
	Fresh bool // ignore (delete) checkpoints in Dir
}

// toyResult is one row of the results table.
type toyResult struct {
	Data    string  `json:"data"`
	Entropy float64 `json:"entropy"` // H(p_data), nats

	UntrainedNLL float64 `json:"untrained_nll"`
	NLL          float64 `json:"nll"`    // test NLL, −mean log p_θ(x)
	NLLSE        float64 `json:"nll_se"` // its Monte Carlo standard error
	Gap          float64 `json:"gap"`    // NLL − H, the KL estimate
	// KL is the same KL(p_data‖p_θ) estimated as mean(log p_data − log p_θ)
	// over the test points: the exact log p_data is a control variate whose
	// mean, −H, is known, so its standard error is far smaller.
	KL   float64 `json:"kl"`
	KLSE float64 `json:"kl_se"`

	LogZ     float64 `json:"log_z"`
	QuadErr  float64 `json:"quad_err"`  // quadrature error estimate of log Z
	EdgeMass float64 `json:"edge_mass"` // fraction of Z on the box's faces

	// SampleLogP is the mean true log-density of the model samples shown
	// in the pictures; a perfect model and sampler give −H. It is nil
	// (−∞) when a sample lies where p_data = 0, as off the checkerboard.
	SampleLogP *float64 `json:"sample_log_p_data"`

	Iterations  int     `json:"iterations"`
	Accept      float64 `json:"accept"`    // sampler acceptance over the last 10% of iterations
	StepSize    float64 `json:"step_size"` // sampler step at the end
	Divergences int     `json:"divergences"`
	// SamplerWarnings are sampling.Run's warnings about the chains drawn
	// from the trained model for the pictures and E_θ[log p_data].
	SamplerWarnings []string `json:"sampler_warnings,omitempty"`
	TrainSec        float64  `json:"train_s"` // wall time of training (this invocation)
	EvalSec         float64  `json:"eval_s"`
}

// evalResult is what evaluate measures of one energy.
type evalResult struct {
	NLL, NLLSE, KL, KLSE float64
	LogZ, QuadErr        float64
	EdgeMass             float64
}

// evaluate measures the test NLL of p_θ = exp(f)/Z restricted to the toy's
// box, with Z by trapezoidal quadrature on a grid×grid grid, and the KL
// divergence from the data: per test point, nll_i = log Z − f(x_i) and
// kl_i = log p_data(x_i) − f(x_i) + log Z.
func evaluate(ctx context.Context, e energy.Energy, toy *datasets.Toy, test []float64, grid int) (evalResult, error) {
	var r evalResult
	b := toy.Bounds()
	q, err := energy.Quadrature(ctx, e, energy.Grid{Lo: []float64{b.XMin, b.YMin}, Hi: []float64{b.XMax, b.YMax}, N: []int{grid, grid}})
	if err != nil {
		return r, fmt.Errorf("log Z of the model over the %s box: %w", toy.Name(), err)
	}
	r.LogZ, r.QuadErr, r.EdgeMass = q.LogZ, q.Err, q.EdgeMass
	n := len(test) / 2
	f := make([]float64, n)
	const chunk = 4096
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		if err := e.F(f[lo:hi], test[2*lo:2*hi]); err != nil {
			return r, fmt.Errorf("model f on test points: %w", err)
		}
	}
	lp := make([]float64, n)
	if err := toy.F(lp, test); err != nil {
		return r, err
	}
	var sn, sn2, sk, sk2 float64
	for i := range n {
		nll := q.LogZ - f[i]
		kl := lp[i] + nll
		sn += nll
		sn2 += nll * nll
		sk += kl
		sk2 += kl * kl
	}
	fn := float64(n)
	r.NLL, r.KL = sn/fn, sk/fn
	r.NLLSE = math.Sqrt(math.Max(sn2/fn-r.NLL*r.NLL, 0) / (fn - 1))
	r.KLSE = math.Sqrt(math.Max(sk2/fn-r.KL*r.KL, 0) / (fn - 1))
	if math.IsNaN(r.NLL) || math.IsInf(r.NLL, 0) {
		return r, fmt.Errorf("test NLL is %g: the model's f is not finite at a test point", r.NLL)
	}
	return r, nil
}

// adaptive is MALA or HMC whose step size follows the acceptance rate
// through training: after each transition log ε moves by
// rate·(ā − target), ā the mean acceptance over the chains (Robbins–Monro).
// The model changes at every iteration, so the step never freezes; the
// chains are persistent through the replay buffer, and the Metropolis
// correction makes exp(f) their exact stationary density whatever ε is.
type adaptive struct {
	init   func(x []float64, n int) (sampling.State, error)
	step   func(rng *rand.Rand, s sampling.State, p sampling.Params) (sampling.State, sampling.Info, error)
	p      sampling.Params
	target float64
	rate   float64
	maxEps float64
}

// newAdaptive returns the adaptive kernel: MALA with h = eps, or HMC with
// leapfrog step eps and leapfrogs steps per transition.
func newAdaptive(e energy.Differentiable, sampler string, eps, target float64, leapfrogs int) (*adaptive, error) {
	a := &adaptive{target: target, rate: 0.05, maxEps: 1}
	switch sampler {
	case "mala":
		k, err := sampling.NewMALA(e, sampling.MALAConfig{StepSize: eps})
		if err != nil {
			return nil, err
		}
		a.init, a.step, a.p = k.Init, k.StepWith, k.Params()
	case "hmc":
		k, err := sampling.NewHMC(e, sampling.HMCConfig{StepSize: eps, NumSteps: leapfrogs, Jitter: 0.2})
		if err != nil {
			return nil, err
		}
		a.init, a.step, a.p = k.Init, k.StepWith, k.Params()
	default:
		return nil, fmt.Errorf("no adaptive sampler %q", sampler)
	}
	return a, nil
}

func (a *adaptive) Init(x []float64, n int) (sampling.State, error) { return a.init(x, n) }

func (a *adaptive) Step(rng *rand.Rand, s sampling.State) (sampling.State, sampling.Info, error) {
	s, info, err := a.step(rng, s, a.p)
	if err != nil {
		return s, info, err
	}
	h := a.p.StepSize * math.Exp(a.rate*(info.MeanAccept()-a.target))
	a.p.StepSize = math.Min(math.Max(h, 1e-7), a.maxEps)
	return s, info, nil
}

var _ sampling.Kernel = (*adaptive)(nil)

// uniformIn returns a noise function that fills points uniformly in box:
// where chains restart.
func uniformIn(b datasets.Box) func(rng *rand.Rand, x []float64) {
	return func(rng *rand.Rand, x []float64) {
		for i := 0; i+1 < len(x); i += 2 {
			x[i] = b.XMin + (b.XMax-b.XMin)*rng.Float64()
			x[i+1] = b.YMin + (b.YMax-b.YMin)*rng.Float64()
		}
	}
}

// restartFunc returns where restarted chains begin: uniform noise over the
// box, a training point, or either with probability ½.
func restartFunc(kind string, b datasets.Box, train []float64) func(rng *rand.Rand, x []float64) {
	uniform := uniformIn(b)
	data := func(rng *rand.Rand, p []float64) {
		i := rng.IntN(len(train) / 2)
		copy(p, train[2*i:2*i+2])
	}
	switch kind {
	case "data":
		return func(rng *rand.Rand, x []float64) {
			for i := 0; i+1 < len(x); i += 2 {
				data(rng, x[i:i+2])
			}
		}
	case "mixed":
		return func(rng *rand.Rand, x []float64) {
			for i := 0; i+1 < len(x); i += 2 {
				if rng.IntN(2) == 0 {
					data(rng, x[i:i+2])
				} else {
					uniform(rng, x[i:i+2])
				}
			}
		}
	}
	return uniform
}

// seedFor gives each data set its own seed stream, so results do not depend
// on which data sets run or in what order.
func seedFor(seed uint64, name string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(name) {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	return seed ^ h
}

// newModel returns the MLP 2-H-H-1 with SiLU activations, initialised as
// PyTorch does except that the first layer's weights and biases are
// multiplied by cfg.InitScale: features that vary faster over the data,
// which the sharp toy densities need and gradient descent is slow to grow.
func newModel(rng *rand.Rand, cfg config) *nn.Sequential {
	m := nn.NewMLP(rng, nn.SiLU, 2, cfg.Hidden, cfg.Hidden, 1)
	if cfg.InitScale > 0 && cfg.InitScale != 1 {
		for _, p := range m.Params() {
			if p.Name != "0.weight" && p.Name != "0.bias" {
				continue
			}
			v := p.Float64s(nil)
			for i := range v {
				v[i] *= cfg.InitScale
			}
			p.SetFloat64s(v)
		}
	}
	return m
}

// toyRun is one data set's training and evaluation.
type toyRun struct {
	cfg     config
	toy     *datasets.Toy
	model   *nn.Sequential
	test    []float64
	samples []float64 // model samples for the pictures
	result  toyResult
	kernel  *adaptive // the training sampler when it is MALA or HMC
}

// newKernel returns the sampler of cfg.Sampler on e with step size eps.
// Langevin dynamics is clamped to a square holding the toy's box.
func (r *toyRun) newKernel(e energy.Differentiable, eps float64) (sampling.Kernel, error) {
	if r.cfg.Sampler == "langevin" {
		b := r.toy.Bounds()
		lo, hi := math.Min(b.XMin, b.YMin), math.Max(b.XMax, b.YMax)
		return sampling.NewLangevin(e, sampling.LangevinConfig{StepSize: eps, GradClip: r.cfg.Clip, Min: lo, Max: hi})
	}
	return newAdaptive(e, r.cfg.Sampler, eps, r.cfg.Accept, r.cfg.Leapfrogs)
}

// runToy trains an EBM on one toy data set and evaluates it.
func runToy(ctx context.Context, cfg config, name string, progress func(trainer.Progress)) (*toyRun, error) {
	toy, err := datasets.ToyByName(name)
	if err != nil {
		return nil, err
	}
	seed := seedFor(cfg.Seed, name)
	rng := rand.New(rand.NewPCG(seed, 1))
	r := &toyRun{cfg: cfg, toy: toy}
	r.result = toyResult{Data: name, Entropy: toy.Entropy()}
	train := toy.SampleN(rng, cfg.Train)
	r.test = toy.SampleN(rand.New(rand.NewPCG(seed, 2)), cfg.Test)
	r.model = newModel(rand.New(rand.NewPCG(seed, 3)), cfg)

	e, err := graph.NewEnergy(r.model, graph.Config{Shape: []int{2}})
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	before, err := evaluate(ctx, e, toy, r.test, cfg.Grid)
	if err != nil {
		return nil, fmt.Errorf("%s: untrained model: %w", name, err)
	}
	r.result.UntrainedNLL = before.NLL
	evalSec := time.Since(t0).Seconds()

	dir := filepath.Join(cfg.Dir, name)
	if cfg.Fresh {
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
	}
	box := toy.Bounds()
	kernel := func(e energy.Differentiable) (sampling.Kernel, error) {
		k, err := r.newKernel(e, cfg.StepSize)
		if a, ok := k.(*adaptive); ok {
			r.kernel = a
		}
		return k, err
	}
	tcfg := trainer.Config{
		Shape:        []int{2},
		Iterations:   cfg.Iterations,
		Alpha:        cfg.Alpha,
		ClipGradNorm: cfg.ClipGrad,
		Adam:         optim.AdamConfig{LR: cfg.LR, Beta1: cfg.Beta1},
		Steps:        cfg.Steps,
		Kernel:       kernel,
		BufferSize:   cfg.Buffer,
		ReinitProb:   cfg.Reinit,
		Noise:        restartFunc(cfg.Restart, box, train),
		Dir:          dir,
		Seed:         seed,
		Progress:     progress,
		// A diverged step (rare with MALA) rolls back to the last
		// checkpoint at half the learning rate rather than ending the run.
		OnDiverge:       trainer.Rollback,
		CheckpointEvery: max(100, cfg.Iterations/10),
		Monitors:        []trainer.Monitor{&monitor.Pictures{Every: max(100, cfg.Iterations/5)}},
	}
	if cfg.MinLR > 0 && cfg.MinLR < cfg.LR {
		tcfg.Schedule = optim.Schedule{Kind: "cosine", Total: cfg.Iterations, MinLR: cfg.MinLR}
	}
	data, err := datasets.NewBatches(train, 2, datasets.BatchConfig{Size: cfg.Batch, Seed: seed})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tr, err := trainer.New(r.model, data, tcfg)
	if errors.Is(err, trainer.ErrCheckpoint) {
		return nil, fmt.Errorf("%s: %w (the checkpoint in %s was made with other settings: run with -fresh to start over)", name, err, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer tr.Close()
	t1 := time.Now()
	if err := tr.Run(ctx); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.result.TrainSec = time.Since(t1).Seconds()
	r.result.Iterations = tr.Iteration()
	hist := tr.History()
	if len(hist) > 0 {
		tail := hist[len(hist)-max(1, len(hist)/10):]
		for _, m := range tail {
			r.result.Accept += m.Accept / float64(len(tail))
		}
		for _, m := range hist {
			r.result.Divergences += m.Divergences
		}
	}

	t2 := time.Now()
	after, err := evaluate(ctx, e, toy, r.test, cfg.Grid)
	if err != nil {
		return nil, fmt.Errorf("%s: trained model: %w", name, err)
	}
	r.result.NLL, r.result.NLLSE = after.NLL, after.NLLSE
	r.result.Gap = after.NLL - r.result.Entropy
	r.result.KL, r.result.KLSE = after.KL, after.KLSE
	r.result.LogZ, r.result.QuadErr, r.result.EdgeMass = after.LogZ, after.QuadErr, after.EdgeMass

	// Model samples: the replay buffer's chains, moved on by the training
	// sampler on the final model.
	eps := cfg.StepSize
	if r.kernel != nil {
		eps = r.kernel.p.StepSize
	}
	r.result.StepSize = eps
	if err := r.drawSamples(ctx, e, tr.Buffer(), eps, rand.New(rand.NewPCG(seed, 4))); err != nil {
		return nil, fmt.Errorf("%s: sampling the trained model: %w", name, err)
	}
	r.result.EvalSec = evalSec + time.Since(t2).Seconds()
	return r, nil
}

// drawSamples runs cfg.Chains chains of the training sampler for
// cfg.EvalSteps steps on the trained model, started from the replay buffer
// (or uniform noise if it is empty), and records the mean true
// log-density of where they end.
func (r *toyRun) drawSamples(ctx context.Context, e energy.Differentiable, buf *trainer.ReplayBuffer, eps float64, rng *rand.Rand) error {
	n := r.cfg.Chains
	x := make([]float64, 2*n)
	if buf != nil && buf.Len() > 0 {
		buf.Init(rng, x, n, 0, uniformIn(r.toy.Bounds()))
	} else {
		uniformIn(r.toy.Bounds())(rng, x)
	}
	k, err := r.newKernel(e, eps)
	if err != nil {
		return err
	}
	res, err := sampling.Run(ctx, rng, k, x, n, sampling.RunConfig{Warmup: r.cfg.EvalSteps})
	if err != nil {
		return err
	}
	r.samples = res.Final.X
	for _, w := range res.Warnings {
		r.result.SamplerWarnings = append(r.result.SamplerWarnings, w.Message)
	}
	lp := make([]float64, n)
	if err := r.toy.F(lp, r.samples); err != nil {
		return err
	}
	s := 0.0
	for _, v := range lp {
		s += v
	}
	if s /= float64(n); !math.IsInf(s, 0) && !math.IsNaN(s) {
		r.result.SampleLogP = &s
	}
	return nil
}

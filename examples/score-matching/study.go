package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
	"github.com/ebmgo/ebm/viz"
)

// Langevin settings of the two CD recipes: ULA with step ε (x += (ε/2)∇f
// + √ε ξ), Steps per iteration, chains in a replay buffer that restart
// from training points with probability 5 %.
const (
	cdStep   = 0.01
	cdSteps  = 20
	cdBuffer = 10000
	// The noise ladder of the noise-conditional model, and the level at
	// which its density is evaluated.
	ladderMax, ladderMin, ladderLevels = 1.0, 0.02, 10
	dsmSigma                           = 0.05
)

// recipe is one objective: its trainer settings, and whether its model
// is noise-conditional.
type recipe struct {
	desc  string
	obj   func() trainer.Objective
	cd    bool // samples with Langevin (CD, improved CD)
	noisy bool // noise-conditional MLP, evaluated at σ = ladderMin
}

var recipes = map[string]recipe{
	"cd": {"contrastive divergence (α 0.01)", func() trainer.Objective { return nil }, true, false},
	"icd": {"improved CD: CD + KL term through the last Langevin step (weight 1)", func() trainer.Objective {
		return trainer.ImprovedCD{KL: 1, KLStep: cdStep / 2, KLNoise: math.Sqrt(cdStep)}
	}, true, false},
	"esm": {"exact score matching", func() trainer.Objective { return trainer.ScoreMatching{} }, false, false},
	"ssm": {"sliced score matching (one Gaussian projection, variance-reduced)", func() trainer.Objective { return trainer.SlicedScoreMatching{} }, false, false},
	"dsm": {fmt.Sprintf("denoising score matching, σ %g", dsmSigma), func() trainer.Objective { return trainer.DenoisingScoreMatching{Sigma: dsmSigma} }, false, false},
	"ncsn": {fmt.Sprintf("noise-conditional DSM over %d levels %g…%g, density at σ %g", ladderLevels, ladderMax, ladderMin, ladderMin), func() trainer.Objective {
		return trainer.DenoisingScoreMatching{Levels: ladderLevels, SigmaMax: ladderMax, SigmaMin: ladderMin, Conditional: true}
	}, false, true},
	"nce": {"noise-contrastive estimation, 4 noise samples per data point, Gaussian noise fitted to the data", func() trainer.Objective { return trainer.NCE{Ratio: 4} }, false, false},
}

// objectiveNames lists the objectives in the table's order.
func objectiveNames() []string { return []string{"cd", "icd", "esm", "ssm", "dsm", "ncsn", "nce"} }

// result is one cell of the study: one objective on one data set.
type result struct {
	Data       string  `json:"data"`
	Objective  string  `json:"objective"`
	Entropy    float64 `json:"entropy"`
	NLL        float64 `json:"nll"`
	NLLSE      float64 `json:"nll_se"`
	KL         float64 `json:"kl"` // KL(p_data‖p_θ), nats
	KLSE       float64 `json:"kl_se"`
	LogZ       float64 `json:"log_z"`
	QuadErr    float64 `json:"quad_err"`
	Iterations int     `json:"iterations"`
	TrainSec   float64 `json:"train_s"`
	// NCELogZ is NCE's learned log Z (the quadrature's is LogZ).
	NCELogZ *float64 `json:"nce_log_z,omitempty"`
}

// study holds one data set's samples and pictures.
type study struct {
	cfg          config
	toy          *datasets.Toy
	points, test []float64
	panels       []image.Image
	truth        *viz.Field
}

func newStudy(cfg config, name string) (*study, error) {
	toy, err := datasets.ToyByName(name)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	s := &study{cfg: cfg, toy: toy, points: toy.SampleN(rng, cfg.Train), test: toy.SampleN(rng, cfg.Test)}
	if s.truth, err = viz.EnergyField(toy, s.box(), pictureRes, pictureRes); err != nil {
		return nil, err
	}
	img, err := s.heatmap(s.truth, name+": data")
	if err != nil {
		return nil, err
	}
	s.panels = append(s.panels, img)
	return s, nil
}

const pictureRes = 120

func (s *study) box() viz.Box {
	b := s.toy.Bounds()
	return viz.Box{XMin: b.XMin, XMax: b.XMax, YMin: b.YMin, YMax: b.YMax}
}

// model returns the MLP 2-H-H-1 (SiLU); for ncsn with a NoiseBias after
// each hidden Linear layer. The toy ncsn model leaves out NoiseScale: its
// density is read at one level, where f/σ would magnify every error of f
// 1/σ = 50 times (KL 4.8 nats against 0.44 without, 8gaussians, 15 s).
func (s *study) model(rng *rand.Rand, noisy bool) graph.Model {
	h := s.cfg.Hidden
	if !noisy {
		return nn.NewMLP(rng, nn.SiLU, 2, h, h, 1)
	}
	return nn.NewSequential(
		nn.NewLinear(rng, 2, h), nn.NewNoiseBias(rng, h), nn.SiLU(),
		nn.NewLinear(rng, h, h), nn.NewNoiseBias(rng, h), nn.SiLU(),
		nn.NewLinear(rng, h, 1))
}

// train trains a fresh model with one objective for the budget and
// evaluates it.
func (s *study) train(ctx context.Context, obj string) (result, error) {
	rc := recipes[obj]
	res := result{Data: s.toy.Name(), Objective: obj, Entropy: s.toy.Entropy()}
	rng := rand.New(rand.NewPCG(s.cfg.Seed, 2))
	m := s.model(rng, rc.noisy)
	data, err := datasets.NewBatches(s.points, 2, datasets.BatchConfig{Size: s.cfg.Batch, Seed: s.cfg.Seed})
	if err != nil {
		return res, err
	}
	tcfg := trainer.Config{
		Shape: []int{2}, Iterations: math.MaxInt32, Objective: rc.obj(),
		Adam: optim.AdamConfig{LR: s.cfg.LR, Beta1: 0.9, Beta2: 0.999}, Seed: s.cfg.Seed,
	}
	if rc.cd {
		tcfg.Steps, tcfg.BufferSize, tcfg.ReinitProb, tcfg.Alpha = cdSteps, cdBuffer, 0.05, 0.01
		tcfg.Kernel = func(e energy.Differentiable) (sampling.Kernel, error) {
			return sampling.NewLangevin(e, sampling.LangevinConfig{StepSize: cdStep})
		}
		tcfg.Noise = func(rng *rand.Rand, x []float64) { // restarts at training points
			for i := 0; i+1 < len(x); i += 2 {
				copy(x[i:i+2], s.points[2*rng.IntN(len(s.points)/2):])
			}
		}
	}
	tr, err := trainer.New(m, data, tcfg)
	if err != nil {
		return res, err
	}
	defer tr.Close()
	tctx, cancel := context.WithTimeout(ctx, s.cfg.Budget)
	start := time.Now()
	err = tr.Run(tctx)
	cancel()
	res.TrainSec, res.Iterations = time.Since(start).Seconds(), tr.Iteration()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return res, err
	}
	if rc.obj() != nil && rc.obj().Name() == "nce" {
		h := tr.History()
		v := h[len(h)-1].LogZ
		res.NCELogZ = &v
	}
	e, err := graph.NewEnergy(m, graph.Config{Shape: []int{2}})
	if err != nil {
		return res, err
	}
	if rc.noisy {
		if err := e.SetNoise(ladderMin); err != nil {
			return res, err
		}
	}
	if err := s.evaluate(ctx, e, &res); err != nil {
		return res, err
	}
	f, err := viz.EnergyField(e, s.box(), pictureRes, pictureRes)
	if err != nil {
		return res, err
	}
	img, err := s.heatmap(f, fmt.Sprintf("%s: KL %.3f", obj, res.KL))
	if err != nil {
		return res, err
	}
	s.panels = append(s.panels, img)
	return res, nil
}

// evaluate sets the test NLL of exp(f)/Z restricted to the toy's box, Z by
// trapezoidal quadrature, and KL(p_data‖p_θ) = mean(log p_data − f + log Z)
// with its standard error.
func (s *study) evaluate(ctx context.Context, e energy.Energy, r *result) error {
	b := s.toy.Bounds()
	g := s.cfg.Grid
	q, err := energy.Quadrature(ctx, e, energy.Grid{Lo: []float64{b.XMin, b.YMin}, Hi: []float64{b.XMax, b.YMax}, N: []int{g, g}})
	if err != nil {
		return fmt.Errorf("log Z by quadrature: %w", err)
	}
	n := len(s.test) / 2
	f, lp := make([]float64, n), make([]float64, n)
	if err := e.F(f, s.test); err != nil {
		return err
	}
	if err := s.toy.F(lp, s.test); err != nil {
		return err
	}
	var sn, sn2, sk, sk2 float64
	for i := range n {
		nll := q.LogZ - f[i]
		kl := lp[i] + nll
		sn, sn2, sk, sk2 = sn+nll, sn2+nll*nll, sk+kl, sk2+kl*kl
	}
	fn := float64(n)
	r.NLL, r.KL, r.LogZ, r.QuadErr = sn/fn, sk/fn, q.LogZ, q.Err
	r.NLLSE = math.Sqrt(math.Max(sn2/fn-r.NLL*r.NLL, 0) / (fn - 1))
	r.KLSE = math.Sqrt(math.Max(sk2/fn-r.KL*r.KL, 0) / (fn - 1))
	if math.IsNaN(r.NLL) || math.IsInf(r.NLL, 0) {
		return fmt.Errorf("test NLL is %v: f is not finite somewhere", r.NLL)
	}
	return nil
}

// heatmap draws the normalised density of f on the study's colour scale,
// the true density's.
func (s *study) heatmap(f *viz.Field, title string) (image.Image, error) {
	z := append([]float64(nil), s.truth.Density().Z...)
	sort.Float64s(z)
	return viz.Heatmap(f, viz.HeatmapConfig{Width: 220, Height: 220, Density: true, Min: 0, Max: z[len(z)-1], NoColorBar: true, Title: title})
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ebmgo/ebm/diagnostics"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
)

// config is one run of the study.
type config struct {
	Dir      string
	Targets  []string
	Samplers []string
	Chains   int     // chains per run
	Warmup   int     // HMC and NUTS warm-up iterations
	Draws    int     // HMC and NUTS draws kept per chain
	MALAMult int     // MALA runs MALAMult times the warm-up and draws
	HMCTime  float64 // HMC's integration time T in the adapted metric
	Jitter   float64 // HMC's step-size jitter
	Cond     float64 // condition number of gauss100
	Reps     int     // independent repetitions (seeds) of every run
	Seed     uint64
	Jobs     int
	Res      int // heatmap cells per axis
}

// samplerNames are the samplers the study knows. "exact" is no sampler but
// independent exact draws (energy.ExactSampler) put through the same
// diagnostics: the yardstick that shows what a perfect sampler scores.
var samplerNames = []string{"hmc", "nuts", "mala", "exact"}

// dimStats are the diagnostics of one coordinate.
type dimStats struct {
	Mean    jf `json:"mean"`
	Var     jf `json:"var"`      // mean of (x − μ)² with the exact μ
	ZMean   jf `json:"z_mean"`   // (mean − μ) / MCSE
	ZVar    jf `json:"z_var"`    // (var − σ²) / MCSE of (x − μ)²
	ESSBulk jf `json:"ess_bulk"` // sampling.ESS
	ESSTail jf `json:"ess_tail"` // sampling.ESSTail
	RHat    jf `json:"rhat"`     // sampling.SplitRHat
}

// jf is a float64 that JSON-encodes NaN and ±Inf (a stuck chain's ESS or
// z-score) as null.
type jf float64

func (x jf) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(x))
}

// runResult is one row of the table: one sampler on one target.
type runResult struct {
	Target  string `json:"target"`
	Sampler string `json:"sampler"`
	Rep     int    `json:"rep"`
	Chains  int    `json:"chains"`
	Warmup  int    `json:"warmup"`
	Draws   int    `json:"draws"` // per chain

	// Gradient evaluations per chain: in the sampling phase, and in all
	// (warm-up included). NUTS builds each chain's tree on its own
	// (NUTSConfig.PerChain), so these are what each chain really paid.
	Grads      float64 `json:"grads_sampling"`
	GradsTotal float64 `json:"grads_total"`

	// The worst coordinate of each diagnostic.
	MinESSBulk  jf `json:"min_ess_bulk"`
	MinESSTail  jf `json:"min_ess_tail"`
	BulkPerGrad jf `json:"min_ess_bulk_per_grad"` // MinESSBulk / (Chains·Grads)
	TailPerGrad jf `json:"min_ess_tail_per_grad"`
	MaxRHat     jf `json:"max_rhat"`
	MaxZMean    jf `json:"max_abs_z_mean"`
	MaxZVar     jf `json:"max_abs_z_var"`
	// RMSZMean and RMSZVar are the root mean square of the z-scores over
	// coordinates: near 1 for a sampler whose errors match its MCSE.
	RMSZMean jf `json:"rms_z_mean"`
	RMSZVar  jf `json:"rms_z_var"`

	Divergences       int     `json:"divergences"`
	WarmupDivergences int     `json:"warmup_divergences"`
	MeanAccept        jf      `json:"mean_accept"`
	StepSize          jf      `json:"step_size"`
	StepsPerIter      float64 `json:"leapfrogs_per_iteration"`
	WarmupSec         float64 `json:"warmup_s"`
	SampleSec         float64 `json:"sample_s"`

	// Warnings are the run's sampling.Warning messages: divergences, low
	// ESS, R̂ above 1.01, a step size still shrinking after warm-up.
	Warnings []string `json:"warnings"`

	Dims []dimStats `json:"dims"`
}

// runOutput is a runResult with what the pictures need.
type runOutput struct {
	runResult
	trace sampling.Trace
	// gradAt[t] is the cumulative gradient evaluations per chain at draw t
	// (sampling phase), the x axis of trace plots.
	gradAt []float64
}

// newKernel builds a sampler for t.
func newKernel(name string, t *target, cfg config) (sampling.Adaptive, error) {
	switch name {
	case "hmc":
		return sampling.NewHMC(t.E, sampling.HMCConfig{TrajectoryLength: cfg.HMCTime, Jitter: cfg.Jitter})
	case "nuts":
		return sampling.NewNUTS(t.E, sampling.NUTSConfig{PerChain: true})
	case "mala":
		return sampling.NewMALA(t.E, sampling.MALAConfig{})
	}
	return nil, fmt.Errorf("unknown sampler %q (want one of %v)", name, samplerNames)
}

// runOne runs one sampler on one target: Chains chains started uniformly
// in [−2, 2]^d (Stan's default initialisation), Stan's windowed warm-up,
// then the draws.
func runOne(ctx context.Context, t *target, sampler string, rep int, cfg config) (*runOutput, error) {
	if sampler == "exact" {
		return exactDraws(t, rep, cfg)
	}
	k, err := newKernel(sampler, t, cfg)
	if err != nil {
		return nil, err
	}
	warmup, draws := cfg.Warmup, cfg.Draws
	if sampler == "mala" {
		warmup, draws = warmup*cfg.MALAMult, draws*cfg.MALAMult
	}
	d, n := t.E.Dim(), cfg.Chains
	seed := cfg.Seed + uint64(rep)*1_000_003
	rng := rand.New(rand.NewPCG(seed, hashName(t.Name+"/"+sampler)))
	x0 := make([]float64, n*d)
	for i := range x0 {
		x0[i] = 4*rng.Float64() - 2
	}
	out := &runOutput{gradAt: make([]float64, 0, draws)}
	var grads float64
	var leapfrogs, iters int
	res, err := sampling.Run(ctx, rng, k, x0, n, sampling.RunConfig{
		Warmup: warmup,
		Draws:  draws,
		Callback: func(iter int, s sampling.State, info sampling.Info) error {
			if iter < warmup {
				return nil
			}
			iters++
			if info.Leapfrogs != nil {
				sum := 0
				for _, l := range info.Leapfrogs {
					sum += l
				}
				grads += float64(sum) / float64(n)
				leapfrogs += sum
			} else {
				grads += float64(info.GradEvals)
			}
			out.gradAt = append(out.gradAt, grads)
			return nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", sampler, t.Name, err)
	}
	r := &out.runResult
	*r = runResult{
		Target: t.Name, Sampler: sampler, Rep: rep, Chains: n, Warmup: warmup, Draws: draws,
		Grads: grads, Divergences: res.Divergences, WarmupDivergences: res.WarmupDivergences,
		MeanAccept: jf(res.MeanAccept), StepSize: jf(res.Params.StepSize),
		WarmupSec: res.WarmupTime.Seconds(), SampleSec: res.SampleTime.Seconds(),
	}
	if res.LeapfrogsPerChain != nil {
		tot := 0
		for _, l := range res.LeapfrogsPerChain {
			tot += l
		}
		r.GradsTotal = float64(tot) / float64(n)
		r.StepsPerIter = float64(leapfrogs) / float64(n*max(iters, 1))
	} else {
		r.GradsTotal = float64(res.GradEvals)
		r.StepsPerIter = 1
	}
	for _, w := range res.Warnings {
		r.Warnings = append(r.Warnings, w.Message)
	}
	out.trace = res.Trace
	if err := r.diagnose(&res.Trace, res.Diagnostics, t); err != nil {
		return nil, err
	}
	return out, nil
}

// exactDraws puts Chains × Draws independent exact draws of t through the
// diagnostics.
func exactDraws(t *target, rep int, cfg config) (*runOutput, error) {
	ex, ok := t.E.(energy.ExactSampler)
	if !ok {
		return nil, fmt.Errorf("%s has no exact sampler", t.Name)
	}
	start := time.Now()
	d, n := t.E.Dim(), cfg.Chains
	rng := rand.New(rand.NewPCG(cfg.Seed+uint64(rep)*1_000_003, hashName(t.Name+"/exact")))
	tr := sampling.Trace{Draws: cfg.Draws, Chains: n, Dim: d, X: make([]float64, cfg.Draws*n*d)}
	if err := ex.Sample(rng, tr.X); err != nil {
		return nil, err
	}
	out := &runOutput{trace: tr}
	out.runResult = runResult{Target: t.Name, Sampler: "exact", Rep: rep, Chains: n, Draws: cfg.Draws,
		MeanAccept: 1, SampleSec: since(start)}
	if err := out.diagnose(&out.trace, nil, t); err != nil {
		return nil, err
	}
	return out, nil
}

// diagnose fills the per-coordinate statistics and their worst values,
// taking each coordinate's summary from Run's diagnostics when there are
// some.
func (r *runResult) diagnose(tr *sampling.Trace, rd *sampling.RunDiagnostics, t *target) error {
	d := tr.Dim
	r.Dims = make([]dimStats, d)
	minBulk, minTail := math.Inf(1), math.Inf(1)
	var maxRHat, maxZM, maxZV, zm2, zv2 float64
	var err error
	for i := range d {
		x := tr.Series(i)
		mu, v := t.Mean[i], t.Var[i]
		sq := make([][]float64, len(x))
		var sum, sumSq float64
		cnt := 0
		for c, chain := range x {
			sq[c] = make([]float64, len(chain))
			for j, xv := range chain {
				e := (xv - mu) * (xv - mu)
				sq[c][j] = e
				sum += xv
				sumSq += e
				cnt++
			}
		}
		mean, vr := sum/float64(cnt), sumSq/float64(cnt)
		var sx diagnostics.Summary
		if rd != nil {
			sx = rd.Coords[i]
		} else if sx, err = diagnostics.Summarize(x); err != nil {
			return err
		}
		ssq, err := diagnostics.Summarize(sq)
		if err != nil {
			return err
		}
		zm := (mean - mu) / sx.MCSE
		zv := (vr - v) / ssq.MCSE
		bulk, tail, rhat := sx.BulkESS, sx.TailESS, sx.RHat
		r.Dims[i] = dimStats{Mean: jf(mean), Var: jf(vr), ZMean: jf(zm), ZVar: jf(zv), ESSBulk: jf(bulk), ESSTail: jf(tail), RHat: jf(rhat)}
		// NaN (a chain that never moved) must win every comparison.
		minBulk, minTail = nanMin(minBulk, bulk), nanMin(minTail, tail)
		maxRHat, maxZM, maxZV = nanMax(maxRHat, rhat), nanMax(maxZM, math.Abs(zm)), nanMax(maxZV, math.Abs(zv))
		zm2 += zm * zm
		zv2 += zv * zv
	}
	r.MinESSBulk, r.MinESSTail, r.MaxRHat, r.MaxZMean, r.MaxZVar = jf(minBulk), jf(minTail), jf(maxRHat), jf(maxZM), jf(maxZV)
	r.RMSZMean, r.RMSZVar = jf(math.Sqrt(zm2/float64(d))), jf(math.Sqrt(zv2/float64(d)))
	total := r.Grads * float64(r.Chains)
	r.BulkPerGrad, r.TailPerGrad = jf(minBulk/total), jf(minTail/total)
	return nil
}

func nanMin(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return math.Min(a, b)
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return math.Max(a, b)
}

// hashName is FNV-1a, to give every target × sampler its own stream.
func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }

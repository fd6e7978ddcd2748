package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
)

// evaluator measures models on the data set.
type evaluator struct {
	data  *dataset
	exact bool
	// curveTemps, if positive, runs a short forward AIS after every epoch
	// of the large models, with curveChains chains and the generator
	// seeded by seed and the epoch.
	curveTemps, curveChains int
	seed                    uint64
	base                    []float64 // base-rate biases, computed once
}

// epoch returns the mean free energy of the test images and, for exact
// models, the exact test log-likelihood, or for the others, if curveTemps
// is set, the log-likelihood from a short forward AIS run (an upper bound
// on average, and a loose one); NaN otherwise.
func (e *evaluator) epoch(ctx context.Context, rbm *energy.RBM, epoch int) (testF, ll float64, err error) {
	testF, err = meanF(rbm, e.data.test)
	if err != nil {
		return 0, 0, err
	}
	ll = math.NaN()
	switch {
	case e.exact:
		logZ, err := rbm.LogZContext(ctx)
		if err != nil {
			return 0, 0, err
		}
		ll = testF - logZ
	case e.curveTemps > 0:
		if e.base == nil {
			e.base = sampling.BaseRateBias(e.data.train, rbm.Visible(), 1)
		}
		rng := rand.New(rand.NewPCG(e.seed, uint64(epoch)))
		res, err := sampling.RBMAIS(ctx, rng, rbm, e.curveChains, sampling.RBMAISConfig{Schedule: aisSchedule(e.curveTemps), BaseBias: e.base})
		if err != nil {
			return 0, 0, fmt.Errorf("per-epoch AIS: %w", err)
		}
		ll = testF - res.LogZ
	}
	return testF, ll, nil
}

// aisSchedule returns Salakhutdinov & Murray's piecewise-linear schedule
// (knots 0, 0.5, 0.9, 1 with 500, 4000 and 10,000 steps) scaled to temps
// intermediate distributions in all.
func aisSchedule(temps int) []float64 {
	steps := []int{500, 4000, 10000}
	if temps != 14500 {
		for i, s := range steps {
			steps[i] = max(1, int(math.Round(float64(s)*float64(temps)/14500)))
		}
	}
	return sampling.PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, steps)
}

// aisProgress returns a callback that prints every tenth of a run.
func aisProgress(log io.Writer, tag, what string) func(done, total int) {
	start := time.Now()
	last := -1
	return func(done, total int) {
		if d := 10 * done / total; d != last {
			last = d
			if d > 0 {
				fmt.Fprintf(log, "%s %s %3d%%  %s\n", tag, what, 10*d, time.Since(start).Round(time.Second))
			}
		}
	}
}

// final evaluates a trained model: free energies, exact log-likelihoods
// (small models), AIS sandwich, samples and filters.
func (e *evaluator) final(ctx context.Context, cfg Config, rbm *energy.RBM, mr *ModelResult, log io.Writer) error {
	tag := "[" + mr.Name + "]"
	testF, err := meanF(rbm, e.data.test)
	if err != nil {
		return err
	}
	trainF, err := meanF(rbm, e.data.train)
	if err != nil {
		return err
	}
	mr.TestF, mr.TrainF = num(testF), num(trainF)
	if e.exact {
		logZ, err := rbm.LogZContext(ctx)
		if err != nil {
			return err
		}
		mr.ExactLogZ = numPtr(logZ)
		mr.ExactTestLL = numPtr(testF - logZ)
		mr.ExactTrainLL = numPtr(trainF - logZ)
		fmt.Fprintf(log, "%s exact: log Z %.3f, test LL %.2f, train LL %.2f nats\n", tag, logZ, testF-logZ, trainF-logZ)
	}
	h := fnv.New64a()
	h.Write([]byte(mr.Slug))
	rng := rand.New(rand.NewPCG(cfg.Seed^h.Sum64(), 2))
	nv := rbm.Visible()

	// Forward AIS, then model samples: exact draws for the small models,
	// block Gibbs chains from the ends of forward AIS for the large ones.
	// Reverse AIS starts from those samples.
	base := sampling.BaseRateBias(e.data.train, nv, 1)
	chains := cfg.AISChains
	temps := cfg.AISTemps
	if e.exact {
		temps = cfg.SmallAISTemps
	}
	var ais *AISEstimate
	var fwdX []float64
	if !e.exact || cfg.SmallAIS {
		c := startClock()
		ais = &AISEstimate{Chains: chains, Temps: temps, GibbsSteps: cfg.GibbsSteps}
		acfg := sampling.RBMAISConfig{Schedule: aisSchedule(temps), BaseBias: base, Progress: aisProgress(log, tag, "AIS forward")}
		fwd, err := sampling.RBMAIS(ctx, rng, rbm, chains, acfg)
		if err != nil {
			return fmt.Errorf("AIS: %w", err)
		}
		ais.Forward = AISBound{num(fwd.LogZ), num(fwd.StdErr), num(fwd.ESS)}
		fwdX = fwd.X
		w, cp := c.since()
		ais.Wall, ais.CPU = num(w), num(cp)
		mr.AIS = ais
	}
	gs := startClock()
	var samples, probs []float64
	if e.exact {
		samples, probs, err = exactSamples(ctx, rng, rbm, chains)
		if err != nil {
			return err
		}
		if ais != nil {
			ais.GibbsSteps = 0
		}
	} else {
		samples, probs, err = gibbsChains(ctx, rng, rbm, fwdX, chains, cfg.GibbsSteps)
		if err != nil {
			return err
		}
	}
	gw, gc := gs.since()
	if ais != nil {
		// The samples start reverse AIS: their cost is part of it.
		ais.Wall += num(gw)
		ais.CPU += num(gc)
	}
	if e.exact {
		fmt.Fprintf(log, "%s %d exact samples in %s\n", tag, chains, fmtDur(gw))
	} else {
		fmt.Fprintf(log, "%s %d Gibbs chains × %d steps in %s\n", tag, chains, cfg.GibbsSteps, fmtDur(gw))
	}
	if err := savePictures(cfg.Out, mr, rbm, probs); err != nil {
		return err
	}
	if ais != nil {
		c := startClock()
		acfg := sampling.RBMAISConfig{Schedule: aisSchedule(temps), BaseBias: base, Progress: aisProgress(log, tag, "AIS reverse")}
		rev, err := sampling.RBMReverseAIS(ctx, rng, rbm, samples, acfg)
		if err != nil {
			return fmt.Errorf("reverse AIS: %w", err)
		}
		w, cp := c.since()
		ais.Wall += num(w)
		ais.CPU += num(cp)
		ais.Reverse = AISBound{num(rev.LogZ), num(rev.StdErr), num(rev.ESS)}
		ais.BaseLogZ = num(baseLogZ(base, rbm.Hidden()))
		ais.TestLLHigh = num(testF - float64(ais.Forward.LogZ))
		ais.TestLLLow = num(testF - float64(ais.Reverse.LogZ))
		ais.Note = aisNote(ais)
		line := fmt.Sprintf("%s AIS (%d chains, %d temperatures): log Z forward %.2f ± %.2f (ESS %.0f), reverse %.2f ± %.2f (ESS %.0f); test LL in [%.2f, %.2f]",
			tag, chains, temps, ais.Forward.LogZ, ais.Forward.StdErr, ais.Forward.ESS, ais.Reverse.LogZ, ais.Reverse.StdErr, ais.Reverse.ESS, ais.TestLLLow, ais.TestLLHigh)
		if mr.ExactLogZ != nil {
			line += fmt.Sprintf("; exact log Z %.2f", *mr.ExactLogZ)
		}
		fmt.Fprintln(log, line)
	}
	return nil
}

// baseLogZ is log Z of the base-rate RBM: Σ softplus(b_A) + nh log 2.
func baseLogZ(b []float64, nh int) float64 {
	z := float64(nh) * math.Ln2
	for _, x := range b {
		z += math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
	}
	return z
}

// gibbsChains runs n block-Gibbs chains of the RBM from start for steps
// steps and returns the final binary states and the visible probabilities
// p(v | h) of the last hidden draw (what pictures show).
func gibbsChains(ctx context.Context, rng *rand.Rand, rbm *energy.RBM, start []float64, n, steps int) (v, probs []float64, err error) {
	k, err := sampling.NewBlockGibbs(rbm)
	if err != nil {
		return nil, nil, err
	}
	s, err := k.Init(start, n)
	if err != nil {
		return nil, nil, err
	}
	for i := range steps {
		if i%50 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, fmt.Errorf("Gibbs chains: %w", err)
			}
		}
		if s, _, err = k.Step(rng, s); err != nil {
			return nil, nil, err
		}
	}
	probs = make([]float64, n*rbm.Visible())
	if err := rbm.VisibleProbs(probs, k.LastHidden()); err != nil {
		return nil, nil, err
	}
	return s.X, probs, nil
}

// exactSamples draws n exact samples v ~ p(v) (energy.RBM.Sample, which
// enumerates the hidden layer), then h ~ p(h | v), and returns v and
// p(v | h), the exact-sample counterpart of what gibbsChains returns.
func exactSamples(ctx context.Context, rng *rand.Rand, rbm *energy.RBM, n int) (v, probs []float64, err error) {
	v = make([]float64, n*rbm.Visible())
	if err := rbm.SampleContext(ctx, rng, v); err != nil {
		return nil, nil, fmt.Errorf("exact samples: %w", err)
	}
	h := make([]float64, n*rbm.Hidden())
	if err := rbm.SampleHidden(rng, h, v); err != nil {
		return nil, nil, err
	}
	probs = make([]float64, len(v))
	if err := rbm.VisibleProbs(probs, h); err != nil {
		return nil, nil, err
	}
	return v, probs, nil
}

// aisNote says what makes an AIS sandwich unreliable, or "".
func aisNote(a *AISEstimate) string {
	var notes []string
	if a.Forward.LogZ > a.Reverse.LogZ+2*num(math.Hypot(float64(a.Forward.StdErr), float64(a.Reverse.StdErr))) {
		if a.GibbsSteps == 0 {
			notes = append(notes, "forward above reverse by more than 2 standard errors although reverse AIS started from exact samples: the schedule is too short")
		} else {
			notes = append(notes, "forward above reverse by more than 2 standard errors: the reverse chains had not reached the model distribution")
		}
	}
	if lo := math.Min(float64(a.Forward.ESS), float64(a.Reverse.ESS)); lo < 10 {
		notes = append(notes, fmt.Sprintf("an ESS of %.0f of %d chains: the estimate rests on a few chains, its standard error is not to be trusted and log Z may be underestimated; raise -ais-temps", lo, a.Chains))
	}
	return strings.Join(notes, "; ")
}

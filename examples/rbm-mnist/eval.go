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

	"github.com/ebmgo/ebm/ais"
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
	// base is the base of AIS: the base-rate RBM, made on first use, or a
	// small trained model (baseName says which).
	base     *energy.RBM
	baseName string
	// raise holds the test images RAISE starts from, chosen on first use.
	raise []float64
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
		base, err := e.baseRBM(rbm)
		if err != nil {
			return 0, 0, err
		}
		schedule, err := ais.RBMSchedule(e.curveTemps)
		if err != nil {
			return 0, 0, err
		}
		rng := rand.New(rand.NewPCG(e.seed, uint64(epoch)))
		res, err := ais.ForwardRBM(ctx, rng, rbm, e.curveChains, ais.RBMConfig{Schedule: schedule, Base: base})
		if err != nil {
			return 0, 0, fmt.Errorf("per-epoch AIS: %w", err)
		}
		ll = testF - res.LogZ
	}
	return testF, ll, nil
}

// baseRBM returns the base-rate RBM of the training images with as many
// hidden units as rbm (which makes its log Z Salakhutdinov & Murray's
// log Z_A), made on first use.
func (e *evaluator) baseRBM(rbm *energy.RBM) (*energy.RBM, error) {
	if e.baseName != "" {
		return e.base, nil
	}
	if e.base == nil || e.base.Hidden() != rbm.Hidden() {
		b, err := energy.NewBaseRateRBM(e.data.train, rbm.Visible(), rbm.Hidden())
		if err != nil {
			return nil, err
		}
		e.base = b
	}
	return e.base, nil
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

	// Forward AIS, then model samples for the pictures: exact draws for
	// the small models (which also start reverse AIS), block Gibbs chains
	// from the ends of forward AIS for the large ones. Then RAISE from
	// test images.
	base, err := e.baseRBM(rbm)
	if err != nil {
		return err
	}
	chains := cfg.AISChains
	temps := cfg.AISTemps
	if e.exact {
		temps = cfg.SmallAISTemps
	}
	raiseTemps := temps // RAISE runs at the configured count, not the escalated one
	var est *AISEstimate
	var fwdX []float64
	if !e.exact || cfg.SmallAIS {
		c := startClock()
		est = &AISEstimate{Chains: chains, Base: "base rate"}
		if e.baseName != "" {
			est.Base = e.baseName
		}
		fwd, t, err := adaptiveAIS(ctx, cfg, temps, chains, log, tag, "AIS forward", &est.Attempts, func(sched []float64, progress func(int, int)) (ais.Result, error) {
			return ais.ForwardRBM(ctx, rng, rbm, chains, ais.RBMConfig{Schedule: sched, Base: base, Progress: progress})
		})
		if err != nil {
			return fmt.Errorf("AIS: %w", err)
		}
		est.Temps, temps = t, t
		est.Forward = AISBound{num(fwd.LogZ), num(fwd.StdErr), num(fwd.ESS)}
		fwdX = fwd.X
		w, cp := c.since()
		est.Wall, est.CPU = num(w), num(cp)
		mr.AIS = est
	}
	gs := startClock()
	var samples, probs []float64
	if e.exact {
		samples, probs, err = exactSamples(ctx, rng, rbm, chains)
	} else {
		samples, probs, err = gibbsChains(ctx, rng, rbm, fwdX, chains, cfg.GibbsSteps)
	}
	if err != nil {
		return err
	}
	gw, _ := gs.since()
	if e.exact {
		fmt.Fprintf(log, "%s %d exact samples in %s\n", tag, chains, fmtDur(gw))
	} else {
		fmt.Fprintf(log, "%s %d Gibbs chains × %d steps in %s\n", tag, chains, cfg.GibbsSteps, fmtDur(gw))
	}
	if err := savePictures(cfg.Dir, mr, rbm, probs); err != nil {
		return err
	}
	if est == nil {
		return e.sweep(ctx, cfg, rbm, mr, h.Sum64(), log)
	}
	baseLogZ, err := base.LogZ()
	if err != nil {
		return err
	}
	est.BaseLogZ = num(baseLogZ)
	est.TestLLHigh = num(testF - float64(est.Forward.LogZ))
	est.TestLLLow = num(math.NaN())
	line := fmt.Sprintf("%s AIS (%d chains): forward %.2f ± %.2f (ESS %.0f, %d temperatures)", tag, chains, est.Forward.LogZ, est.Forward.StdErr, est.Forward.ESS, est.Temps)
	if e.exact {
		// Reverse AIS from exact samples: a stochastic upper bound.
		c := startClock()
		rev, t, err := adaptiveAIS(ctx, cfg, temps, chains, log, tag, "AIS reverse", &est.Attempts, func(sched []float64, progress func(int, int)) (ais.Result, error) {
			return ais.ReverseRBM(ctx, rng, rbm, samples, ais.RBMConfig{Schedule: sched, Base: base, Progress: progress})
		})
		if err != nil {
			return fmt.Errorf("reverse AIS: %w", err)
		}
		est.ReverseTemps = t
		w, cp := c.since()
		est.Wall += num(w)
		est.CPU += num(cp)
		est.Reverse = &AISBound{num(rev.LogZ), num(rev.StdErr), num(rev.ESS)}
		est.TestLLLow = num(testF - rev.LogZ)
		line += fmt.Sprintf(", reverse from exact samples %.2f ± %.2f (ESS %.0f, %d temperatures)", rev.LogZ, rev.StdErr, rev.ESS, t)
	}
	if cfg.RAISEImages > 0 {
		// RAISE from test images. Its cost is the images times the
		// temperatures, so it keeps the configured count when forward AIS
		// escalated.
		c := startClock()
		sched, err := ais.RBMSchedule(raiseTemps)
		if err != nil {
			return err
		}
		images := e.raiseImages(cfg)
		r, err := ais.RAISERBM(ctx, rng, rbm, images, cfg.RAISEChains, ais.RBMConfig{Schedule: sched, Base: base,
			Progress: aisProgress(log, tag, fmt.Sprintf("RAISE, %d test images × %d chains, %d temperatures", len(images)/rbm.Visible(), cfg.RAISEChains, raiseTemps))})
		if err != nil {
			return fmt.Errorf("RAISE: %w", err)
		}
		w, cp := c.since()
		est.Wall += num(w)
		est.CPU += num(cp)
		est.RAISE = &RAISEBound{Images: len(r.LogLik), ChainsPerImage: cfg.RAISEChains, Temps: r.Temps, LogZ: num(r.LogZ), StdErr: num(r.LogZStdErr), Wall: num(w), CPU: num(cp)}
		if !e.exact {
			est.TestLLLow = num(testF - r.LogZ)
		}
		line += fmt.Sprintf(", RAISE %.2f ± %.2f (%d test images)", r.LogZ, r.LogZStdErr, len(r.LogLik))
	}
	est.Note = aisNote(est)
	if mr.ExactLogZ != nil {
		line += fmt.Sprintf("; exact log Z %.2f", *mr.ExactLogZ)
	} else if !math.IsNaN(float64(est.TestLLLow)) {
		line += fmt.Sprintf("; test LL in [%.2f, %.2f]", est.TestLLLow, est.TestLLHigh)
	} else {
		line += fmt.Sprintf("; test LL at most %.2f", est.TestLLHigh)
	}
	fmt.Fprintln(log, line)
	return e.sweep(ctx, cfg, rbm, mr, h.Sum64(), log)
}

// raiseImages returns the test images RAISE starts from: cfg.RAISEImages
// of them (at most all), chosen at random by the seed alone, so that every
// model is measured on the same images.
func (e *evaluator) raiseImages(cfg Config) []float64 {
	if e.raise != nil {
		return e.raise
	}
	nv := e.data.dim
	n := len(e.data.test) / nv
	perm := rand.New(rand.NewPCG(cfg.Seed, 0x5241495345)).Perm(n)[:min(cfg.RAISEImages, n)]
	e.raise = make([]float64, 0, len(perm)*nv)
	for _, i := range perm {
		e.raise = append(e.raise, e.data.test[i*nv:(i+1)*nv]...)
	}
	return e.raise
}

// sweep runs the forward AIS sweep (cfg.AISSweep) on a large model;
// slugHash seeds its generators with cfg.Seed.
func (e *evaluator) sweep(ctx context.Context, cfg Config, rbm *energy.RBM, mr *ModelResult, slugHash uint64, log io.Writer) error {
	tag := "[" + mr.Name + "]"
	if e.exact {
		return nil
	}
	base, err := e.baseRBM(rbm)
	if err != nil {
		return err
	}
	chains := cfg.AISChains
	for _, temps := range cfg.AISSweep {
		sched, err := ais.RBMSchedule(temps)
		if err != nil {
			return err
		}
		c := startClock()
		res, err := ais.ForwardRBM(ctx, rand.New(rand.NewPCG(cfg.Seed^slugHash, uint64(temps))), rbm, chains,
			ais.RBMConfig{Schedule: sched, Base: base, Progress: aisProgress(log, tag, fmt.Sprintf("AIS sweep, %d temperatures", temps))})
		if err != nil {
			return fmt.Errorf("AIS sweep at %d temperatures: %w", temps, err)
		}
		w, cp := c.since()
		mr.Sweep = append(mr.Sweep, SweepPoint{Run: "sweep", Temps: temps, Chains: chains, LogZ: num(res.LogZ), StdErr: num(res.StdErr), ESS: num(res.ESS), Wall: num(w), CPU: num(cp)})
		fmt.Fprintf(log, "%s AIS sweep: %d temperatures, log Z %.2f ± %.2f, ESS %.1f of %d, %s\n", tag, temps, res.LogZ, res.StdErr, res.ESS, chains, fmtDur(w))
	}
	return nil
}

// adaptiveAIS runs an AIS estimate at temps temperatures (Salakhutdinov &
// Murray's schedule) and, while its weight ESS is below cfg.AISMinESS of the
// chains, again with more, up to cfg.AISMaxTemps: an estimate whose
// weights rest on a few chains can underestimate log Z and its standard
// error cannot be trusted. It records every run in attempts and returns
// the last with its temperature count.
func adaptiveAIS(ctx context.Context, cfg Config, temps, chains int, log io.Writer, tag, what string, attempts *[]SweepPoint,
	run func(schedule []float64, progress func(done, total int)) (ais.Result, error)) (ais.Result, int, error) {
	for {
		sched, err := ais.RBMSchedule(temps)
		if err != nil {
			return ais.Result{}, 0, err
		}
		c := startClock()
		res, err := run(sched, aisProgress(log, tag, fmt.Sprintf("%s, %d temperatures", what, temps)))
		if err != nil {
			return res, 0, err
		}
		w, cp := c.since()
		*attempts = append(*attempts, SweepPoint{Run: strings.TrimPrefix(what, "AIS "), Temps: temps, Chains: chains, LogZ: num(res.LogZ), StdErr: num(res.StdErr), ESS: num(res.ESS), Wall: num(w), CPU: num(cp)})
		target := cfg.AISMinESS * float64(chains)
		if res.ESS >= target || temps >= cfg.AISMaxTemps {
			return res, temps, nil
		}
		// The weight ESS of an 8-epoch 784×500 PCD-1 model grew about as
		// the temperatures to the power 0.7 (2.5, 5.3 and 13.7 of 100 at
		// 1,000, 3,000 and 10,000): aim at the target with that rate,
		// growing at least 2× and at most 8× a run. It is no law: a
		// 5-epoch PCD-1 model had ESS 14.7 at 20,000 temperatures and 2.1
		// at 115,300, where one chain found more of the model's mass than
		// all others; the table flags such estimates.
		grow := math.Min(8, math.Max(2, math.Pow(target/math.Max(res.ESS, 1), 1/0.7)))
		next := min(cfg.AISMaxTemps, int(math.Ceil(float64(temps)*grow/100))*100)
		fmt.Fprintf(log, "%s %s: ESS %.1f of %d chains at %d temperatures, below %.0f%%; again with %d\n", tag, what, res.ESS, chains, temps, 100*cfg.AISMinESS, next)
		temps = next
	}
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
	// above says whether forward AIS's log Z exceeds the other side's by
	// more than 2 standard errors of the difference.
	above := func(logZ, se num) bool {
		return a.Forward.LogZ > logZ+2*num(math.Hypot(float64(a.Forward.StdErr), float64(se)))
	}
	if r := a.Reverse; r != nil && above(r.LogZ, r.StdErr) {
		notes = append(notes, "forward above reverse by more than 2 standard errors although reverse AIS started from exact samples: the schedule is too short")
	}
	if r := a.RAISE; r != nil && above(r.LogZ, r.StdErr) {
		notes = append(notes, "forward AIS above RAISE by more than 2 standard errors: the model has mass the annealing chains reach too rarely for either side to bound log Z; raise -ais-temps")
	}
	lo := float64(a.Forward.ESS)
	if a.Reverse != nil {
		lo = math.Min(lo, float64(a.Reverse.ESS))
	}
	if lo < float64(a.Chains)/2 {
		if a.RAISE != nil && a.Reverse == nil {
			notes = append(notes, fmt.Sprintf("unreliable: forward AIS rests on a few chains (ESS %.0f of %d, below half), so its log Z may be low and its standard error is not to be trusted; a few chains carrying the weight is also the sign of mass that annealing chains reach only by chance, which RAISE misses too, so the interval is not to be trusted either; raise -ais-max-temps", lo, a.Chains))
		} else {
			notes = append(notes, fmt.Sprintf("unreliable: an ESS of %.0f of %d chains, below half; the estimate rests on a few chains, its standard error is not to be trusted and forward AIS may underestimate log Z; raise -ais-temps or use a closer -ais-base", lo, a.Chains))
		}
	}
	return strings.Join(notes, "; ")
}

package trainer_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
	"github.com/ebmgo/ebm/trainer"
)

// rbmStates lists the 2^n binary vectors of length n, state s having bit i
// of s at position i.
func rbmStates(n int) [][]float64 {
	out := make([][]float64, 1<<n)
	for s := range out {
		out[s] = make([]float64, n)
		for i := range n {
			out[s][i] = float64(s >> i & 1)
		}
	}
	return out
}

func stateIndex(v []float64) int {
	s := 0
	for i, x := range v {
		if x == 1 {
			s |= 1 << i
		}
	}
	return s
}

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// phi returns the sufficient statistics of the gradient at visible vector
// v (binary or in [0, 1]): v_i σ(c + vᵀW)_j, then v_i, then σ(c + vᵀW)_j.
func phi(w, b, c, v []float64) []float64 {
	nv, nh := len(b), len(c)
	out := make([]float64, nv*nh+nv+nh)
	for j := range nh {
		a := c[j]
		for i := range nv {
			a += v[i] * w[i*nh+j]
		}
		p := sigm(a)
		out[nv*nh+nv+j] = p
		for i := range nv {
			out[i*nh+j] = v[i] * p
		}
	}
	copy(out[nv*nh:], v)
	return out
}

// exactRBM holds what enumeration gives for a tiny RBM: the model
// distribution over visible states and the Gibbs transition matrix
// T[u][v] = Σ_h p(h | u) p(v | h).
type exactRBM struct {
	w, b, c []float64
	vs, hs  [][]float64
	p       []float64 // p(v)
	trans   [][]float64
}

func newExactRBM(t *testing.T, r *energy.RBM) *exactRBM {
	t.Helper()
	w, b, c := r.Params()
	nv, nh := len(b), len(c)
	e := &exactRBM{w: w, b: b, c: c, vs: rbmStates(nv), hs: rbmStates(nh)}
	logZ, err := r.LogZ()
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float64, len(e.vs))
	if err := r.F(f, slices.Concat(e.vs...)); err != nil {
		t.Fatal(err)
	}
	e.p = make([]float64, len(e.vs))
	for s := range e.p {
		e.p[s] = math.Exp(f[s] - logZ)
	}
	// p(h | u) and p(v | h) as products of Bernoullis.
	ph := make([][]float64, len(e.vs)) // ph[u][h]
	for u, v := range e.vs {
		ph[u] = make([]float64, len(e.hs))
		for hi, h := range e.hs {
			q := 1.0
			for j := range nh {
				a := c[j]
				for i := range nv {
					a += v[i] * w[i*nh+j]
				}
				if h[j] == 1 {
					q *= sigm(a)
				} else {
					q *= 1 - sigm(a)
				}
			}
			ph[u][hi] = q
		}
	}
	pv := make([][]float64, len(e.hs)) // pv[h][v]
	for hi, h := range e.hs {
		pv[hi] = make([]float64, len(e.vs))
		for s, v := range e.vs {
			q := 1.0
			for i := range nv {
				a := b[i]
				for j := range nh {
					a += w[i*nh+j] * h[j]
				}
				if v[i] == 1 {
					q *= sigm(a)
				} else {
					q *= 1 - sigm(a)
				}
			}
			pv[hi][s] = q
		}
	}
	e.trans = make([][]float64, len(e.vs))
	for u := range e.vs {
		e.trans[u] = make([]float64, len(e.vs))
		for hi := range e.hs {
			for s := range e.vs {
				e.trans[u][s] += ph[u][hi] * pv[hi][s]
			}
		}
	}
	return e
}

// step returns the distribution after one Gibbs step from dist.
func (e *exactRBM) step(dist []float64) []float64 {
	out := make([]float64, len(dist))
	for u, q := range dist {
		for s, t := range e.trans[u] {
			out[s] += q * t
		}
	}
	return out
}

// expect returns Σ_v dist(v) φ(v).
func (e *exactRBM) expect(dist []float64) []float64 {
	var out []float64
	for s, q := range dist {
		f := phi(e.w, e.b, e.c, e.vs[s])
		if out == nil {
			out = make([]float64, len(f))
		}
		for i := range f {
			out[i] += q * f[i]
		}
	}
	return out
}

// dataStats returns the mean of φ over the data rows.
func (e *exactRBM) dataStats(data []float64) []float64 {
	nv := len(e.b)
	out := make([]float64, len(e.w)+len(e.b)+len(e.c))
	n := len(data) / nv
	for r := range n {
		for i, x := range phi(e.w, e.b, e.c, data[r*nv:(r+1)*nv]) {
			out[i] += x / float64(n)
		}
	}
	return out
}

// cdExpect returns the expected negative statistics of CD-k from data.
func (e *exactRBM) cdExpect(data []float64, k int) []float64 {
	nv := len(e.b)
	dist := make([]float64, len(e.vs))
	n := len(data) / nv
	for r := range n {
		dist[stateIndex(data[r*nv:(r+1)*nv])] += 1 / float64(n)
	}
	for range k {
		dist = e.step(dist)
	}
	return e.expect(dist)
}

// cdProbsExpect returns the expected negative statistics of CD-1 with the
// visible probabilities p(v | h) in place of a sample (VisibleProbs).
func (e *exactRBM) cdProbsExpect(data []float64) []float64 {
	nv, nh := len(e.b), len(e.c)
	n := len(data) / nv
	out := make([]float64, nv*nh+nv+nh)
	for r := range n {
		v := data[r*nv : (r+1)*nv]
		for _, h := range e.hs {
			q := 1.0
			for j := range nh {
				a := e.c[j]
				for i := range nv {
					a += v[i] * e.w[i*nh+j]
				}
				if h[j] == 1 {
					q *= sigm(a)
				} else {
					q *= 1 - sigm(a)
				}
			}
			mu := make([]float64, nv)
			for i := range nv {
				a := e.b[i]
				for j := range nh {
					a += e.w[i*nh+j] * h[j]
				}
				mu[i] = sigm(a)
			}
			for i, x := range phi(e.w, e.b, e.c, mu) {
				out[i] += q * x / float64(n)
			}
		}
	}
	return out
}

func sub(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}

// gradSamples calls tr.Gradient reps times on data and returns the
// estimates, each flattened as W, b, c.
func gradSamples(t *testing.T, tr *trainer.RBMTrainer, data []float64, nv, nh, reps int) [][]float64 {
	t.Helper()
	out := make([][]float64, reps)
	for r := range out {
		g := make([]float64, nv*nh+nv+nh)
		if err := tr.Gradient(g[:nv*nh], g[nv*nh:nv*nh+nv], g[nv*nh+nv:], data); err != nil {
			t.Fatal(err)
		}
		out[r] = g
	}
	return out
}

// meanSE returns each component's mean over the samples and its standard
// error from batch means (batches consecutive samples each; 1 for
// independent samples).
func meanSE(samples [][]float64, batches int) (mean, se []float64) {
	d := len(samples[0])
	n := len(samples) / batches * batches
	per := n / batches
	mean, se = make([]float64, d), make([]float64, d)
	bm := make([]float64, batches)
	for i := range d {
		for k := range batches {
			var s float64
			for r := k * per; r < (k+1)*per; r++ {
				s += samples[r][i]
			}
			bm[k] = s / float64(per)
		}
		var m float64
		for _, x := range bm {
			m += x
		}
		m /= float64(batches)
		var v float64
		for _, x := range bm {
			v += (x - m) * (x - m)
		}
		mean[i] = m
		se[i] = math.Sqrt(v / float64(batches-1) / float64(batches))
	}
	return mean, se
}

// maxZ returns the largest |mean − want| / se over the components.
func maxZ(mean, se, want []float64) (z float64, at int) {
	for i := range mean {
		d := math.Abs(mean[i] - want[i])
		zi := d / math.Max(se[i], 1e-12)
		if zi > z {
			z, at = zi, i
		}
	}
	return z, at
}

// zMax bounds |z| for every component of every comparison: with about 200
// comparisons per run, a false alarm has probability below 10⁻³ under
// normality (and t with ≥ 49 degrees of freedom for batch means).
const zMax = 5.0

// tinyRBMSetup returns a 6×4 RBM with N(0, 1) parameters and 12 random
// binary data rows, both from seed.
func tinyRBMSetup(seed uint64) (*energy.RBM, []float64) {
	rng := rand.New(rand.NewPCG(seed, 77))
	r := mustRBM(energy.NewRandomRBM(rng, 6, 4, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	data := make([]float64, 12*6)
	for i := range data {
		if rng.Float64() < 0.4 {
			data[i] = 1
		}
	}
	return r, data
}

// TestRBMGradientCD checks the CD-k gradient estimate against its exact
// expectation, computed by pushing the data distribution through the
// exact Gibbs transition matrix k times, for k = 1, 2 and 50; with k = 50
// the chain has mixed (checked), so CD-50 estimates the exact
// log-likelihood gradient, as CD-∞ should. It also checks that the test
// has the power to see CD-1's bias.
func TestRBMGradientCD(t *testing.T) {
	const nv, nh = 6, 4
	for seed := range uint64(3) {
		r, data := tinyRBMSetup(seed)
		// Seed 0 repeats the 12 rows 120 times: a batch of 1440 rows
		// takes the trainer's parallel path, with the same expectations.
		reps := 3000
		if seed == 0 {
			data = slices.Repeat(data, 120)
			reps = 60
		}
		e := newExactRBM(t, r)
		pos := e.dataStats(data)
		ml := sub(pos, e.expect(e.p))
		for _, tc := range []struct {
			k     int
			probs bool
		}{{1, false}, {2, false}, {50, false}, {1, true}} {
			tr, err := trainer.NewRBMTrainer(r, data, trainer.RBMConfig{Epochs: 1, Steps: tc.k, VisibleProbs: tc.probs, Seed: 100 + seed})
			if err != nil {
				t.Fatal(err)
			}
			want := sub(pos, e.cdExpect(data, tc.k))
			if tc.probs {
				want = sub(pos, e.cdProbsExpect(data))
			}
			mean, se := meanSE(gradSamples(t, tr, data, nv, nh, reps), reps)
			if z, at := maxZ(mean, se, want); z > zMax {
				t.Errorf("seed %d, CD-%d (visible probs %v): component %d: estimate %.5f ± %.5f, exact expectation %.5f (z = %.1f)", seed, tc.k, tc.probs, at, mean[at], se[at], want[at], z)
			}
			switch {
			case tc.k == 50:
				// CD-50 has mixed: its expectation is the ML gradient.
				for i := range ml {
					if d := math.Abs(want[i] - ml[i]); d > 1e-9 {
						t.Fatalf("seed %d: CD-50 expectation differs from the exact gradient by %.2g at %d: the chain has not mixed, the test setup is wrong", seed, d, i)
					}
				}
				if z, at := maxZ(mean, se, ml); z > zMax {
					t.Errorf("seed %d, CD-50: component %d: estimate %.5f ± %.5f, exact gradient %.5f (z = %.1f)", seed, at, mean[at], se[at], ml[at], z)
				}
			case tc.k == 1 && !tc.probs:
				// CD-1 is biased, and this many repetitions see it.
				if z, _ := maxZ(want, se, ml); z < 2*zMax {
					t.Errorf("seed %d: CD-1's bias is only %.1f standard errors: the test lacks power", seed, z)
				}
			}
		}
	}
}

// TestRBMGradientPCD checks that PCD's gradient estimate, from persistent
// chains run to equilibrium at fixed parameters, is unbiased for the exact
// log-likelihood gradient (by enumeration), with standard errors from
// batch means since the chains carry over between calls.
func TestRBMGradientPCD(t *testing.T) {
	const nv, nh, batches = 6, 4, 50
	for seed := range uint64(3) {
		// Seed 0 runs 1500 chains, enough for the trainer's parallel path,
		// with 5 Gibbs steps per call; the others 40 chains, 1 step.
		chains, steps, burn, reps := 40, 1, 200, 4000
		if seed == 0 {
			chains, steps, burn, reps = 1500, 5, 40, 250
		}
		r, data := tinyRBMSetup(seed)
		e := newExactRBM(t, r)
		ml := sub(e.dataStats(data), e.expect(e.p))
		tr, err := trainer.NewRBMTrainer(r, data, trainer.RBMConfig{Epochs: 1, Persistent: true, Chains: chains, Steps: steps, Seed: 200 + seed})
		if err != nil {
			t.Fatal(err)
		}
		gradSamples(t, tr, data, nv, nh, burn)
		mean, se := meanSE(gradSamples(t, tr, data, nv, nh, reps), batches)
		if z, at := maxZ(mean, se, ml); z > zMax {
			t.Errorf("seed %d: PCD component %d: estimate %.5f ± %.5f, exact gradient %.5f (z = %.1f)", seed, at, mean[at], se[at], ml[at], z)
		}
		states := tr.Chains()
		if len(states) != chains*nv {
			t.Fatalf("Chains has %d values, want %d", len(states), chains*nv)
		}
		for _, x := range states {
			if x != 0 && x != 1 {
				t.Fatalf("a persistent chain holds %v, want binary states", x)
			}
		}
	}
}

// exactLL returns the mean exact log-likelihood of data rows under r.
func exactLL(t *testing.T, r *energy.RBM, data []float64) float64 {
	t.Helper()
	logZ, err := r.LogZ()
	if err != nil {
		t.Fatal(err)
	}
	f := make([]float64, len(data)/r.Visible())
	if err := r.F(f, data); err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, x := range f {
		s += x - logZ
	}
	return s / float64(len(f))
}

// prototypeData draws n rows of nv bits from a mixture of three random
// prototypes with each bit flipped with probability flip, and returns the
// rows and the exact mean log-likelihood of the rows under that mixture.
func prototypeData(rng *rand.Rand, n, nv int, flip float64) ([]float64, float64) {
	protos := make([][]float64, 3)
	for k := range protos {
		protos[k] = make([]float64, nv)
		for i := range nv {
			protos[k][i] = float64(rng.IntN(2))
		}
	}
	data := make([]float64, n*nv)
	var ll float64
	for r := range n {
		k := rng.IntN(3)
		row := data[r*nv : (r+1)*nv]
		for i := range nv {
			row[i] = protos[k][i]
			if rng.Float64() < flip {
				row[i] = 1 - row[i]
			}
		}
		var p float64
		for _, pr := range protos {
			q := 1.0 / 3
			for i := range nv {
				if row[i] == pr[i] {
					q *= 1 - flip
				} else {
					q *= flip
				}
			}
			p += q
		}
		ll += math.Log(p) / float64(n)
	}
	return data, ll
}

// TestRBMTrainingImprovesLikelihood trains 12×6 RBMs by CD-1, CD-5 and PCD
// on 300 rows from a mixture of three noisy prototypes and checks with the
// exact likelihood (enumeration) that training takes the model from the
// base-rate initialisation most of the way to the likelihood of the true
// mixture, for several seeds.
func TestRBMTrainingImprovesLikelihood(t *testing.T) {
	const nv, nh = 12, 6
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 5))
		data, truth := prototypeData(rng, 300, nv, 0.05)
		for _, cfg := range []trainer.RBMConfig{
			{Epochs: 60, BatchSize: 20, Steps: 1},
			{Epochs: 60, BatchSize: 20, Steps: 5},
			// PCD-1 needs a decaying rate and no momentum here: its chains
			// cross between the sharp modes only slowly.
			{Epochs: 60, BatchSize: 20, Persistent: true, LearningRate: 0.2, Momentum: -1, FinalMomentum: -1, DecayLR: true},
		} {
			r, err := energy.NewRandomRBM(rand.New(rand.NewPCG(seed, 6)), nv, nh, energy.RBMInit{Data: data})
			if err != nil {
				t.Fatal(err)
			}
			before := exactLL(t, r, data)
			cfg.Seed = seed
			hist, err := trainer.TrainRBM(context.Background(), r, data, cfg)
			if err != nil {
				t.Fatal(err)
			}
			after := exactLL(t, r, data)
			name := fmt.Sprintf("seed %d, steps %d, persistent %v", seed, max(cfg.Steps, 1), cfg.Persistent)
			t.Logf("%s: log-likelihood %.3f → %.3f (true mixture %.3f); reconstruction error %.3f → %.3f",
				name, before, after, truth, hist[0].ReconError, hist[len(hist)-1].ReconError)
			if !(after > before+0.75*(truth-before)) {
				t.Errorf("%s: log-likelihood %.3f → %.3f, want at least 75%% of the way to the true mixture's %.3f", name, before, after, truth)
			}
			if len(hist) != cfg.Epochs || hist[len(hist)-1].Updates != cfg.Epochs*300/20 {
				t.Errorf("%s: %d epochs of history, %d updates", name, len(hist), hist[len(hist)-1].Updates)
			}
			if !(hist[len(hist)-1].ReconError < hist[0].ReconError) {
				t.Errorf("%s: reconstruction error %.4f → %.4f did not fall", name, hist[0].ReconError, hist[len(hist)-1].ReconError)
			}
		}
	}
}

// params returns the RBM's parameters concatenated.
func rbmParams(r *energy.RBM) []float64 {
	w, b, c := r.Params()
	return slices.Concat(w, b, c)
}

// stopAfter is a context whose Err reports cancellation after n calls:
// Run checks it once per update, so it stops training after n updates.
type stopAfter struct {
	context.Context
	n int
}

func (s *stopAfter) Err() error {
	if s.n <= 0 {
		return context.Canceled
	}
	s.n--
	return nil
}

func TestRBMDeterministicAndResume(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	data, _ := prototypeData(rng, 100, 10, 0.1)
	for _, persistent := range []bool{false, true} {
		cfg := trainer.RBMConfig{Epochs: 4, BatchSize: 30, Steps: 2, Persistent: persistent, Chains: 7, Seed: 9, MonitorRows: 50}
		fresh := func() *energy.RBM {
			r, err := energy.NewRandomRBM(rand.New(rand.NewPCG(4, 4)), 10, 5, energy.RBMInit{WeightScale: 0.1, Data: data})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		straight := fresh()
		hist, err := trainer.TrainRBM(context.Background(), straight, data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		again := fresh()
		if _, err := trainer.TrainRBM(context.Background(), again, data, cfg); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rbmParams(straight), rbmParams(again)) {
			t.Errorf("persistent %v: two runs with one seed differ", persistent)
		}
		other := fresh()
		cfg2 := cfg
		cfg2.Seed++
		if _, err := trainer.TrainRBM(context.Background(), other, data, cfg2); err != nil {
			t.Fatal(err)
		}
		if slices.Equal(rbmParams(straight), rbmParams(other)) {
			t.Errorf("persistent %v: runs with different seeds agree", persistent)
		}

		// Stop after 5 updates (mid-epoch 2), save, restore into a new
		// trainer and RBM, finish: the result must equal the straight run.
		part := fresh()
		tr, err := trainer.NewRBMTrainer(part, data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = tr.Run(&stopAfter{context.Background(), 5})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("persistent %v: Run with a cancelled context: %v", persistent, err)
		}
		if tr.Updates() != 5 || tr.Epoch() != 1 {
			t.Fatalf("persistent %v: stopped at %d updates, epoch %d; want 5 and 1", persistent, tr.Updates(), tr.Epoch())
		}
		state, err := tr.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		resumed := mustRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(5, 5)), 10, 5, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
		tr2, err := trainer.NewRBMTrainer(resumed, data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr2.UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
		if err := tr2.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rbmParams(straight), rbmParams(resumed)) {
			t.Errorf("persistent %v: the resumed run differs from the straight one", persistent)
		}
		h2 := tr2.History()
		if len(h2) != len(hist) || h2[3].ReconError != hist[3].ReconError || h2[0].FreeEnergy != hist[0].FreeEnergy {
			t.Errorf("persistent %v: resumed history %+v differs from %+v", persistent, h2, hist)
		}

		// Bad states are refused and leave the trainer as it was.
		if err := tr2.UnmarshalBinary(state[:len(state)-3]); !errors.Is(err, trainer.ErrCheckpoint) {
			t.Errorf("truncated state: %v, want ErrCheckpoint", err)
		}
		big := mustRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(5, 5)), 10, 6, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
		tr3, err := trainer.NewRBMTrainer(big, data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr3.UnmarshalBinary(state); !errors.Is(err, trainer.ErrCheckpoint) {
			t.Errorf("state of a 10×5 RBM into a 10×6 trainer: %v, want ErrCheckpoint", err)
		}
	}
}

func TestRBMTrainerErrors(t *testing.T) {
	r := mustRBM(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 4, 3, energy.RBMInit{WeightScale: 0.1, BiasScale: 0.1}))
	good := []float64{0, 1, 0, 1, 1, 1, 0, 0}
	for name, tc := range map[string]struct {
		data []float64
		cfg  trainer.RBMConfig
	}{
		"no epochs":       {good, trainer.RBMConfig{}},
		"negative lr":     {good, trainer.RBMConfig{Epochs: 1, LearningRate: -1}},
		"momentum 1":      {good, trainer.RBMConfig{Epochs: 1, FinalMomentum: 1}},
		"negative steps":  {good, trainer.RBMConfig{Epochs: 1, Steps: -1}},
		"ragged data":     {good[:7], trainer.RBMConfig{Epochs: 1}},
		"no data":         {nil, trainer.RBMConfig{Epochs: 1}},
		"value 2":         {[]float64{0, 1, 2, 0}, trainer.RBMConfig{Epochs: 1}},
		"NaN":             {[]float64{0, 1, math.NaN(), 0}, trainer.RBMConfig{Epochs: 1}},
		"negative chains": {good, trainer.RBMConfig{Epochs: 1, Persistent: true, Chains: -2}},
	} {
		if _, err := trainer.NewRBMTrainer(r, tc.data, tc.cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A learning rate that blows the weights up is reported as divergence.
	_, err := trainer.TrainRBM(context.Background(), r, good, trainer.RBMConfig{Epochs: 50, BatchSize: 1, LearningRate: 1e300, Momentum: -1, FinalMomentum: -1})
	if !errors.Is(err, sampling.ErrDiverged) {
		t.Errorf("learning rate 1e300: %v, want ErrDiverged", err)
	}
	for _, x := range rbmParams(r) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatal("the RBM was left with non-finite parameters")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := trainer.TrainRBM(ctx, r, good, trainer.RBMConfig{Epochs: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

// ExampleTrainRBM trains a 12×6 RBM by PCD on a mixture of three noisy
// binary prototypes and measures its exact log-likelihood, before and
// after, by enumeration.
func ExampleTrainRBM() {
	rng := rand.New(rand.NewPCG(1, 2))
	data, truth := prototypeData(rng, 300, 12, 0.05)
	rbm, err := energy.NewRandomRBM(rng, 12, 6, energy.RBMInit{Data: data})
	if err != nil {
		panic(err)
	}
	ll := func() float64 {
		logZ, _ := rbm.LogZ()
		f := make([]float64, 300)
		_ = rbm.F(f, data)
		var s float64
		for _, x := range f {
			s += (x - logZ) / 300
		}
		return s
	}
	fmt.Printf("true mixture: %.2f nats per row\n", truth)
	fmt.Printf("base rates:   %.2f nats per row\n", ll())
	hist, err := trainer.TrainRBM(context.Background(), rbm, data, trainer.RBMConfig{
		Epochs:        60,
		BatchSize:     20,
		Persistent:    true, // PCD-1
		LearningRate:  0.2,
		DecayLR:       true, // linearly to 0
		Momentum:      -1,   // none
		FinalMomentum: -1,
		Seed:          1,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("PCD-1, %d epochs: %.2f nats per row\n", len(hist), ll())
	// Output:
	// true mixture: -3.37 nats per row
	// base rates:   -5.94 nats per row
	// PCD-1, 60 epochs: -3.51 nats per row
}

// benchRBM measures training updates of an nv×nh RBM on random binary data
// with batches of 100: updates/s and the seconds one MNIST epoch (600
// updates) would take.
func benchRBM(b *testing.B, nh, k int, persistent bool) {
	const nv, rows = 784, 1000
	rng := rand.New(rand.NewPCG(1, 1))
	data := make([]float64, rows*nv)
	for i := range data {
		if rng.Float64() < 0.13 { // MNIST's ink fraction
			data[i] = 1
		}
	}
	r, err := energy.NewRandomRBM(rng, nv, nh, energy.RBMInit{Data: data})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := trainer.NewRBMTrainer(r, data, trainer.RBMConfig{Epochs: 1 << 30, Steps: k, Persistent: persistent, MonitorRows: -1})
	if err != nil {
		b.Fatal(err)
	}
	// Each Run does one more update: the context stops it.
	for b.Loop() {
		if err := tr.Run(&stopAfter{context.Background(), 1}); !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
	}
	perUpdate := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(1/perUpdate, "updates/s")
	b.ReportMetric(600*perUpdate, "s/MNIST-epoch")
}

func BenchmarkRBMTrainCD1_784x500(b *testing.B)  { benchRBM(b, 500, 1, false) }
func BenchmarkRBMTrainCD10_784x500(b *testing.B) { benchRBM(b, 500, 10, false) }
func BenchmarkRBMTrainPCD1_784x500(b *testing.B) { benchRBM(b, 500, 1, true) }
func BenchmarkRBMTrainCD10_784x16(b *testing.B)  { benchRBM(b, 16, 10, false) }

package trainer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/blas"
	"github.com/ebmgo/ebm/internal/mathx"
	"github.com/ebmgo/ebm/sampling"
)

// RBMConfig configures RBM training. With Epochs set, the zero value is the
// recipe of Hinton's practical guide and Salakhutdinov's rbm.m: CD-1,
// mini-batches of 100, learning rate 0.1, momentum 0.5 for five epochs and
// 0.9 after, weight decay 2·10⁻⁴ on the weights.
type RBMConfig struct {
	// Epochs is the number of passes over the data. Required (≥ 1).
	Epochs int
	// BatchSize is the number of data rows per update; 0 means 100. A
	// batch size above the number of rows uses all rows. An epoch is
	// ⌊N / BatchSize⌋ updates on a fresh shuffle of the rows.
	BatchSize int
	// Steps is k, the number of block Gibbs steps of the negative phase;
	// 0 means 1.
	Steps int
	// Persistent selects PCD: the negative chains continue from one update
	// to the next (Tieleman 2008) instead of starting at the data batch
	// (CD-k, the zero value). The chains start at random training rows.
	Persistent bool
	// Chains is the number of persistent chains; 0 means BatchSize. CD
	// ignores it (it runs one chain per data row).
	Chains int
	// LearningRate is ε; 0 means 0.1.
	LearningRate float64
	// DecayLR decays the learning rate linearly from LearningRate to zero
	// over the run, as Tieleman (2008) does for PCD. The zero value keeps
	// it constant.
	DecayLR bool
	// Momentum is μ for the first MomentumEpochs epochs, FinalMomentum μ
	// after. Zero means 0.5 and 0.9; a negative value means no momentum.
	Momentum, FinalMomentum float64
	// MomentumEpochs is the number of epochs at Momentum; 0 means 5, a
	// negative value means none.
	MomentumEpochs int
	// WeightDecay is λ, the L2 penalty ½λ‖W‖² on the weights (not the
	// biases); 0 means 2·10⁻⁴, a negative value means none.
	WeightDecay float64
	// VisibleProbs uses the probabilities p(v | h) instead of binary
	// samples for the last visible step of CD's negative phase, as rbm.m
	// does: less noise, more bias. PCD ignores it (its chains must stay
	// binary). The zero value samples.
	VisibleProbs bool
	// MonitorRows is the number of training rows, evenly spaced, on which
	// the end-of-epoch reconstruction error and free energy are measured;
	// 0 means 1000 (or all rows if fewer), a negative value means none.
	MonitorRows int
	// Seed seeds the trainer's random generators (shuffles, Gibbs
	// sampling, chain starts): equal seeds give equal runs, bit for bit on
	// one machine and BLAS.
	Seed uint64
	// Progress, if not nil, is called after every epoch, with the RBM's
	// parameters up to date, so it may evaluate the model.
	Progress func(RBMProgress)
}

// RBMProgress reports one finished epoch.
type RBMProgress struct {
	Epoch, Epochs int // epochs done, and in all
	Updates       int // parameter updates done
	// ReconError is the mean squared reconstruction error per row,
	// Σ_i (v_i − p(v_i = 1 | h))² with h ~ p(h | v), over the monitor rows
	// (Hinton's guide, §5: a cheap signal, not the likelihood). NaN
	// without monitor rows.
	ReconError float64
	// FreeEnergy is the mean f(v) = log Σ_h exp g(v, h) over the monitor
	// rows; compare it with held-out data to see over-fitting (§6). NaN
	// without monitor rows.
	FreeEnergy float64
	// WeightNorm is the root mean square of the weights.
	WeightNorm float64
	// LearningRate and Momentum are the values of the epoch's last update.
	LearningRate, Momentum float64
	// Elapsed is the training time since this Run started and EpochTime
	// the time of this epoch alone, both with the end-of-epoch monitoring
	// and without the time spent in Progress callbacks.
	Elapsed, EpochTime time.Duration
}

func (c *RBMConfig) defaults() {
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.Steps == 0 {
		c.Steps = 1
	}
	if c.LearningRate == 0 {
		c.LearningRate = 0.1
	}
	if c.Momentum == 0 {
		c.Momentum = 0.5
	}
	if c.FinalMomentum == 0 {
		c.FinalMomentum = 0.9
	}
	c.Momentum, c.FinalMomentum = max(c.Momentum, 0), max(c.FinalMomentum, 0)
	if c.MomentumEpochs == 0 {
		c.MomentumEpochs = 5
	}
	if c.WeightDecay == 0 {
		c.WeightDecay = 2e-4
	}
	c.WeightDecay = max(c.WeightDecay, 0)
	if c.MonitorRows == 0 {
		c.MonitorRows = 1000
	}
}

func (c *RBMConfig) validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("trainer: RBMConfig.Epochs = %d, want at least 1", c.Epochs)
	case c.BatchSize < 0:
		return fmt.Errorf("trainer: RBMConfig.BatchSize = %d is negative", c.BatchSize)
	case c.Steps < 0:
		return fmt.Errorf("trainer: RBMConfig.Steps = %d is negative", c.Steps)
	case c.Chains < 0:
		return fmt.Errorf("trainer: RBMConfig.Chains = %d is negative", c.Chains)
	case !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0):
		return fmt.Errorf("trainer: RBMConfig.LearningRate = %v, want a finite value > 0", c.LearningRate)
	case c.Momentum >= 1 || c.FinalMomentum >= 1 || math.IsNaN(c.Momentum) || math.IsNaN(c.FinalMomentum):
		return fmt.Errorf("trainer: RBMConfig momentum %v then %v, want values below 1", c.Momentum, c.FinalMomentum)
	case math.IsNaN(c.WeightDecay) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("trainer: RBMConfig.WeightDecay = %v is not finite", c.WeightDecay)
	}
	return nil
}

// RBMTrainer trains an energy.RBM on binary data by CD-k or PCD with
// momentum and weight decay; see RBMConfig for the recipe.
//
// For a binary RBM with f(v) = bᵀv + Σ_j softplus(c_j + (vᵀW)_j) (see
// energy.RBM) the gradient of the mean log-likelihood of a data set is
//
//	∂/∂W_ij = ⟨v_i σ(c_j + (vᵀW)_j)⟩_data − ⟨v_i σ(c_j + (vᵀW)_j)⟩_model
//	∂/∂b_i  = ⟨v_i⟩_data − ⟨v_i⟩_model
//	∂/∂c_j  = ⟨σ(c_j + (vᵀW)_j)⟩_data − ⟨σ(c_j + (vᵀW)_j)⟩_model
//
// with the hidden units summed out: the positive phase uses the hidden
// probabilities p(h_j = 1 | v) of a mini-batch. The model expectation is
// estimated with k steps of block Gibbs sampling (h ~ p(h | v), then
// v ~ p(v | h)), from the data batch itself (CD-k, Hinton 2002) or from
// persistent chains that carry over from one update to the next (PCD,
// Tieleman 2008); the negative statistics use the visible samples v⁻ and
// their hidden probabilities. If v⁻ were exact model draws the estimate
// would be unbiased (the package's tests check this by enumeration); CD's
// short chains from the data make it biased, which is why CD-1 models have
// poor likelihoods.
//
// The update is mini-batch gradient ascent with momentum and L2 weight
// decay on the weights (Hinton's practical guide, 2010; rbm.m of Hinton
// and Salakhutdinov 2006):
//
//	Δθ ← μ Δθ + ε (∇θ − λ θ_W),   θ ← θ + Δθ,
//
// with μ = 0.5 for the first epochs and 0.9 after, and ε optionally
// decaying linearly to zero over the run.
//
// The block Gibbs steps, conditionals and monitoring go through the
// energy.RBM being trained (its batched conditionals: one matrix product
// per layer, element-wise work and Bernoulli draws on GOMAXPROCS
// goroutines); the trainer adds the sufficient statistics and the update.
// Each update costs 2k + 3 matrix products of batch × nv × nh (2k + 4 for
// PCD), through ebm's BLAS engine (OpenBLAS when installed).
//
// The trainer keeps the optimiser's copy of the parameters and their
// momentum, and writes the parameters into the RBM after every update, so
// the RBM is current whenever Progress is called, Gibbs sampling runs, or
// Run returns. It reads them back at the start of Run, so a caller may
// change the RBM between runs. MarshalBinary and UnmarshalBinary save and restore the whole
// training state (parameters, momentum, chains, generators, position in
// the data), so a resumed run continues the uninterrupted one bit for bit.
//
// An RBMTrainer is not safe for concurrent use.
type RBMTrainer struct {
	rbm      *energy.RBM
	cfg      RBMConfig
	data     []float64
	nv, nh   int
	rows     int
	batch    int // rows per update
	chains   int // negative chains per update
	perEpoch int // updates per epoch

	batches *datasets.Batches
	pcg     *rand.PCG
	rng     *rand.Rand

	w, b, c    []float64 // the optimiser's parameters, written into rbm
	iw, ib, ic []float64 // momentum increments
	gw, gb, gc []float64 // gradient estimate
	pcd        []float64 // persistent chains, chains×nv (PCD)

	// work space
	v0, ph0 []float64 // data batch, its hidden probabilities
	vn, phn []float64 // negative visible units, their hidden probabilities
	hn      []float64 // negative hidden samples
	monitor []float64 // monitor rows

	epoch   int // epochs done
	inEpoch int // updates done in the current epoch
	updates int // updates done
	history []RBMProgress
}

// NewRBMTrainer returns a trainer of rbm on data, N rows of rbm.Visible()
// values in [0, 1] (binary data; values in between are read as
// probabilities by the positive phase and as starting points by CD). It
// returns an error if the configuration is invalid, if data is not a
// positive whole number of rows (wrapping energy.ErrShape), or if a value
// is outside [0, 1]. It panics if rbm is nil. The trainer keeps data; it
// must not change while training.
func NewRBMTrainer(rbm *energy.RBM, data []float64, cfg RBMConfig) (*RBMTrainer, error) {
	if rbm == nil {
		panic("trainer: NewRBMTrainer: nil RBM")
	}
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	nv, nh := rbm.Visible(), rbm.Hidden()
	if len(data) == 0 || len(data)%nv != 0 {
		return nil, fmt.Errorf("trainer: NewRBMTrainer: %d data values is not a positive whole number of rows of %d visible units: %w", len(data), nv, energy.ErrShape)
	}
	if err := checkUnit(data, nv); err != nil {
		return nil, fmt.Errorf("trainer: NewRBMTrainer: %w", err)
	}
	rows := len(data) / nv
	t := &RBMTrainer{rbm: rbm, cfg: cfg, data: data, nv: nv, nh: nh, rows: rows}
	t.batch = min(cfg.BatchSize, rows)
	t.perEpoch = rows / t.batch
	t.chains = t.batch
	if cfg.Persistent && cfg.Chains > 0 {
		t.chains = cfg.Chains
	}
	t.pcg = rand.NewPCG(cfg.Seed, 0x5bd1e995cafef00d)
	t.rng = rand.New(t.pcg)
	batches, err := datasets.NewBatches(data, nv, datasets.BatchConfig{Size: t.batch, Seed: cfg.Seed ^ 0x9e3779b97f4a7c15, Remainder: datasets.DropLast})
	if err != nil {
		return nil, fmt.Errorf("trainer: NewRBMTrainer: %w", err)
	}
	t.batches = batches
	t.w, t.b, t.c = rbm.Params()
	t.iw, t.ib, t.ic = make([]float64, nv*nh), make([]float64, nv), make([]float64, nh)
	t.gw, t.gb, t.gc = make([]float64, nv*nh), make([]float64, nv), make([]float64, nh)
	t.v0, t.ph0 = make([]float64, t.batch*nv), make([]float64, t.batch*nh)
	n := max(t.batch, t.chains)
	t.vn, t.phn, t.hn = make([]float64, n*nv), make([]float64, n*nh), make([]float64, n*nh)
	if cfg.Persistent {
		// Start the chains at random training rows, binarised.
		t.pcd = make([]float64, t.chains*nv)
		for r := range t.chains {
			copy(t.pcd[r*nv:(r+1)*nv], data[t.rng.IntN(rows)*nv:])
		}
		mathx.Bernoulli(t.rng, t.pcd, nv)
	}
	if m := cfg.MonitorRows; m > 0 {
		m = min(m, rows)
		t.monitor = make([]float64, m*nv)
		for r := range m {
			copy(t.monitor[r*nv:(r+1)*nv], data[(r*rows/m)*nv:])
		}
	}
	return t, nil
}

// checkUnit returns an error naming the first value of x outside [0, 1].
func checkUnit(x []float64, nv int) error {
	for j, v := range x {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("row %d, unit %d is %v, want a value in [0, 1]", j/nv, j%nv, v)
		}
	}
	return nil
}

// TrainRBM trains rbm on data (N×nv, values in [0, 1]) as cfg says and
// returns the per-epoch progress: NewRBMTrainer followed by Run.
func TrainRBM(ctx context.Context, rbm *energy.RBM, data []float64, cfg RBMConfig) ([]RBMProgress, error) {
	t, err := NewRBMTrainer(rbm, data, cfg)
	if err != nil {
		return nil, err
	}
	err = t.Run(ctx)
	return t.History(), err
}

// RBM returns the RBM being trained.
func (t *RBMTrainer) RBM() *energy.RBM { return t.rbm }

// Epoch returns the number of epochs done.
func (t *RBMTrainer) Epoch() int { return t.epoch }

// Updates returns the number of parameter updates done.
func (t *RBMTrainer) Updates() int { return t.updates }

// History returns the progress of every finished epoch.
func (t *RBMTrainer) History() []RBMProgress { return append([]RBMProgress(nil), t.history...) }

// Chains returns a copy of the persistent chains (Chains×nv) of PCD, which
// after training are approximate model samples; nil for CD.
func (t *RBMTrainer) Chains() []float64 { return append([]float64(nil), t.pcd...) }

// Run trains until cfg.Epochs epochs are done, continuing from where an
// earlier Run (or UnmarshalBinary) left off. It checks ctx between
// updates and returns an error wrapping ctx.Err() when it is done; the
// trainer then holds the state after the last complete update, and Run
// may be called again. It returns an error wrapping sampling.ErrDiverged if a
// parameter becomes NaN or infinite (the RBM keeps the last finite
// parameters).
func (t *RBMTrainer) Run(ctx context.Context) error {
	if err := t.load(); err != nil {
		return err
	}
	start := time.Now()
	epochStart := start
	var inProgress time.Duration // spent in Progress callbacks
	var lr, mom float64
	total := t.cfg.Epochs * t.perEpoch
	for t.epoch < t.cfg.Epochs {
		for t.inEpoch < t.perEpoch {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("trainer: RBM training stopped in epoch %d after %d updates: %w", t.epoch+1, t.updates, err)
			}
			lr = t.cfg.LearningRate
			if t.cfg.DecayLR {
				lr *= 1 - float64(t.updates)/float64(total)
			}
			mom = t.cfg.FinalMomentum
			if t.epoch < t.cfg.MomentumEpochs {
				mom = t.cfg.Momentum
			}
			t.batches.Next(t.v0, nil)
			t.estimate(t.v0, t.batch)
			if err := t.apply(lr, mom); err != nil {
				return err
			}
			t.inEpoch++
			t.updates++
		}
		t.epoch++
		t.inEpoch = 0
		p := RBMProgress{
			Epoch: t.epoch, Epochs: t.cfg.Epochs, Updates: t.updates,
			ReconError: math.NaN(), FreeEnergy: math.NaN(),
			WeightNorm:   rms(t.w),
			LearningRate: lr, Momentum: mom,
		}
		if t.monitor != nil {
			p.ReconError, p.FreeEnergy = t.monitorStats()
		}
		now := time.Now()
		p.Elapsed, p.EpochTime = now.Sub(start)-inProgress, now.Sub(epochStart)
		t.history = append(t.history, p)
		if t.cfg.Progress != nil {
			t.cfg.Progress(p)
			inProgress += time.Since(now)
		}
		epochStart = time.Now()
	}
	return nil
}

// load reads the parameters from the RBM.
func (t *RBMTrainer) load() error {
	if t.rbm.Visible() != t.nv || t.rbm.Hidden() != t.nh {
		return fmt.Errorf("trainer: RBM is %d×%d, the trainer was made for %d×%d: %w", t.rbm.Visible(), t.rbm.Hidden(), t.nv, t.nh, energy.ErrShape)
	}
	w, b, c := t.rbm.Params()
	copy(t.w, w)
	copy(t.b, b)
	copy(t.c, c)
	return nil
}

// Gradient sets dw (nv×nh), db (nv) and dc (nh) to the estimate of the
// gradient of the mean log-likelihood of the data rows in v (n×nv, values
// in [0, 1]) that an update would follow, at the RBM's current
// parameters: the positive phase from v, the negative phase from k block
// Gibbs steps started at v (CD) or at the persistent chains (PCD, which
// advance). It does not change the parameters. It returns an error if a
// slice has the wrong length (wrapping energy.ErrShape) or v holds a
// value outside [0, 1].
func (t *RBMTrainer) Gradient(dw, db, dc, v []float64) error {
	if len(dw) != t.nv*t.nh || len(db) != t.nv || len(dc) != t.nh {
		return fmt.Errorf("trainer: RBMTrainer.Gradient: gradients of %d, %d and %d values, want %d×%d, %d and %d: %w", len(dw), len(db), len(dc), t.nv, t.nh, t.nv, t.nh, energy.ErrShape)
	}
	if len(v) == 0 || len(v)%t.nv != 0 {
		return fmt.Errorf("trainer: RBMTrainer.Gradient: %d data values is not a positive whole number of rows of %d: %w", len(v), t.nv, energy.ErrShape)
	}
	if err := checkUnit(v, t.nv); err != nil {
		return fmt.Errorf("trainer: RBMTrainer.Gradient: %w", err)
	}
	if err := t.load(); err != nil {
		return err
	}
	n := len(v) / t.nv
	if n > len(t.ph0)/t.nh || (!t.cfg.Persistent && n > len(t.vn)/t.nv) {
		t.ph0 = make([]float64, n*t.nh)
		if !t.cfg.Persistent {
			t.vn, t.phn, t.hn = make([]float64, n*t.nv), make([]float64, n*t.nh), make([]float64, n*t.nh)
		}
	}
	t.estimate(v, n)
	copy(dw, t.gw)
	copy(db, t.gb)
	copy(dc, t.gc)
	return nil
}

// hiddenProbs sets p = σ(c + v·W) for the n rows of v.
func (t *RBMTrainer) hiddenProbs(p, v []float64, n int) {
	t.must(t.rbm.HiddenProbs(p[:n*t.nh], v[:n*t.nv]))
}

// visible sets p = σ(b + h·Wᵀ) for the n rows of h, and draws p into
// binary samples unless probs is set.
func (t *RBMTrainer) visible(p, h []float64, n int, probs bool) {
	if probs {
		t.must(t.rbm.VisibleProbs(p[:n*t.nv], h[:n*t.nh]))
		return
	}
	t.must(t.rbm.SampleVisible(t.rng, p[:n*t.nv], h[:n*t.nh]))
}

// sampleHidden sets h ~ Bernoulli(p) element-wise for n rows.
func (t *RBMTrainer) sampleHidden(h, p []float64, n int) {
	copy(h[:n*t.nh], p[:n*t.nh])
	mathx.Bernoulli(t.rng, h[:n*t.nh], t.nh)
}

// must panics on an error of the RBM's conditionals: the trainer sizes
// every buffer it passes, so an error is a defect of the trainer.
func (t *RBMTrainer) must(err error) {
	if err != nil {
		panic("trainer: RBMTrainer: " + err.Error())
	}
}

// estimate sets t.gw, t.gb, t.gc to the gradient estimate for the n data
// rows in v0.
func (t *RBMTrainer) estimate(v0 []float64, n int) {
	nv, nh := t.nv, t.nh
	k := t.cfg.Steps
	t.hiddenProbs(t.ph0, v0, n)
	m := n // negative chains
	if t.cfg.Persistent {
		m = t.chains
		copy(t.vn, t.pcd)
		t.hiddenProbs(t.phn, t.vn, m)
		t.sampleHidden(t.hn, t.phn, m)
	} else {
		t.sampleHidden(t.hn, t.ph0, m)
	}
	for s := range k {
		last := s == k-1
		t.visible(t.vn, t.hn, m, last && t.cfg.VisibleProbs && !t.cfg.Persistent)
		t.hiddenProbs(t.phn, t.vn, m)
		if !last {
			t.sampleHidden(t.hn, t.phn, m)
		}
	}
	if t.cfg.Persistent {
		copy(t.pcd, t.vn[:m*nv])
	}
	// gw = v0ᵀ ph0 / n − vnᵀ phn / m
	blas.Dgemm(true, false, nv, nh, n, 1/float64(n), v0[:n*nv], nv, t.ph0[:n*nh], nh, 0, t.gw, nh)
	blas.Dgemm(true, false, nv, nh, m, -1/float64(m), t.vn[:m*nv], nv, t.phn[:m*nh], nh, 1, t.gw, nh)
	colMeanDiff(t.gb, v0[:n*nv], n, t.vn[:m*nv], m)
	colMeanDiff(t.gc, t.ph0[:n*nh], n, t.phn[:m*nh], m)
}

// colMeanDiff sets dst[j] = mean_r a[r, j] − mean_r b[r, j] for a with na
// rows and b with nb rows of len(dst) columns.
func colMeanDiff(dst, a []float64, na int, b []float64, nb int) {
	d := len(dst)
	clear(dst)
	for r := range na {
		for j, x := range a[r*d : (r+1)*d] {
			dst[j] += x
		}
	}
	for j := range dst {
		dst[j] /= float64(na)
	}
	inv := 1 / float64(nb)
	for r := range nb {
		for j, x := range b[r*d : (r+1)*d] {
			dst[j] -= x * inv
		}
	}
}

// apply takes one momentum step along the gradient estimate and writes the
// parameters into the RBM.
func (t *RBMTrainer) apply(lr, mom float64) error {
	wd := t.cfg.WeightDecay
	finite := true
	step := func(p, inc, g []float64, decay float64) {
		for i := range p {
			inc[i] = mom*inc[i] + lr*(g[i]-decay*p[i])
			p[i] += inc[i]
			if math.IsNaN(p[i]) || math.IsInf(p[i], 0) {
				finite = false
			}
		}
	}
	step(t.w, t.iw, t.gw, wd)
	step(t.b, t.ib, t.gb, 0)
	step(t.c, t.ic, t.gc, 0)
	if !finite {
		return fmt.Errorf("trainer: RBM update %d (epoch %d) made a parameter NaN or infinite; lower the learning rate: %w", t.updates+1, t.epoch+1, sampling.ErrDiverged)
	}
	if err := t.rbm.SetParams(t.w, t.b, t.c); err != nil {
		return fmt.Errorf("trainer: RBM update %d: %w", t.updates+1, err)
	}
	return nil
}

// monitorStats returns the mean reconstruction error and free energy of
// the monitor rows. It draws from its own generator, seeded by the seed
// and the epoch, so that monitoring does not change training.
func (t *RBMTrainer) monitorStats() (recon, free float64) {
	nv, nh := t.nv, t.nh
	m := len(t.monitor) / nv
	rng := rand.New(rand.NewPCG(t.cfg.Seed, uint64(t.epoch)))
	f, h, pv := make([]float64, m), make([]float64, m*nh), make([]float64, m*nv)
	t.must(t.rbm.F(f, t.monitor))
	for _, x := range f {
		free += x
	}
	t.must(t.rbm.SampleHidden(rng, h, t.monitor))
	t.must(t.rbm.VisibleProbs(pv, h))
	for j, p := range pv {
		d := t.monitor[j] - p
		recon += d * d
	}
	return recon / float64(m), free / float64(m)
}

func rms(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// rbmMagic starts an encoded RBMTrainer state.
const rbmMagic = "ebmRBMT1"

// rbmHeader is the fixed part of an encoded state.
type rbmHeader struct {
	NV, NH, Rows, Batch, Chains int
	Persistent                  bool
	Epoch, InEpoch, Updates     int
}

// MarshalBinary encodes the training state: parameters, momentum
// increments, persistent chains, the generators, the position in the data
// and the history. Restore it with UnmarshalBinary into a trainer made by
// NewRBMTrainer with the same data size and configuration.
func (t *RBMTrainer) MarshalBinary() ([]byte, error) {
	hdr, err := json.Marshal(rbmHeader{t.nv, t.nh, t.rows, t.batch, t.chains, t.cfg.Persistent, t.epoch, t.inEpoch, t.updates})
	if err != nil {
		return nil, fmt.Errorf("trainer: RBMTrainer.MarshalBinary: %w", err)
	}
	hist := encodeRBMHistory(t.history)
	pcg, err := t.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("trainer: RBMTrainer.MarshalBinary: %w", err)
	}
	bat, err := t.batches.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("trainer: RBMTrainer.MarshalBinary: %w", err)
	}
	if err := t.load(); err != nil {
		return nil, err
	}
	buf := []byte(rbmMagic)
	for _, part := range [][]byte{hdr, hist, pcg, bat} {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(len(part)))
		buf = append(buf, part...)
	}
	for _, v := range [][]float64{t.w, t.b, t.c, t.iw, t.ib, t.ic, t.pcd} {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(8*len(v)))
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		}
	}
	return buf, nil
}

// UnmarshalBinary restores a state written by MarshalBinary and writes
// its parameters into the RBM. It returns an error wrapping ErrCheckpoint
// if the data is malformed or belongs to a trainer of other sizes, and
// then leaves the trainer unchanged.
func (t *RBMTrainer) UnmarshalBinary(data []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("trainer: RBMTrainer.UnmarshalBinary: "+format+": %w", append(args, ErrCheckpoint)...)
	}
	if len(data) < len(rbmMagic) || string(data[:len(rbmMagic)]) != rbmMagic {
		return bad("not an RBM trainer state")
	}
	rest := data[len(rbmMagic):]
	next := func() ([]byte, bool) {
		if len(rest) < 8 {
			return nil, false
		}
		n := binary.LittleEndian.Uint64(rest)
		if n > uint64(len(rest)-8) {
			return nil, false
		}
		part := rest[8 : 8+n]
		rest = rest[8+n:]
		return part, true
	}
	var parts [4][]byte
	for i := range parts {
		p, ok := next()
		if !ok {
			return bad("truncated")
		}
		parts[i] = p
	}
	var hdr rbmHeader
	if err := json.Unmarshal(parts[0], &hdr); err != nil {
		return bad("header: %v", err)
	}
	want := rbmHeader{t.nv, t.nh, t.rows, t.batch, t.chains, t.cfg.Persistent, hdr.Epoch, hdr.InEpoch, hdr.Updates}
	if hdr != want {
		return bad("state of a %d×%d RBM on %d rows (batch %d, %d chains, persistent %v), this trainer is %d×%d on %d rows (batch %d, %d chains, persistent %v)",
			hdr.NV, hdr.NH, hdr.Rows, hdr.Batch, hdr.Chains, hdr.Persistent, t.nv, t.nh, t.rows, t.batch, t.chains, t.cfg.Persistent)
	}
	if hdr.Epoch < 0 || hdr.InEpoch < 0 || hdr.InEpoch >= t.perEpoch || hdr.Updates < 0 {
		return bad("epoch %d, update %d of the epoch, %d updates", hdr.Epoch, hdr.InEpoch, hdr.Updates)
	}
	hist, ok := decodeRBMHistory(parts[1])
	if !ok {
		return bad("history of %d bytes is malformed", len(parts[1]))
	}
	pcg := rand.NewPCG(0, 0)
	if err := pcg.UnmarshalBinary(parts[2]); err != nil {
		return bad("generator: %v", err)
	}
	bat, err := datasets.NewBatches(t.data, t.nv, datasets.BatchConfig{Size: t.batch, Seed: t.cfg.Seed ^ 0x9e3779b97f4a7c15, Remainder: datasets.DropLast})
	if err != nil {
		return bad("data: %v", err)
	}
	if err := bat.UnmarshalBinary(parts[3]); err != nil {
		return bad("data position: %v", err)
	}
	var vecs [7][]float64
	for i, n := range []int{t.nv * t.nh, t.nv, t.nh, t.nv * t.nh, t.nv, t.nh, len(t.pcd)} {
		p, ok := next()
		if !ok || len(p) != 8*n {
			return bad("parameter block %d has the wrong size", i)
		}
		vecs[i] = make([]float64, n)
		for j := range n {
			vecs[i][j] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*j:]))
		}
	}
	if len(rest) != 0 {
		return bad("%d bytes after the end", len(rest))
	}
	if err := t.rbm.SetParams(vecs[0], vecs[1], vecs[2]); err != nil {
		return bad("parameters: %v", err)
	}
	copy(t.w, vecs[0])
	copy(t.b, vecs[1])
	copy(t.c, vecs[2])
	copy(t.iw, vecs[3])
	copy(t.ib, vecs[4])
	copy(t.ic, vecs[5])
	copy(t.pcd, vecs[6])
	t.pcg, t.rng, t.batches = pcg, rand.New(pcg), bat
	t.epoch, t.inEpoch, t.updates, t.history = hdr.Epoch, hdr.InEpoch, hdr.Updates, hist
	return nil
}

// rbmProgressBytes is the size of one encoded RBMProgress: ten 8-byte
// fields.
const rbmProgressBytes = 80

// encodeRBMHistory encodes the history in binary (JSON cannot hold the NaN
// of an unmonitored epoch).
func encodeRBMHistory(h []RBMProgress) []byte {
	buf := make([]byte, 0, len(h)*rbmProgressBytes)
	for _, p := range h {
		for _, v := range []uint64{uint64(p.Epoch), uint64(p.Epochs), uint64(p.Updates),
			math.Float64bits(p.ReconError), math.Float64bits(p.FreeEnergy), math.Float64bits(p.WeightNorm),
			math.Float64bits(p.LearningRate), math.Float64bits(p.Momentum),
			uint64(p.Elapsed), uint64(p.EpochTime)} {
			buf = binary.LittleEndian.AppendUint64(buf, v)
		}
	}
	return buf
}

func decodeRBMHistory(b []byte) ([]RBMProgress, bool) {
	if len(b)%rbmProgressBytes != 0 {
		return nil, false
	}
	h := make([]RBMProgress, len(b)/rbmProgressBytes)
	for i := range h {
		var u [10]uint64
		for j := range u {
			u[j] = binary.LittleEndian.Uint64(b[i*rbmProgressBytes+8*j:])
		}
		h[i] = RBMProgress{
			Epoch: int(u[0]), Epochs: int(u[1]), Updates: int(u[2]),
			ReconError: math.Float64frombits(u[3]), FreeEnergy: math.Float64frombits(u[4]),
			WeightNorm:   math.Float64frombits(u[5]),
			LearningRate: math.Float64frombits(u[6]), Momentum: math.Float64frombits(u[7]),
			Elapsed: time.Duration(u[8]), EpochTime: time.Duration(u[9]),
		}
	}
	return h, true
}

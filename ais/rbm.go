package ais

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/mathx"
	"github.com/ebmgo/ebm/sampling"
)

// RBMConfig configures [ForwardRBM] and [ReverseRBM]. The zero value is
// Salakhutdinov and Murray's (2008) setting with a uniform base: their
// 14,500-step schedule and one block Gibbs step per temperature.
type RBMConfig struct {
	// Schedule is the sequence 0 = β_0 ≤ … ≤ β_K = 1. Nil means
	// RBMSchedule(14500).
	Schedule []float64
	// Base is the RBM A the path starts from: any binary RBM with as many
	// visible units as the target whose log Z can be computed (without
	// weights at any size, energy.NewBaseRateRBM; otherwise by enumerating
	// a layer of at most energy.MaxRBMEnumerate units) and which can be
	// sampled exactly. Nil means the uniform distribution: no weights, no
	// biases. The base-rate RBM of the training data is Salakhutdinov and
	// Murray's choice and far better than uniform.
	Base *energy.RBM
	// Steps is the number of block Gibbs steps at each intermediate β.
	// Zero means 1.
	Steps int
	// Progress, if set, is called after each intermediate distribution
	// with the number done and the total K.
	Progress func(done, total int)
}

// ForwardRBM estimates log Z of the binary RBM target B by the annealed
// importance sampler of Salakhutdinov and Murray (2008), "On the
// quantitative analysis of deep belief networks", on n chains. The path
// runs from a base RBM A (cfg.Base) to B through the RBMs over v and both
// hidden layers h_A, h_B whose joint log-density is (1−β) times A's plus β
// times B's; summing the hidden layers out,
//
//	f_β(v) = ((1−β) b_A + β b_B)ᵀv + Σ_j softplus((1−β)(c_A + vᵀW_A)_j)
//	                               + Σ_k softplus(β (c_B + vᵀW_B)_k),
//
// so that Z_0 = Z_A·2^{nh_B} and Z_K = Z_B·2^{nh_A}. Each chain starts from
// an exact draw of A, and at each β takes cfg.Steps block Gibbs steps of
// the joint: h_A ~ σ((1−β)(c_A + vᵀW_A)), h_B ~ σ(β(c_B + vᵀW_B)), then
// v ~ σ((1−β)(b_A + W_A h_A) + β(b_B + W_B h_B)). With a base without
// weights (the base-rate RBM) h_A does not affect v and is not drawn; a
// step then costs two n×nv×nh matrix products of the energy.RBM's batched
// conditionals, so a 784×500 RBM with 100 chains and 14,500 temperatures
// takes minutes. The estimate
//
//	log Ẑ_B = log Z_A + (nh_B − nh_A) log 2 + log mean(w)
//
// is a stochastic lower bound of log Z_B; see [Forward] for the weights,
// the standard error and the ESS.
//
// It checks ctx between temperatures. It returns an error for fewer than
// one chain, a base of another size or with an intractable log Z, a bad
// schedule or a negative Steps, and (wrapping sampling.ErrDiverged) for a
// log weight that is not finite. It panics if rng or rbm is nil.
func ForwardRBM(ctx context.Context, rng *rand.Rand, rbm *energy.RBM, n int, cfg RBMConfig) (Result, error) {
	p, err := newRBMPath(ctx, "ForwardRBM", rng, rbm, n, cfg)
	if err != nil {
		return Result{}, err
	}
	if err := p.base.SampleContext(ctx, rng, p.v); err != nil {
		return Result{}, fmt.Errorf("ais: ForwardRBM: drawing from the base: %w", err)
	}
	res, err := p.run(ctx, "ForwardRBM", rng, p.schedule, cfg)
	if err != nil {
		return res, err
	}
	res.LogZ = p.logZ0 + mathx.LogMeanExp(res.LogWeights) - p.logZ1Extra
	return res, nil
}

// ReverseRBM is [ForwardRBM] run backwards from v, n draws from the RBM
// (N×nv row-major, values 0 or 1), as in [Reverse]: a stochastic upper
// bound of log Z when the draws are exact, log Ẑ_B = log Z_A +
// (nh_B − nh_A) log 2 − log mean(w). Draws from Gibbs chains that have not
// mixed make it an estimate with no guaranteed side (see the package
// doc). v is not modified.
func ReverseRBM(ctx context.Context, rng *rand.Rand, rbm *energy.RBM, v []float64, cfg RBMConfig) (Result, error) {
	if rbm == nil {
		panic("ais: ReverseRBM: nil RBM")
	}
	if err := checkVisible("ReverseRBM", "draw", rbm, v); err != nil {
		return Result{}, err
	}
	return reverseRBM(ctx, "ReverseRBM", rng, rbm, v, cfg)
}

// checkVisible returns an error unless v holds whole rows of rbm's visible
// units, each 0 or 1; fn and row name the caller and its rows in it.
func checkVisible(fn, row string, rbm *energy.RBM, v []float64) error {
	nv := rbm.Visible()
	if len(v) == 0 || len(v)%nv != 0 {
		return fmt.Errorf("ais: %s: %d visible values is not a positive multiple of %d units: %w", fn, len(v), nv, energy.ErrShape)
	}
	for j, x := range v {
		if x != 0 && x != 1 {
			return fmt.Errorf("ais: %s: %s %d unit %d is %v, not 0 or 1", fn, row, j/nv, j%nv, x)
		}
	}
	return nil
}

// reverseRBM is ReverseRBM on visible states v that checkVisible accepted.
func reverseRBM(ctx context.Context, fn string, rng *rand.Rand, rbm *energy.RBM, v []float64, cfg RBMConfig) (Result, error) {
	p, err := newRBMPath(ctx, fn, rng, rbm, len(v)/rbm.Visible(), cfg)
	if err != nil {
		return Result{}, err
	}
	copy(p.v, v)
	res, err := p.run(ctx, fn, rng, reversed(p.schedule), cfg)
	if err != nil {
		return res, err
	}
	res.LogZ = p.logZ0 - mathx.LogMeanExp(res.LogWeights) - p.logZ1Extra
	return res, nil
}

// rbmPath holds the two RBMs, the schedule and the work space of RBM AIS.
type rbmPath struct {
	n, nv, nhA, nhB int
	base, target    *energy.RBM
	baseWeights     bool      // A has a non-zero weight: h_A is drawn
	bA, bB, cA      []float64 // visible biases of A and B, hidden biases of A
	// logZ0 is log Z_0 = log Z_A + nh_B log 2; logZ1Extra is nh_A log 2,
	// the factor by which Z_K exceeds Z_B.
	logZ0, logZ1Extra float64
	schedule          []float64
	v                 []float64   // n×nv visible states
	inA, inB          []float64   // hidden inputs c + vᵀW of A (n×nhA, with weights only) and B (n×nhB)
	hA, hB            []float64   // hidden draws
	visA, visB        []float64   // visible inputs b + Wh of A (with weights only) and B (n×nv)
	scaled            [][]float64 // a work row per block of mathx.BlockRows chains
}

func newRBMPath(ctx context.Context, fn string, rng *rand.Rand, rbm *energy.RBM, n int, cfg RBMConfig) (*rbmPath, error) {
	if rng == nil {
		panic("ais: " + fn + ": nil rng")
	}
	if rbm == nil {
		panic("ais: " + fn + ": nil RBM")
	}
	if n <= 0 {
		return nil, fmt.Errorf("ais: %s: %d chains, want at least 1", fn, n)
	}
	if cfg.Steps < 0 {
		return nil, fmt.Errorf("ais: %s: RBMConfig.Steps = %d is negative", fn, cfg.Steps)
	}
	nv := rbm.Visible()
	base := cfg.Base
	if base == nil {
		var err error
		base, err = energy.NewRBM(nv, 1, make([]float64, nv), make([]float64, nv), make([]float64, 1))
		if err != nil {
			return nil, fmt.Errorf("ais: %s: uniform base: %w", fn, err)
		}
	}
	if base.Visible() != nv {
		return nil, fmt.Errorf("ais: %s: the base RBM has %d visible units, the target %d: %w", fn, base.Visible(), nv, energy.ErrShape)
	}
	p := &rbmPath{n: n, nv: nv, nhA: base.Hidden(), nhB: rbm.Hidden(), base: base, target: rbm, schedule: cfg.Schedule}
	if p.schedule == nil {
		p.schedule, _ = RBMSchedule(14500)
	}
	if err := checkSchedule(fn, p.schedule); err != nil {
		return nil, err
	}
	logZA, err := base.LogZContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("ais: %s: log Z of the base RBM: %w", fn, err)
	}
	p.logZ0 = logZA + float64(p.nhB)*math.Ln2
	p.logZ1Extra = float64(p.nhA) * math.Ln2
	var wA []float64
	wA, p.bA, p.cA = base.Params()
	for _, w := range wA {
		if w != 0 {
			p.baseWeights = true
			break
		}
	}
	_, p.bB, _ = rbm.Params()
	p.v = make([]float64, n*nv)
	p.inB, p.hB, p.visB = make([]float64, n*p.nhB), make([]float64, n*p.nhB), make([]float64, n*nv)
	if p.baseWeights {
		p.inA, p.hA, p.visA = make([]float64, n*p.nhA), make([]float64, n*p.nhA), make([]float64, n*nv)
	}
	p.scaled = make([][]float64, (n+mathx.BlockRows-1)/mathx.BlockRows)
	for i := range p.scaled {
		p.scaled[i] = make([]float64, max(p.nhA, p.nhB, len(p.cA)))
	}
	return p, nil
}

// hiddenInputs sets the hidden inputs of both RBMs for the current v.
func (p *rbmPath) hiddenInputs() error {
	if err := p.target.HiddenInputs(p.inB, p.v); err != nil {
		return err
	}
	if p.baseWeights {
		return p.base.HiddenInputs(p.inA, p.v)
	}
	return nil
}

// sumSoftplus returns Σ_j softplus(s·a_j), using buf as work space.
func sumSoftplus(buf []float64, s float64, a []float64) float64 {
	t := buf[:len(a)]
	for j, x := range a {
		t[j] = s * x
	}
	return mathx.SumSoftplus(t)
}

// logRatio returns, for chain r, f_{b1}(v_r) − f_{b0}(v_r), given the
// hidden inputs of the current v; hiddenA is the base's term when A has no
// weights (the same for every chain). It uses the work row of r's block.
func (p *rbmPath) logRatio(r int, b0, b1, hiddenA float64) float64 {
	buf := p.scaled[r/mathx.BlockRows]
	var d float64
	for i, x := range p.v[r*p.nv : (r+1)*p.nv] {
		if x != 0 {
			d += (b1 - b0) * (p.bB[i] - p.bA[i]) * x
		}
	}
	inB := p.inB[r*p.nhB : (r+1)*p.nhB]
	d += sumSoftplus(buf, b1, inB) - sumSoftplus(buf, b0, inB)
	if p.baseWeights {
		inA := p.inA[r*p.nhA : (r+1)*p.nhA]
		d += sumSoftplus(buf, 1-b1, inA) - sumSoftplus(buf, 1-b0, inA)
	} else {
		d += hiddenA
	}
	return d
}

// run anneals the chains in p.v through betas.
func (p *rbmPath) run(ctx context.Context, fn string, rng *rand.Rand, betas []float64, cfg RBMConfig) (Result, error) {
	steps := max(cfg.Steps, 1)
	lw, inc := make([]float64, p.n), make([]float64, p.n)
	total := len(betas) - 1
	stepVar := make([]float64, total)
	if err := p.hiddenInputs(); err != nil {
		return Result{}, fmt.Errorf("ais: %s: %w", fn, err)
	}
	for k := 1; k <= total; k++ {
		if err := ctx.Err(); err != nil {
			return Result{LogWeights: lw, X: p.v}, fmt.Errorf("ais: %s stopped at step %d of %d: %w", fn, k, total, err)
		}
		b0, b1 := betas[k-1], betas[k]
		if b1 != b0 {
			var hiddenA float64 // Σ_j softplus((1−β) c_A,j), without weights
			if !p.baseWeights {
				hiddenA = sumSoftplus(p.scaled[0], 1-b1, p.cA) - sumSoftplus(p.scaled[0], 1-b0, p.cA)
			}
			mathx.Rows(p.n, p.nhA+p.nhB, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					inc[r] = p.logRatio(r, b0, b1, hiddenA)
					lw[r] += inc[r]
				}
			})
			stepVar[k-1] = variance(inc)
		}
		if k < total {
			for range steps {
				if err := p.gibbs(rng, b1); err != nil {
					return Result{LogWeights: lw, X: p.v}, fmt.Errorf("ais: %s: %w", fn, err)
				}
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(k, total)
		}
	}
	for r, l := range lw {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return Result{LogWeights: lw, X: p.v}, fmt.Errorf("ais: %s: chain %d has log weight %v: %w", fn, r, l, sampling.ErrDiverged)
		}
	}
	res := Result{LogWeights: lw, X: p.v, MeanAccept: 1, StepVar: stepVar}
	res.StdErr, res.ESS = weightStats(lw)
	return res, nil
}

// gibbs takes one block Gibbs step of the RBM at β on every chain and
// leaves the new hidden inputs in p.inA, p.inB.
func (p *rbmPath) gibbs(rng *rand.Rand, beta float64) error {
	scaledSigmoid(p.hB, p.inB, p.nhB, beta)
	mathx.Bernoulli(rng, p.hB, p.nhB)
	if err := p.target.VisibleInputs(p.visB, p.hB); err != nil {
		return err
	}
	if p.baseWeights {
		scaledSigmoid(p.hA, p.inA, p.nhA, 1-beta)
		mathx.Bernoulli(rng, p.hA, p.nhA)
		if err := p.base.VisibleInputs(p.visA, p.hA); err != nil {
			return err
		}
	}
	nv := p.nv
	mathx.Rows(p.n, nv, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			v, vb := p.v[r*nv:(r+1)*nv], p.visB[r*nv:(r+1)*nv]
			var va []float64
			if p.baseWeights {
				va = p.visA[r*nv : (r+1)*nv]
			}
			for i := range v {
				a := p.bA[i]
				if va != nil {
					a = va[i]
				}
				v[i] = mathx.Sigmoid((1-beta)*a + beta*vb[i])
			}
		}
	})
	mathx.Bernoulli(rng, p.v, nv)
	return p.hiddenInputs()
}

// scaledSigmoid sets dst = σ(s·in) element-wise, rows of cols values on
// GOMAXPROCS goroutines when large.
func scaledSigmoid(dst, in []float64, cols int, s float64) {
	mathx.Rows(len(in)/cols, cols, func(lo, hi int) {
		for j := lo * cols; j < hi*cols; j++ {
			dst[j] = mathx.Sigmoid(s * in[j])
		}
	})
}

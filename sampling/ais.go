package sampling

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/blas"
)

// AISBase is the starting distribution of annealed importance sampling: a
// normalised distribution p0 = exp(f0)/Z0 with known log Z0 that can be
// sampled exactly, such as energy.Gaussian.
type AISBase interface {
	energy.Energy
	// LogZ returns log Z0 = log ∫ exp(f0).
	LogZ() float64
	// Sample fills x (a batch of len(x)/Dim() samples) with exact draws.
	Sample(rng *rand.Rand, x []float64) error
}

// AISConfig configures [AIS] and [ReverseAIS].
type AISConfig struct {
	// Schedule is the sequence 0 = β_0 ≤ β_1 ≤ … ≤ β_K = 1 of inverse
	// temperatures (see LinearSchedule, GeometricSchedule,
	// SigmoidSchedule, PiecewiseSchedule). Required: at least two values.
	Schedule []float64
	// Kernel returns an MCMC transition that leaves p_β ∝ exp(f_β)
	// invariant, given the annealed energy f_β = Anneal(base, target, β)
	// (which implements the interfaces that base and target share:
	// energy.Differentiable for MALA or HMC, Values and SiteLogits for
	// Gibbs). It is called once for each intermediate β, 0 < k < K, and
	// may return the same kernel rebuilt or retuned. Required.
	Kernel func(e energy.Energy, beta float64) (Kernel, error)
	// Steps is the number of transitions at each intermediate β. Zero
	// means 1.
	Steps int
	// Progress, if set, is called after each intermediate distribution
	// with the number done and the total K.
	Progress func(done, total int)
}

// AISResult is what an annealed importance sampling run estimated.
type AISResult struct {
	// LogZ is the estimate of the target's log Z. Forward AIS is a
	// stochastic lower bound (E[LogZ] ≤ log Z); reverse AIS a stochastic
	// upper bound.
	LogZ float64
	// StdErr is the delta-method standard error of LogZ,
	// sd(w) / (√n · mean(w)) over the n importance weights w.
	StdErr float64
	// ESS is the effective sample size of the importance weights,
	// (Σw)² / Σw², between 1 and n: far below n means the schedule is too
	// short and the weights, and StdErr, are unreliable.
	ESS float64
	// LogWeights holds log w of each chain. Forward: log Z estimate
	// = log Z0 + log mean w. Reverse: log Z0 − log mean w.
	LogWeights []float64
	// X holds the chains' final positions: importance-weighted draws from
	// the target after forward AIS, approximate base draws after reverse
	// AIS.
	X []float64
	// MeanAccept is the mean acceptance probability of all transitions.
	MeanAccept float64
	// Divergences is the number of divergent transitions, over chains
	// and steps.
	Divergences int
}

// LinearSchedule returns k+1 equally spaced inverse temperatures from 0 to
// 1. It panics if k < 1.
func LinearSchedule(k int) []float64 {
	if k < 1 {
		panic(fmt.Sprintf("sampling: LinearSchedule: %d steps", k))
	}
	b := make([]float64, k+1)
	for i := range b {
		b[i] = float64(i) / float64(k)
	}
	b[k] = 1
	return b
}

// GeometricSchedule returns 0 followed by k geometrically spaced inverse
// temperatures from min to 1: β_i = min^{(k−i)/(k−1)}, i = 1…k, which
// spends most steps near β = 0 where the distributions change fastest for
// a broad base. It panics unless k ≥ 2 and 0 < min < 1.
func GeometricSchedule(k int, min float64) []float64 {
	if k < 2 || !(min > 0 && min < 1) {
		panic(fmt.Sprintf("sampling: GeometricSchedule: %d steps from %v, want k ≥ 2 and 0 < min < 1", k, min))
	}
	b := make([]float64, k+1)
	for i := 1; i <= k; i++ {
		b[i] = math.Pow(min, float64(k-i)/float64(k-1))
	}
	b[k] = 1
	return b
}

// SigmoidSchedule returns the sigmoid schedule of Grosse, Maddison and
// Salakhutdinov (2013): β̃_i = σ(δ(2i/k − 1)), rescaled to run from 0 to 1,
// for i = 0…k. Larger δ crowds the steps at both ends. It panics unless
// k ≥ 1 and δ > 0.
func SigmoidSchedule(k int, delta float64) []float64 {
	if k < 1 || !(delta > 0) || math.IsInf(delta, 0) {
		panic(fmt.Sprintf("sampling: SigmoidSchedule: %d steps, δ = %v", k, delta))
	}
	b := make([]float64, k+1)
	lo, hi := aisSigmoid(-delta), aisSigmoid(delta)
	for i := range b {
		b[i] = (aisSigmoid(delta*(2*float64(i)/float64(k)-1)) - lo) / (hi - lo)
	}
	b[0], b[k] = 0, 1
	return b
}

// PiecewiseSchedule returns a schedule linear on each interval between
// consecutive knots: steps[i] equal steps from knots[i] to knots[i+1].
// Salakhutdinov and Murray's schedule for RBMs is
// PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, []int{500, 4000, 10000}).
// It panics unless the knots rise from 0 to 1 and every count is positive.
func PiecewiseSchedule(knots []float64, steps []int) []float64 {
	if len(knots) < 2 || len(steps) != len(knots)-1 || knots[0] != 0 || knots[len(knots)-1] != 1 {
		panic(fmt.Sprintf("sampling: PiecewiseSchedule: knots %v with steps %v, want knots from 0 to 1 and one count per interval", knots, steps))
	}
	b := []float64{0}
	for i, n := range steps {
		if n < 1 || !(knots[i+1] > knots[i]) {
			panic(fmt.Sprintf("sampling: PiecewiseSchedule: interval %d from %v to %v with %d steps", i, knots[i], knots[i+1], n))
		}
		for j := 1; j <= n; j++ {
			b = append(b, knots[i]+(knots[i+1]-knots[i])*float64(j)/float64(n))
		}
		b[len(b)-1] = knots[i+1]
	}
	return b
}

func aisSigmoid(x float64) float64 { return 0.5 + 0.5*math.Tanh(x/2) }

// checkSchedule returns an error unless b rises from 0 to 1.
func checkSchedule(fn string, b []float64) error {
	if len(b) < 2 {
		return fmt.Errorf("sampling: %s: schedule has %d values, need at least 0 and 1", fn, len(b))
	}
	if b[0] != 0 || b[len(b)-1] != 1 {
		return fmt.Errorf("sampling: %s: schedule runs from %v to %v, want 0 to 1", fn, b[0], b[len(b)-1])
	}
	for i := 1; i < len(b); i++ {
		if !(b[i] >= b[i-1]) {
			return fmt.Errorf("sampling: %s: schedule decreases at step %d (%v after %v)", fn, i, b[i], b[i-1])
		}
	}
	return nil
}

// AIS estimates the log normalising constant of target by annealed
// importance sampling (Neal 2001) on n independent chains. Along the path
//
//	f_β(x) = (1 − β) f0(x) + β f1(x),  β = β_0 = 0 … β_K = 1,
//
// each chain starts from an exact draw x_0 ~ p0 (base) and accumulates
//
//	log w = Σ_{k=1..K} (β_k − β_{k−1}) (f1(x_{k−1}) − f0(x_{k−1})),
//
// moving x_{k−1} → x_k with cfg.Steps transitions that leave p_{β_k}
// invariant. Then E[w] = Z1/Z0, and
//
//	log Ẑ1 = log Z0 + log mean(w)
//
// is an unbiased estimate of Z1 on the linear scale and, by Jensen's
// inequality, a stochastic lower bound of log Z1. The result reports the
// delta-method standard error and the ESS of the weights.
//
// AIS checks ctx between temperatures. It returns an error if the energy
// or a kernel fails, or (wrapping ErrDiverged) if a chain's weight becomes
// NaN. A weight of −Inf (a chain where f1 = −Inf) is allowed.
func AIS(ctx context.Context, rng *rand.Rand, base AISBase, target energy.Energy, n int, cfg AISConfig) (AISResult, error) {
	if err := aisCheck("AIS", rng, base, target, n, cfg); err != nil {
		return AISResult{}, err
	}
	x := make([]float64, n*base.Dim())
	if err := base.Sample(rng, x); err != nil {
		return AISResult{}, fmt.Errorf("sampling: AIS: drawing from the base: %w", err)
	}
	res, err := aisRun(ctx, "AIS", rng, base, target, x, n, cfg.Schedule, cfg)
	if err != nil {
		return res, err
	}
	lme := logMeanExp(res.LogWeights)
	res.LogZ = base.LogZ() + lme
	return res, nil
}

// ReverseAIS is AIS run backwards (Burda, Grosse and Salakhutdinov 2015):
// the chains start at x, n exact draws from the target (or the end of long
// chains), and anneal from β = 1 to β = 0 along the reversed schedule,
// accumulating
//
//	log w = Σ_k (β_{k−1} − β_k) (f1(x) − f0(x))
//
// so that E[w] = Z0/Z1 and log Ẑ1 = log Z0 − log mean(w). It is a
// stochastic upper bound of log Z1 when x are exact target draws, so that
// AIS and ReverseAIS sandwich the true value; draws from chains that have
// not mixed void the bound. x is not modified.
func ReverseAIS(ctx context.Context, rng *rand.Rand, base AISBase, target energy.Energy, x []float64, cfg AISConfig) (AISResult, error) {
	if base == nil || target == nil {
		panic("sampling: ReverseAIS: nil energy")
	}
	d := target.Dim()
	if d <= 0 || len(x) == 0 || len(x)%d != 0 {
		return AISResult{}, fmt.Errorf("sampling: ReverseAIS: %d target draws is not a positive multiple of the dimension %d: %w", len(x), d, energy.ErrShape)
	}
	n := len(x) / d
	if err := aisCheck("ReverseAIS", rng, base, target, n, cfg); err != nil {
		return AISResult{}, err
	}
	rev := make([]float64, len(cfg.Schedule))
	for i, b := range cfg.Schedule {
		rev[len(rev)-1-i] = b
	}
	res, err := aisRun(ctx, "ReverseAIS", rng, base, target, append([]float64(nil), x...), n, rev, cfg)
	if err != nil {
		return res, err
	}
	res.LogZ = base.LogZ() - logMeanExp(res.LogWeights)
	return res, nil
}

func aisCheck(fn string, rng *rand.Rand, base AISBase, target energy.Energy, n int, cfg AISConfig) error {
	if rng == nil {
		panic("sampling: " + fn + ": nil rng")
	}
	if base == nil || target == nil {
		panic("sampling: " + fn + ": nil energy")
	}
	if n <= 0 {
		panic(fmt.Sprintf("sampling: %s: %d chains", fn, n))
	}
	if cfg.Kernel == nil {
		panic("sampling: " + fn + ": AISConfig.Kernel is nil")
	}
	if cfg.Steps < 0 {
		return fmt.Errorf("sampling: %s: AISConfig.Steps = %d is negative", fn, cfg.Steps)
	}
	if base.Dim() != target.Dim() {
		return fmt.Errorf("sampling: %s: base has dimension %d, target %d: %w", fn, base.Dim(), target.Dim(), energy.ErrShape)
	}
	if lz := base.LogZ(); math.IsNaN(lz) || math.IsInf(lz, 0) {
		return fmt.Errorf("sampling: %s: base log Z is %v", fn, lz)
	}
	return checkSchedule(fn, cfg.Schedule)
}

// aisRun anneals the n chains at x through betas (in the order given) and
// returns the log weights; LogZ is left to the caller.
func aisRun(ctx context.Context, fn string, rng *rand.Rand, base AISBase, target energy.Energy, x []float64, n int, betas []float64, cfg AISConfig) (AISResult, error) {
	steps := cfg.Steps
	if steps == 0 {
		steps = 1
	}
	res := AISResult{LogWeights: make([]float64, n), X: x}
	f0, f1 := make([]float64, n), make([]float64, n)
	var accept float64
	var transitions int
	total := len(betas) - 1
	for k := 1; k <= total; k++ {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("sampling: %s stopped at step %d of %d: %w", fn, k, total, err)
		}
		if err := base.F(f0, x); err != nil {
			return res, fmt.Errorf("sampling: %s: base energy: %w", fn, err)
		}
		if err := target.F(f1, x); err != nil {
			return res, fmt.Errorf("sampling: %s: target energy: %w", fn, err)
		}
		db := betas[k] - betas[k-1]
		for c := range n {
			if db == 0 {
				continue
			}
			res.LogWeights[c] += db * (f1[c] - f0[c])
			if math.IsNaN(res.LogWeights[c]) || math.IsInf(res.LogWeights[c], 1) {
				return res, fmt.Errorf("sampling: %s: chain %d has log weight %v at β = %v (f0 = %v, f1 = %v): %w", fn, c, res.LogWeights[c], betas[k], f0[c], f1[c], ErrDiverged)
			}
		}
		if k < total {
			e, err := Anneal(base, target, betas[k])
			if err != nil {
				return res, fmt.Errorf("sampling: %s: %w", fn, err)
			}
			kern, err := cfg.Kernel(e, betas[k])
			if err != nil {
				return res, fmt.Errorf("sampling: %s: kernel for β = %v: %w", fn, betas[k], err)
			}
			s, err := kern.Init(x, n)
			if err != nil {
				return res, fmt.Errorf("sampling: %s: kernel for β = %v: %w", fn, betas[k], err)
			}
			for range steps {
				var info Info
				s, info, err = kern.Step(rng, s)
				if err != nil {
					return res, fmt.Errorf("sampling: %s: transition at β = %v: %w", fn, betas[k], err)
				}
				accept += info.MeanAccept()
				transitions++
				res.Divergences += info.Divergences()
			}
			copy(x, s.X)
		}
		if cfg.Progress != nil {
			cfg.Progress(k, total)
		}
	}
	res.MeanAccept = 1
	if transitions > 0 {
		res.MeanAccept = accept / float64(transitions)
	}
	res.StdErr, res.ESS = weightStats(res.LogWeights)
	return res, nil
}

// logMeanExp returns log((1/n) Σ exp(l_i)) without overflow.
func logMeanExp(l []float64) float64 {
	m := math.Inf(-1)
	for _, v := range l {
		m = math.Max(m, v)
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	for _, v := range l {
		s += math.Exp(v - m)
	}
	return m + math.Log(s/float64(len(l)))
}

// weightStats returns the delta-method standard error of log mean w and
// the ESS (Σw)²/Σw² of the weights w = exp(l).
func weightStats(l []float64) (se, ess float64) {
	m := math.Inf(-1)
	for _, v := range l {
		m = math.Max(m, v)
	}
	if math.IsInf(m, -1) {
		return math.NaN(), 0
	}
	n := float64(len(l))
	var s, s2 float64
	for _, v := range l {
		w := math.Exp(v - m)
		s += w
		s2 += w * w
	}
	ess = s * s / s2
	if len(l) < 2 {
		return math.NaN(), ess
	}
	mean := s / n
	variance := (s2 - n*mean*mean) / (n - 1)
	return math.Sqrt(math.Max(variance, 0)/n) / mean, ess
}

// Anneal returns the energy on the geometric path between base and
// target at inverse temperature β:
//
//	f_β(x) = (1 − β) f0(x) + β f1(x),   p_β ∝ p0^(1−β) · p1^β,
//
// with f0 alone at β = 0 and f1 alone at β = 1 (so that an infinite value
// of the other energy does not turn into NaN). The result implements what
// both energies implement: energy.Differentiable (∇f_β is the same mix of
// gradients), and, when both are discrete with the same Values, Values and
// SiteLogits (the conditional log-ratios mix the same way). It returns an
// error if the dimensions differ, if β is outside [0, 1], or if both are
// discrete with different Values.
//
// The energy keeps work buffers and is not safe for concurrent use.
func Anneal(base, target energy.Energy, beta float64) (energy.Energy, error) {
	if base == nil || target == nil {
		panic("sampling: Anneal: nil energy")
	}
	if base.Dim() != target.Dim() {
		return nil, fmt.Errorf("sampling: Anneal: base has dimension %d, target %d: %w", base.Dim(), target.Dim(), energy.ErrShape)
	}
	if !(beta >= 0 && beta <= 1) {
		return nil, fmt.Errorf("sampling: Anneal: β = %v is outside [0, 1]", beta)
	}
	a := &annealed{base: base, target: target, beta: beta}
	_, g0 := base.(energy.Differentiable)
	_, g1 := target.(energy.Differentiable)
	grad := g0 && g1
	d0, ok0 := base.(energy.Discrete)
	d1, ok1 := target.(energy.Discrete)
	if !ok0 || !ok1 {
		if grad {
			return annealedGrad{a}, nil
		}
		return a, nil
	}
	v0, v1 := d0.Values(), d1.Values()
	same := len(v0) == len(v1)
	for i := 0; same && i < len(v0); i++ {
		same = v0[i] == v1[i]
	}
	if !same {
		return nil, fmt.Errorf("sampling: Anneal: base takes values %v, target %v", v0, v1)
	}
	disc := annealedDisc{a, append([]float64(nil), v1...)}
	_, s0 := base.(energy.SiteConditional)
	_, s1 := target.(energy.SiteConditional)
	switch {
	case s0 && s1 && grad:
		return annealedSiteGrad{annealedSite{disc}}, nil
	case s0 && s1:
		return annealedSite{disc}, nil
	case grad:
		return annealedDiscGrad{disc}, nil
	}
	return disc, nil
}

type annealed struct {
	base, target energy.Energy
	beta         float64
	f0, g0, l0   []float64 // base's values, gradients, logits
}

type (
	annealedGrad struct{ *annealed }
	annealedDisc struct {
		*annealed
		values []float64
	}
)
type (
	annealedDiscGrad struct{ annealedDisc }
	annealedSite     struct{ annealedDisc }
	annealedSiteGrad struct{ annealedSite }
)

func (a *annealed) Dim() int { return a.target.Dim() }

func (a annealedDisc) Values() []float64 { return a.values }

func (a annealedGrad) FGrad(dst, grad, x []float64) error     { return a.fgrad(dst, grad, x) }
func (a annealedDiscGrad) FGrad(dst, grad, x []float64) error { return a.fgrad(dst, grad, x) }
func (a annealedSiteGrad) FGrad(dst, grad, x []float64) error { return a.fgrad(dst, grad, x) }
func (a annealedSite) SiteLogits(logits, x []float64, i int) error {
	return a.siteLogits(logits, x, i)
}

// grow returns buf resized to n, reusing its memory when it is big enough.
func aisGrow(buf []float64, n int) []float64 {
	if cap(buf) < n {
		return make([]float64, n)
	}
	return buf[:n]
}

// mix sets dst = (1−β)·v0 + β·dst, leaving one side out at β = 0 or 1.
func (a *annealed) mix(dst, v0 []float64) {
	switch a.beta {
	case 1:
	case 0:
		copy(dst, v0)
	default:
		for i, v := range dst {
			dst[i] = (1-a.beta)*v0[i] + a.beta*v
		}
	}
}

func (a *annealed) F(dst, x []float64) error {
	a.f0 = aisGrow(a.f0, len(dst))
	if err := a.base.F(a.f0, x); err != nil {
		return fmt.Errorf("sampling: annealed energy at β = %v: base: %w", a.beta, err)
	}
	if err := a.target.F(dst, x); err != nil {
		return fmt.Errorf("sampling: annealed energy at β = %v: target: %w", a.beta, err)
	}
	a.mix(dst, a.f0)
	return nil
}

func (a *annealed) fgrad(dst, grad, x []float64) error {
	a.f0 = aisGrow(a.f0, len(dst))
	a.g0 = aisGrow(a.g0, len(grad))
	if err := a.base.(energy.Differentiable).FGrad(a.f0, a.g0, x); err != nil {
		return fmt.Errorf("sampling: annealed energy at β = %v: base: %w", a.beta, err)
	}
	if err := a.target.(energy.Differentiable).FGrad(dst, grad, x); err != nil {
		return fmt.Errorf("sampling: annealed energy at β = %v: target: %w", a.beta, err)
	}
	a.mix(dst, a.f0)
	a.mix(grad, a.g0)
	return nil
}

func (a *annealed) siteLogits(logits, x []float64, i int) error {
	a.l0 = aisGrow(a.l0, len(logits))
	if err := a.base.(energy.SiteConditional).SiteLogits(a.l0, x, i); err != nil {
		return fmt.Errorf("sampling: annealed energy at β = %v: base: %w", a.beta, err)
	}
	if err := a.target.(energy.SiteConditional).SiteLogits(logits, x, i); err != nil {
		return fmt.Errorf("sampling: annealed energy at β = %v: target: %w", a.beta, err)
	}
	a.mix(logits, a.l0)
	return nil
}

var (
	_ BinaryRBM = (*energy.RBM)(nil)
	_ AISBase   = (*energy.Gaussian)(nil)
	_ AISBase   = (*BinaryBase)(nil)
)

// BinaryRBM gives the parameters of a binary restricted Boltzmann machine
// with f(v) = bᵀv + Σ_j softplus(c_j + (vᵀW)_j) over v ∈ {0,1}^nv, as
// energy.RBM does: W is nv×nh row-major (W[i*nh+j] couples v_i and h_j),
// b has nv values and c has nh.
type BinaryRBM interface {
	Visible() int
	Hidden() int
	Params() (w, b, c []float64)
}

// RBMAISConfig configures [RBMAIS] and [RBMReverseAIS]. The zero value is
// Salakhutdinov and Murray's setting: a uniform base, their 14,500-step
// schedule and one block Gibbs step per temperature.
type RBMAISConfig struct {
	// Schedule is the sequence 0 = β_0 ≤ … ≤ β_K = 1. Nil means
	// PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, []int{500, 4000, 10000}).
	Schedule []float64
	// BaseBias is the visible bias b_A of the base-rate RBM (no weights),
	// nv values; see BaseRateBias for the usual choice from data. Nil means
	// zeros: the uniform distribution.
	BaseBias []float64
	// Steps is the number of block Gibbs steps at each intermediate β.
	// Zero means 1.
	Steps int
	// Progress, if set, is called after each intermediate distribution
	// with the number done and the total K.
	Progress func(done, total int)
}

// BaseRateBias returns the visible biases of the base-rate RBM of
// Salakhutdinov and Murray (2008) for binary data (N×nv row-major, values
// in [0, 1]): b_i = log(p_i / (1 − p_i)) with the smoothed mean
// p_i = (Σ_n x_ni + α) / (N + 2α). It panics unless nv ≥ 1, α > 0 and
// len(data) is a positive multiple of nv.
func BaseRateBias(data []float64, nv int, alpha float64) []float64 {
	if nv < 1 || !(alpha > 0) || len(data) == 0 || len(data)%nv != 0 {
		panic(fmt.Sprintf("sampling: BaseRateBias: %d values for %d visible units with α = %v", len(data), nv, alpha))
	}
	n := len(data) / nv
	b := make([]float64, nv)
	for r := range n {
		for i, v := range data[r*nv : (r+1)*nv] {
			b[i] += v
		}
	}
	for i := range b {
		p := (b[i] + alpha) / (float64(n) + 2*alpha)
		b[i] = math.Log(p) - math.Log1p(-p)
	}
	return b
}

// RBMAIS estimates log Z of a binary RBM (f as in [BinaryRBM]) with the
// annealed importance sampler of Salakhutdinov and Murray (2008), "On the
// quantitative analysis of deep belief networks". The path runs from a
// base-rate RBM A (visible bias b_A, no weights, nh hidden units) to the
// target B through the RBMs
//
//	f_β(v) = ((1−β) b_A + β b)ᵀv + Σ_j softplus(β (c_j + (vᵀW)_j)),
//
// with log Z_0 = Σ_i softplus(b_A,i) + nh log 2. At each β the chains take
// cfg.Steps block Gibbs steps of RBM β: h_j ~ σ(β(c_j + (vᵀW)_j)), then
// v_i ~ σ((1−β) b_A,i + β (b_i + (Wh)_i)). Each step costs two n×nv×nh
// matrix products (through ebm's BLAS engine, OpenBLAS when present), so a
// 784×500 RBM with 100 chains and the default 14,500 temperatures takes a
// few minutes. The estimate is a stochastic lower bound of log Z; see
// [AIS] for the weights and the standard error.
func RBMAIS(ctx context.Context, rng *rand.Rand, rbm BinaryRBM, n int, cfg RBMAISConfig) (AISResult, error) {
	p, err := newRBMPath("RBMAIS", rng, rbm, n, cfg)
	if err != nil {
		return AISResult{}, err
	}
	for r := range n {
		for i, ba := range p.bA {
			v := 0.0
			if rng.Float64() < aisSigmoid(ba) {
				v = 1
			}
			p.v[r*p.nv+i] = v
		}
	}
	res, err := p.run(ctx, "RBMAIS", rng, p.schedule, cfg)
	if err != nil {
		return res, err
	}
	res.LogZ = p.logZA + logMeanExp(res.LogWeights)
	return res, nil
}

// RBMReverseAIS is [RBMAIS] run backwards from v, n exact draws from the
// RBM (or the ends of long chains), N×nv row-major, as in [ReverseAIS]:
// a stochastic upper bound of log Z when the draws are exact. v is not
// modified.
func RBMReverseAIS(ctx context.Context, rng *rand.Rand, rbm BinaryRBM, v []float64, cfg RBMAISConfig) (AISResult, error) {
	if rbm == nil {
		panic("sampling: RBMReverseAIS: nil RBM")
	}
	nv := rbm.Visible()
	if nv < 1 || len(v) == 0 || len(v)%nv != 0 {
		return AISResult{}, fmt.Errorf("sampling: RBMReverseAIS: %d visible values is not a positive multiple of %d units: %w", len(v), nv, energy.ErrShape)
	}
	for j, x := range v {
		if x != 0 && x != 1 {
			return AISResult{}, fmt.Errorf("sampling: RBMReverseAIS: draw %d unit %d is %v, not 0 or 1", j/nv, j%nv, x)
		}
	}
	p, err := newRBMPath("RBMReverseAIS", rng, rbm, len(v)/nv, cfg)
	if err != nil {
		return AISResult{}, err
	}
	copy(p.v, v)
	rev := make([]float64, len(p.schedule))
	for i, b := range p.schedule {
		rev[len(rev)-1-i] = b
	}
	res, err := p.run(ctx, "RBMReverseAIS", rng, rev, cfg)
	if err != nil {
		return res, err
	}
	res.LogZ = p.logZA - logMeanExp(res.LogWeights)
	return res, nil
}

// rbmPath holds the RBM, the base and the work space of RBM AIS.
type rbmPath struct {
	n, nv, nh int
	w, b, c   []float64
	bA        []float64
	logZA     float64
	schedule  []float64
	v, h      []float64 // n×nv, n×nh
	a, av     []float64 // hidden inputs c + vᵀW (n×nh), visible inputs Wh (n×nv)
}

func newRBMPath(fn string, rng *rand.Rand, rbm BinaryRBM, n int, cfg RBMAISConfig) (*rbmPath, error) {
	if rng == nil {
		panic("sampling: " + fn + ": nil rng")
	}
	if rbm == nil {
		panic("sampling: " + fn + ": nil RBM")
	}
	if n <= 0 {
		panic(fmt.Sprintf("sampling: %s: %d chains", fn, n))
	}
	nv, nh := rbm.Visible(), rbm.Hidden()
	w, b, c := rbm.Params()
	if nv < 1 || nh < 1 || len(w) != nv*nh || len(b) != nv || len(c) != nh {
		return nil, fmt.Errorf("sampling: %s: RBM of %d×%d units has %d weights, %d visible and %d hidden biases: %w", fn, nv, nh, len(w), len(b), len(c), energy.ErrShape)
	}
	if cfg.Steps < 0 {
		return nil, fmt.Errorf("sampling: %s: RBMAISConfig.Steps = %d is negative", fn, cfg.Steps)
	}
	p := &rbmPath{n: n, nv: nv, nh: nh, w: w, b: b, c: c, schedule: cfg.Schedule}
	if p.schedule == nil {
		p.schedule = PiecewiseSchedule([]float64{0, 0.5, 0.9, 1}, []int{500, 4000, 10000})
	}
	if err := checkSchedule(fn, p.schedule); err != nil {
		return nil, err
	}
	p.bA = make([]float64, nv)
	if cfg.BaseBias != nil {
		if len(cfg.BaseBias) != nv {
			return nil, fmt.Errorf("sampling: %s: RBMAISConfig.BaseBias has %d values for %d visible units: %w", fn, len(cfg.BaseBias), nv, energy.ErrShape)
		}
		copy(p.bA, cfg.BaseBias)
	}
	p.logZA = float64(nh) * math.Ln2
	for i, v := range p.bA {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sampling: %s: base bias %d is %v", fn, i, v)
		}
		p.logZA += aisSoftplus(v)
	}
	p.v, p.h = make([]float64, n*nv), make([]float64, n*nh)
	p.a, p.av = make([]float64, n*nh), make([]float64, n*nv)
	return p, nil
}

func aisSoftplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// hiddenInputs sets p.a = c + vᵀW for every chain.
func (p *rbmPath) hiddenInputs() {
	for r := range p.n {
		copy(p.a[r*p.nh:(r+1)*p.nh], p.c)
	}
	blas.Dgemm(false, false, p.n, p.nh, p.nv, 1, p.v, p.nv, p.w, p.nh, 1, p.a, p.nh)
}

// run anneals the chains in p.v through betas.
func (p *rbmPath) run(ctx context.Context, fn string, rng *rand.Rand, betas []float64, cfg RBMAISConfig) (AISResult, error) {
	steps := cfg.Steps
	if steps == 0 {
		steps = 1
	}
	lw := make([]float64, p.n)
	total := len(betas) - 1
	p.hiddenInputs()
	for k := 1; k <= total; k++ {
		if err := ctx.Err(); err != nil {
			return AISResult{LogWeights: lw, X: p.v}, fmt.Errorf("sampling: %s stopped at step %d of %d: %w", fn, k, total, err)
		}
		b0, b1 := betas[k-1], betas[k]
		if b1 != b0 {
			// log f_{β1}(v) − log f_{β0}(v) at the current v.
			for r := range p.n {
				var d float64
				v := p.v[r*p.nv : (r+1)*p.nv]
				for i, x := range v {
					if x != 0 {
						d += (b1 - b0) * (p.b[i] - p.bA[i])
					}
				}
				for _, a := range p.a[r*p.nh : (r+1)*p.nh] {
					d += aisSoftplus(b1*a) - aisSoftplus(b0*a)
				}
				lw[r] += d
			}
		}
		if k < total {
			for range steps {
				p.gibbs(rng, b1)
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(k, total)
		}
	}
	for r, l := range lw {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return AISResult{LogWeights: lw, X: p.v}, fmt.Errorf("sampling: %s: chain %d has log weight %v: %w", fn, r, l, ErrDiverged)
		}
	}
	res := AISResult{LogWeights: lw, X: p.v, MeanAccept: 1}
	res.StdErr, res.ESS = weightStats(lw)
	return res, nil
}

// gibbs takes one block Gibbs step of RBM β on every chain and leaves the
// new hidden inputs in p.a.
func (p *rbmPath) gibbs(rng *rand.Rand, beta float64) {
	for j, a := range p.a {
		p.h[j] = 0
		if rng.Float64() < aisSigmoid(beta*a) {
			p.h[j] = 1
		}
	}
	blas.Dgemm(false, true, p.n, p.nv, p.nh, 1, p.h, p.nh, p.w, p.nh, 0, p.av, p.nv)
	for r := range p.n {
		for i := range p.nv {
			x := (1-beta)*p.bA[i] + beta*(p.b[i]+p.av[r*p.nv+i])
			v := 0.0
			if rng.Float64() < aisSigmoid(x) {
				v = 1
			}
			p.v[r*p.nv+i] = v
		}
	}
	p.hiddenInputs()
}

// BinaryBase is a product of independent binary variables taking values lo
// and hi, with p(x_i = hi) = σ(l_i): the base distribution of AIS for
// binary energies (uniform when every logit l_i is 0). Its log-density
//
//	f0(x) = Σ_i l_i (x_i − lo)/(hi − lo),   log Z0 = Σ_i softplus(l_i),
//
// is linear in x, which is also its relaxation to real x (FGrad), so a
// BinaryBase implements AISBase, Values, SiteLogits and FGrad, and Anneal
// of it with a binary target keeps what the target offers.
type BinaryBase struct {
	lo, hi float64
	logits []float64
}

// NewBinaryBase returns the product distribution over {lo, hi}^D, D =
// len(logits), with p(x_i = hi) = σ(logits[i]). It copies logits and
// returns an error if it is empty or holds a non-finite value, or unless
// lo < hi.
func NewBinaryBase(lo, hi float64, logits []float64) (*BinaryBase, error) {
	if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, fmt.Errorf("sampling: NewBinaryBase: values %v and %v, want finite lo < hi", lo, hi)
	}
	if len(logits) == 0 {
		return nil, fmt.Errorf("sampling: NewBinaryBase: no variables")
	}
	for i, l := range logits {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("sampling: NewBinaryBase: logit %d is %v", i, l)
		}
	}
	return &BinaryBase{lo: lo, hi: hi, logits: append([]float64(nil), logits...)}, nil
}

// Dim returns the number of variables.
func (b *BinaryBase) Dim() int { return len(b.logits) }

// Values returns {lo, hi}.
func (b *BinaryBase) Values() []float64 { return []float64{b.lo, b.hi} }

// LogZ returns Σ_i softplus(l_i).
func (b *BinaryBase) LogZ() float64 {
	var z float64
	for _, l := range b.logits {
		z += aisSoftplus(l)
	}
	return z
}

// F sets dst[n] = f0(x_n).
func (b *BinaryBase) F(dst, x []float64) error { return b.FGrad(dst, nil, x) }

// FGrad sets dst as F does and grad[n*D+i] = l_i/(hi − lo); grad may be
// nil.
func (b *BinaryBase) FGrad(dst, grad, x []float64) error {
	d := len(b.logits)
	if _, err := energy.CheckBatch(d, dst, x); err != nil {
		return err
	}
	if grad != nil && len(grad) != len(x) {
		return fmt.Errorf("sampling: BinaryBase.FGrad: %d gradient values for %d positions: %w", len(grad), len(x), energy.ErrShape)
	}
	scale := 1 / (b.hi - b.lo)
	for n := range dst {
		var f float64
		for i, l := range b.logits {
			f += l * (x[n*d+i] - b.lo) * scale
		}
		dst[n] = f
		if grad != nil {
			for i, l := range b.logits {
				grad[n*d+i] = l * scale
			}
		}
	}
	return nil
}

// SiteLogits sets logits[2n] and logits[2n+1] to the change of f0 when
// variable i of sample n is set to lo and to hi.
func (b *BinaryBase) SiteLogits(logits, x []float64, i int) error {
	d := len(b.logits)
	if i < 0 || i >= d || len(x)%d != 0 || len(logits) != 2*(len(x)/d) {
		return fmt.Errorf("sampling: BinaryBase.SiteLogits: variable %d of %d, %d values, %d logits: %w", i, d, len(x), len(logits), energy.ErrShape)
	}
	for n := range len(x) / d {
		on := 0.0 // f0 change from lo to hi at variable i is l_i
		if x[n*d+i] == b.hi {
			on = -b.logits[i]
		}
		logits[2*n], logits[2*n+1] = on, on+b.logits[i]
	}
	return nil
}

// Sample fills x with independent draws.
func (b *BinaryBase) Sample(rng *rand.Rand, x []float64) error {
	if rng == nil {
		panic("sampling: BinaryBase.Sample: nil rng")
	}
	d := len(b.logits)
	if len(x)%d != 0 {
		return fmt.Errorf("sampling: BinaryBase.Sample: %d values is not a whole number of samples of dimension %d: %w", len(x), d, energy.ErrShape)
	}
	for j := range x {
		x[j] = b.lo
		if rng.Float64() < aisSigmoid(b.logits[j%d]) {
			x[j] = b.hi
		}
	}
	return nil
}

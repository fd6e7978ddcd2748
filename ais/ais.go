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

var _ Base = (*energy.Gaussian)(nil)

// Base is the starting distribution of annealed importance sampling: a
// normalised distribution p0 = exp(f0)/Z0 with known log Z0 that can be
// sampled exactly, such as energy.Gaussian.
type Base interface {
	energy.Energy
	// LogZ returns log Z0 = log ∫ exp(f0).
	LogZ() float64
	// Sample fills x (a batch of len(x)/Dim() samples) with exact draws.
	Sample(rng *rand.Rand, x []float64) error
}

// Config configures [Forward] and [Reverse].
type Config struct {
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
	Kernel func(e energy.Energy, beta float64) (sampling.Kernel, error)
	// Steps is the number of transitions at each intermediate β. Zero
	// means 1.
	Steps int
	// Progress, if set, is called after each intermediate distribution
	// with the number done and the total K.
	Progress func(done, total int)
}

// Result is what an annealed importance sampling run estimated.
type Result struct {
	// LogZ is the estimate of the target's log Z. Forward AIS is a
	// stochastic lower bound (E[LogZ] ≤ log Z); reverse AIS a stochastic
	// upper bound.
	LogZ float64
	// StdErr is the delta-method standard error of LogZ,
	// sd(w) / (√n · mean(w)) over the n importance weights w.
	StdErr float64
	// ESS is the effective sample size of the importance weights,
	// (Σw)² / Σw², between 1 and n: far below n means the schedule is too
	// short and the weights, and StdErr, are unreliable (see the package
	// doc).
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
	// StepVar holds, for each of the K steps of the schedule in the order
	// run, the variance over the chains of that step's log-weight
	// increment: where along the path the weights spread. LengthSchedule
	// turns it into a schedule that spreads them evenly.
	StepVar []float64
}

// Forward estimates the log normalising constant of target by annealed
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
// Forward checks ctx between temperatures. It returns an error for fewer
// than one chain or an invalid configuration, if the energy or a kernel
// fails, or (wrapping sampling.ErrDiverged) if a chain's weight becomes
// NaN. A weight of −Inf (a chain where f1 = −Inf) is allowed. It panics if
// rng, base, target or cfg.Kernel is nil.
func Forward(ctx context.Context, rng *rand.Rand, base Base, target energy.Energy, n int, cfg Config) (Result, error) {
	if err := check("Forward", rng, base, target, n, cfg); err != nil {
		return Result{}, err
	}
	x := make([]float64, n*base.Dim())
	if err := base.Sample(rng, x); err != nil {
		return Result{}, fmt.Errorf("ais: Forward: drawing from the base: %w", err)
	}
	res, err := run(ctx, "Forward", rng, base, target, x, n, cfg.Schedule, cfg)
	if err != nil {
		return res, err
	}
	res.LogZ = base.LogZ() + mathx.LogMeanExp(res.LogWeights)
	return res, nil
}

// Reverse is Forward run backwards (Burda, Grosse and Salakhutdinov 2015):
// the chains start at x, n exact draws from the target (or the end of long
// chains), and anneal from β = 1 to β = 0 along the reversed schedule,
// accumulating
//
//	log w = Σ_k (β_{k−1} − β_k) (f1(x) − f0(x))
//
// so that E[w] = Z0/Z1 and log Ẑ1 = log Z0 − log mean(w). It is a
// stochastic upper bound of log Z1 when x are exact target draws, so that
// Forward and Reverse sandwich the true value; draws from chains that have
// not mixed void the bound (see the package doc). x is not modified.
func Reverse(ctx context.Context, rng *rand.Rand, base Base, target energy.Energy, x []float64, cfg Config) (Result, error) {
	if base == nil || target == nil {
		panic("ais: Reverse: nil energy")
	}
	d := target.Dim()
	if d <= 0 || len(x) == 0 || len(x)%d != 0 {
		return Result{}, fmt.Errorf("ais: Reverse: %d target draws is not a positive multiple of the dimension %d: %w", len(x), d, energy.ErrShape)
	}
	n := len(x) / d
	if err := check("Reverse", rng, base, target, n, cfg); err != nil {
		return Result{}, err
	}
	res, err := run(ctx, "Reverse", rng, base, target, append([]float64(nil), x...), n, reversed(cfg.Schedule), cfg)
	if err != nil {
		return res, err
	}
	res.LogZ = base.LogZ() - mathx.LogMeanExp(res.LogWeights)
	return res, nil
}

func check(fn string, rng *rand.Rand, base Base, target energy.Energy, n int, cfg Config) error {
	if rng == nil {
		panic("ais: " + fn + ": nil rng")
	}
	if base == nil || target == nil {
		panic("ais: " + fn + ": nil energy")
	}
	if cfg.Kernel == nil {
		panic("ais: " + fn + ": Config.Kernel is nil")
	}
	if n <= 0 {
		return fmt.Errorf("ais: %s: %d chains, want at least 1", fn, n)
	}
	if cfg.Steps < 0 {
		return fmt.Errorf("ais: %s: Config.Steps = %d is negative", fn, cfg.Steps)
	}
	if base.Dim() != target.Dim() {
		return fmt.Errorf("ais: %s: base has dimension %d, target %d: %w", fn, base.Dim(), target.Dim(), energy.ErrShape)
	}
	if lz := base.LogZ(); math.IsNaN(lz) || math.IsInf(lz, 0) {
		return fmt.Errorf("ais: %s: base log Z is %v", fn, lz)
	}
	return checkSchedule(fn, cfg.Schedule)
}

// run anneals the n chains at x through betas (in the order given) and
// returns the log weights; LogZ is left to the caller.
func run(ctx context.Context, fn string, rng *rand.Rand, base Base, target energy.Energy, x []float64, n int, betas []float64, cfg Config) (Result, error) {
	steps := cfg.Steps
	if steps == 0 {
		steps = 1
	}
	res := Result{LogWeights: make([]float64, n), X: x, StepVar: make([]float64, len(betas)-1)}
	f0, f1, inc := make([]float64, n), make([]float64, n), make([]float64, n)
	var accept float64
	var transitions int
	total := len(betas) - 1
	for k := 1; k <= total; k++ {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("ais: %s stopped at step %d of %d: %w", fn, k, total, err)
		}
		if err := base.F(f0, x); err != nil {
			return res, fmt.Errorf("ais: %s: base energy: %w", fn, err)
		}
		if err := target.F(f1, x); err != nil {
			return res, fmt.Errorf("ais: %s: target energy: %w", fn, err)
		}
		db := betas[k] - betas[k-1]
		for c := range n {
			if db == 0 {
				continue
			}
			inc[c] = db * (f1[c] - f0[c])
			res.LogWeights[c] += inc[c]
			if math.IsNaN(res.LogWeights[c]) || math.IsInf(res.LogWeights[c], 1) {
				return res, fmt.Errorf("ais: %s: chain %d has log weight %v at β = %v (f0 = %v, f1 = %v): %w", fn, c, res.LogWeights[c], betas[k], f0[c], f1[c], sampling.ErrDiverged)
			}
		}
		if db != 0 {
			res.StepVar[k-1] = variance(inc)
		}
		if k < total {
			e, err := Anneal(base, target, betas[k])
			if err != nil {
				return res, fmt.Errorf("ais: %s: %w", fn, err)
			}
			kern, err := cfg.Kernel(e, betas[k])
			if err != nil {
				return res, fmt.Errorf("ais: %s: kernel for β = %v: %w", fn, betas[k], err)
			}
			s, err := kern.Init(x, n)
			if err != nil {
				return res, fmt.Errorf("ais: %s: kernel for β = %v: %w", fn, betas[k], err)
			}
			for range steps {
				var info sampling.Info
				s, info, err = kern.Step(rng, s)
				if err != nil {
					return res, fmt.Errorf("ais: %s: transition at β = %v: %w", fn, betas[k], err)
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

// variance returns the sample variance of x, 0 for fewer than two
// values; a −Inf or +Inf value makes it NaN.
func variance(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	_, v := mathx.MeanVar(x)
	return v
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

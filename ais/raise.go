package ais

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/mathx"
)

// RAISEResult is what [RAISERBM] estimated for a set of data points.
type RAISEResult struct {
	// LogLik holds, for each data point v, log q̂(v): an estimate of the
	// log-probability of v under the annealing model (the distribution of
	// the states forward AIS ends in), unbiased for q(v) on the linear
	// scale and so a stochastic lower bound of log q(v).
	LogLik []float64
	// Mean is the mean of LogLik over the points and StdErr its standard
	// error over them (the spread of the points' log-likelihoods and of
	// the estimates together).
	Mean, StdErr float64
	// LogZ is the log Z the estimates imply on average, the mean over the
	// points of f(v) − log q̂(v), and LogZStdErr its standard error over
	// the points. The mean log-likelihood of a larger set S that contains
	// the points as a random subset is estimated by mean_S f − LogZ, which
	// removes the spread of f from the error: LogZStdErr is then its
	// standard error.
	LogZ, LogZStdErr float64
	// ESS is the mean over the points of the weight ESS of each point's
	// chains (between 1 and the chains per point); NaN for one chain per
	// point.
	ESS float64
	// Temps is the number of transitions of the schedule (K).
	Temps int
}

// RAISERBM is the reverse annealed importance sampling estimator (RAISE)
// of Burda, Grosse and Salakhutdinov (2015), "Accurate and conservative
// estimates of MRF log-likelihood using reverse annealing", for a binary
// RBM: for each data point v (rows of v, N×nv, values 0 or 1) it runs
// chains reverse AIS chains that start at v itself and anneal to the base
// along the path and schedule of [ForwardRBM] (cfg as there), and returns
//
//	log q̂(v) = f(v) − log Z_A − (nh_B − nh_A) log 2 + log mean(w),
//
// where w are the chains' reverse weights (as [ReverseRBM] accumulates
// them). E[q̂(v)] = q(v), the probability of v under the annealing model:
// draw v_0 from the base, take the transitions of forward AIS at β_1 …
// β_{K−1}, output the last state. The block Gibbs transitions are
// reversible, which is what makes a reverse chain from v a proposal for
// that model's path. Unlike ReverseRBM it needs no samples from the RBM:
// the chains start at the data.
//
// The mean of log q̂ over held-out data is a stochastic lower bound of
// the annealing model's held-out log-likelihood, and an estimate of the
// RBM's that Burda et al. call conservative: annealing chains lag behind
// a distribution that sharpens as β grows, so q is usually more spread
// out than the RBM and fits the data worse, and the estimate errs low
// where forward AIS errs high. Forward AIS and RAISE then bracket the
// held-out log-likelihood, and where they agree it can be trusted. The
// bracket has one gap: mass of the RBM that the annealing chains never
// reach is missed by both — forward AIS leaves it out of Z and q puts it
// elsewhere — so agreement rules out lagging chains, not unseen modes.
//
// The cost is that of ReverseRBM on N·chains chains. RAISERBM checks ctx
// between temperatures. It returns an error for no points, a length that
// is not a multiple of nv, a value other than 0 or 1, chains < 1, and the
// errors of ReverseRBM. It panics if rng or rbm is nil.
func RAISERBM(ctx context.Context, rng *rand.Rand, rbm *energy.RBM, v []float64, chains int, cfg RBMConfig) (RAISEResult, error) {
	if rng == nil {
		panic("ais: RAISERBM: nil rng")
	}
	if rbm == nil {
		panic("ais: RAISERBM: nil RBM")
	}
	if err := checkVisible("RAISERBM", "point", rbm, v); err != nil {
		return RAISEResult{}, err
	}
	if chains < 1 {
		return RAISEResult{}, fmt.Errorf("ais: RAISERBM: %d chains per point, want at least 1", chains)
	}
	nv := rbm.Visible()
	n := len(v) / nv
	start := v
	if chains > 1 {
		start = make([]float64, n*chains*nv)
		for i := range n {
			for c := range chains {
				copy(start[(i*chains+c)*nv:(i*chains+c+1)*nv], v[i*nv:(i+1)*nv])
			}
		}
	}
	rev, err := reverseRBM(ctx, "RAISERBM", rng, rbm, start, cfg)
	if err != nil {
		return RAISEResult{}, err
	}
	// rev.LogZ = log Z_0 − nh_A log 2 − log mean(all weights).
	offset := rev.LogZ + mathx.LogMeanExp(rev.LogWeights)
	f := make([]float64, n)
	if err := rbm.F(f, v); err != nil {
		return RAISEResult{}, fmt.Errorf("ais: RAISERBM: %w", err)
	}
	res := RAISEResult{LogLik: make([]float64, n), ESS: math.NaN(), Temps: len(rev.StepVar)}
	logZ := make([]float64, n)
	var ess float64
	for i := range n {
		lw := rev.LogWeights[i*chains : (i+1)*chains]
		logZ[i] = offset - mathx.LogMeanExp(lw)
		res.LogLik[i] = f[i] - logZ[i]
		if chains > 1 {
			_, e := weightStats(lw)
			ess += e
		}
	}
	if chains > 1 {
		res.ESS = ess / float64(n)
	}
	var vll, vz float64
	res.Mean, vll = mathx.MeanVar(res.LogLik)
	res.LogZ, vz = mathx.MeanVar(logZ)
	res.StdErr, res.LogZStdErr = math.NaN(), math.NaN()
	if n > 1 {
		res.StdErr = math.Sqrt(vll / float64(n))
		res.LogZStdErr = math.Sqrt(vz / float64(n))
	}
	return res, nil
}

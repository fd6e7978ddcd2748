package diagnostics

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/mathx"
	"gonum.org/v1/gonum/dsp/fourier"
)

// ESS returns the bulk effective sample size of the draws: the effective
// sample size of the rank-normalised split chains. It is the ESS to quote
// for estimates of the centre of the distribution (mean, median), and it
// stays meaningful for heavy-tailed quantities whose variance is infinite.
func ESS(chains [][]float64) (float64, error) {
	n, err := check("ESS", chains)
	if err != nil || bad(chains) {
		return math.NaN(), err
	}
	return ess(zScale(split(chains, n))), nil
}

// ESSTail returns the tail effective sample size: the smaller of the ESS
// for the 5% and the 95% quantile, which tells how well the draws pin
// down the tails (intervals).
func ESSTail(chains [][]float64) (float64, error) {
	n, err := check("ESSTail", chains)
	if err != nil || bad(chains) {
		return math.NaN(), err
	}
	sorted := sortedDraws(chains)
	return math.Min(essQuantile(chains, n, sorted, 0.05), essQuantile(chains, n, sorted, 0.95)), nil
}

// ESSQuantile returns the effective sample size for the estimate of the
// prob quantile: the ESS of the indicator I(x ≤ q̂_prob) over the split
// chains, where q̂ is the empirical quantile of all draws (type 7, as in R
// and NumPy). It returns an error unless 0 ≤ prob ≤ 1.
func ESSQuantile(chains [][]float64, prob float64) (float64, error) {
	n, err := check("ESSQuantile", chains)
	if err != nil {
		return math.NaN(), err
	}
	if !(prob >= 0 && prob <= 1) {
		return math.NaN(), fmt.Errorf("diagnostics: ESSQuantile: probability %v is outside [0, 1]", prob)
	}
	if bad(chains) {
		return math.NaN(), nil
	}
	return essQuantile(chains, n, sortedDraws(chains), prob), nil
}

// sortedDraws returns all draws, sorted.
func sortedDraws(chains [][]float64) []float64 {
	all := flatten(chains)
	slices.Sort(all)
	return all
}

// essQuantile is ESSQuantile for valid input, with all draws sorted.
func essQuantile(chains [][]float64, n int, sorted []float64, prob float64) float64 {
	if prob == 1 {
		prob = (float64(len(sorted)) - 0.5) / float64(len(sorted))
	}
	q := quantile(sorted, prob)
	ind := make([][]float64, len(chains))
	for c, ch := range chains {
		ind[c] = make([]float64, n)
		for t, v := range ch {
			if v <= q {
				ind[c][t] = 1
			}
		}
	}
	return ess(split(ind, n))
}

// ESSMean returns the basic (split, not rank-normalised) effective sample
// size, the one that sets the Monte Carlo standard error of the mean of a
// quantity with finite variance (see [MCSE]).
func ESSMean(chains [][]float64) (float64, error) {
	n, err := check("ESSMean", chains)
	if err != nil || bad(chains) {
		return math.NaN(), err
	}
	return ess(split(chains, n)), nil
}

// MCSE returns the Monte Carlo standard error of the mean of all draws,
// sd / √ESSMean, where sd is the standard deviation of all draws pooled.
// The mean of the draws is within about 2·MCSE of the true expectation.
func MCSE(chains [][]float64) (float64, error) {
	n, err := check("MCSE", chains)
	if err != nil || bad(chains) {
		return math.NaN(), err
	}
	_, v := mathx.MeanVar(flatten(chains))
	return math.Sqrt(v / ess(split(chains, n))), nil
}

// SplitRHat returns the rank-normalised split R̂: the larger of the R̂ of
// the rank-normalised split chains (bulk) and that of the rank-normalised
// folded split chains |x − median| (tail). Values near 1 (below 1.01, as
// Vehtari et al. recommend) mean the chains agree; larger values mean they
// have not mixed. At least two chains, or one chain long enough to split,
// are needed.
func SplitRHat(chains [][]float64) (float64, error) {
	n, err := check("SplitRHat", chains)
	if err != nil || bad(chains) {
		return math.NaN(), err
	}
	return splitRHat(chains, n, sortedDraws(chains), zScale(split(chains, n))), nil
}

// splitRHat is SplitRHat for valid input, with all draws sorted and z the
// rank-normalised split chains.
func splitRHat(chains [][]float64, n int, sorted []float64, z [][]float64) float64 {
	bulk := rHat(z)
	med := quantile(sorted, 0.5)
	folded := make([][]float64, len(chains))
	for c, ch := range chains {
		folded[c] = make([]float64, n)
		for t, v := range ch {
			folded[c][t] = math.Abs(v - med)
		}
	}
	tail := rHat(zScale(split(folded, n)))
	if math.IsNaN(bulk) || math.IsNaN(tail) {
		return math.NaN()
	}
	return math.Max(bulk, tail)
}

// Autocorr sets dst[t] to the sample autocorrelation of x at lag t,
// ρ̂_t = γ̂_t / γ̂_0 with the biased autocovariance
// γ̂_t = (1/n) Σ_{s<n−t} (x_s − x̄)(x_{s+t} − x̄), for t < len(dst), and
// returns dst. A nil dst means all lags: len(x) values. It computes the
// autocovariance with a fast Fourier transform in O(n log n). A constant
// series has autocorrelation NaN beyond lag 0. It returns an error wrapping
// energy.ErrShape if len(dst) > len(x).
func Autocorr(dst, x []float64) ([]float64, error) {
	if dst == nil {
		dst = make([]float64, len(x))
	}
	if len(dst) > len(x) {
		return nil, fmt.Errorf("diagnostics: Autocorr: %d lags requested from %d values: %w", len(dst), len(x), energy.ErrShape)
	}
	if len(x) == 0 {
		return dst, nil
	}
	acov := make([]float64, len(x))
	newAutocovariance(len(x)).of(acov, x)
	for t := range dst {
		dst[t] = acov[t] / acov[0]
	}
	dst[0] = 1
	return dst, nil
}

// check returns the number of draws per chain, or an error wrapping
// energy.ErrShape unless chains is a non-empty rectangle with at least one
// draw.
func check(fn string, chains [][]float64) (int, error) {
	if len(chains) == 0 {
		return 0, fmt.Errorf("diagnostics: %s: no chains: %w", fn, energy.ErrShape)
	}
	n := len(chains[0])
	if n == 0 {
		return 0, fmt.Errorf("diagnostics: %s: the chains have no draws: %w", fn, energy.ErrShape)
	}
	for c, ch := range chains {
		if len(ch) != n {
			return 0, fmt.Errorf("diagnostics: %s: chain %d has %d draws, chain 0 has %d: %w", fn, c, len(ch), n, energy.ErrShape)
		}
	}
	return n, nil
}

// bad reports whether a diagnostic cannot be computed: a non-finite
// draw, or all draws equal.
func bad(chains [][]float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, ch := range chains {
		for _, v := range ch {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return true
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return !(hi-lo >= 0x1p-52)
}

// split halves each chain of n draws, dropping the middle draw when
// n is odd, giving 2·len(chains) chains of n/2 draws.
func split(chains [][]float64, n int) [][]float64 {
	if n == 1 {
		return chains
	}
	half := n / 2
	out := make([][]float64, 0, 2*len(chains))
	for _, ch := range chains {
		out = append(out, ch[:half])
	}
	for _, ch := range chains {
		out = append(out, ch[n-half:])
	}
	return out
}

// zScale replaces every draw by the normal quantile of its fractional rank
// among all draws: Φ⁻¹((r − 3/8)/(S + 1/4)) with average ranks for ties,
// S the total number of draws (Blom's rank-based inverse normal transform).
func zScale(chains [][]float64) [][]float64 {
	type draw struct {
		v    float64
		c, t int32
	}
	var order []draw
	for c, ch := range chains {
		for t, v := range ch {
			order = append(order, draw{v, int32(c), int32(t)})
		}
	}
	// Ties share their average rank, so their order does not matter.
	slices.SortFunc(order, func(a, b draw) int { return cmp.Compare(a.v, b.v) })
	out := make([][]float64, len(chains))
	for c, ch := range chains {
		out[c] = make([]float64, len(ch))
	}
	S := float64(len(order))
	for i := 0; i < len(order); {
		v := order[i].v
		j := i + 1
		for j < len(order) && order[j].v == v {
			j++
		}
		// Ranks i+1 … j share their average.
		r := float64(i+1+j) / 2
		z := normalQuantile((r - 3.0/8) / (S + 0.25))
		for k := i; k < j; k++ {
			out[order[k].c][order[k].t] = z
		}
		i = j
	}
	return out
}

// normalQuantile returns Φ⁻¹(p) for 0 < p < 1.
func normalQuantile(p float64) float64 {
	return -math.Sqrt2 * math.Erfcinv(2*p)
}

// quantile returns the type-7 quantile (linear interpolation between
// order statistics, R's and NumPy's default) of sorted values.
func quantile(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

func flatten(chains [][]float64) []float64 {
	var all []float64
	for _, ch := range chains {
		all = append(all, ch...)
	}
	return all
}

// ess is the effective sample size of equal-length chains with
// Geyer's initial positive sequence, made monotone, and the
// Vehtari et al. improved truncation (posterior's .ess, step by step).
func ess(chains [][]float64) float64 {
	m, n := len(chains), len(chains[0])
	if n < 3 || bad(chains) {
		return math.NaN()
	}
	acov := newChainAutocov(chains) // mean over chains of the autocovariances
	means := make([]float64, m)
	for c, ch := range chains {
		means[c], _ = mathx.MeanVar(ch)
	}
	fn := float64(n)
	meanVarW := acov.at(0) * fn / (fn - 1) // W: mean within-chain variance
	varPlus := meanVarW * (fn - 1) / fn
	if m > 1 {
		_, b := mathx.MeanVar(means)
		varPlus += b
	}
	rho := make([]float64, n)
	rho[0] = 1
	even, odd := 1.0, 1-(meanVarW-acov.at(1))/varPlus
	rho[1] = odd
	t := 0
	for t < n-5 && !math.IsNaN(even+odd) && even+odd > 0 {
		t += 2
		even = 1 - (meanVarW-acov.at(t))/varPlus
		odd = 1 - (meanVarW-acov.at(t+1))/varPlus
		if even+odd >= 0 {
			rho[t], rho[t+1] = even, odd
		}
	}
	maxT := t
	if even > 0 {
		rho[maxT] = even
	}
	// Geyer's initial monotone sequence: pair sums never increase.
	for t = 0; t <= maxT-4; {
		t += 2
		if rho[t]+rho[t+1] > rho[t-2]+rho[t-1] {
			rho[t] = (rho[t-2] + rho[t-1]) / 2
			rho[t+1] = rho[t]
		}
	}
	var sum float64
	if maxT == 0 {
		sum = rho[0]
	}
	for _, r := range rho[:maxT] {
		sum += r
	}
	tau := -1 + 2*sum + rho[maxT]
	total := float64(m * n)
	// Cap the ESS at total·log10(total) for antithetic chains.
	tau = math.Max(tau, 1/math.Log10(total))
	return total / tau
}

// rHat is the classic R̂ of equal-length chains:
// √((B/W + n − 1)/n), B = n·var(chain means), W = mean chain variance.
func rHat(chains [][]float64) float64 {
	if len(chains) < 2 || len(chains[0]) < 2 || bad(chains) {
		return math.NaN()
	}
	n := float64(len(chains[0]))
	means := make([]float64, len(chains))
	var w float64
	for c, ch := range chains {
		var v float64
		means[c], v = mathx.MeanVar(ch)
		w += v / float64(len(chains))
	}
	_, b := mathx.MeanVar(means)
	b *= n
	return math.Sqrt((b/w + n - 1) / n)
}

// directLags is the number of lags chainAutocov sums directly before it
// turns to the FFT: a lag costs one pass over the draws, an FFT of all lags
// about as much as a few hundred.
const directLags = 64

// chainAutocov is the mean over equal-length chains of their biased lag-t
// autocovariances, computed when first asked for: directly for the first
// directLags lags, which is all that Geyer's truncation needs for chains
// that mix, and by FFT for every lag once a later one is asked for.
type chainAutocov struct {
	dev   [][]float64 // the chains minus their means
	acov  []float64   // lags known so far
	scale float64     // 1/(chains·n)
}

func newChainAutocov(chains [][]float64) *chainAutocov {
	a := &chainAutocov{dev: make([][]float64, len(chains)), scale: 1 / float64(len(chains)*len(chains[0]))}
	for c, ch := range chains {
		mean, _ := mathx.MeanVar(ch)
		a.dev[c] = make([]float64, len(ch))
		for i, v := range ch {
			a.dev[c][i] = v - mean
		}
	}
	return a
}

// at returns the mean lag-t autocovariance, 0 ≤ t < n.
func (a *chainAutocov) at(t int) float64 {
	if t < len(a.acov) {
		return a.acov[t]
	}
	n := len(a.dev[0])
	if t >= directLags {
		// Every lag at once, by FFT.
		ac, one := newAutocovariance(n), make([]float64, n)
		a.acov = make([]float64, n)
		for _, d := range a.dev {
			ac.of(one, d)
			for l, v := range one {
				a.acov[l] += v / float64(len(a.dev))
			}
		}
		return a.acov[t]
	}
	for l := len(a.acov); l <= min(max(t, 2*len(a.acov), 8), directLags-1, n-1); l++ {
		var s float64
		for _, d := range a.dev {
			for i, x := range d[:n-l] {
				s += x * d[i+l]
			}
		}
		a.acov = append(a.acov, s*a.scale)
	}
	return a.acov[t]
}

// autocovariance computes biased autocovariances of series of one length
// n by a real FFT with zero padding to a power of two ≥ 2n, reusing its
// work space from series to series. It is not safe for concurrent use.
type autocovariance struct {
	n    int
	fft  *fourier.FFT
	seq  []float64
	coef []complex128
}

func newAutocovariance(n int) *autocovariance {
	m := 1
	for m < 2*n {
		m <<= 1
	}
	return &autocovariance{n: n, fft: fourier.NewFFT(m), seq: make([]float64, m), coef: make([]complex128, m/2+1)}
}

// of sets dst[t] = γ̂_t = (1/n) Σ_{s<n−t} (x_s − x̄)(x_{s+t} − x̄) for
// t < len(dst) ≤ n = len(x).
func (a *autocovariance) of(dst, x []float64) {
	n := len(x)
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	for i, v := range x {
		a.seq[i] = v - mean
	}
	clear(a.seq[n:])
	a.fft.Coefficients(a.coef, a.seq)
	for i, c := range a.coef {
		a.coef[i] = complex(real(c)*real(c)+imag(c)*imag(c), 0)
	}
	a.fft.Sequence(a.seq, a.coef)
	scale := 1 / (float64(len(a.seq)) * float64(n))
	for t := range dst {
		dst[t] = a.seq[t] * scale
	}
}

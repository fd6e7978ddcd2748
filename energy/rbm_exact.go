package energy

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"github.com/ebmgo/ebm/internal/mathx"
)

// MaxRBMEnumerate bounds the smaller layer of an RBM whose log Z is
// computed, or whose samples are drawn, by enumeration: 2^24 states.
const MaxRBMEnumerate = 24

var _ ExactSampler = (*RBM)(nil)

// noWeights reports whether every weight is zero: the layers are then
// independent, and log Z and exact samples need no enumeration.
func (r *RBM) noWeights() bool {
	for _, w := range r.w {
		if w != 0 {
			return false
		}
	}
	return true
}

// LogZ returns the exact log Z = log Σ_v Σ_h exp(bᵀv + cᵀh + vᵀWh).
// Without weights (a base-rate RBM) the units are independent and
//
//	log Z = Σ_i softplus(b_i) + Σ_j softplus(c_j)
//
// at any size. Otherwise it enumerates the 2^m states of the smaller layer
// (m = min(nv, nh)) and sums the other layer out analytically; for nh ≤ nv,
//
//	log Z = log Σ_h exp(cᵀh + Σ_i softplus(b_i + (Wh)_i)).
//
// States are visited in Gray-code order, so each costs O(max(nv, nh)),
// split among GOMAXPROCS goroutines, and summed in compensated log-sum-exp
// form. m above MaxRBMEnumerate returns an error wrapping ErrTooLarge.
func (r *RBM) LogZ() (float64, error) { return r.LogZContext(context.Background()) }

// LogZContext is LogZ that stops with ctx's error when ctx is done.
func (r *RBM) LogZContext(ctx context.Context) (float64, error) {
	if r.noWeights() {
		return mathx.SumSoftplus(r.b) + mathx.SumSoftplus(r.c), nil
	}
	if m := min(r.nv, r.nh); m > MaxRBMEnumerate {
		return 0, tooLargeErrorf("RBM.LogZ: the smaller layer has %d units, 2^%d states; the exact sum is limited to 2^%d", m, m, MaxRBMEnumerate)
	}
	l := r.smallerLayer()
	acc, err := l.enumerate(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("energy: RBM.LogZ: %w", err)
	}
	return acc.log(), nil
}

// Sample fills v (N×nv row-major) with independent exact draws from the
// RBM's visible marginal p(v) = exp(f(v))/Z, implementing ExactSampler.
// Without weights the visible units are independent Bernoulli(σ(b_i))
// draws, at any size. Otherwise it enumerates the smaller layer (at most
// MaxRBMEnumerate units; an error wrapping ErrTooLarge above): if that is
// the hidden layer it draws h from its marginal
// p(h) ∝ exp(cᵀh + Σ_i softplus(b_i + (Wh)_i)) and then v ~ p(v | h),
// otherwise v from p(v) directly. The enumeration costs what LogZ costs,
// once per call, and keeps 2^m log-probabilities (128 MiB at m = 24). It
// returns an error wrapping ErrShape if len(v) is not a multiple of nv, and
// panics if rng is nil.
func (r *RBM) Sample(rng *rand.Rand, v []float64) error {
	return r.SampleContext(context.Background(), rng, v)
}

// SampleContext is Sample that stops with ctx's error when ctx is done.
func (r *RBM) SampleContext(ctx context.Context, rng *rand.Rand, v []float64) error {
	n, err := checkSample("RBM", r.nv, rng, v)
	if err != nil || n == 0 {
		return err
	}
	if r.noWeights() {
		for s := range n {
			for i, b := range r.b {
				v[s*r.nv+i] = mathx.Sigmoid(b)
			}
		}
		mathx.Bernoulli(rng, v, r.nv)
		return nil
	}
	if m := min(r.nv, r.nh); m > MaxRBMEnumerate {
		return tooLargeErrorf("RBM.Sample: the smaller layer has %d units, 2^%d states; exact sampling is limited to 2^%d", m, m, MaxRBMEnumerate)
	}
	l := r.smallerLayer()
	logp := make([]float64, 1<<l.m)
	acc, err := l.enumerate(ctx, logp)
	if err != nil {
		return fmt.Errorf("energy: RBM.Sample: %w", err)
	}
	// Cumulative probabilities, scaled by exp(−max).
	cum := logp // reused in place
	var total float64
	for i, lp := range logp {
		total += math.Exp(lp - acc.max)
		cum[i] = total
	}
	states := make([]float64, n*l.m)
	for s := range n {
		k := min(sort.SearchFloat64s(cum, rng.Float64()*total), len(cum)-1)
		for u := range l.m {
			states[s*l.m+u] = float64(k >> u & 1)
		}
	}
	if l.m == r.nv && l.visible {
		copy(v, states)
		return nil
	}
	return r.SampleVisible(rng, v, states)
}

// rbmLayer describes the sum over one layer s ∈ {0,1}^m of an RBM with
// the other layer (k units) summed out: log weight βᵀs + Σ_t softplus(γ_t
// + (sᵀM)_t), M m×k row-major (row u couples unit s_u to the k others).
type rbmLayer struct {
	m, k        int
	beta, gamma []float64
	mat         []float64
	visible     bool // s is the visible layer
}

// smallerLayer returns the layer of the RBM to enumerate: the visible one
// if nv ≤ nh, otherwise the hidden one with the weights transposed.
func (r *RBM) smallerLayer() rbmLayer {
	if r.nv <= r.nh {
		return rbmLayer{m: r.nv, k: r.nh, beta: r.b, gamma: r.c, mat: r.w, visible: true}
	}
	wt := make([]float64, r.nh*r.nv)
	for i := 0; i < r.nv; i++ {
		for j := 0; j < r.nh; j++ {
			wt[j*r.nv+i] = r.w[i*r.nh+j]
		}
	}
	return rbmLayer{m: r.nh, k: r.nv, beta: r.c, gamma: r.b, mat: wt}
}

// enumerate sums the 2^m log weights of the layer in log-sum-exp form and,
// if logp is not nil (len 2^m), stores each state's log weight at the
// index whose bit u is unit u. The states are split by their top p bits
// into 2^p chunks, shared among GOMAXPROCS goroutines; each chunk walks
// its low m−p bits in Gray-code order.
func (l rbmLayer) enumerate(ctx context.Context, logp []float64) (logAccumulator, error) {
	p := min(l.m, 8)
	low := l.m - p
	chunks := 1 << p
	workers := min(runtime.GOMAXPROCS(0), chunks)
	results := make([]logAccumulator, chunks)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	var ctxErr error
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := make([]float64, l.k)
			for {
				mu.Lock()
				if ctxErr == nil {
					ctxErr = ctx.Err()
				}
				ch := next
				next++
				stop := ctxErr != nil
				mu.Unlock()
				if stop || ch >= chunks {
					return
				}
				results[ch] = l.chunk(a, ch, low, logp)
			}
		}()
	}
	wg.Wait()
	if ctxErr != nil {
		return logAccumulator{}, ctxErr
	}
	total := newLogAccumulator()
	for _, r := range results {
		total.merge(r)
	}
	return total, nil
}

// chunk sums the 2^low states whose top bits (units low…m−1) are the bits
// of prefix, visiting the low bits in Gray-code order.
func (l rbmLayer) chunk(a []float64, prefix, low int, logp []float64) logAccumulator {
	k := l.k
	copy(a, l.gamma)
	var lin float64 // βᵀs
	for u := low; u < l.m; u++ {
		if prefix>>(u-low)&1 == 1 {
			lin += l.beta[u]
			row := l.mat[u*k : (u+1)*k]
			for t := range a {
				a[t] += row[t]
			}
		}
	}
	acc := newLogAccumulator()
	state := prefix << low
	for step := 0; ; step++ {
		lw := lin + mathx.SumSoftplus(a)
		acc.add(lw)
		if logp != nil {
			logp[state] = lw
		}
		if step == 1<<low-1 {
			break
		}
		// Gray code: flip the lowest set bit of step+1.
		u := bits.TrailingZeros(uint(step + 1))
		row := l.mat[u*k : (u+1)*k]
		if state>>u&1 == 1 {
			lin -= l.beta[u]
			for t := range a {
				a[t] -= row[t]
			}
		} else {
			lin += l.beta[u]
			for t := range a {
				a[t] += row[t]
			}
		}
		state ^= 1 << u
	}
	return acc
}

package energy

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/ebmgo/ebm/internal/blas"
)

// RBM is a binary restricted Boltzmann machine with visible units
// v ∈ {0,1}^nv, hidden units h ∈ {0,1}^nh, weights W (nv×nh, row-major:
// W[i*nh+j] couples v_i and h_j), visible bias b and hidden bias c. Its
// joint log-density is
//
//	g(v, h) = bᵀv + cᵀh + vᵀWh,
//
// and as an Energy over the visible units it is the marginal (the negative
// free energy), with the hidden units summed out:
//
//	f(v) = log Σ_h exp g(v, h) = bᵀv + Σ_j softplus(c_j + (vᵀW)_j).
//
// The block conditionals are factorised Bernoullis,
// p(h_j = 1 | v) = σ(c_j + (vᵀW)_j) and p(v_i = 1 | h) = σ(b_i + (Wh)_i).
//
// RBM is Discrete and SiteConditional (values {0, 1}) and Differentiable
// on the relaxation v ∈ ℝ^nv (the same formula), for Gibbs-with-Gradients.
// LogZ is exact: it enumerates the smaller layer and sums the other out
// analytically, so 784×16 (2^16 terms) is exact and fast.
type RBM struct {
	nv, nh int
	w      []float64 // nv×nh
	b, c   []float64
	cache  rbmSiteCache
}

// rbmSiteCache keeps the hidden inputs of the last batch SiteLogits saw, so
// that single-site Gibbs sweeps, which change one variable between calls,
// cost O(nv + nh) per sample and call rather than O(nv·nh).
type rbmSiteCache struct {
	mu      sync.Mutex
	x       []float64 // the batch the inputs were computed for; nil if none
	a       []float64 // N×nh hidden inputs c + vᵀW
	updates []int     // incremental updates per sample since a full computation
}

var (
	_ SiteConditional = (*RBM)(nil)
	_ Differentiable  = (*RBM)(nil)
)

var binaryValues = []float64{0, 1}

// NewRBM returns the RBM with weights w (nv×nh row-major), visible bias b
// (nv) and hidden bias c (nh). It copies its arguments. Errors wrap
// ErrShape for mismatched lengths and ErrParameter for sizes below 1 or
// non-finite values.
func NewRBM(nv, nh int, w, b, c []float64) (*RBM, error) {
	if nv < 1 || nh < 1 {
		return nil, paramErrorf("NewRBM: %d visible and %d hidden units, need at least 1 of each", nv, nh)
	}
	if len(w) != nv*nh {
		return nil, shapeErrorf("NewRBM: W has %d values, want nv×nh = %d×%d = %d", len(w), nv, nh, nv*nh)
	}
	if len(b) != nv {
		return nil, shapeErrorf("NewRBM: visible bias has %d values, want nv = %d", len(b), nv)
	}
	if len(c) != nh {
		return nil, shapeErrorf("NewRBM: hidden bias has %d values, want nh = %d", len(c), nh)
	}
	for name, v := range map[string][]float64{"W": w, "visible bias": b, "hidden bias": c} {
		if i := allFinite(v); i >= 0 {
			return nil, paramErrorf("NewRBM: %s[%d] = %g is not finite", name, i, v[i])
		}
	}
	return &RBM{nv: nv, nh: nh, w: clone(w), b: clone(b), c: clone(c)}, nil
}

// NewRandomRBM returns an RBM whose weights and biases are independent
// N(0, scale²) draws, for tests and benchmarks. It panics if nv or nh is
// below 1, scale is negative or rng is nil.
func NewRandomRBM(nv, nh int, scale float64, rng *rand.Rand) *RBM {
	if nv < 1 || nh < 1 {
		panic(fmt.Sprintf("energy: NewRandomRBM: %d visible and %d hidden units, need at least 1 of each", nv, nh))
	}
	if !(scale >= 0) || math.IsInf(scale, 0) {
		panic(fmt.Sprintf("energy: NewRandomRBM: scale %g, want a finite value ≥ 0", scale))
	}
	if rng == nil {
		panic("energy: NewRandomRBM: nil rng")
	}
	r := &RBM{nv: nv, nh: nh, w: make([]float64, nv*nh), b: make([]float64, nv), c: make([]float64, nh)}
	for _, s := range [][]float64{r.w, r.b, r.c} {
		for i := range s {
			s[i] = scale * rng.NormFloat64()
		}
	}
	return r
}

// Dim returns the number of visible units.
func (r *RBM) Dim() int { return r.nv }

// Visible returns the number of visible units, nv.
func (r *RBM) Visible() int { return r.nv }

// Hidden returns the number of hidden units, nh.
func (r *RBM) Hidden() int { return r.nh }

// Params returns copies of the RBM's weights (nv×nh row-major), visible
// bias and hidden bias.
func (r *RBM) Params() (w, b, c []float64) { return clone(r.w), clone(r.b), clone(r.c) }

// SetParams replaces the weights and biases, with the checks of NewRBM;
// nil leaves a parameter unchanged. It is how a trainer updates an RBM.
func (r *RBM) SetParams(w, b, c []float64) error {
	for _, p := range []struct {
		name string
		v    []float64
		n    int
	}{{"W", w, r.nv * r.nh}, {"visible bias", b, r.nv}, {"hidden bias", c, r.nh}} {
		if p.v == nil {
			continue
		}
		if len(p.v) != p.n {
			return shapeErrorf("RBM.SetParams: %s has %d values, want %d", p.name, len(p.v), p.n)
		}
		if i := allFinite(p.v); i >= 0 {
			return paramErrorf("RBM.SetParams: %s[%d] = %g is not finite", p.name, i, p.v[i])
		}
	}
	r.cache.mu.Lock()
	defer r.cache.mu.Unlock()
	for _, p := range [][2][]float64{{r.w, w}, {r.b, b}, {r.c, c}} {
		if p[1] != nil {
			copy(p[0], p[1])
		}
	}
	r.cache.x = nil
	return nil
}

// Values returns {0, 1}.
func (r *RBM) Values() []float64 { return binaryValues }

// hiddenInput sets a[j] = c_j + Σ_i v_i W_ij for one sample v.
func (r *RBM) hiddenInput(a, v []float64) {
	copy(a, r.c)
	for i, vi := range v {
		if vi == 0 {
			continue
		}
		row := r.w[i*r.nh : (i+1)*r.nh]
		for j, wij := range row {
			a[j] += vi * wij
		}
	}
}

// visibleInput sets a[i] = b_i + Σ_j W_ij h_j for one sample h.
func (r *RBM) visibleInput(a, h []float64) {
	for i := range a {
		row := r.w[i*r.nh : (i+1)*r.nh]
		s := r.b[i]
		for j, hj := range h {
			s += row[j] * hj
		}
		a[i] = s
	}
}

// F sets dst[n] = bᵀv_n + Σ_j softplus(c_j + (v_nᵀW)_j).
func (r *RBM) F(dst, x []float64) error { return r.eval(dst, nil, x) }

// FGrad sets dst as F does and ∂f/∂v_i = b_i + Σ_j W_ij σ(c_j + (vᵀW)_j),
// the gradient of the relaxation.
func (r *RBM) FGrad(dst, grad, x []float64) error {
	if _, err := checkGrad(r.nv, dst, grad, x); err != nil {
		return err
	}
	return r.eval(dst, grad, x)
}

func (r *RBM) eval(dst, grad, x []float64) error {
	n, err := CheckBatch(r.nv, dst, x)
	if err != nil {
		return err
	}
	a := make([]float64, r.nh)
	for s := 0; s < n; s++ {
		v := x[s*r.nv : (s+1)*r.nv]
		r.hiddenInput(a, v)
		var f float64
		for i, vi := range v {
			f += r.b[i] * vi
		}
		dst[s] = f + sumSoftplus(a)
		if grad == nil {
			continue
		}
		for j, aj := range a {
			a[j] = sigmoid(aj)
		}
		r.visibleInput(grad[s*r.nv:(s+1)*r.nv], a)
	}
	return nil
}

// SiteLogits sets logits[2n+k] = f(v_n with v_i = k) − f(v_n) for k = 0, 1.
// It keeps the hidden inputs of the batch it last saw and updates them for
// the variables that changed since, so a Gibbs sweep costs O(nv + nh) per
// sample and call; the inputs are recomputed from scratch after 4·nv
// updates to bound rounding drift. It is safe for concurrent use.
func (r *RBM) SiteLogits(logits, x []float64, i int) error {
	n, err := checkSite("RBM", r.nv, 2, logits, x, i)
	if err != nil {
		return err
	}
	r.cache.mu.Lock()
	defer r.cache.mu.Unlock()
	r.syncCache(x, n)
	row := r.w[i*r.nh : (i+1)*r.nh]
	for s := 0; s < n; s++ {
		a := r.cache.a[s*r.nh : (s+1)*r.nh]
		vi := x[s*r.nv+i]
		for k := 0; k < 2; k++ {
			dv := float64(k) - vi
			if dv == 0 {
				logits[2*s+k] = 0
				continue
			}
			logits[2*s+k] = dv*r.b[i] + softplusDiff(a, row, dv)
		}
	}
	return nil
}

// softplusDiff returns Σ_j softplus(a_j + dv·w_j) − softplus(a_j), as
// Σ_j (max(a'_j, 0) − max(a_j, 0)) + log ∏_j (1 + e^{−|a'_j|})/(1 + e^{−|a_j|}):
// two exponentials per term and one logarithm in all. The factors lie in
// (½, 2); the product is renormalised every 512.
func softplusDiff(a, w []float64, dv float64) float64 {
	var lin float64
	prod, exp := 1.0, 0
	for start := 0; start < len(a); start += 512 {
		end := min(start+512, len(a))
		for j, aj := range a[start:end] {
			an := aj + dv*w[start+j]
			lin += math.Max(an, 0) - math.Max(aj, 0)
			prod *= (1 + math.Exp(-math.Abs(an))) / (1 + math.Exp(-math.Abs(aj)))
		}
		var e int
		prod, e = math.Frexp(prod)
		exp += e
	}
	return lin + math.Log(prod) + float64(exp)*math.Ln2
}

// syncCache brings the cached hidden inputs up to date with the batch x of
// n samples. The caller holds r.cache.mu.
func (r *RBM) syncCache(x []float64, n int) {
	c := &r.cache
	if len(c.x) != len(x) {
		c.x = clone(x)
		c.a = make([]float64, n*r.nh)
		c.updates = make([]int, n)
		for s := 0; s < n; s++ {
			r.hiddenInput(c.a[s*r.nh:(s+1)*r.nh], x[s*r.nv:(s+1)*r.nv])
		}
		return
	}
	for s := 0; s < n; s++ {
		xs, old := x[s*r.nv:(s+1)*r.nv], c.x[s*r.nv:(s+1)*r.nv]
		a := c.a[s*r.nh : (s+1)*r.nh]
		changed := 0
		for i := range xs {
			if xs[i] != old[i] {
				changed++
			}
		}
		if changed == 0 {
			continue
		}
		if c.updates[s]+changed > 4*r.nv || changed > r.nv/2 {
			r.hiddenInput(a, xs)
			c.updates[s] = 0
		} else {
			for i := range xs {
				if dv := xs[i] - old[i]; dv != 0 {
					row := r.w[i*r.nh : (i+1)*r.nh]
					for j, wij := range row {
						a[j] += dv * wij
					}
				}
			}
			c.updates[s] += changed
		}
		copy(old, xs)
	}
}

// JointF sets dst[n] = g(v_n, h_n) = bᵀv + cᵀh + vᵀWh, the joint
// log-density of visible batch v (N×nv) and hidden batch h (N×nh).
func (r *RBM) JointF(dst, v, h []float64) error {
	n := len(dst)
	if len(v) != n*r.nv || len(h) != n*r.nh {
		return shapeErrorf("RBM.JointF: %d outputs with %d visible and %d hidden values, want %d×%d and %d×%d", n, len(v), len(h), n, r.nv, n, r.nh)
	}
	for s := 0; s < n; s++ {
		vs, hs := v[s*r.nv:(s+1)*r.nv], h[s*r.nh:(s+1)*r.nh]
		var g float64
		for j, hj := range hs {
			g += r.c[j] * hj
		}
		for i, vi := range vs {
			if vi == 0 {
				continue
			}
			row := r.w[i*r.nh : (i+1)*r.nh]
			t := r.b[i]
			for j, hj := range hs {
				t += row[j] * hj
			}
			g += vi * t
		}
		dst[s] = g
	}
	return nil
}

// HiddenProbs sets p[n*nh+j] = p(h_j = 1 | v_n) = σ(c_j + (v_nᵀW)_j) for
// the visible batch v (N×nv); len(p) must be N·nh.
func (r *RBM) HiddenProbs(p, v []float64) error {
	if len(v)%r.nv != 0 || len(p) != len(v)/r.nv*r.nh {
		return shapeErrorf("RBM.HiddenProbs: %d probabilities for %d visible values, want N×%d for N×%d", len(p), len(v), r.nh, r.nv)
	}
	n := len(v) / r.nv
	if r.useGEMM(n) {
		// A = V·W + c for the whole batch in one matrix product.
		for s := range n {
			copy(p[s*r.nh:(s+1)*r.nh], r.c)
		}
		blas.Dgemm(false, false, n, r.nh, r.nv, 1, v, r.nv, r.w, r.nh, 1, p, r.nh)
	} else {
		for s := range n {
			r.hiddenInput(p[s*r.nh:(s+1)*r.nh], v[s*r.nv:(s+1)*r.nv])
		}
	}
	for j, a := range p {
		p[j] = sigmoid(a)
	}
	return nil
}

// useGEMM reports whether a batch of n samples is large enough for the
// conditionals to go through one matrix product (internal/blas, OpenBLAS
// when present) rather than per-sample loops.
func (r *RBM) useGEMM(n int) bool { return n*r.nv*r.nh >= 1<<16 }

// VisibleProbs sets p[n*nv+i] = p(v_i = 1 | h_n) = σ(b_i + (W h_n)_i) for
// the hidden batch h (N×nh); len(p) must be N·nv.
func (r *RBM) VisibleProbs(p, h []float64) error {
	if len(h)%r.nh != 0 || len(p) != len(h)/r.nh*r.nv {
		return shapeErrorf("RBM.VisibleProbs: %d probabilities for %d hidden values, want N×%d for N×%d", len(p), len(h), r.nv, r.nh)
	}
	n := len(h) / r.nh
	if r.useGEMM(n) {
		// A = H·Wᵀ + b.
		for s := range n {
			copy(p[s*r.nv:(s+1)*r.nv], r.b)
		}
		blas.Dgemm(false, true, n, r.nv, r.nh, 1, h, r.nh, r.w, r.nh, 1, p, r.nv)
	} else {
		for s := range n {
			r.visibleInput(p[s*r.nv:(s+1)*r.nv], h[s*r.nh:(s+1)*r.nh])
		}
	}
	for i, a := range p {
		p[i] = sigmoid(a)
	}
	return nil
}

// SampleHidden draws h ~ p(h | v) for the visible batch v (N×nv) into h
// (N×nh). It panics if rng is nil.
func (r *RBM) SampleHidden(rng *rand.Rand, h, v []float64) error {
	if rng == nil {
		panic("energy: RBM.SampleHidden: nil rng")
	}
	if err := r.HiddenProbs(h, v); err != nil {
		return err
	}
	bernoulli(rng, h)
	return nil
}

// SampleVisible draws v ~ p(v | h) for the hidden batch h (N×nh) into v
// (N×nv). It panics if rng is nil.
func (r *RBM) SampleVisible(rng *rand.Rand, v, h []float64) error {
	if rng == nil {
		panic("energy: RBM.SampleVisible: nil rng")
	}
	if err := r.VisibleProbs(v, h); err != nil {
		return err
	}
	bernoulli(rng, v)
	return nil
}

// bernoulli replaces each probability p[i] by a draw from Bernoulli(p[i]).
func bernoulli(rng *rand.Rand, p []float64) {
	for i, q := range p {
		if rng.Float64() < q {
			p[i] = 1
		} else {
			p[i] = 0
		}
	}
}

// MaxRBMEnumerate bounds the smaller layer of an RBM whose log Z is
// computed exactly: 2^24 terms.
const MaxRBMEnumerate = 24

// LogZ returns the exact log Z = log Σ_v Σ_h exp(bᵀv + cᵀh + vᵀWh). It
// enumerates the 2^m states of the smaller layer (m = min(nv, nh)) and sums
// the other layer out analytically; for nh ≤ nv,
//
//	log Z = log Σ_h exp(cᵀh + Σ_i softplus(b_i + (Wh)_i)).
//
// States are visited in Gray-code order, so each costs O(max(nv, nh)),
// split among GOMAXPROCS goroutines, and summed in compensated log-sum-exp
// form. m above MaxRBMEnumerate returns an error wrapping ErrTooLarge.
func (r *RBM) LogZ() (float64, error) { return r.LogZContext(context.Background()) }

// LogZContext is LogZ that stops with ctx's error when ctx is done.
func (r *RBM) LogZContext(ctx context.Context) (float64, error) {
	if m := min(r.nv, r.nh); m > MaxRBMEnumerate {
		return 0, tooLargeErrorf("RBM.LogZ: the smaller layer has %d units, 2^%d states; the exact sum is limited to 2^%d", m, m, MaxRBMEnumerate)
	}
	if r.nv <= r.nh {
		// Enumerate v: f(v) = bᵀv + Σ_j softplus(c_j + (vᵀW)_j).
		return logZBinary(ctx, r.nv, r.nh, r.b, r.c, r.w)
	}
	// Enumerate h with the transposed weights.
	wt := make([]float64, r.nh*r.nv)
	for i := 0; i < r.nv; i++ {
		for j := 0; j < r.nh; j++ {
			wt[j*r.nv+i] = r.w[i*r.nh+j]
		}
	}
	return logZBinary(ctx, r.nh, r.nv, r.c, r.b, wt)
}

// logZBinary returns log Σ_{s ∈ {0,1}^m} exp(βᵀs + Σ_t softplus(γ_t +
// (sᵀM)_t)) for an m×k matrix M (row u couples unit s_u to the k others).
func logZBinary(ctx context.Context, m, k int, beta, gamma, mat []float64) (float64, error) {
	// Split the states by their top p bits into 2^p chunks; each chunk
	// walks its low m−p bits in Gray-code order.
	p := min(m, 8)
	low := m - p
	chunks := 1 << p
	workers := min(runtime.GOMAXPROCS(0), chunks)
	results := make([]logAccumulator, chunks)
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	var ctxErr error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := make([]float64, k)
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
				results[ch] = logZChunk(a, ch, low, m, beta, gamma, mat)
			}
		}()
	}
	wg.Wait()
	if ctxErr != nil {
		return 0, fmt.Errorf("energy: RBM.LogZ: %w", ctxErr)
	}
	total := newLogAccumulator()
	for _, r := range results {
		total.merge(r)
	}
	return total.log(), nil
}

// logZChunk sums the 2^low states whose top bits (units low…m−1) are the
// bits of prefix, visiting the low bits in Gray-code order.
func logZChunk(a []float64, prefix, low, m int, beta, gamma, mat []float64) logAccumulator {
	k := len(a)
	copy(a, gamma)
	var lin float64 // βᵀs
	for u := low; u < m; u++ {
		if prefix>>(u-low)&1 == 1 {
			lin += beta[u]
			row := mat[u*k : (u+1)*k]
			for t := range a {
				a[t] += row[t]
			}
		}
	}
	acc := newLogAccumulator()
	on := make([]bool, low)
	for step := 0; ; step++ {
		acc.add(lin + sumSoftplus(a))
		if step == 1<<low-1 {
			break
		}
		// Gray code: flip the lowest set bit of step+1.
		u := bits.TrailingZeros(uint(step + 1))
		row := mat[u*k : (u+1)*k]
		if on[u] {
			lin -= beta[u]
			for t := range a {
				a[t] -= row[t]
			}
		} else {
			lin += beta[u]
			for t := range a {
				a[t] += row[t]
			}
		}
		on[u] = !on[u]
	}
	return acc
}

// sumSoftplus returns Σ_t softplus(a_t) = Σ_t max(a_t, 0) + log ∏_t (1 +
// e^{−|a_t|}): one exponential per term and one logarithm in all, about
// three times faster than summing softplus. The product, of factors in
// (1, 2], is renormalised every 512 factors.
func sumSoftplus(a []float64) float64 {
	var pos float64
	prod, exp := 1.0, 0
	for start := 0; start < len(a); start += 512 {
		for _, at := range a[start:min(start+512, len(a))] {
			if at > 0 {
				pos += at
				prod *= 1 + math.Exp(-at)
			} else {
				prod *= 1 + math.Exp(at)
			}
		}
		var e int
		prod, e = math.Frexp(prod)
		exp += e
	}
	return pos + math.Log(prod) + float64(exp)*math.Ln2
}

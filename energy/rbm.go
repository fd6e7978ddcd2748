package energy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/ebmgo/ebm/internal/blas"
	"github.com/ebmgo/ebm/internal/mathx"
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

// RBMInit says how NewRandomRBM draws an RBM's parameters. The zero value
// is the start that Hinton's practical guide (2010, §8) recommends when no
// data is at hand: weights N(0, 0.01²), biases zero.
type RBMInit struct {
	// WeightScale is the standard deviation of the weights, each an
	// independent N(0, WeightScale²) draw. Zero means 0.01.
	WeightScale float64
	// BiasScale is the standard deviation of the biases drawn at random:
	// the hidden biases, and the visible biases unless Data is set. Zero
	// means biases of zero.
	BiasScale float64
	// Data, if not nil, holds training rows (N×nv row-major, values in
	// [0, 1]); the visible biases are then the base-rate biases
	// BaseRateBias(Data, nv, 1), the log-odds of the smoothed pixel means,
	// as the guide recommends, and are not drawn.
	Data []float64
}

// NewRandomRBM returns an RBM with nv visible and nh hidden units whose
// parameters are drawn as init says, from rng in the order weights
// (row-major), visible biases, hidden biases. It returns an error wrapping
// ErrParameter if nv or nh is below 1 or a scale is negative or not
// finite, and the errors of BaseRateBias for bad Data. It panics if rng is
// nil.
func NewRandomRBM(rng *rand.Rand, nv, nh int, init RBMInit) (*RBM, error) {
	if rng == nil {
		panic("energy: NewRandomRBM: nil rng")
	}
	if nv < 1 || nh < 1 {
		return nil, paramErrorf("NewRandomRBM: %d visible and %d hidden units, need at least 1 of each", nv, nh)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"WeightScale", init.WeightScale}, {"BiasScale", init.BiasScale}} {
		if !(p.v >= 0) || math.IsInf(p.v, 0) {
			return nil, paramErrorf("NewRandomRBM: RBMInit.%s = %v, want a finite value ≥ 0", p.name, p.v)
		}
	}
	ws := init.WeightScale
	if ws == 0 {
		ws = 0.01
	}
	r := &RBM{nv: nv, nh: nh, w: make([]float64, nv*nh), b: make([]float64, nv), c: make([]float64, nh)}
	if init.Data != nil {
		b, err := BaseRateBias(init.Data, nv, 1)
		if err != nil {
			return nil, fmt.Errorf("energy: NewRandomRBM: %w", err)
		}
		r.b = b
	}
	for _, p := range []struct {
		s     []float64
		scale float64
		draw  bool
	}{{r.w, ws, true}, {r.b, init.BiasScale, init.Data == nil}, {r.c, init.BiasScale, true}} {
		if !p.draw || p.scale == 0 {
			continue
		}
		for i := range p.s {
			p.s[i] = p.scale * rng.NormFloat64()
		}
	}
	return r, nil
}

// BaseRateBias returns the visible biases of the base-rate RBM of
// Salakhutdinov and Murray (2008) for data (N×nv row-major, values in
// [0, 1]): b_i = log(p_i / (1 − p_i)) with the smoothed mean
// p_i = (Σ_n x_ni + α) / (N + 2α), so that a pixel that is never on gets a
// large negative bias rather than −∞. An RBM with these visible biases and
// no weights matches the data's marginals; it is the usual start for
// training (RBMInit.Data) and the usual base of annealed importance
// sampling (NewBaseRateRBM). It returns an error wrapping ErrShape unless
// len(data) is a positive multiple of nv ≥ 1, and wrapping ErrParameter
// for α ≤ 0 or a value outside [0, 1].
func BaseRateBias(data []float64, nv int, alpha float64) ([]float64, error) {
	if nv < 1 || len(data) == 0 || len(data)%nv != 0 {
		return nil, shapeErrorf("BaseRateBias: %d values is not a positive whole number of rows of %d visible units", len(data), nv)
	}
	if !(alpha > 0) || math.IsInf(alpha, 0) {
		return nil, paramErrorf("BaseRateBias: smoothing α = %v, want a finite value > 0", alpha)
	}
	n := len(data) / nv
	b := make([]float64, nv)
	for r := range n {
		for i, v := range data[r*nv : (r+1)*nv] {
			if !(v >= 0 && v <= 1) {
				return nil, paramErrorf("BaseRateBias: row %d, unit %d is %v, want a value in [0, 1]", r, i, v)
			}
			b[i] += v
		}
	}
	for i := range b {
		p := (b[i] + alpha) / (float64(n) + 2*alpha)
		b[i] = math.Log(p) - math.Log1p(-p)
	}
	return b, nil
}

// NewBaseRateRBM returns the base-rate RBM of data: nh hidden units, no
// weights, hidden biases zero and visible biases BaseRateBias(data, nv, 1).
// Its visible units are independent, so its log Z = Σ_i softplus(b_i) +
// nh·log 2 and its exact samples (Sample) cost O(nv) each, at any size.
func NewBaseRateRBM(data []float64, nv, nh int) (*RBM, error) {
	if nh < 1 {
		return nil, paramErrorf("NewBaseRateRBM: %d hidden units, need at least 1", nh)
	}
	b, err := BaseRateBias(data, nv, 1)
	if err != nil {
		return nil, fmt.Errorf("energy: NewBaseRateRBM: %w", err)
	}
	return &RBM{nv: nv, nh: nh, w: make([]float64, nv*nh), b: b, c: make([]float64, nh)}, nil
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
		dst[s] = f + mathx.SumSoftplus(a)
		if grad == nil {
			continue
		}
		for j, aj := range a {
			a[j] = mathx.Sigmoid(aj)
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

// HiddenInputs sets a[n*nh+j] = c_j + (v_nᵀW)_j, the input to hidden
// unit j (the logit of p(h_j = 1 | v_n)), for the visible batch v (N×nv);
// len(a) must be N·nh. Batches of N·nv·nh ≥ 2¹⁶ go through one matrix
// product (ebm's BLAS engine, OpenBLAS when present); smaller ones, sample
// by sample, skipping zero visible units.
func (r *RBM) HiddenInputs(a, v []float64) error {
	return r.inputs("HiddenInputs", a, v, r.nv, r.nh, r.c, false, r.hiddenInput)
}

// VisibleInputs sets a[n*nv+i] = b_i + (W h_n)_i, the logit of
// p(v_i = 1 | h_n), for the hidden batch h (N×nh); len(a) must be N·nv.
// Large batches go through one matrix product, as in HiddenInputs.
func (r *RBM) VisibleInputs(a, h []float64) error {
	return r.inputs("VisibleInputs", a, h, r.nh, r.nv, r.b, true, r.visibleInput)
}

// inputs sets a = bias + x·W (x·Wᵀ with transW) for the batch x of rows
// of in values, out values per row of a: one matrix product for a large
// batch, one call of single per sample otherwise.
func (r *RBM) inputs(name string, a, x []float64, in, out int, bias []float64, transW bool, single func(a, x []float64)) error {
	if len(x)%in != 0 || len(a) != len(x)/in*out {
		return shapeErrorf("RBM.%s: %d inputs for %d values, want N×%d for N×%d", name, len(a), len(x), out, in)
	}
	n := len(x) / in
	if r.useGEMM(n) {
		for s := range n {
			copy(a[s*out:(s+1)*out], bias)
		}
		blas.Dgemm(false, transW, n, out, in, 1, x, in, r.w, r.nh, 1, a, out)
		return nil
	}
	for s := range n {
		single(a[s*out:(s+1)*out], x[s*in:(s+1)*in])
	}
	return nil
}

// useGEMM reports whether a batch of n samples is large enough for the
// conditionals to go through one matrix product (internal/blas, OpenBLAS
// when present) rather than per-sample loops.
func (r *RBM) useGEMM(n int) bool { return n*r.nv*r.nh >= 1<<16 }

// sigmoidRows replaces every value of the matrix x (rows of cols values)
// by its logistic sigmoid, on GOMAXPROCS goroutines when it is large.
func sigmoidRows(x []float64, cols int) {
	mathx.Rows(len(x)/cols, cols, func(lo, hi int) {
		blk := x[lo*cols : hi*cols]
		for i, a := range blk {
			blk[i] = mathx.Sigmoid(a)
		}
	})
}

// HiddenProbs sets p[n*nh+j] = p(h_j = 1 | v_n) = σ(c_j + (v_nᵀW)_j) for
// the visible batch v (N×nv); len(p) must be N·nh. Large batches take one
// matrix product and share the sigmoids among GOMAXPROCS goroutines.
func (r *RBM) HiddenProbs(p, v []float64) error {
	if err := r.HiddenInputs(p, v); err != nil {
		return err
	}
	sigmoidRows(p, r.nh)
	return nil
}

// VisibleProbs sets p[n*nv+i] = p(v_i = 1 | h_n) = σ(b_i + (W h_n)_i) for
// the hidden batch h (N×nh); len(p) must be N·nv. Large batches take one
// matrix product and share the sigmoids among GOMAXPROCS goroutines.
func (r *RBM) VisibleProbs(p, h []float64) error {
	if err := r.VisibleInputs(p, h); err != nil {
		return err
	}
	sigmoidRows(p, r.nv)
	return nil
}

// SampleHidden draws h ~ p(h | v) for the visible batch v (N×nv) into h
// (N×nh). The Bernoulli draws of each block of 16 samples come from a
// generator seeded from rng, so they depend on rng alone and large
// batches draw on GOMAXPROCS goroutines. It panics if rng is nil.
func (r *RBM) SampleHidden(rng *rand.Rand, h, v []float64) error {
	if rng == nil {
		panic("energy: RBM.SampleHidden: nil rng")
	}
	if err := r.HiddenProbs(h, v); err != nil {
		return err
	}
	mathx.Bernoulli(rng, h, r.nh)
	return nil
}

// SampleVisible draws v ~ p(v | h) for the hidden batch h (N×nh) into v
// (N×nv), drawing as SampleHidden does. It panics if rng is nil.
func (r *RBM) SampleVisible(rng *rand.Rand, v, h []float64) error {
	if rng == nil {
		panic("energy: RBM.SampleVisible: nil rng")
	}
	if err := r.VisibleProbs(v, h); err != nil {
		return err
	}
	mathx.Bernoulli(rng, v, r.nv)
	return nil
}

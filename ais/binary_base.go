package ais

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/mathx"
)

var (
	_ Base                   = (*BinaryBase)(nil)
	_ energy.SiteConditional = (*BinaryBase)(nil)
	_ energy.Differentiable  = (*BinaryBase)(nil)
)

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
		return nil, fmt.Errorf("ais: NewBinaryBase: values %v and %v, want finite lo < hi", lo, hi)
	}
	if len(logits) == 0 {
		return nil, fmt.Errorf("ais: NewBinaryBase: no variables")
	}
	for i, l := range logits {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return nil, fmt.Errorf("ais: NewBinaryBase: logit %d is %v", i, l)
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
		z += mathx.Softplus(l)
	}
	return z
}

// F sets dst[n] = f0(x_n).
func (b *BinaryBase) F(dst, x []float64) error { return b.eval(dst, nil, x) }

// FGrad sets dst as F does and grad[n*D+i] = l_i/(hi − lo). As for every
// energy.Differentiable, len(grad) must equal len(x): a nil grad is an
// error wrapping energy.ErrShape (F gives the values alone).
func (b *BinaryBase) FGrad(dst, grad, x []float64) error {
	if len(grad) != len(x) {
		return fmt.Errorf("ais: BinaryBase.FGrad: %d gradient values for %d positions: %w", len(grad), len(x), energy.ErrShape)
	}
	return b.eval(dst, grad, x)
}

// eval sets dst to f0 and, unless grad is nil, grad to ∇f0.
func (b *BinaryBase) eval(dst, grad, x []float64) error {
	d := len(b.logits)
	if _, err := energy.CheckBatch(d, dst, x); err != nil {
		return err
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
		return fmt.Errorf("ais: BinaryBase.SiteLogits: variable %d of %d, %d values, %d logits: %w", i, d, len(x), len(logits), energy.ErrShape)
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
		panic("ais: BinaryBase.Sample: nil rng")
	}
	d := len(b.logits)
	if len(x)%d != 0 {
		return fmt.Errorf("ais: BinaryBase.Sample: %d values is not a whole number of samples of dimension %d: %w", len(x), d, energy.ErrShape)
	}
	for j := range x {
		x[j] = b.lo
		if rng.Float64() < mathx.Sigmoid(b.logits[j%d]) {
			x[j] = b.hi
		}
	}
	return nil
}

package energy

import (
	"context"
	"fmt"
)

// Potts is the q-state Potts model on an l×l periodic square lattice,
// variables x_i ∈ {0, …, q−1} (site (r, c) is variable r·l + c):
//
//	f(x) = J Σ_⟨ij⟩ 1[x_i = x_j],
//
// over the 2l² nearest-neighbour bonds, as for [Ising]. J > 0 favours
// equal neighbours; the 2-D ferromagnet orders above J_c = log(1 + √q).
// For q = 2 it is the Ising model at coupling J/2 shifted by J·l²:
// 1[a = b] = (1 + s_a s_b)/2.
//
// Potts is Discrete and SiteConditional. LogZ is exact by the transfer
// matrix, for lattices within MaxTransferOps (3 states up to 6×6).
type Potts struct {
	l, q   int
	j      float64
	t      torus
	values []float64
}

var _ SiteConditional = (*Potts)(nil)

// NewPotts returns the q-state Potts model, q ≥ 2, on an l×l torus, l ≥ 2,
// with coupling j.
func NewPotts(l, q int, j float64) (*Potts, error) {
	if l < 2 {
		return nil, paramErrorf("NewPotts: lattice side %d, need ≥ 2", l)
	}
	if q < 2 {
		return nil, paramErrorf("NewPotts: %d states, need ≥ 2", q)
	}
	if !isFinite(j) {
		return nil, paramErrorf("NewPotts: coupling J = %g is not finite", j)
	}
	p := &Potts{l: l, q: q, j: j, t: newTorus(l), values: make([]float64, q)}
	for k := range p.values {
		p.values[k] = float64(k)
	}
	return p, nil
}

// Dim returns l².
func (p *Potts) Dim() int { return p.l * p.l }

// Values returns {0, 1, …, q−1}.
func (p *Potts) Values() []float64 { return p.values }

// F sets dst[n] = J · (number of bonds whose ends are equal).
func (p *Potts) F(dst, x []float64) error {
	d := p.Dim()
	n, err := CheckBatch(d, dst, x)
	if err != nil {
		return err
	}
	for s := 0; s < n; s++ {
		xs := x[s*d : (s+1)*d]
		same := 0
		for i, v := range xs {
			if v == xs[p.t.right[i]] {
				same++
			}
			if v == xs[p.t.down[i]] {
				same++
			}
		}
		dst[s] = p.j * float64(same)
	}
	return nil
}

// SiteLogits sets logits[n*q+k] = J (#{neighbours equal to k} −
// #{neighbours equal to x_i}). Variables must hold integer values in
// [0, q); SiteLogits returns an error naming the first that does not.
func (p *Potts) SiteLogits(logits, x []float64, i int) error {
	d, q := p.Dim(), p.q
	n, err := checkSite("Potts", d, q, logits, x, i)
	if err != nil {
		return err
	}
	nb := [4]int{p.t.right[i], p.t.down[i], p.t.left[i], p.t.up[i]}
	for s := 0; s < n; s++ {
		xs := x[s*d : (s+1)*d]
		ls := logits[s*q : (s+1)*q]
		clear(ls)
		for _, j := range nb {
			v := xs[j]
			k := int(v)
			if float64(k) != v || k < 0 || k >= q {
				return fmt.Errorf("energy: Potts.SiteLogits: sample %d, variable %d = %g is not a state in {0, …, %d}", s, j, v, q-1)
			}
			ls[k] += p.j
		}
		cur := int(xs[i])
		if float64(cur) != xs[i] || cur < 0 || cur >= q {
			return fmt.Errorf("energy: Potts.SiteLogits: sample %d, variable %d = %g is not a state in {0, …, %d}", s, i, xs[i], q-1)
		}
		base := ls[cur]
		for k := range ls {
			ls[k] -= base
		}
	}
	return nil
}

// LogZ returns the exact log Z by the transfer matrix, which costs
// l²·q^(2l+1) operations; above MaxTransferOps it returns an error
// wrapping ErrTooLarge.
func (p *Potts) LogZ() (float64, error) { return p.LogZContext(context.Background()) }

// LogZContext is LogZ that stops with ctx's error when ctx is done.
func (p *Potts) LogZContext(ctx context.Context) (float64, error) {
	q := p.q
	pair := make([]float64, q*q)
	for a := 0; a < q; a++ {
		pair[a*q+a] = p.j
	}
	return transferLogZ(ctx, p.l, q, pair, make([]float64, q))
}

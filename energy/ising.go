package energy

import (
	"context"
	"math"
)

// Ising is the Ising model on an l×l periodic square lattice with spins
// s_i ∈ {−1, +1} (site (r, c) is variable r·l + c):
//
//	f(s) = J Σ_⟨ij⟩ s_i s_j + h Σ_i s_i,
//
// the sum running over the 2l² nearest-neighbour bonds (each site with its
// right and lower neighbour). J > 0 is ferromagnetic, J < 0
// antiferromagnetic; J plays the role of the inverse temperature β, with
// the 2-D critical point at J_c = ½ log(1 + √2) ≈ 0.4407. For l = 2 the
// right and left neighbours coincide and every bond is counted twice.
//
// Ising is Discrete and SiteConditional (values {−1, +1}), and
// Differentiable on the relaxation s ∈ ℝ^(l²), the same polynomial, with
// ∂f/∂s_i = J Σ_{j∼i} s_j + h, for Gibbs-with-Gradients.
//
// LogZ is exact: for h = 0 by Kaufman's (1949) closed form for the finite
// torus, at any size; otherwise by the transfer matrix, for l up to 10.
type Ising struct {
	l    int
	j, h float64
	t    torus
}

var (
	_ SiteConditional = (*Ising)(nil)
	_ Differentiable  = (*Ising)(nil)
)

var spinValues = []float64{-1, 1}

// NewIsing returns the Ising model on an l×l torus, l ≥ 2, with coupling
// j and field h.
func NewIsing(l int, j, h float64) (*Ising, error) {
	if l < 2 {
		return nil, paramErrorf("NewIsing: lattice side %d, need ≥ 2", l)
	}
	if !isFinite(j) || !isFinite(h) {
		return nil, paramErrorf("NewIsing: coupling J = %g and field h = %g must be finite", j, h)
	}
	return &Ising{l: l, j: j, h: h, t: newTorus(l)}, nil
}

// Dim returns l².
func (m *Ising) Dim() int { return m.l * m.l }

// Side returns the lattice side l.
func (m *Ising) Side() int { return m.l }

// Values returns {−1, +1}.
func (m *Ising) Values() []float64 { return spinValues }

// F sets dst[n] = J Σ_⟨ij⟩ s_i s_j + h Σ_i s_i for each configuration.
func (m *Ising) F(dst, x []float64) error { return m.eval(dst, nil, x) }

// FGrad sets dst as F does and grad[i] = J Σ_{j∼i} s_j + h (four
// neighbours).
func (m *Ising) FGrad(dst, grad, x []float64) error {
	if _, err := checkGrad(m.Dim(), dst, grad, x); err != nil {
		return err
	}
	return m.eval(dst, grad, x)
}

func (m *Ising) eval(dst, grad, x []float64) error {
	d := m.Dim()
	n, err := CheckBatch(d, dst, x)
	if err != nil {
		return err
	}
	t := m.t
	for s := 0; s < n; s++ {
		xs := x[s*d : (s+1)*d]
		var bonds, mag float64
		for i, si := range xs {
			bonds += si * (xs[t.right[i]] + xs[t.down[i]])
			mag += si
		}
		dst[s] = m.j*bonds + m.h*mag
		if grad != nil {
			gs := grad[s*d : (s+1)*d]
			for i := range gs {
				gs[i] = m.j*(xs[t.right[i]]+xs[t.down[i]]+xs[t.left[i]]+xs[t.up[i]]) + m.h
			}
		}
	}
	return nil
}

// SiteLogits sets logits[2n+k] = (v_k − s_i)(J Σ_{j∼i} s_j + h), the change
// of f when spin i of sample n is set to v_k ∈ {−1, +1}.
func (m *Ising) SiteLogits(logits, x []float64, i int) error {
	d := m.Dim()
	n, err := checkSite("Ising", d, 2, logits, x, i)
	if err != nil {
		return err
	}
	t := m.t
	r, dn, le, up := t.right[i], t.down[i], t.left[i], t.up[i]
	for s := 0; s < n; s++ {
		xs := x[s*d : (s+1)*d]
		field := m.j*(xs[r]+xs[dn]+xs[le]+xs[up]) + m.h
		si := xs[i]
		logits[2*s] = (-1 - si) * field
		logits[2*s+1] = (1 - si) * field
	}
	return nil
}

// LogZ returns the exact log Z = log Σ_s exp f(s). With h = 0 it uses
// Kaufman's closed form (for J < 0 through the sublattice flip, which
// needs l even); otherwise the transfer matrix, which costs l²·2^(2l+1)
// operations and returns an error wrapping ErrTooLarge above
// MaxTransferOps (l > 10).
func (m *Ising) LogZ() (float64, error) { return m.LogZContext(context.Background()) }

// LogZContext is LogZ that stops with ctx's error when ctx is done.
func (m *Ising) LogZContext(ctx context.Context) (float64, error) {
	if m.h == 0 && (m.j >= 0 || m.l%2 == 0) {
		return kaufmanLogZ(m.l, math.Abs(m.j)), nil
	}
	pair := []float64{m.j, -m.j, -m.j, m.j}
	site := []float64{-m.h, m.h}
	return transferLogZ(ctx, m.l, 2, pair, site)
}

// kaufmanLogZ returns log Z of the zero-field Ising model on an l×l torus
// at coupling k ≥ 0 (Kaufman 1949, eq. 39; Beale 1996):
//
//	Z = ½ (2 sinh 2K)^{l²/2} (Z₁ + Z₂ + Z₃ + Z₄),
//	Z₁ = ∏_{r=0}^{l−1} 2cosh(l γ_{2r+1}/2),  Z₂ = ∏ 2sinh(l γ_{2r+1}/2),
//	Z₃ = ∏_{r=0}^{l−1} 2cosh(l γ_{2r}/2),    Z₄ = ∏ 2sinh(l γ_{2r}/2),
//	cosh γ_q = cosh 2K coth 2K − cos(πq/l)   (q ≥ 1),
//	γ₀ = 2K + log tanh K,
//
// γ₀ being negative below the critical temperature, where Z₄ < 0. All
// products are kept as logarithms and the four terms combined with their
// signs.
func kaufmanLogZ(l int, k float64) float64 {
	n := float64(l * l)
	if k == 0 {
		return n * math.Ln2
	}
	// log A = log(cosh 2K coth 2K) = 2 log cosh 2K − log sinh 2K.
	logA := 2*logCosh(2*k) - logAbsSinh(2*k)
	gamma := make([]float64, 2*l)
	for q := 1; q < 2*l; q++ {
		cq := math.Cos(math.Pi * float64(q) / float64(l))
		var logC float64 // log cosh γ_q, with cosh γ_q = A − cos(πq/l) ≥ 1
		if logA < 700 {
			logC = math.Log(math.Exp(logA) - cq)
		} else {
			logC = logA + math.Log1p(-cq*math.Exp(-logA))
		}
		// γ = acosh(C) = log C + log(1 + √(1 − 1/C²)).
		gamma[q] = logC + math.Log1p(math.Sqrt(-math.Expm1(-2*logC)))
	}
	// γ₀ = 2K + log tanh K, with log tanh K = log1p(−e^{−2K}) − log1p(e^{−2K}).
	e2 := math.Exp(-2 * k)
	gamma[0] = 2*k + math.Log1p(-e2) - math.Log1p(e2)

	var logs, signs [4]float64
	signs = [4]float64{1, 1, 1, 1}
	half := float64(l) / 2
	for r := 0; r < l; r++ {
		odd, even := gamma[2*r+1], gamma[2*r]
		logs[0] += math.Ln2 + logCosh(half*odd)
		logs[1] += math.Ln2 + logAbsSinh(half*odd)
		logs[2] += math.Ln2 + logCosh(half*even)
		logs[3] += math.Ln2 + logAbsSinh(half*even)
		if even < 0 {
			signs[3] = -signs[3]
		} else if even == 0 {
			signs[3] = 0
		}
	}
	sum, _ := signedLogSum(logs[:], signs[:])
	return -math.Ln2 + 0.5*n*(math.Ln2+logAbsSinh(2*k)) + sum
}

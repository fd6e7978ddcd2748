package energy

import (
	"context"
	"fmt"
	"math"
)

// Discrete is an energy over variables that each take one of a finite set
// of values, stored as float64: {0, 1} for binary units, {−1, +1} for
// spins, {0, …, K−1} for categories.
type Discrete interface {
	Energy
	// Values returns the K values every variable takes, in increasing
	// order. The slice belongs to the energy and must not be modified.
	Values() []float64
}

// SiteConditional is a Discrete energy that computes single-site
// conditionals directly, the fast path of Gibbs samplers (which fall back
// to evaluating F on K copies of the batch otherwise).
type SiteConditional interface {
	Discrete
	// SiteLogits sets logits[n*K+k] = f(x_n with variable i set to
	// Values()[k]) − f(x_n) for every sample n of the batch x, K =
	// len(Values()); so p(x_i = Values()[k] | rest) ∝ exp(logits[n*K+k]).
	// It returns an error wrapping ErrShape if len(logits) ≠ N·K or i is
	// not in [0, Dim()).
	SiteLogits(logits, x []float64, i int) error
}

// MaxEnumerateStates bounds the number of states LogZEnumerate and
// Enumerate visit: 2^24 (24 binary or 15 ternary variables).
const MaxEnumerateStates = 1 << 24

// LogZEnumerate returns log Z = log Σ_x exp(f(x)) over all K^D states of a
// discrete energy, for at most MaxEnumerateStates states (an error
// wrapping ErrTooLarge names the count otherwise). The sum is kept in
// log-sum-exp form, so it is exact for f of any magnitude.
func LogZEnumerate(e Discrete) (float64, error) {
	r, err := enumerate(context.Background(), e, false)
	if err != nil {
		return 0, err
	}
	return r.LogZ, nil
}

// Enumeration is the exact distribution summary Enumerate computes.
type Enumeration struct {
	// LogZ is log Σ_x exp(f(x)).
	LogZ float64
	// Mean is E[x_i]; Cov is the D×D row-major covariance of x.
	Mean, Cov []float64
	// States is the number of states summed over, K^D.
	States int
}

// Enumerate sums over all K^D states of a discrete energy for log Z, the
// means and the covariance: the exact answers that samplers on small
// models are tested against. It costs K^D evaluations of f and D²·K^D
// multiply-adds; above MaxEnumerateStates states it returns an error
// wrapping ErrTooLarge. It stops with ctx's error when ctx is done.
func Enumerate(ctx context.Context, e Discrete) (*Enumeration, error) {
	return enumerate(ctx, e, true)
}

func enumerate(ctx context.Context, e Discrete, moments bool) (*Enumeration, error) {
	d := e.Dim()
	vals := e.Values()
	k := len(vals)
	if d < 1 || k < 1 {
		return nil, shapeErrorf("Enumerate: %d variables with %d values", d, k)
	}
	states := 1
	for i := 0; i < d; i++ {
		if states > MaxEnumerateStates/k {
			return nil, tooLargeErrorf("Enumerate: %d variables with %d values each make %d^%d states, more than the %d (2^24) an exact sum visits", d, k, k, d, MaxEnumerateStates)
		}
		states *= k
	}
	const batch = 4096
	x := make([]float64, batch*d)
	f := make([]float64, batch)
	digit := make([]int, d) // the state, variable 0 fastest
	for i := range digit {
		x[i] = vals[0]
	}
	acc := newLogAccumulator()
	var m1, m2 []float64
	if moments {
		m1, m2 = make([]float64, d), make([]float64, d*d)
	}
	for start := 0; start < states; start += batch {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("energy: Enumerate: %w", err)
		}
		nb := min(batch, states-start)
		for p := 0; p < nb; p++ {
			row := x[p*d : (p+1)*d]
			for i, v := range digit {
				row[i] = vals[v]
			}
			for i := range digit {
				digit[i]++
				if digit[i] < k {
					break
				}
				digit[i] = 0
			}
		}
		if err := e.F(f[:nb], x[:nb*d]); err != nil {
			return nil, fmt.Errorf("energy: Enumerate: %w", err)
		}
		for p := 0; p < nb; p++ {
			v := f[p]
			if math.IsNaN(v) || math.IsInf(v, 1) {
				return nil, fmt.Errorf("energy: Enumerate: f = %g at state %v", v, x[p*d:(p+1)*d])
			}
			if v == math.Inf(-1) {
				continue
			}
			old := acc.max
			acc.add(v)
			if !moments {
				continue
			}
			if acc.max != old && old != math.Inf(-1) {
				r := math.Exp(old - acc.max)
				for i := range m1 {
					m1[i] *= r
				}
				for i := range m2 {
					m2[i] *= r
				}
			}
			w := math.Exp(v - acc.max)
			xp := x[p*d : (p+1)*d]
			for i, xi := range xp {
				if xi == 0 {
					continue
				}
				m1[i] += w * xi
				for j := 0; j <= i; j++ {
					m2[i*d+j] += w * xi * xp[j]
				}
			}
		}
	}
	if acc.max == math.Inf(-1) {
		return nil, fmt.Errorf("energy: Enumerate: f = −Inf at every state")
	}
	r := &Enumeration{LogZ: acc.log(), States: states}
	if moments {
		s := acc.sum + acc.c
		r.Mean, r.Cov = make([]float64, d), make([]float64, d*d)
		for i := range m1 {
			r.Mean[i] = m1[i] / s
		}
		for i := 0; i < d; i++ {
			for j := 0; j <= i; j++ {
				c := m2[i*d+j]/s - r.Mean[i]*r.Mean[j]
				r.Cov[i*d+j], r.Cov[j*d+i] = c, c
			}
		}
	}
	return r, nil
}

// checkSite validates SiteLogits' arguments and returns the batch size.
func checkSite(name string, d, k int, logits, x []float64, i int) (int, error) {
	if len(x)%d != 0 {
		return 0, shapeErrorf("%s.SiteLogits: %d values is not a whole number of samples of dimension %d", name, len(x), d)
	}
	n := len(x) / d
	if len(logits) != n*k {
		return 0, shapeErrorf("%s.SiteLogits: logits has %d values for %d samples × %d values", name, len(logits), n, k)
	}
	if i < 0 || i >= d {
		return 0, shapeErrorf("%s.SiteLogits: variable %d out of range [0, %d)", name, i, d)
	}
	return n, nil
}

package energy

import (
	"context"
	"fmt"
	"math"
)

// Grid is the box ∏_i [Lo[i], Hi[i]] that Quadrature integrates over, cut
// into N[i] equal intervals along axis i.
type Grid struct {
	// Lo and Hi are the corners of the box; one entry per dimension of the
	// energy. Required.
	Lo, Hi []float64
	// N is the number of intervals per axis. Each must be even (the error
	// estimate uses every other point). Nil means DefaultGridN on every
	// axis; a zero entry means DefaultGridN on that axis.
	N []int
}

// DefaultGridN is the number of intervals per axis when Grid.N leaves it
// unset.
const DefaultGridN = 1024

// MaxQuadraturePoints bounds the number of grid points Quadrature
// evaluates (about 6.7e7).
const MaxQuadraturePoints = 1 << 26

// QuadratureResult is what Quadrature computes.
type QuadratureResult struct {
	// LogZ is log ∫_box exp(f) by the composite trapezoidal rule with
	// steps h_i = (Hi−Lo)/N_i.
	LogZ float64
	// Err is |LogZ − LogZ_2h|, the change from the rule with twice the
	// step, plus a floor of 2⁻⁵²·√Points for rounding. For smooth energies whose mass lies well inside the box the
	// trapezoidal rule converges geometrically in 1/h, so Err is a
	// conservative estimate of the error of LogZ.
	Err float64
	// EdgeMass is the fraction of the integral contributed by the grid
	// points on the box's faces. If it is not negligible (above ~1e−10),
	// the box cuts off mass: LogZ is too small, by an amount Err does not
	// measure, and the box should be widened.
	EdgeMass float64
	// Mean and Cov are the moments of the density restricted to the box,
	// by the same rule: Mean has Dim entries, Cov is Dim×Dim row-major.
	Mean, Cov []float64
	// Points is the number of energy evaluations.
	Points int
}

// LogZQuadrature returns log Z = log ∫ exp(f) over the box g and an error
// estimate: Quadrature's LogZ and Err + EdgeMass.
func LogZQuadrature(e Energy, g Grid) (logZ, errEst float64, err error) {
	r, err := Quadrature(context.Background(), e, g)
	if err != nil {
		return 0, 0, err
	}
	return r.LogZ, r.Err + r.EdgeMass, nil
}

// Quadrature integrates exp(f) over a box with the composite trapezoidal
// rule on a regular grid, for the log partition function and the first two
// moments of low-dimensional (1-D, 2-D, 3-D) energies, analytic or neural.
// Sums are kept in log-sum-exp form, so energies of any magnitude are
// fine. It evaluates f on ∏(N_i+1) points, in batches of 4096; it returns
// an error wrapping ErrTooLarge above MaxQuadraturePoints, and the first
// error from f, a NaN or a +Inf value (naming the point), or ctx's error.
func Quadrature(ctx context.Context, e Energy, g Grid) (*QuadratureResult, error) {
	d := e.Dim()
	if len(g.Lo) != d || len(g.Hi) != d {
		return nil, shapeErrorf("Quadrature: box has %d lower and %d upper bounds for an energy of dimension %d", len(g.Lo), len(g.Hi), d)
	}
	if g.N != nil && len(g.N) != d {
		return nil, shapeErrorf("Quadrature: Grid.N has %d entries for an energy of dimension %d", len(g.N), d)
	}
	ns := make([]int, d)
	h := make([]float64, d)
	total := 1
	for i := 0; i < d; i++ {
		if !isFinite(g.Lo[i]) || !isFinite(g.Hi[i]) || !(g.Hi[i] > g.Lo[i]) {
			return nil, paramErrorf("Quadrature: axis %d: box [%g, %g] is empty or not finite", i, g.Lo[i], g.Hi[i])
		}
		ns[i] = DefaultGridN
		if g.N != nil && g.N[i] != 0 {
			ns[i] = g.N[i]
		}
		if ns[i] < 2 || ns[i]%2 != 0 {
			return nil, paramErrorf("Quadrature: axis %d: %d intervals, want an even number ≥ 2", i, ns[i])
		}
		h[i] = (g.Hi[i] - g.Lo[i]) / float64(ns[i])
		if total > MaxQuadraturePoints/(ns[i]+1) {
			return nil, tooLargeErrorf("Quadrature: grid of %v intervals has more than %d points", ns, MaxQuadraturePoints)
		}
		total *= ns[i] + 1
	}

	const batch = 4096
	x := make([]float64, batch*d)
	f := make([]float64, batch)
	idx := make([]int, d) // multi-index of the next point
	fine, coarse, edge := newLogAccumulator(), newLogAccumulator(), newLogAccumulator()
	// First and second moments, scaled by exp(−fine.max) like fine.sum.
	m1 := make([]float64, d)
	m2 := make([]float64, d*d)
	logW := make([]float64, batch)    // log of the fine rule's weight
	coarseW := make([]float64, batch) // coarse weight relative to fine (0 if not a coarse point)
	isEdge := make([]bool, batch)
	for start := 0; start < total; start += batch {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("energy: Quadrature: %w", err)
		}
		nb := min(batch, total-start)
		for p := 0; p < nb; p++ {
			lw, cw, onEdge := 0.0, 1.0, false
			for i := 0; i < d; i++ {
				k := idx[i]
				x[p*d+i] = g.Lo[i] + float64(k)*h[i]
				if k == ns[i] {
					x[p*d+i] = g.Hi[i]
				}
				w := h[i]
				if k == 0 || k == ns[i] {
					w /= 2
					onEdge = true
				}
				lw += math.Log(w)
				if k%2 != 0 {
					cw = 0
				} else {
					cw *= 2 // the coarse rule's weight is twice the fine one's
				}
			}
			logW[p], coarseW[p], isEdge[p] = lw, cw, onEdge
			for i := d - 1; i >= 0; i-- { // advance the multi-index, last axis fastest
				idx[i]++
				if idx[i] <= ns[i] {
					break
				}
				idx[i] = 0
			}
		}
		if err := e.F(f[:nb], x[:nb*d]); err != nil {
			return nil, fmt.Errorf("energy: Quadrature: %w", err)
		}
		for p := 0; p < nb; p++ {
			v := f[p]
			if math.IsNaN(v) || math.IsInf(v, 1) {
				return nil, fmt.Errorf("energy: Quadrature: f = %g at x = %v; exp(f) is not integrable there", v, x[p*d:(p+1)*d])
			}
			lv := v + logW[p]
			if lv == math.Inf(-1) {
				continue
			}
			old := fine.max
			fine.add(lv)
			if fine.max != old && old != math.Inf(-1) {
				r := math.Exp(old - fine.max)
				for i := range m1 {
					m1[i] *= r
				}
				for i := range m2 {
					m2[i] *= r
				}
			}
			w := math.Exp(lv - fine.max)
			xp := x[p*d : (p+1)*d]
			for i, xi := range xp {
				m1[i] += w * xi
				for j := 0; j <= i; j++ {
					m2[i*d+j] += w * xi * xp[j]
				}
			}
			if coarseW[p] > 0 {
				coarse.add(lv + math.Log(coarseW[p]))
			}
			if isEdge[p] {
				edge.add(lv)
			}
		}
	}
	if fine.max == math.Inf(-1) {
		return nil, fmt.Errorf("energy: Quadrature: exp(f) is 0 at every grid point of the box")
	}
	r := &QuadratureResult{LogZ: fine.log(), Points: total, Mean: make([]float64, d), Cov: make([]float64, d*d)}
	// The difference of the two rules, plus a floor for the rounding error
	// of summing the points.
	r.Err = math.Abs(r.LogZ-coarse.log()) + 0x1p-52*math.Sqrt(float64(total))
	if edge.max != math.Inf(-1) {
		r.EdgeMass = math.Exp(edge.log() - r.LogZ)
	}
	s := fine.sum + fine.c
	for i := 0; i < d; i++ {
		r.Mean[i] = m1[i] / s
	}
	for i := 0; i < d; i++ {
		for j := 0; j <= i; j++ {
			c := m2[i*d+j]/s - r.Mean[i]*r.Mean[j]
			r.Cov[i*d+j], r.Cov[j*d+i] = c, c
		}
	}
	return r, nil
}

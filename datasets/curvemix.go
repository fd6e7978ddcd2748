package datasets

import (
	"math"
	"math/rand/v2"
)

// A curve is one component of a curve mixture: a point c(t) on a plane
// curve, with t ∈ [t0, t1] drawn from the density dens, blurred by
// isotropic Gaussian noise. Its density is the 1-D integral
//
//	p(x) = ∫ dens(t) N(x; c(t), σ²I) dt.
type curve struct {
	w      float64                        // mixture weight
	t0, t1 float64                        // parameter range
	pos    func(t float64) (x, y float64) // c(t)
	dens   func(t float64) float64        // density of t on [t0, t1], smooth and monotone on each panel
	quant  func(u float64) float64        // inverse CDF of t: u ~ U(0,1) gives t
}

// A panel is a piece [a, b] of one curve's parameter range, short enough
// (arc length about σ) that its integrand is a smooth bump the 8-point
// Gauss–Legendre rule integrates well.
type panel struct {
	c       int     // curve index
	a, b    float64 // parameter range
	mx, my  float64 // c((a+b)/2)
	reach   float64 // bound on |c(t) − c((a+b)/2)| over the panel
	logGmax float64 // log bound on w·dens(t)·(b − a) over the panel
}

// curveMix is the density of a mixture of blurred curves,
//
//	p(x) = Σ_k w_k ∫ dens_k(t) N(x; c_k(t), σ²I) dt,
//
// computed by adaptive Gauss–Legendre quadrature along the curves, in
// scaled arithmetic (value = s·e^m) so that it neither underflows far from
// the curves nor loses relative accuracy there. Panels whose contribution
// is provably below 10⁻¹⁷ of the running total are skipped; the others are
// bisected until the integrand is nearly flat on each piece (see piece).
// Against brute-force quadrature the density's relative error is ~10⁻¹²
// near the data and at most ~10⁻⁹ far out in the tails (log p ≈ −1000);
// on circles it matches the Bessel closed form.
type curveMix struct {
	curves []curve
	panels []panel
	sigma  float64
	v      float64 // σ²
	lnorm  float64 // −log(2πσ²)
}

const (
	curveSpread   = 4
	curveSkipLog  = -39.1 // log 1e-17
	curveMaxDepth = 40
)

func newCurveMix(sigma float64, curves []curve) *curveMix {
	cm := &curveMix{curves: curves, sigma: sigma, v: sigma * sigma, lnorm: -log2pi - 2*math.Log(sigma)}
	for ci, cu := range curves {
		// Arc length by a fine chord sum, then panels of arc length ≈ σ
		// (uniform in t).
		const fine = 4096
		var L float64
		px, py := cu.pos(cu.t0)
		for i := 1; i <= fine; i++ {
			x, y := cu.pos(cu.t0 + (cu.t1-cu.t0)*float64(i)/fine)
			L += math.Hypot(x-px, y-py)
			px, py = x, y
		}
		k := max(4, int(math.Ceil(L/sigma)))
		for j := 0; j < k; j++ {
			a := cu.t0 + (cu.t1-cu.t0)*float64(j)/float64(k)
			b := cu.t0 + (cu.t1-cu.t0)*float64(j+1)/float64(k)
			if j == k-1 {
				b = cu.t1
			}
			p := panel{c: ci, a: a, b: b}
			p.mx, p.my = cu.pos((a + b) / 2)
			var reach, gmax float64
			const samples = 64
			for i := 0; i <= samples; i++ {
				t := a + (b-a)*float64(i)/samples
				x, y := cu.pos(t)
				reach = max(reach, math.Hypot(x-p.mx, y-p.my))
				gmax = max(gmax, cu.dens(t))
			}
			// Margins cover what the samples miss between them.
			p.reach = 1.05*reach + 1e-9*sigma
			p.logGmax = math.Log(1.05 * gmax * cu.w * (b - a))
			cm.panels = append(cm.panels, p)
		}
	}
	return cm
}

// est is a scaled vector of integrals: value_i = s_i·e^m. s0 integrates
// w·dens·N, s1 and s2 the same times (c − x)/σ, which give the gradient.
type est struct{ m, s0, s1, s2 float64 }

var zeroEst = est{m: math.Inf(-1)}

func (a est) add(b est) est {
	if math.IsInf(a.m, -1) {
		return b
	}
	if math.IsInf(b.m, -1) {
		return a
	}
	m := max(a.m, b.m)
	fa, fb := math.Exp(a.m-m), math.Exp(b.m-m)
	return est{m, a.s0*fa + b.s0*fb, a.s1*fa + b.s1*fb, a.s2*fa + b.s2*fb}
}

// gl applies the 8-point Gauss–Legendre rule on [a, b] of curve cu at
// (x, y), leaving out the constant N-normalisation. It also returns the
// spread max − min of the exponent −|x − c(t)|²/2σ² over the nodes.
func (cm *curveMix) gl(cu *curve, a, b, x, y float64) (est, float64) {
	half, mid := (b-a)/2, (a+b)/2
	var e, g, dx, dy [8]float64
	m, lo := math.Inf(-1), math.Inf(1)
	for i := range gl8x {
		t := mid + half*gl8x[i]
		cx, cy := cu.pos(t)
		dx[i], dy[i] = cx-x, cy-y
		e[i] = -(dx[i]*dx[i] + dy[i]*dy[i]) / (2 * cm.v)
		g[i] = half * gl8w[i] * cu.w * cu.dens(t)
		m, lo = max(m, e[i]), min(lo, e[i])
	}
	r := est{m: m}
	for i := range e {
		f := g[i] * math.Exp(e[i]-m)
		r.s0 += f
		r.s1 += f * dx[i] / cm.sigma
		r.s2 += f * dy[i] / cm.sigma
	}
	return r, m - lo
}

// piece integrates curve cu over [a, b], bisecting until the integrand
// varies by less than e^curveSpread across each piece's nodes. On such a
// piece (arc length ≤ σ, smooth weight) the integrand is an entire
// function of small variation, and the 8-point rule's error, bounded by
// f⁽¹⁶⁾(b−a)¹⁷(8!)⁴/(17·(16!)³), is below 10⁻⁹ of the piece's value
// (10⁻¹² for the near-flat pieces that carry the mass near the data).
func (cm *curveMix) piece(cu *curve, a, b, x, y float64, depth int) est {
	whole, spread := cm.gl(cu, a, b, x, y)
	mid := (a + b) / 2
	if spread <= curveSpread || depth >= curveMaxDepth || !(mid > a && mid < b) {
		return whole
	}
	return cm.piece(cu, a, mid, x, y, depth+1).add(cm.piece(cu, mid, b, x, y, depth+1))
}

// logp returns log p(x, y) and, if grad is not nil, ∇ log p in grad.
func (cm *curveMix) logp(x, y float64, grad []float64) float64 {
	best, bestD := 0, math.Inf(1)
	for j := range cm.panels {
		p := &cm.panels[j]
		d := (p.mx-x)*(p.mx-x) + (p.my-y)*(p.my-y)
		if d < bestD {
			best, bestD = j, d
		}
	}
	tot := zeroEst
	var thr float64 // log of the running total plus curveSkipLog
	integrate := func(p *panel) {
		tot = tot.add(cm.piece(&cm.curves[p.c], p.a, p.b, x, y, 0))
		thr = tot.m + math.Log(tot.s0) + curveSkipLog
	}
	integrate(&cm.panels[best])
	for j := range cm.panels {
		if j == best {
			continue
		}
		p := &cm.panels[j]
		dm := math.Sqrt((p.mx-x)*(p.mx-x) + (p.my-y)*(p.my-y))
		lo := max(0, dm-p.reach)
		// log of a bound on the panel's |s0|, |s1|, |s2| is
		// a + log(1 + q); log(1 + q) ≤ q decides most panels cheaply.
		a := p.logGmax - lo*lo/(2*cm.v) - thr
		q := (dm + p.reach) / cm.sigma
		if a+q < 0 || a+math.Log1p(q) < 0 {
			continue
		}
		integrate(p)
	}
	if grad != nil {
		grad[0] = tot.s1 / tot.s0 / cm.sigma
		grad[1] = tot.s2 / tot.s0 / cm.sigma
	}
	return cm.lnorm + tot.m + math.Log(tot.s0)
}

// point draws one sample: a curve by weight, t from its density, noise.
func (cm *curveMix) point(rng *rand.Rand, p []float64) {
	u := rng.Float64()
	cu := &cm.curves[len(cm.curves)-1]
	for i := range cm.curves {
		if u < cm.curves[i].w {
			cu = &cm.curves[i]
			break
		}
		u -= cm.curves[i].w
	}
	x, y := cu.pos(cu.quant(rng.Float64()))
	p[0] = x + cm.sigma*rng.NormFloat64()
	p[1] = y + cm.sigma*rng.NormFloat64()
}

// box returns the curves' bounding box widened by 10σ.
func (cm *curveMix) box() Box {
	b := Box{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
	for _, cu := range cm.curves {
		const fine = 4096
		for i := 0; i <= fine; i++ {
			x, y := cu.pos(cu.t0 + (cu.t1-cu.t0)*float64(i)/fine)
			b.XMin, b.XMax = min(b.XMin, x), max(b.XMax, x)
			b.YMin, b.YMax = min(b.YMin, y), max(b.YMax, y)
		}
	}
	e := 10 * cm.sigma
	return Box{b.XMin - e, b.XMax + e, b.YMin - e, b.YMax + e}
}

// toy wraps the mixture as a Toy.
func (cm *curveMix) toy(name string) *Toy {
	return &Toy{name: name, box: cm.box(), h: cm.sigma / 2, point: cm.point, logp: cm.logp, cm: cm}
}

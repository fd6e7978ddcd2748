package ops

import (
	"math"
	"sync"
)

// Derivatives of every order of the activations, for graphs that
// differentiate a backward pass again (score matching, Hessian–vector
// products): Kernel.Nth32 and Kernel.Nth64 set d[i] = f⁽ⁿ⁾(x[i]).
//
// The logistic family and tanh are polynomials in x and one transcendental
// value s(x) whose own derivative is a quadratic in s:
//
//	SiLU     f = x·s,  s = σ(x),   s' = s − s²
//	Sigmoid  f = s,    s = σ(x),   s' = s − s²
//	Softplus f' = s,   s = σ(βx),  ds/dx = β(s − s²)
//	Tanh     f = t,    t = tanh x, t' = 1 − t²
//
// so every derivative is a polynomial P_n(x, s), found once by
// differentiating the polynomial symbolically and then evaluated by
// Horner's rule after one pass of the float32 SIMD logistic (Sigmoid32)
// for s: the transcendental part runs on the same kernel as the forward.
// ELU and LeakyReLU are piecewise exponential and linear, written out.

// poly is Σ c[i][j]·xⁱ·sʲ.
type poly [][]float64

// ds is ds/dx = a0 + a1·s + a2·s², the rule of the transcendental part.
type ds [3]float64

var (
	logisticRule = ds{0, 1, -1} // σ' = σ − σ²
	tanhRule     = ds{1, 0, -1} // tanh' = 1 − tanh²
)

func (p poly) coeff(i, j int) float64 {
	if i < len(p) && j < len(p[i]) {
		return p[i][j]
	}
	return 0
}

// derive returns dP/dx for s' given by r.
func (p poly) derive(r ds) poly {
	di, dj := 0, 0
	for i := range p {
		di = max(di, len(p))
		dj = max(dj, len(p[i])+2)
	}
	q := make(poly, di)
	for i := range q {
		q[i] = make([]float64, dj)
	}
	for i := range p {
		for j, c := range p[i] {
			if c == 0 {
				continue
			}
			if i > 0 { // ∂/∂x of xⁱ
				q[i-1][j] += c * float64(i)
			}
			if j > 0 { // j·sʲ⁻¹·s'
				for k, a := range r {
					q[i][j-1+k] += c * float64(j) * a
				}
			}
		}
	}
	return q.trim()
}

// trim drops trailing zero coefficients and rows.
func (p poly) trim() poly {
	for i := range p {
		j := len(p[i])
		for j > 0 && p[i][j-1] == 0 {
			j--
		}
		p[i] = p[i][:j]
	}
	i := len(p)
	for i > 0 && len(p[i-1]) == 0 {
		i--
	}
	return p[:i]
}

// polys caches the derivatives of one function, P_0 = f, P_n = P_{n−1}'.
type polys struct {
	mu   sync.Mutex
	r    ds
	list []poly
}

func newPolys(f poly, r ds) *polys { return &polys{r: r, list: []poly{f.trim()}} }

func (ps *polys) get(n int) poly {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for len(ps.list) <= n {
		ps.list = append(ps.list, ps.list[len(ps.list)-1].derive(ps.r))
	}
	return ps.list[n]
}

// eval is P(x, s) by Horner's rule in s, then in x.
func evalPoly[T float](p poly, x, s T) T {
	var v T
	for i := len(p) - 1; i >= 0; i-- {
		var r T
		for j := len(p[i]) - 1; j >= 0; j-- {
			r = r*s + T(p[i][j])
		}
		v = v*x + r
	}
	return v
}

// polyKernel returns the Nth functions of f = P_0(x, s(βx))·scale where
// s32 (float32, in place over a slice) and s64 give s; derivatives carry
// the chain rule's β ⁿ.
func polyNth(ps *polys, beta float64, s32 func(s, x []float32), s64 func(float64) float64) (func(int, []float32, []float32), func(int, []float64, []float64)) {
	n32 := func(n int, d, x []float32) {
		p := ps.get(n)
		scale := float32(math.Pow(beta, float64(n)))
		d = d[:len(x)]
		s32(d, x)
		parallelChunks(len(x), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] = scale * evalPoly(p, x[i], d[i])
			}
		})
	}
	n64 := func(n int, d, x []float64) {
		p := ps.get(n)
		scale := math.Pow(beta, float64(n))
		d = d[:len(x)]
		for i, v := range x {
			d[i] = scale * evalPoly(p, v, s64(v))
		}
	}
	return n32, n64
}

var (
	siluPolys    = newPolys(poly{{}, {0, 1}}, logisticRule) // x·s
	sigmoidPolys = newPolys(poly{{0, 1}}, logisticRule)     // s
	tanhPolys    = newPolys(poly{{0, 1}}, tanhRule)         // t
)

func sigmoid32Into(s, x []float32) { Sigmoid32(s, x) }

// withSiLUNth and the others below set a kernel's Nth functions.
func withSiLUNth(k *Kernel) *Kernel {
	k.Nth32, k.Nth64 = polyNth(siluPolys, 1, sigmoid32Into, sigmoid)
	k.nthMul32 = siluNthMul32
	return k
}

// siluNthMul32 is y = SiLU⁽ⁿ⁾(x)·a₀(·a₁) for n = 2, 3 and one or two
// factors, the ops of second-order losses, in one pass after the SIMD
// logistic, from the closed forms (q = s(1 − s), r = 1 − 2s):
//
//	SiLU''  = q·(2 + x·r)
//	SiLU''' = q·(r·(3 + x·r) − 2x·q)
func siluNthMul32(n int, y, x []float32, a [][]float32) bool {
	if n < 2 || n > 3 || len(a) < 1 || len(a) > 2 {
		return false
	}
	y = y[:len(x)]
	Sigmoid32(y, x)
	a0 := a[0][:len(x)]
	a1 := a0
	two := len(a) == 2
	if two {
		a1 = a[1][:len(x)]
	}
	parallelChunks(len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s, v := y[i], x[i]
			q, r := s*(1-s), 1-2*s
			var d float32
			if n == 2 {
				d = q * (2 + v*r)
			} else {
				d = q * (r*(3+v*r) - 2*v*q)
			}
			d *= a0[i]
			if two {
				d *= a1[i]
			}
			y[i] = d
		}
	})
	return true
}

func withSigmoidNth(k *Kernel) *Kernel {
	k.Nth32, k.Nth64 = polyNth(sigmoidPolys, 1, sigmoid32Into, sigmoid)
	return k
}

func withTanhNth(k *Kernel) *Kernel {
	fwd := k.Forward32
	k.Nth32, k.Nth64 = polyNth(tanhPolys, 1, func(t, x []float32) { fwd(t, x) }, math.Tanh)
	return k
}

// withSoftplusNth: f' = σ(βx) where βx ≤ threshold, so f⁽ⁿ⁾(x) =
// βⁿ⁻¹·σ⁽ⁿ⁻¹⁾(βx); above the threshold f is x: f' = 1, higher
// derivatives 0, as torch.nn.Softplus differentiates it.
func withSoftplusNth(k *Kernel, beta, threshold float64) *Kernel {
	b32 := float32(beta)
	scaled := func(s, x []float32) {
		s = s[:len(x)]
		for i, v := range x {
			s[i] = b32 * v
		}
		Sigmoid32(s, s)
	}
	s64 := func(x float64) float64 { return sigmoid(beta * x) }
	// f⁽ⁿ⁾(x) = β^(n−1)·P_{n−1}(s) where P are σ's derivatives in z = βx:
	// polyNth with β applies βⁿ⁻¹ when asked for order n−1.
	n32, n64 := polyNth(sigmoidPolys, beta, scaled, s64)
	k.Nth32 = func(n int, d, x []float32) {
		n32(n-1, d, x)
		for i, v := range x {
			if float64(v)*beta > threshold {
				d[i] = float32(b2f(n == 1))
			}
		}
	}
	k.Nth64 = func(n int, d, x []float64) {
		n64(n-1, d, x)
		for i, v := range x {
			if v*beta > threshold {
				d[i] = b2f(n == 1)
			}
		}
	}
	return k
}

// withELUNth: f⁽ⁿ⁾ = α·eˣ for x ≤ 0 and n ≥ 1; for x > 0 it is 1 (n = 1)
// or 0.
func withELUNth(k *Kernel, alpha float64) *Kernel {
	k.Nth32 = func(n int, d, x []float32) {
		d = d[:len(x)]
		a := float32(alpha)
		for i, v := range x {
			if v > 0 {
				d[i] = float32(b2f(n == 1))
			} else {
				d[i] = a * expf32(v)
			}
		}
	}
	k.Nth64 = func(n int, d, x []float64) {
		d = d[:len(x)]
		for i, v := range x {
			if v > 0 {
				d[i] = b2f(n == 1)
			} else {
				d[i] = alpha * math.Exp(v)
			}
		}
	}
	return k
}

// withLeakyReLUNth: f' is 1 or the slope, and every higher derivative 0
// (the kink at 0 has measure zero, as in torch).
func withLeakyReLUNth(k *Kernel, slope float64) *Kernel {
	nth := func(n int, x float64) float64 {
		switch {
		case n > 1:
			return 0
		case x > 0:
			return 1
		}
		return slope
	}
	k.Nth32 = func(n int, d, x []float32) {
		d = d[:len(x)]
		for i, v := range x {
			d[i] = float32(nth(n, float64(v)))
		}
	}
	k.Nth64 = func(n int, d, x []float64) {
		d = d[:len(x)]
		for i, v := range x {
			d[i] = nth(n, v)
		}
	}
	return k
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

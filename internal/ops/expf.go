package ops

import "math"

// Float32 kernels of the logistic family. On amd64 they run as AVX2+FMA or
// AVX-512 assembly (simd_amd64.s, chosen at start-up, level.go); elsewhere,
// with the purego build tag, or with EBM_SIMD=go, as the pure-Go code
// below, which follows the same algorithm:
//
//	exp(t), t clamped to [−87.3, 89] (n = 128 gives +Inf): n = round(t·log₂e),
//	r = t − n·ln2 (ln2 split in two for accuracy),
//	exp(t) = 2ⁿ · (1 + r + r²·P(r)), P of degree 5 (Cephes expf),
//
// accurate to about 1 ulp; σ(x) = 1/(1 + exp(−x)) with an exact division.
// NaN propagates; σ(±Inf) is 1 or ~0.

// simdSet holds one level's assembly kernels; they take a multiple of the
// level's lane count of elements.
type simdSet struct {
	siluFwd    func(y, x *float32, n int)
	siluBwd    func(gx, x, gy *float32, n int)
	sigmoidFwd func(y, x *float32, n int)
	siluFwdD   func(y, x, d *float32, n int) // y = x·σ(x), d = SiLU'(x)
	mul        func(z, a, b *float32, n int) // z = a·b
}

// simd is the level's set (level.go), with simdLanes lanes; simdLanes is 0
// at the go level.
var (
	simd      simdSet
	simdLanes int
)

const (
	expHi = 89.0 // round(89·log₂e) = 128: 2¹²⁸ is +Inf, so exp overflows as it should
	expLo = -87.3
	expC1 = 0.693359375
	expC2 = -2.12194440e-4
)

// expf32 is exp(t) in float32 by the algorithm above.
func expf32(t float32) float32 {
	if t != t {
		return t
	}
	t = min(max(t, expLo), expHi)
	n := float32(math.RoundToEven(float64(t * 1.44269504088896341)))
	r := t - n*expC1
	r -= n * expC2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*(r*r) + r + 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func sigmoidf32(x float32) float32 { return 1 / (1 + expf32(-x)) }

func siluFwdGo(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = v * sigmoidf32(v)
	}
}

func siluBwdGo(gx, x, gy []float32) {
	gx, gy = gx[:len(x)], gy[:len(x)]
	for i, v := range x {
		s := sigmoidf32(v)
		gx[i] = gy[i] * (s * (1 + v*(1-s)))
	}
}

func siluFwdDGo(y, x, d []float32) {
	y, d = y[:len(x)], d[:len(x)]
	for i, v := range x {
		s := sigmoidf32(v)
		y[i] = v * s
		d[i] = s * (1 + v*(1-s))
	}
}

func mulGo(z, a, b []float32) {
	z, b = z[:len(a)], b[:len(a)]
	for i, v := range a {
		z[i] = v * b[i]
	}
}

func sigmoidFwdGo(y, x []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] = sigmoidf32(v)
	}
}

// run2 applies an assembly kernel to the whole lanes-multiple prefix of x
// and to the tail through a padded buffer, so every element gets the same
// arithmetic.
func run2(k func(y, x *float32, n int), lanes int, y, x []float32) {
	n := len(x)
	y = y[:n]
	m := n &^ (lanes - 1)
	if m > 0 {
		k(&y[0], &x[0], m)
	}
	if m < n {
		var ty, tx [16]float32
		copy(tx[:], x[m:])
		k(&ty[0], &tx[0], lanes)
		copy(y[m:], ty[:n-m])
	}
}

func run3(k func(a, b, c *float32, n int), lanes int, a, b, c []float32) {
	n := len(b)
	a, c = a[:n], c[:n]
	m := n &^ (lanes - 1)
	if m > 0 {
		k(&a[0], &b[0], &c[0], m)
	}
	if m < n {
		var ta, tb, tc [16]float32
		copy(tb[:], b[m:])
		copy(tc[:], c[m:])
		k(&ta[0], &tb[0], &tc[0], lanes)
		copy(a[m:], ta[:n-m])
	}
}

// run3x2 is run3 for kernels that write both a and c.
func run3x2(k func(a, b, c *float32, n int), lanes int, a, b, c []float32) {
	n := len(b)
	a, c = a[:n], c[:n]
	m := n &^ (lanes - 1)
	if m > 0 {
		k(&a[0], &b[0], &c[0], m)
	}
	if m < n {
		var ta, tb, tc [16]float32
		copy(tb[:], b[m:])
		k(&ta[0], &tb[0], &tc[0], lanes)
		copy(a[m:], ta[:n-m])
		copy(c[m:], tc[:n-m])
	}
}

// SiLUD32 sets y[i] = x[i]·σ(x[i]) and d[i] = σ(x)(1 + x(1 − σ(x))), the
// derivative, for a backward pass that then only multiplies.
func SiLUD32(y, d, x []float32) {
	if simdLanes == 0 {
		siluFwdDGo(y, x, d)
		return
	}
	parallelChunks(len(x), func(lo, hi int) { run3x2(simd.siluFwdD, simdLanes, y[lo:hi], x[lo:hi], d[lo:hi]) })
}

// Mul32 sets z[i] = a[i]·b[i].
func Mul32(z, a, b []float32) {
	if simdLanes == 0 {
		mulGo(z, a, b)
		return
	}
	parallelChunks(len(a), func(lo, hi int) { run3(simd.mul, simdLanes, z[lo:hi], a[lo:hi], b[lo:hi]) })
}

// SiLU32 sets y[i] = x[i]·σ(x[i]).
func SiLU32(y, x []float32) {
	if simdLanes == 0 {
		siluFwdGo(y, x)
		return
	}
	parallelChunks(len(x), func(lo, hi int) { run2(simd.siluFwd, simdLanes, y[lo:hi], x[lo:hi]) })
}

// SiLUGrad32 sets gx[i] = gy[i]·σ(x)(1 + x(1 − σ(x))), the SiLU derivative.
func SiLUGrad32(gx, x, gy []float32) {
	if simdLanes == 0 {
		siluBwdGo(gx, x, gy)
		return
	}
	parallelChunks(len(x), func(lo, hi int) { run3(simd.siluBwd, simdLanes, gx[lo:hi], x[lo:hi], gy[lo:hi]) })
}

// Sigmoid32 sets y[i] = σ(x[i]).
func Sigmoid32(y, x []float32) {
	if simdLanes == 0 {
		sigmoidFwdGo(y, x)
		return
	}
	parallelChunks(len(x), func(lo, hi int) { run2(simd.sigmoidFwd, simdLanes, y[lo:hi], x[lo:hi]) })
}

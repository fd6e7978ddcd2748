package sampling

import (
	"math"
	"math/bits"
)

// Standard normal draws for Langevin's per-chain noise generators.
//
// The generator is wyrand (Wang Yi's; also the Go runtime's cheap
// generator): a 64-bit counter stepped by an odd constant, each output the
// folded 128-bit product of the counter with itself xor a constant. Its
// state update is one addition, so successive draws do not wait on each
// other the way a PCG's multiply chain makes them wait; it passes
// BigCrush and PractRand, and each chain uses one for a few thousand draws
// from a seed drawn from the kernel's rng.
//
// Normals come by the ziggurat method (Marsaglia & Tsang 2000, as
// math/rand/v2's NormFloat64) from 32 random bits each, two per 64-bit
// output: 7 bits choose one of 128 layers and 25 bits (a sign and 24 bits)
// the point in it. 2⁻²⁴ relative resolution within a layer is far below
// any Monte Carlo error a sampler can see.

const zigR = 3.442619855899 // start of the tail

var (
	zigK [128]uint32  // |j| < zigK[i]: the point lies under the curve
	zigW [128]float64 // x = j·zigW[i]
	zigF [128]float64 // exp(−x²/2) at the layers' edges
)

func init() {
	const m = 1 << 24
	const v = 9.91256303526217e-3 // area of each layer
	dn := zigR
	tn := dn
	q := v / math.Exp(-0.5*dn*dn)
	zigK[0] = uint32(dn / q * m)
	zigK[1] = 0
	zigW[0] = q / m
	zigW[127] = dn / m
	zigF[0] = 1
	zigF[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(v/dn+math.Exp(-0.5*dn*dn)))
		zigK[i+1] = uint32(dn / tn * m)
		tn = dn
		zigF[i] = math.Exp(-0.5 * dn * dn)
		zigW[i] = dn / m
	}
}

// fill sets dst to standard normal draws from g's generator.
func (g *chainRand) fill(dst []float64) {
	for i := 0; i < len(dst); i += 2 {
		u := g.next()
		w := uint32(u)
		k, j := w&127, int32(w)>>7
		if uint32(max(j, -j)) < zigK[k] {
			dst[i] = float64(j) * zigW[k] // better than 98 % of draws
		} else {
			dst[i] = g.normalSlow(k, j)
		}
		if i+1 == len(dst) {
			return
		}
		w = uint32(u >> 32)
		k, j = w&127, int32(w)>>7
		if uint32(max(j, -j)) < zigK[k] {
			dst[i+1] = float64(j) * zigW[k]
		} else {
			dst[i+1] = g.normalSlow(k, j)
		}
	}
}

// normalSlow finishes a draw that fell outside a layer's rectangle, or in
// the base layer.
func (g *chainRand) normalSlow(i uint32, j int32) float64 {
	for {
		if i == 0 {
			// The tail beyond zigR, by Marsaglia's method.
			var x float64
			for {
				x = -math.Log(g.uniform()) / zigR
				y := -math.Log(g.uniform())
				if y+y >= x*x {
					break
				}
			}
			if j > 0 {
				return zigR + x
			}
			return -zigR - x
		}
		x := float64(j) * zigW[i]
		if zigF[i]+g.uniform()*(zigF[i-1]-zigF[i]) < math.Exp(-0.5*x*x) {
			return x
		}
		w := uint32(g.next())
		i, j = w&127, int32(w)>>7
		if uint32(max(j, -j)) < zigK[i] {
			return float64(j) * zigW[i]
		}
	}
}

// uniform returns a uniform draw in [0, 1).
func (g *chainRand) uniform() float64 { return float64(g.next()>>11) * 0x1p-53 }

// seed starts g's stream at s.
func (g *chainRand) seed(s uint64) { g.s = s }

// next returns 64 random bits (wyrand).
func (g *chainRand) next() uint64 {
	g.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(g.s, g.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

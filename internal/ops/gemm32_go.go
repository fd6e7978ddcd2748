package ops

import (
	"math/bits"
	"unsafe"
)

// The portable tiles and transposes: the same contracts as the assembly
// (gemm_amd64.s, transpose_amd64.s) in plain Go, for CPUs and builds
// without it. A tile runs in blocks of 2 rows × 4 columns whose 8 sums
// stay in registers over the whole length k (Go does not vectorise; on
// arm64 the compiler fuses each multiply-add into one FMADD).

var tilesGo = func() tileSet {
	ts := tileSet{vecs: 1}
	for mr := 1; mr <= tileRows; mr++ {
		ts.fn[mr-1][0] = func(t *tileArgs) { tileGo(t, mr) }
	}
	return ts
}()

// tileGo is a tile of mr rows and one vector, in Go.
func tileGo(t *tileArgs, mr int) {
	nc := bits.Len64(t.mask & (1<<lanes - 1))
	boff := unsafe.Slice(t.boff, t.k)
	for i0 := 0; i0 < mr; i0 += 2 {
		nr := min(2, mr-i0)
		var bias [2]float32
		if t.bias != nil {
			for i := range nr {
				bias[i] = *(*float32)(unsafe.Add(unsafe.Pointer(t.bias), 4*(i0+i)))
			}
		}
		a := unsafe.Add(unsafe.Pointer(t.a), 4*i0)
		c := unsafe.Add(t.c[0], i0*t.ldc)
		q0 := 0
		for ; q0+4 <= nc; q0 += 4 {
			b := unsafe.Add(t.b[0], 4*q0)
			cq := unsafe.Add(c, 4*q0)
			if nr == 2 {
				tile2x4(boff, a, b, cq, 4*mr, t.ldc, bias)
			} else {
				tile1x4(boff, a, b, cq, 4*mr, bias[0])
			}
		}
		for q := q0; q < nc; q++ { // the last few columns of a short vector
			for i := range nr {
				s := bias[i]
				for p, off := range boff {
					s += *(*float32)(unsafe.Add(a, 4*(p*mr+i))) * *(*float32)(unsafe.Add(t.b[0], off+4*q))
				}
				*(*float32)(unsafe.Add(c, i*t.ldc+4*q)) = s
			}
		}
	}
}

// tile2x4 sets the 2×4 block of C at c (rows ldc bytes apart) to bias +
// Σ_p A[p] B[p]: A's two values of row p at a + p·astep, B's four at
// b + boff[p].
func tile2x4(boff []int, a, b, c unsafe.Pointer, astep, ldc int, bias [2]float32) {
	c00, c01, c02, c03 := bias[0], bias[0], bias[0], bias[0]
	c10, c11, c12, c13 := bias[1], bias[1], bias[1], bias[1]
	for p, off := range boff {
		bp := (*[4]float32)(unsafe.Add(b, off))
		ap := (*[2]float32)(unsafe.Add(a, p*astep))
		a0, a1 := ap[0], ap[1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	*(*[4]float32)(c) = [4]float32{c00, c01, c02, c03}
	*(*[4]float32)(unsafe.Add(c, ldc)) = [4]float32{c10, c11, c12, c13}
}

// tile1x4 is tile2x4 for one row.
func tile1x4(boff []int, a, b, c unsafe.Pointer, astep int, bias float32) {
	c0, c1, c2, c3 := bias, bias, bias, bias
	for p, off := range boff {
		bp := (*[4]float32)(unsafe.Add(b, off))
		a0 := *(*float32)(unsafe.Add(a, p*astep))
		c0 += a0 * bp[0]
		c1 += a0 * bp[1]
		c2 += a0 * bp[2]
		c3 += a0 * bp[3]
	}
	*(*[4]float32)(c) = [4]float32{c0, c1, c2, c3}
}

var transGo = transSet{in: transposeInGo, out: transposeOutGo, inTail: transposeInGo, outTail: transposeOutGo}

// transposeInGo is transposeIn in Go: columns under the mask are read,
// the others are stored as zeros.
func transposeInGo(t *transArgs) {
	nc := bits.Len64(t.mask & (1<<lanes - 1))
	off := unsafe.Slice(t.off, t.nblk*lanes)
	for blk := range t.nblk {
		var v [lanes][lanes]float32 // v[q][s]
		for s, row := range t.rows {
			row = unsafe.Add(row, blk*lanes*4)
			if nc == lanes {
				r := (*[lanes]float32)(row)
				for q := range lanes {
					v[q][s] = r[q]
				}
				continue
			}
			for q := range nc {
				v[q][s] = *(*float32)(unsafe.Add(row, 4*q))
			}
		}
		for q := range lanes {
			*(*[lanes]float32)(unsafe.Add(t.vec, off[blk*lanes+q])) = v[q]
		}
	}
}

// transposeOutGo is transposeOut in Go: only the columns under the mask
// are written.
func transposeOutGo(t *transArgs) {
	nc := bits.Len64(t.mask & (1<<lanes - 1))
	for blk := range t.nblk {
		v := (*[lanes][lanes]float32)(unsafe.Add(t.vec, blk*lanes*lanes*4))
		for s, row := range t.rows {
			row = unsafe.Add(row, blk*lanes*4)
			if nc == lanes {
				r := (*[lanes]float32)(row)
				for q := range lanes {
					r[q] = v[q][s]
				}
				continue
			}
			for q := range nc {
				*(*float32)(unsafe.Add(row, 4*q)) = v[q][s]
			}
		}
	}
}

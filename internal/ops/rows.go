package ops

import "unsafe"

// Rows of im2col and col2im in AVX-512 (rows_amd64.s, written by go run
// ./gen), for rows of 8 to 16 values. A column block's row (c, u, v) is, chunk sample by sample
// and output row by output row, ow values x[o + s·j] of one row of the
// zero-padded input: with the row's start o from a table, one 32-lane
// window and a lane permutation move the whole row, instead of one table
// lookup per value. The AVX-512 path needs s·(ow − 1) < 32.

// useRows reports whether the row kernels run: at the avx512 level
// (level.go).
var useRows bool

// rowArgs is what the row kernels read (through go_asm.h's offsets).
type rowArgs struct {
	dst  unsafe.Pointer // the column block's row, ow values per image row
	src  unsafe.Pointer // the padded images (channel c)
	off  *int32         // each row's window start in src, in values
	n    int            // rows
	step int            // bytes per row in dst: 4·ow
	idx  *[lanes]int32  // gather: lane j takes window lane s·j
	lo   *[lanes]int32  // scatter: window lanes 0-15 from row lanes (16: zero)
	hi   *[lanes]int32  // window lanes 16-31
	mlo  uint64         // window lanes 0-15 the row touches
	mhi  uint64         // window lanes 16-31
	mst  uint64         // the row's ow lanes
}

// rowPlan holds a geometry's permutations and masks, and the window start
// of every (filter offset, sample of a chunk, output row).
type rowPlan struct {
	ok            bool // the geometry fits a window
	idx, lo, hi   [lanes]int32
	mlo, mhi, mst uint64
	ow            int
	off           []int32 // off[(uv·b + s)·OH + i]
}

func (g convGeom) rowPlan(b int) rowPlan {
	var rp rowPlan
	// Rows shorter than 8 values gain nothing: their windows overlap from
	// one row to the next, and a masked store then stalls the next load.
	if !useRows || g.s*(g.ow-1) >= 2*lanes || g.ow > lanes || g.ow < 8 {
		return rp
	}
	rp.ok, rp.ow = true, g.ow
	for l := range lanes {
		rp.idx[l] = int32(min(g.s*l, 2*lanes-1))
		rp.lo[l], rp.hi[l] = lanes, lanes // lane 0 of the zero table
		if l%g.s == 0 && l/g.s < g.ow {
			rp.lo[l] = int32(l / g.s)
		}
		if (l+lanes)%g.s == 0 && (l+lanes)/g.s < g.ow {
			rp.hi[l] = int32((l + lanes) / g.s)
		}
	}
	span := g.s*(g.ow-1) + 1 // window lanes a row touches
	rp.mlo = uint64(1)<<min(span, lanes) - 1
	rp.mhi = uint64(1)<<max(span-lanes, 0) - 1
	rp.mst = uint64(1)<<g.ow - 1
	pw := g.w + 2*g.p
	rp.off = make([]int32, g.k*g.k*b*g.oh)
	for u := range g.k {
		for v := range g.k {
			for s := range b {
				for i := range g.oh {
					rp.off[((u*g.k+v)*b+s)*g.oh+i] = int32(s*g.padded() + (i*g.s+u)*pw + v)
				}
			}
		}
	}
	return rp
}

// args returns the kernel arguments for the nb·OH rows of filter offset
// uv, between the column block's row dst and the padded images src.
func (rp *rowPlan) args(dst, src unsafe.Pointer, uv, b, nb, oh int) rowArgs {
	return rowArgs{dst: dst, src: src, off: &rp.off[uv*b*oh], n: nb * oh, step: 4 * rp.ow,
		idx: &rp.idx, lo: &rp.lo, hi: &rp.hi, mlo: rp.mlo, mhi: rp.mhi, mst: rp.mst}
}

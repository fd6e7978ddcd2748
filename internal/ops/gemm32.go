package ops

//go:generate go run ./gen

import (
	"bytes"
	"unsafe"
)

// Float32 matrix products of the convolutions and Linear layers, in tiles:
// AVX-512 or AVX2 assembly (gemm_amd64.s, written by go run ./gen) where
// the CPU has them, portable Go (gemm32_go.go) elsewhere; see level.go for
// which set runs.
//
// The tiles compute C = A·B (+ bias) for a small A (the filters, packed
// once per call) and a B and C whose rows are vectors of 16 columns at
// places the caller describes, so that a tile reads the gradient and writes
// the output straight in NCHW order, with no copy through a column block,
// and an odd column count is handled by a lane mask, not a copy. Each
// output value is a sum over k in order, independent of how the work is
// split, so results are the same for any number of goroutines.

// tileRows and tileVecs bound a tile: up to 6 rows of C by 4 vectors of 16
// columns, 24 accumulators in the 32 AVX-512 vector registers. An AVX2
// tile is 6 rows by one vector (12 accumulators in 16 registers).
const (
	tileRows = 6
	tileVecs = 4
	lanes    = 16
)

// tileArgs is what one tile reads. The assembly reads its fields through
// the offsets in go_asm.h, which the Go toolchain writes from this
// declaration.
type tileArgs struct {
	k        int                      // length of the sums, ≥ 1
	a        *float32                 // packed A, k × mr
	boff     *int                     // byte offset of B's row p from each vector's base
	b        [tileVecs]unsafe.Pointer // B's vectors
	c        [tileVecs]unsafe.Pointer // C's vectors in row 0
	ldc      int                      // bytes from one row of C to the next
	bias     *float32                 // mr values added to every column, or nil
	mask     uint64                   // lanes of the last vector (AVX-512)
	lanemask [lanes]int32             // the same as −1 or 0 per lane (AVX2's masked tiles)
}

// tileSet is one instruction set's tiles: fn[mr-1][nv-1] computes mr rows
// and nv ≤ vecs vectors (nv ≤ rowVecs when the whole product has one row,
// where more vectors give more independent sums), the last one under the
// mask unless masked is set; then fn runs only on whole vectors and
// masked[mr-1] (one vector) on a last vector that is not whole.
type tileSet struct {
	vecs, rowVecs int
	fn            [tileRows][tileVecs]func(*tileArgs)
	masked        [tileRows]func(*tileArgs)
}

// tiles is the set in use (level.go), and useTiles whether the float32
// products run on tiles at all rather than through internal/blas (tests
// switch it to compare both paths).
var (
	tiles    = &tilesGo
	useTiles = false
)

// packA packs the m×k matrix whose element (i, p) is a[i·rs + p·cs] into
// panels of tileRows rows: the panel of rows i0 … i0+mr−1 starts at
// dst[i0·k] and holds, for each p, the mr values of column p.
func packA(dst, a []float32, m, k, rs, cs int) []float32 {
	dst = dst[:m*k]
	for i0 := 0; i0 < m; i0 += tileRows {
		mr := min(tileRows, m-i0)
		panel := dst[i0*k : (i0+mr)*k]
		for p := range k {
			for i := range mr {
				panel[p*mr+i] = a[(i0+i)*rs+p*cs]
			}
		}
	}
	return dst
}

// packed returns ws's packed copy of the filters w made by pack (kind
// names the packing), packing again only when w's values or the kind
// changed since the last call: the filters change once per optimiser step,
// and a sampler evaluates the same ones tens of times in between.
// Comparing is a memcmp, far cheaper than packing.
func (ws *work) packed(kind byte, w []float32, size int, pack func(dst []float32)) []float32 {
	wb := unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 4*len(w))
	if ws.packKind == kind && len(ws.packOut) == size && bytes.Equal(ws.packFor, wb) {
		return ws.packOut
	}
	ws.packKind = kind
	ws.packFor = append(ws.packFor[:0], wb...)
	if cap(ws.packOut) < size {
		ws.packOut = make([]float32, size)
	}
	ws.packOut = ws.packOut[:size]
	pack(ws.packOut)
	return ws.packOut
}

// vecLayout places a matrix's 16-column vectors: vector j starts at
// base + (j / per)·stride + (j % per)·step bytes. A row-major block has one
// segment of vectors step = 64 bytes apart; an NCHW tensor seen as
// (channels) × (samples · pixels) has per = pixels/16 vectors per sample,
// samples stride = channels·pixels·4 bytes apart; a sample-minor block
// (convsm.go) steps through image positions.
type vecLayout struct {
	base   unsafe.Pointer
	per    int
	stride int
	step   int
}

func (l vecLayout) at(j int) unsafe.Pointer {
	return unsafe.Add(l.base, (j/l.per)*l.stride+(j%l.per)*l.step)
}

// tileGemm sets C = A·B + bias for the m×k packed A (packA), B with row
// offsets boff (bytes, len k) from its vectors, and C with rows ldc bytes
// apart, over n columns. bias is nil or holds m values.
func tileGemm(m, n, k int, a []float32, boff []int, b, c vecLayout, ldc int, bias []float32) {
	var t tileArgs
	t.k, t.boff, t.ldc = k, &boff[0], ldc
	ts := tiles
	vecs := ts.vecs
	if m == 1 {
		vecs = max(vecs, ts.rowVecs)
	}
	nvec := (n + lanes - 1) / lanes
	last := uint64(1)<<lanes - 1
	r := n % lanes
	if r != 0 {
		last = uint64(1)<<r - 1
		for l := range lanes {
			t.lanemask[l] = -int32(b2i(l < r))
		}
	}
	for j0 := 0; j0 < nvec; j0 += vecs {
		nv := min(vecs, nvec-j0)
		var c0 [tileVecs]unsafe.Pointer
		for j := range nv {
			t.b[j] = b.at(j0 + j)
			c0[j] = c.at(j0 + j)
		}
		t.mask = 1<<lanes - 1
		if j0+nv == nvec {
			t.mask = last
		}
		for i0 := 0; i0 < m; i0 += tileRows {
			mr := min(tileRows, m-i0)
			t.a = &a[i0*k]
			t.bias = nil
			if bias != nil {
				t.bias = &bias[i0]
			}
			for j := range nv {
				t.c[j] = unsafe.Add(c0[j], i0*ldc)
			}
			if r != 0 && j0+nv == nvec && ts.masked[0] != nil {
				// Whole vectors first, then the short one under its mask.
				if nv > 1 {
					ts.fn[mr-1][nv-2](&t)
				}
				t.b[0], t.c[0] = t.b[nv-1], t.c[nv-1]
				ts.masked[mr-1](&t)
				continue
			}
			ts.fn[mr-1][nv-1](&t)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

package ops

import "unsafe"

// Sample-minor convolutions: float32, on the tiles of any level (level.go).
// A chunk of 16 samples is transposed so that each image position holds one
// vector of the 16 samples' values (16 rows → vectors, transpose_amd64.s or
// gemm32_go.go). A convolution is
// then a product whose B vectors are read in place from the transposed
// input: output pixel (i, j) and filter tap (c, u, v) read the vector at
// row s·i+u, column s·j+v of channel c, so the tile kernel needs no column
// block at all, only a base per pixel and an offset per tap. The input
// gradient is the transposed convolution, computed the same way one stride
// phase at a time: the input pixels (h, w) with h ≡ rh, w ≡ rw (mod s) take
// gradient only from the taps u ≡ rh, v ≡ rw, each from one output pixel,
// so every product is dense and there is no scatter (col2im). Transposes
// in and out move the input and output once (fewer values than a column
// block of K²/s² times the input); see convPlan for when this path runs.

// transArgs is what the transposes read (the assembly through go_asm.h's
// offsets).
type transArgs struct {
	rows     *[lanes]unsafe.Pointer // the 16 rows (samples)
	vec      unsafe.Pointer         // In: base of the vectors; Out: the vectors, consecutive
	off      *int32                 // In: byte offset of each column's vector from vec
	nblk     int                    // blocks of 16 columns
	mask     uint64                 // lanes of the rows that are read (In) or written (Out)
	lanemask [lanes]int32           // the same as −1 or 0 per lane (AVX2)
}

// smPlan is a geometry's sample-minor layout and, per stride phase of
// the input gradient, its taps.
type smPlan struct {
	ok       bool
	ph, pw   int     // padded input
	inOff    []int32 // byte offset in the padded block of input value (c, h, w); junk vector past the end
	fwdOff   []int   // byte offset of tap (c, u, v) from an output pixel's base
	gp       int     // zero border of the transposed output gradient
	gh, gw   int     // its padded size
	gyOff    []int32 // byte offset of gradient value (o, i, j) in its padded block
	phases   []smPhase
	inVecs   int // vectors of the padded input block, junk included
	gyVecs   int // vectors of the padded gradient block, junk included
	xVals    int // C·H·W, rounded up to 16
	outVals  int // O·OH·OW, rounded up to 16
	packSize int // values of all phases' packed filters
}

// smPhase is the part of the input gradient at input pixels (h, w) with
// h + p ≡ rh, w + p ≡ rw (mod s): a0 … a0+na−1 and b0 … b0+nb−1 are their
// padded coordinates divided by s.
type smPhase struct {
	rh, rw         int
	a0, na, b0, nb int
	taps           [][2]int // (u, v) of the filter taps that reach them
	off            []int    // byte offset of (o, tap) from an input pixel's base
	pack           int      // offset of the packed filters in the pack buffer
}

func (g convGeom) smPlan() smPlan {
	var sp smPlan
	if !useTiles || g.n < lanes {
		return sp
	}
	sp.ok = true
	sp.ph, sp.pw = g.h+2*g.p, g.w+2*g.p
	in := g.c * g.h * g.w
	sp.xVals = (in + lanes - 1) / lanes * lanes
	sp.inVecs = g.c*sp.ph*sp.pw + 1
	junk := int32((sp.inVecs - 1) * lanes * 4)
	sp.inOff = make([]int32, sp.xVals)
	for i := range sp.inOff {
		sp.inOff[i] = junk
	}
	for c := range g.c {
		for h := range g.h {
			for w := range g.w {
				sp.inOff[(c*g.h+h)*g.w+w] = int32(((c*sp.ph+h+g.p)*sp.pw + w + g.p) * lanes * 4)
			}
		}
	}
	for c := range g.c {
		for u := range g.k {
			for v := range g.k {
				sp.fwdOff = append(sp.fwdOff, ((c*sp.ph+u)*sp.pw+v)*lanes*4)
			}
		}
	}
	// Phases of the input gradient, and the gradient's zero border: pixel
	// a of a phase reads output row a − u', u' = (u − rh)/s, which must
	// lie in the padded block.
	s := g.s
	for rh := range s {
		for rw := range s {
			ph := smPhase{rh: rh, rw: rw}
			ph.a0 = (g.p - rh + s - 1) / s
			ph.na = floorDiv(g.p+g.h-1-rh, s) - ph.a0 + 1
			ph.b0 = (g.p - rw + s - 1) / s
			ph.nb = floorDiv(g.p+g.w-1-rw, s) - ph.b0 + 1
			if ph.na <= 0 || ph.nb <= 0 {
				continue
			}
			for u := rh; u < g.k; u += s {
				for v := rw; v < g.k; v += s {
					ph.taps = append(ph.taps, [2]int{u, v})
				}
			}
			for _, t := range ph.taps {
				up, vp := (t[0]-rh)/s, (t[1]-rw)/s
				sp.gp = max(sp.gp, up, vp, ph.a0+ph.na-1-(g.oh-1), ph.b0+ph.nb-1-(g.ow-1))
			}
			ph.pack = sp.packSize
			sp.packSize += g.c * g.o * len(ph.taps)
			sp.phases = append(sp.phases, ph)
		}
	}
	sp.gh, sp.gw = g.oh+2*sp.gp, g.ow+2*sp.gp
	for i := range sp.phases {
		ph := &sp.phases[i]
		for o := range g.o {
			for _, t := range ph.taps {
				up, vp := (t[0]-ph.rh)/s, (t[1]-ph.rw)/s
				ph.off = append(ph.off, (o*sp.gh*sp.gw-up*sp.gw-vp)*lanes*4)
			}
		}
	}
	sp.outVals = (g.o*g.pix() + lanes - 1) / lanes * lanes
	sp.gyVecs = g.o*sp.gh*sp.gw + 1
	gjunk := int32((sp.gyVecs - 1) * lanes * 4)
	sp.gyOff = make([]int32, sp.outVals)
	for i := range sp.gyOff {
		sp.gyOff[i] = gjunk
	}
	for o := range g.o {
		for i := range g.oh {
			for j := range g.ow {
				sp.gyOff[(o*g.oh+i)*g.ow+j] = int32(((o*sp.gh+i+sp.gp)*sp.gw + j + sp.gp) * lanes * 4)
			}
		}
	}
	return sp
}

// smScratch hands worker wk its blocks: the transposed input (or output
// gradient) and output (or input gradient), and a junk row for samples
// past the batch's end.
//
// The transposed blocks' zero borders are never written, so they are
// cleared only when the blocks are first handed out, or when the scratch
// last held another layout (owner names the layout).
func smScratch(ws *work, owner byte, nin, nout, junk int) func(wk int) (in, out, jk []float32) {
	per := nin + nout + junk
	all := workGet[float32](ws, 3, Workers()*per)
	if ws.smOwner != owner || len(all) != ws.smLen {
		clear(all)
		ws.smOwner, ws.smLen = owner, len(all)
	}
	return func(wk int) (in, out, jk []float32) {
		m := all[wk*per : (wk+1)*per]
		return m[:nin], m[nin : nin+nout], m[nin+nout:]
	}
}

// smRows points rows at the nb ≤ 16 samples n0… of t (size values per
// sample), and the others at pad.
func smRows(rows *[lanes]unsafe.Pointer, t []float32, n0, nb, size int, pad []float32) {
	for s := range lanes {
		if s < nb {
			rows[s] = unsafe.Pointer(&t[(n0+s)*size])
		} else {
			rows[s] = unsafe.Pointer(&pad[0])
		}
	}
}

// transpose16In stores the n columns of rows as vectors at vec + off[q].
func transpose16In(rows *[lanes]unsafe.Pointer, vec unsafe.Pointer, off []int32, n int) {
	t := transArgs{rows: rows, vec: vec, off: &off[0], nblk: n / lanes, mask: 1<<lanes - 1}
	if t.nblk > 0 {
		trans.in(&t)
	}
	if r := n % lanes; r != 0 {
		var tail [lanes]unsafe.Pointer
		for s := range lanes {
			tail[s] = unsafe.Add(rows[s], (n-r)*4)
		}
		t = transArgs{rows: &tail, vec: vec, off: &off[n-r], nblk: 1, mask: 1<<r - 1}
		t.setLanemask(r)
		trans.inTail(&t)
	}
}

// transpose16Out writes the n consecutive vectors at vec as columns of rows.
func transpose16Out(rows *[lanes]unsafe.Pointer, vec []float32, n int) {
	t := transArgs{rows: rows, vec: unsafe.Pointer(&vec[0]), nblk: n / lanes, mask: 1<<lanes - 1}
	if t.nblk > 0 {
		trans.out(&t)
	}
	if r := n % lanes; r != 0 {
		var tail [lanes]unsafe.Pointer
		for s := range lanes {
			tail[s] = unsafe.Add(rows[s], (n-r)*4)
		}
		t = transArgs{rows: &tail, vec: unsafe.Pointer(&vec[(n-r)*lanes]), nblk: 1, mask: 1<<r - 1}
		t.setLanemask(r)
		trans.outTail(&t)
	}
}

// setLanemask sets the per-lane mask of the first r lanes.
func (t *transArgs) setLanemask(r int) {
	for l := range lanes {
		t.lanemask[l] = -int32(b2i(l < r))
	}
}

// smChunks runs fn over chunks of 16 samples on GOMAXPROCS goroutines.
func smChunks(n int, fn func(wk, n0, nb int)) {
	parallelFor((n+lanes-1)/lanes, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			fn(wk, c*lanes, min(lanes, n-c*lanes))
		}
	})
}

// convForwardSM sets y = conv(x, w) + b.
func convForwardSM(g convGeom, sp *smPlan, ws *work, y, x, w, b []float32) {
	rows, pix := g.rows(), g.pix()
	ap := ws.packed('F', w, g.o*rows, func(dst []float32) { packA(dst, w, g.o, rows, rows, 1) })
	in, out := sp.inVecs*lanes, (sp.outVals+lanes)*lanes
	bufs := smScratch(ws, 'f', in, out, max(sp.xVals, sp.outVals))
	zero := ws.zeros(sp.xVals)
	pixels := vecLayout{per: g.ow, stride: g.s * sp.pw * lanes * 4, step: g.s * lanes * 4}
	smChunks(g.n, func(wk, n0, nb int) {
		xt, yt, junk := bufs(wk)
		var r [lanes]unsafe.Pointer
		smRows(&r, x, n0, nb, g.c*g.h*g.w, zero)
		transpose16In(&r, unsafe.Pointer(&xt[0]), sp.inOff, g.c*g.h*g.w)
		src := pixels
		src.base = unsafe.Pointer(&xt[0])
		tileGemm(g.o, pix*lanes, rows, ap, sp.fwdOff, src, blockLayout(yt), pix*lanes*4, b)
		smRows(&r, y, n0, nb, g.o*pix, junk)
		transpose16Out(&r, yt, g.o*pix)
	})
}

// convDxSM sets dx to the transposed convolution of gy, phase by phase.
func convDxSM(g convGeom, sp *smPlan, ws *work, dx, w, gy []float32) {
	pack := ws.packed('P', w, sp.packSize, func(pack []float32) {
		for _, ph := range sp.phases {
			// A[c, (o, tap)] = w[o, c, u, v].
			nk := g.o * len(ph.taps)
			src := ws.tmp(g.c * nk)
			for c := range g.c {
				for o := range g.o {
					for t, uv := range ph.taps {
						src[c*nk+o*len(ph.taps)+t] = w[((o*g.c+c)*g.k+uv[0])*g.k+uv[1]]
					}
				}
			}
			packA(pack[ph.pack:], src, g.c, nk, nk, 1)
		}
	})
	hw := g.h * g.w
	in, out := sp.gyVecs*lanes, (sp.xVals+lanes)*lanes
	bufs := smScratch(ws, 'd', in, out, max(sp.xVals, sp.outVals))
	zero := ws.zeros(sp.outVals)
	full := sp.fullCover(g)
	smChunks(g.n, func(wk, n0, nb int) {
		gt, dxt, junk := bufs(wk)
		var r [lanes]unsafe.Pointer
		smRows(&r, gy, n0, nb, g.o*g.pix(), zero)
		transpose16In(&r, unsafe.Pointer(&gt[0]), sp.gyOff, g.o*g.pix())
		if !full {
			clear(dxt[:hw*g.c*lanes])
		}
		for _, ph := range sp.phases {
			nk := g.o * len(ph.taps)
			if nk == 0 {
				continue
			}
			b := vecLayout{base: unsafe.Pointer(&gt[((ph.a0+sp.gp)*sp.gw+ph.b0+sp.gp)*lanes]),
				per: ph.nb, stride: sp.gw * lanes * 4, step: lanes * 4}
			h0, w0 := ph.a0*g.s+ph.rh-g.p, ph.b0*g.s+ph.rw-g.p
			c := vecLayout{base: unsafe.Pointer(&dxt[(h0*g.w+w0)*lanes]),
				per: ph.nb, stride: g.s * g.w * lanes * 4, step: g.s * lanes * 4}
			tileGemm(g.c, ph.na*ph.nb*lanes, nk, pack[ph.pack:], ph.off, b, c, hw*lanes*4, nil)
		}
		smRows(&r, dx, n0, nb, g.c*hw, junk)
		transpose16Out(&r, dxt, g.c*hw)
	})
}

// fullCover reports whether every input pixel gets gradient from some
// tap (stride ≤ kernel size), so that the phases write all of dx.
func (sp *smPlan) fullCover(g convGeom) bool {
	n := 0
	for _, ph := range sp.phases {
		if len(ph.taps) > 0 {
			n += ph.na * ph.nb
		}
	}
	return n == g.h*g.w
}

// zeros returns n zero values, shared read-only by the workers.
func (ws *work) zeros(n int) []float32 {
	if len(ws.zero) < n {
		ws.zero = make([]float32, n)
	}
	return ws.zero
}

// tmp returns n scratch values.
func (ws *work) tmp(n int) []float32 {
	if cap(ws.tmpBuf) < n {
		ws.tmpBuf = make([]float32, n)
	}
	return ws.tmpBuf[:n]
}

// floorDiv is ⌊a/b⌋ for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

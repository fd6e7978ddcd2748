package ops

import (
	"fmt"
	"hash"
	"math"
	"unsafe"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2d returns the cross-correlation of x (N, C, H, W) with the square
// filters w (O, C, K, K), with the given stride and zero padding on every
// side, plus the bias b (O) when b is not nil, as torch.nn.Conv2d computes
// it. The output (N, O, OH, OW), OH = (H + 2·pad − K)/stride + 1, is
// written in NCHW order with the bias by one op; its backward is one op per
// input.
func Conv2d(x, w, b *G.Node, stride, pad int) (*G.Node, error) {
	if stride < 1 || pad < 0 {
		return nil, fmt.Errorf("ops: Conv2d: stride %d, padding %d", stride, pad)
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 4 || len(ws) != 4 || xs[1] != ws[1] || ws[2] != ws[3] {
		return nil, fmt.Errorf("ops: Conv2d: input %v and filters %v do not match: want (N, C, H, W) and (O, C, K, K)", xs, ws)
	}
	op := &convOp{g: geometry(xs, ws, stride, pad)}
	if op.g.oh <= 0 || op.g.ow <= 0 {
		return nil, fmt.Errorf("ops: Conv2d: input %v too small for %d×%d filters with padding %d", xs, ws[2], ws[3], pad)
	}
	if b != nil {
		if bs := b.Shape(); len(bs) != 1 || bs[0] != ws[0] {
			return nil, fmt.Errorf("ops: Conv2d: bias %v, want (%d)", bs, ws[0])
		}
		op.bias = true
		return G.ApplyOp(op, x, w, b)
	}
	return G.ApplyOp(op, x, w)
}

// convGeom is the static shape of a convolution.
type convGeom struct {
	n, c, h, w int // input
	o, k       int // filters (O, C, K, K)
	s, p       int // stride, padding
	oh, ow     int // output height and width
}

func geometry(xs, ws tensor.Shape, stride, pad int) convGeom {
	g := convGeom{n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: ws[0], k: ws[2], s: stride, p: pad}
	g.oh = (g.h+2*pad-g.k)/stride + 1
	g.ow = (g.w+2*pad-g.k)/stride + 1
	return g
}

func (g convGeom) rows() int       { return g.c * g.k * g.k } // rows of col
func (g convGeom) pix() int        { return g.oh * g.ow }     // output pixels per sample
func (g convGeom) cols() int       { return g.n * g.pix() }   // columns of col
func (g convGeom) xShape() []int   { return []int{g.n, g.c, g.h, g.w} }
func (g convGeom) yShape() []int   { return []int{g.n, g.o, g.oh, g.ow} }
func (g convGeom) wShape() []int   { return []int{g.o, g.c, g.k, g.k} }
func (g convGeom) String() string  { return fmt.Sprintf("k=%d,s=%d,p=%d", g.k, g.s, g.p) }
func (g convGeom) hash() string    { return fmt.Sprintf("%v/%v", g.xShape(), g.wShape()) + g.String() }
func (g convGeom) sampleSize() int { return g.c * g.h * g.w }

// work holds an op's scratch slices of either dtype.
type work struct {
	f32      [4]scratch[float32] // chunk blocks, ∂W partials, packed filters, sample-minor blocks
	f64      [4]scratch[float64]
	boff     []int     // row offsets of a tiled product's B
	zero     []float32 // zeros for the rows of samples past the batch's end
	tmpBuf   []float32
	packKind byte      // how packOut was packed
	packFor  []byte    // the filters packOut was packed from
	packOut  []float32 // packed filters (gemm32.go)
	smOwner  byte      // layout whose zero borders the sample-minor scratch holds
	smLen    int
	linOff   []int32     // linear32.go's transpose offsets
	junk     [][]float32 // per worker, for the transposes' rows past the batch
	plan     *convPlan   // built on first use
}

func (w *work) convPlan(g convGeom) convPlan {
	if w.plan == nil {
		p := g.plan()
		w.plan = &p
	}
	return *w.plan
}

func workGet[T float](w *work, i, n int) []T {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(w.f32[i].get(n)).([]T)
	}
	return any(w.f64[i].get(n)).([]T)
}

// The batch is processed in chunks of b samples, each on one goroutine:
// im2col of the chunk into a column block small enough to stay in the
// core's cache, one single-threaded GEMM on it, and the result written to
// NCHW (forward) or back through col2im (∂x). The column matrix of the
// whole batch (4.7 MB for the MNIST CNN's second layer) never goes to
// memory.
//
// im2col and col2im are flat gathers and scatters through a table of
// offsets into the chunk's zero-padded images, with one entry per (filter
// offset, sample of the chunk, output pixel), so the loops have no bounds
// logic and run long even on 2×2 outputs.
type convPlan struct {
	b    int     // samples per chunk
	ld   int     // row stride of a chunk's column block: b·pix rounded up to 16 (whole vectors)
	tbl  []int32 // tbl[((u·K+v)·b + s)·pix + i·OW + j]: offset of the input pixel in the chunk's padded images
	rows rowPlan // the same by rows, for the float32 AVX-512 kernels
	sm   *smPlan // sample-minor layout (convsm.go), when it runs
}

// chunkFloats is the target size of a chunk's column block: 32k values,
// 128 KiB in float32, well within a core's L2 cache (measured slightly
// faster than 64k and 128k on the MNIST CNN).
const chunkFloats = 1 << 15

func (g convGeom) padHW() int  { return (g.h + 2*g.p) * (g.w + 2*g.p) }
func (g convGeom) padded() int { return g.c * g.padHW() } // one padded sample

func (g convGeom) plan() convPlan {
	pix, pw := g.pix(), g.w+2*g.p
	b := max(1, min(chunkFloats/(g.rows()*pix), g.n))
	// Keep every core busy: at least two chunks per goroutine when the
	// batch allows.
	b = max(1, min(b, g.n/(2*Workers())))
	if pix < lanes && lanes%pix == 0 && b > lanes/pix {
		// Whole 16-column vectors per chunk: no masked tail.
		b -= b % (lanes / pix)
	}
	t := make([]int32, g.k*g.k*b*pix)
	for u := range g.k {
		for v := range g.k {
			for s := range b {
				base := ((u*g.k+v)*b + s) * pix
				for i := range g.oh {
					for j := range g.ow {
						t[base+i*g.ow+j] = int32(s*g.padded() + (i*g.s+u)*pw + j*g.s + v)
					}
				}
			}
		}
	}
	pl := convPlan{b: b, ld: (b*pix + lanes - 1) / lanes * lanes, tbl: t, rows: g.rowPlan(b)}
	if sp := g.smPlan(); sp.ok {
		pl.sm = &sp
	}
	return pl
}

// chunks runs fn over the plan's sample chunks, split over GOMAXPROCS
// goroutines; fn gets the worker index, the first sample and the count.
func (pl convPlan) chunks(n int, fn func(wk, n0, nb int)) {
	parallelFor((n+pl.b-1)/pl.b, func(wk, lo, hi int) {
		for c := lo; c < hi; c++ {
			n0 := c * pl.b
			fn(wk, n0, min(pl.b, n-n0))
		}
	})
}

// padChunk returns samples n0 … n0+nb−1 of x as zero-padded images, written
// into pad, or x itself from n0 on when there is no padding.
func padChunk[T float](g convGeom, x, pad []T, n0, nb int) []T {
	if g.p == 0 {
		return x[n0*g.padded():]
	}
	pad = pad[:nb*g.padded()]
	clear(pad)
	pw, hw := g.w+2*g.p, g.h*g.w
	for s := range nb {
		for c := range g.c {
			xc := x[((n0+s)*g.c+c)*hw:]
			pc := pad[(s*g.c+c)*g.padHW():]
			for ih := range g.h {
				copy(pc[(ih+g.p)*pw+g.p:(ih+g.p)*pw+g.p+g.w], xc[ih*g.w:(ih+1)*g.w])
			}
		}
	}
	return pad
}

// im2col writes samples n0 … n0+nb−1 of x into the column block col
// (rows × nb·pix, rows pl.ld apart): col[(c·K+u)·K+v, s·pix + i·OW + j] =
// x[n0+s, c, i·s−p+u, j·s−p+v], zero outside the image. pad holds
// b·padded() scratch values.
func im2col[T float](g convGeom, pl convPlan, x, col, pad []T, n0, nb int) {
	pix, kk, phw := g.pix(), g.k*g.k, g.padHW()
	src := padChunk(g, x, pad, n0, nb)
	m := nb * pix
	if src32, ok := any(src).([]float32); ok && pl.rows.ok {
		col32 := any(col).([]float32)
		for c := range g.c {
			for uv := range kk {
				t := pl.rows.args(unsafe.Pointer(&col32[(c*kk+uv)*pl.ld]), unsafe.Pointer(&src32[c*phw]), uv, pl.b, nb, g.oh)
				gatherRows(&t)
			}
		}
		return
	}
	for c := range g.c {
		sc := src[c*phw:]
		for uv := range kk {
			row := c*kk + uv
			dst := col[row*pl.ld : row*pl.ld+m]
			t := pl.tbl[uv*pl.b*pix : uv*pl.b*pix+m]
			for q, id := range t {
				dst[q] = sc[id]
			}
		}
	}
}

// col2im sets samples n0 … n0+nb−1 of dx to the adjoint of im2col applied
// to the column block col (rows pl.ld apart): every value is added back to
// the pixel it was read from. pad holds b·padded() scratch values.
func col2im[T float](g convGeom, pl convPlan, col, dx, pad []T, n0, nb int) {
	pix, kk, phw, hw := g.pix(), g.k*g.k, g.padHW(), g.h*g.w
	var acc []T
	if g.p == 0 {
		acc = dx[n0*g.padded() : (n0+nb)*g.padded()]
	} else {
		acc = pad[:nb*g.padded()]
	}
	clear(acc)
	m := nb * pix
	if acc32, ok := any(acc).([]float32); ok && pl.rows.ok {
		col32 := any(col).([]float32)
		for c := range g.c {
			for uv := range kk {
				t := pl.rows.args(unsafe.Pointer(&col32[(c*kk+uv)*pl.ld]), unsafe.Pointer(&acc32[c*phw]), uv, pl.b, nb, g.oh)
				scatterAddRows(&t)
			}
		}
	} else {
		for c := range g.c {
			ac := acc[c*phw:]
			for uv := range kk {
				row := c*kk + uv
				src := col[row*pl.ld : row*pl.ld+m]
				t := pl.tbl[uv*pl.b*pix : uv*pl.b*pix+m]
				for q, id := range t {
					ac[id] += src[q]
				}
			}
		}
	}
	if g.p > 0 {
		pw := g.w + 2*g.p
		for s := range nb {
			for c := range g.c {
				dxc := dx[((n0+s)*g.c+c)*hw:]
				pc := acc[(s*g.c+c)*phw:]
				for ih := range g.h {
					copy(dxc[ih*g.w:(ih+1)*g.w], pc[(ih+g.p)*pw+g.p:(ih+g.p)*pw+g.p+g.w])
				}
			}
		}
	}
}

// chunkScratch allocates (or reuses) every goroutine's scratch before a
// parallel loop and returns the function that hands worker wk its share: a
// column block, an O × b·pix block and the padded images.
func chunkScratch[T float](g convGeom, pl convPlan, ws *work) func(wk int) (col, t, pad []T) {
	nc, nt, np := g.rows()*pl.ld, g.o*pl.ld, pl.b*g.padded()
	per := nc + nt + np
	all := workGet[T](ws, 0, Workers()*per)
	return func(wk int) (col, t, pad []T) {
		mine := all[wk*per : (wk+1)*per]
		return mine[:nc], mine[nc : nc+nt], mine[nc+nt:]
	}
}

// convForward sets y = conv(x, w) + b chunk by chunk: col = im2col(chunk),
// t (O × nb·pix) = w (O × rows) · col, y[n, o, :] = t[o, s·pix : (s+1)·pix] + b[o].
// In float32 with the AVX-512 tiles, the product writes y itself, bias
// included, when whole vectors fit a sample's pixels.
func convForward[T float](g convGeom, pl convPlan, ws *work, y, x, w, b []T) {
	if y32, ok := any(y).([]float32); ok && useTiles {
		convForwardTiles(g, pl, ws, y32, any(x).([]float32), any(w).([]float32), any(b).([]float32))
		return
	}
	rows, pix := g.rows(), g.pix()
	bufs := chunkScratch[T](g, pl, ws)
	pl.chunks(g.n, func(wk, n0, nb int) {
		col, t, pad := bufs(wk)
		m := nb * pix
		im2col(g, pl, x, col, pad, n0, nb)
		gemmSerial(false, false, g.o, m, rows, 1, w, rows, col, pl.ld, 0, t, pl.ld)
		scatterChunk(g, pl, y, t, b, n0, nb)
	})
}

// scatterChunk writes t (O × nb·pix, rows pl.ld apart) to samples
// n0 … n0+nb−1 of y (N, O, pix), adding b[o] unless b is nil.
func scatterChunk[T float](g convGeom, pl convPlan, y, t, b []T, n0, nb int) {
	pix := g.pix()
	for s := range nb {
		n := n0 + s
		for o := range g.o {
			dst := y[(n*g.o+o)*pix : (n*g.o+o+1)*pix]
			src := t[o*pl.ld+s*pix : o*pl.ld+(s+1)*pix]
			if b == nil {
				copy(dst, src)
				continue
			}
			bo := b[o]
			for i, v := range src {
				dst[i] = v + bo
			}
		}
	}
}

// nchwDirect reports whether a chunk's columns can be read from or written
// to an NCHW tensor as whole 16-lane vectors, each within one sample.
func (g convGeom) nchwDirect() bool { return g.pix()%lanes == 0 }

// nchwLayout is the vector layout of samples n0… of an (N, C, pix) tensor
// seen as C × (samples · pix).
func nchwLayout(t []float32, n0, c, pix int) vecLayout {
	return vecLayout{base: unsafe.Pointer(&t[n0*c*pix]), per: pix / lanes, stride: c * pix * 4, step: lanes * 4}
}

// blockLayout is the vector layout of a row-major block.
func blockLayout(t []float32) vecLayout {
	return vecLayout{base: unsafe.Pointer(&t[0]), per: math.MaxInt32, step: lanes * 4}
}

// rowOffsets returns k byte offsets p·stride·4 in ws's scratch.
func (ws *work) rowOffsets(k, stride int) []int {
	if cap(ws.boff) < k {
		ws.boff = make([]int, k)
	}
	off := ws.boff[:k]
	for p := range off {
		off[p] = p * stride * 4
	}
	return off
}

func convForwardTiles(g convGeom, pl convPlan, ws *work, y, x, w, b []float32) {
	if pl.sm != nil {
		convForwardSM(g, pl.sm, ws, y, x, w, b)
		return
	}
	rows, pix := g.rows(), g.pix()
	ap := ws.packed('F', w, g.o*rows, func(dst []float32) { packA(dst, w, g.o, rows, rows, 1) })
	boff := ws.rowOffsets(rows, pl.ld)
	bufs := chunkScratch[float32](g, pl, ws)
	pl.chunks(g.n, func(wk, n0, nb int) {
		col, t, pad := bufs(wk)
		m := nb * pix
		im2col(g, pl, x, col, pad, n0, nb)
		if g.nchwDirect() {
			tileGemm(g.o, m, rows, ap, boff, blockLayout(col), nchwLayout(y, n0, g.o, pix), pix*4, b)
			return
		}
		tileGemm(g.o, m, rows, ap, boff, blockLayout(col), blockLayout(t), pl.ld*4, b)
		scatterChunk(g, pl, y, t, nil, n0, nb)
	})
}

// gatherChunk copies samples n0 … n0+nb−1 of gy (N, O, pix) into t
// (O, nb·pix), rows pl.ld apart.
func gatherChunk[T float](g convGeom, pl convPlan, t, gy []T, n0, nb int) {
	pix := g.pix()
	for s := range nb {
		n := n0 + s
		for o := range g.o {
			copy(t[o*pl.ld+s*pix:o*pl.ld+(s+1)*pix], gy[(n*g.o+o)*pix:(n*g.o+o+1)*pix])
		}
	}
}

// convDx sets dx = col2im(wᵀ · gy) chunk by chunk. In float32 with the
// AVX-512 tiles, the product reads gy in place when whole vectors fit a
// sample's pixels.
func convDx[T float](g convGeom, pl convPlan, ws *work, dx, w, gy []T) {
	if dx32, ok := any(dx).([]float32); ok && useTiles {
		convDxTiles(g, pl, ws, dx32, any(w).([]float32), any(gy).([]float32))
		return
	}
	rows, pix := g.rows(), g.pix()
	bufs := chunkScratch[T](g, pl, ws)
	pl.chunks(g.n, func(wk, n0, nb int) {
		col, t, pad := bufs(wk)
		m := nb * pix
		gatherChunk(g, pl, t, gy, n0, nb)
		gemmSerial(true, false, rows, m, g.o, 1, w, rows, t, pl.ld, 0, col, pl.ld)
		col2im(g, pl, col, dx, pad, n0, nb)
	})
}

func convDxTiles(g convGeom, pl convPlan, ws *work, dx, w, gy []float32) {
	if pl.sm != nil {
		convDxSM(g, pl.sm, ws, dx, w, gy)
		return
	}
	rows, pix := g.rows(), g.pix()
	ap := ws.packed('X', w, g.o*rows, func(dst []float32) { packA(dst, w, rows, g.o, 1, rows) })
	direct := g.nchwDirect()
	var boff []int
	if direct {
		boff = ws.rowOffsets(g.o, pix)
	} else {
		boff = ws.rowOffsets(g.o, pl.ld)
	}
	bufs := chunkScratch[float32](g, pl, ws)
	pl.chunks(g.n, func(wk, n0, nb int) {
		col, t, pad := bufs(wk)
		m := nb * pix
		src := blockLayout(t)
		if direct {
			src = nchwLayout(gy, n0, g.o, pix)
		} else {
			gatherChunk(g, pl, t, gy, n0, nb)
		}
		tileGemm(rows, m, g.o, ap, boff, src, blockLayout(col), pl.ld*4, nil)
		col2im(g, pl, col, dx, pad, n0, nb)
	})
}

// convDw sets dw = Σ over chunks of gy · im2col(x)ᵀ. Each chunk writes its
// own partial product and the partials are added in chunk order, so the
// result does not depend on which goroutine ran which chunk.
func convDw[T float](g convGeom, pl convPlan, ws *work, dw, x, gy []T) {
	if dw32, ok := any(dw).([]float32); ok && useTilesDW {
		convDwTiles(g, pl, ws, dw32, any(x).([]float32), any(gy).([]float32))
		return
	}
	rows, pix, size := g.rows(), g.pix(), g.o*g.rows()
	nchunks := (g.n + pl.b - 1) / pl.b
	parts := workGet[T](ws, 1, nchunks*size)
	bufs := chunkScratch[T](g, pl, ws)
	pl.chunks(g.n, func(wk, n0, nb int) {
		col, t, pad := bufs(wk)
		m := nb * pix
		k := n0 / pl.b
		gatherChunk(g, pl, t, gy, n0, nb)
		im2col(g, pl, x, col, pad, n0, nb)
		gemmSerial(false, true, g.o, rows, m, 1, t, pl.ld, col, pl.ld, 0, parts[k*size:(k+1)*size], rows)
	})
	addParts(dw, parts, nchunks, size)
}

// convOp is y = conv(x, w) (+ b).
type convOp struct {
	g    convGeom
	bias bool
	out  outBuf
	ws   work
}

func (op *convOp) Arity() int {
	if op.bias {
		return 3
	}
	return 2
}

func (op *convOp) Type() hm.Type {
	if op.bias {
		return hm.NewFnType(tensorType(4), tensorType(4), tensorType(1), tensorType(4))
	}
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4))
}

func (op *convOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.g.yShape()), nil
}
func (op *convOp) ReturnsPtr() bool     { return false }
func (op *convOp) CallsExtern() bool    { return false }
func (op *convOp) OverwritesInput() int { return -1 }
func (op *convOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ebm.Conv2d(%s,bias=%v)", op.g.hash(), op.bias)
}
func (op *convOp) Hashcode() uint32 { return hashOf(op) }
func (op *convOp) String() string   { return "Conv2d(" + op.g.String() + ")" }

func (op *convOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denses("Conv2d", in)
	if err != nil {
		return nil, err
	}
	if !ts[0].Shape().Eq(tensor.Shape(op.g.xShape())) {
		return nil, fmt.Errorf("ops: Conv2d: input %v, compiled for %v", ts[0].Shape(), op.g.xShape())
	}
	y := op.out.get(ts[0].Dtype(), op.g.yShape())
	switch yd := y.Data().(type) {
	case []float32:
		convForward(op.g, op.ws.convPlan(op.g), &op.ws, yd, ts[0].Data().([]float32), ts[1].Data().([]float32), biasData[float32](ts, op.bias))
	case []float64:
		convForward(op.g, op.ws.convPlan(op.g), &op.ws, yd, ts[0].Data().([]float64), ts[1].Data().([]float64), biasData[float64](ts, op.bias))
	}
	return y, nil
}

// convDxOp is gx = col2im(wᵀ·gy) from (w, gy).
type convDxOp struct {
	g   convGeom
	out outBuf
	ws  work
}

func (op *convDxOp) Arity() int           { return 2 }
func (op *convDxOp) ReturnsPtr() bool     { return false }
func (op *convDxOp) CallsExtern() bool    { return false }
func (op *convDxOp) OverwritesInput() int { return -1 }
func (op *convDxOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4))
}
func (op *convDxOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.g.xShape()), nil
}
func (op *convDxOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm.Conv2d∂x(%s)", op.g.hash()) }
func (op *convDxOp) Hashcode() uint32      { return hashOf(op) }
func (op *convDxOp) String() string        { return "Conv2d∂x(" + op.g.String() + ")" }

func (op *convDxOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denses("Conv2d∂x", in)
	if err != nil {
		return nil, err
	}
	gx := op.out.get(ts[0].Dtype(), op.g.xShape())
	switch d := gx.Data().(type) {
	case []float32:
		convDx(op.g, op.ws.convPlan(op.g), &op.ws, d, ts[0].Data().([]float32), ts[1].Data().([]float32))
	case []float64:
		convDx(op.g, op.ws.convPlan(op.g), &op.ws, d, ts[0].Data().([]float64), ts[1].Data().([]float64))
	}
	return gx, nil
}

// convDwOp is gw = gy·im2col(x)ᵀ from (x, gy).
type convDwOp struct {
	g   convGeom
	out outBuf
	ws  work
}

func (op *convDwOp) Arity() int           { return 2 }
func (op *convDwOp) ReturnsPtr() bool     { return false }
func (op *convDwOp) CallsExtern() bool    { return false }
func (op *convDwOp) OverwritesInput() int { return -1 }
func (op *convDwOp) Type() hm.Type {
	return hm.NewFnType(tensorType(4), tensorType(4), tensorType(4))
}
func (op *convDwOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.g.wShape()), nil
}
func (op *convDwOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ebm.Conv2d∂W(%s)", op.g.hash()) }
func (op *convDwOp) Hashcode() uint32      { return hashOf(op) }
func (op *convDwOp) String() string        { return "Conv2d∂W(" + op.g.String() + ")" }

func (op *convDwOp) Do(in ...G.Value) (G.Value, error) {
	ts, err := denses("Conv2d∂W", in)
	if err != nil {
		return nil, err
	}
	gw := op.out.get(ts[0].Dtype(), op.g.wShape())
	switch d := gw.Data().(type) {
	case []float32:
		convDw(op.g, op.ws.convPlan(op.g), &op.ws, d, ts[0].Data().([]float32), ts[1].Data().([]float32))
	case []float64:
		convDw(op.g, op.ws.convPlan(op.g), &op.ws, d, ts[0].Data().([]float64), ts[1].Data().([]float64))
	}
	return gw, nil
}

package ops

// Float32 weight gradients on the tiles, for machines where no native BLAS
// is loaded: there internal/blas would run gonum's GEMM, which has no
// blocking for registers (plain Go on arm64, SSE loops on amd64), while
// the tiles of the level (AVX-512, AVX2, NEON) already run the forward and
// ∂x products. With OpenBLAS loaded, ∂W keeps going through it.
//
// Conv2d: ∂W = Σ over chunks of gy_chunk (O × nb·pix) · col_chunkᵀ, the
// transposed column block built directly (one row of taps per output
// pixel) so that the taps are the vectors of B; each chunk's part is added
// in chunk order as in convDw. Linear: ∂W (Out × In) = gyᵀ · x, x read in
// place.

// useTilesDW reports whether the float32 ∂W products run on the tiles
// (set by setLevel; tests switch it).
var useTilesDW bool

// convDwTiles is convDw in float32 on the tiles.
func convDwTiles(g convGeom, pl convPlan, ws *work, dw, x, gy []float32) {
	rows, pix, size := g.rows(), g.pix(), g.o*g.rows()
	rr := roundUp(rows, lanes) // row stride of the transposed block
	nchunks := (g.n + pl.b - 1) / pl.b
	parts := workGet[float32](ws, 1, nchunks*size)
	bufs := chunkScratch[float32](g, pl, ws)
	mMax := pl.b * pix
	per := mMax*rr + g.o*mMax
	scratch := workGet[float32](ws, 2, Workers()*per)
	boff := ws.rowOffsets(mMax, rr)
	kk, phw := g.k*g.k, g.padHW()
	pl.chunks(g.n, func(wk, n0, nb int) {
		_, t, pad := bufs(wk)
		m := nb * pix
		mine := scratch[wk*per : (wk+1)*per]
		colT, ap := mine[:mMax*rr], mine[mMax*rr:]
		gatherChunk(g, pl, t, gy, n0, nb)
		src := padChunk(g, x, pad, n0, nb)
		for c := range g.c {
			sc := src[c*phw:]
			for uv := range kk {
				tap := c*kk + uv
				for p, id := range pl.tbl[uv*pl.b*pix : uv*pl.b*pix+m] {
					colT[p*rr+tap] = sc[id]
				}
			}
		}
		packA(ap, t, g.o, m, pl.ld, 1)
		k := n0 / pl.b
		tileGemm(g.o, rows, m, ap, boff[:m], blockLayout(colT), blockLayout(parts[k*size:]), rows*4, nil)
	})
	addParts(dw, parts, nchunks, size)
}

// addParts sets dw to the sum of the nchunks parts of size values, in
// chunk order.
func addParts[T float](dw, parts []T, nchunks, size int) {
	copy(dw, parts[:size])
	for k := 1; k < nchunks; k++ {
		for i, v := range parts[k*size : (k+1)*size] {
			dw[i] += v
		}
	}
}

// linearDwTiles sets gw (m × k) = gyᵀ · x for gy (n × m) and x (n × k),
// row-major: A = gyᵀ packed, B = x in place, row panels of C spread over
// the workers.
func linearDwTiles(ws *work, gw, gy, x []float32, n, m, k int) {
	a := workGet[float32](ws, 2, m*n)
	packA(a, gy, m, n, 1, m)
	boff := ws.rowOffsets(n, k)
	b := blockLayout(x)
	group := max(tileRows, (m+2*Workers()-1)/(2*Workers())/tileRows*tileRows)
	parallelFor((m+group-1)/group, func(_, lo, hi int) {
		for gi := lo; gi < hi; gi++ {
			i0 := gi * group
			tileGemm(min(group, m-i0), k, n, a[i0*n:], boff, b, blockLayout(gw[i0*k:]), k*4, nil)
		}
	})
}

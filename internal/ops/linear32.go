package ops

import "unsafe"

// Float32 Linear layers on AVX-512, batch-wide: the batch is transposed
// in chunks of 16 samples (each feature of a chunk one vector, convsm.go's
// transposes), then one tiled product over all chunks, whose 6×4 tiles
// span 64 samples and so read each weight once per 64 samples, then
// transposed back.
//
// In the transposed blocks a chunk holds a vector per feature, the
// features rounded up to 16 (the transposes move whole blocks of 16).

// useLinearTiles reports whether a float32 Linear product of n samples
// runs here.
func useLinearTiles(n int) bool { return useTiles && n >= lanes }

// linearTiles sets out (n × mo, row-major) = in (n × k) · Aᵀ + bias, where
// a is A (mo × k) packed by packA and bias is nil or holds mo values: the
// forward y = x·Wᵀ + b (A = W) and the input gradient gx = gy·W (A = Wᵀ).
func linearTiles(ws *work, out, in, a, bias []float32, n, k, mo int) {
	nch := (n + lanes - 1) / lanes
	kr, mr := roundUp(k, lanes), roundUp(mo, lanes)
	blocks := workGet[float32](ws, 3, nch*(kr+mr)*lanes+kr+mr)
	xt, yt := blocks[:nch*kr*lanes], blocks[nch*kr*lanes:nch*(kr+mr)*lanes]
	pad := blocks[nch*(kr+mr)*lanes:] // zero rows for missing samples (In), junk (Out)
	zero, junk := pad[:kr], ws.junkRows(Workers(), mr)
	off := ws.linearOffsets(max(kr, mr))
	parallelFor(nch, func(_, lo, hi int) {
		var r [lanes]unsafe.Pointer
		for ch := lo; ch < hi; ch++ {
			n0 := ch * lanes
			smRows(&r, in, n0, min(lanes, n-n0), k, zero)
			transpose16In(&r, unsafe.Pointer(&xt[ch*kr*lanes]), off, k)
		}
	})
	boff := ws.rowOffsets(k, lanes)
	b := vecLayout{base: unsafe.Pointer(&xt[0]), per: 1, stride: kr * lanes * 4}
	// Rows of C in groups of whole panels, handed out to the workers.
	group := max(tileRows, (mo+2*Workers()-1)/(2*Workers())/tileRows*tileRows)
	parallelFor((mo+group-1)/group, func(_, lo, hi int) {
		for gi := lo; gi < hi; gi++ {
			i0 := gi * group
			m := min(group, mo-i0)
			c := vecLayout{base: unsafe.Pointer(&yt[i0*lanes]), per: 1, stride: mr * lanes * 4}
			var bi []float32
			if bias != nil {
				bi = bias[i0:]
			}
			tileGemm(m, nch*lanes, k, a[i0*k:], boff, b, c, lanes*4, bi)
		}
	})
	parallelFor(nch, func(wk, lo, hi int) {
		var r [lanes]unsafe.Pointer
		for ch := lo; ch < hi; ch++ {
			n0 := ch * lanes
			smRows(&r, out, n0, min(lanes, n-n0), mo, junk[wk])
			transpose16Out(&r, yt[ch*mr*lanes:], mo)
		}
	})
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

// linearOffsets returns q·64 for q < n: feature q's vector in a chunk.
func (ws *work) linearOffsets(n int) []int32 {
	if len(ws.linOff) < n {
		ws.linOff = make([]int32, n)
		for q := range ws.linOff {
			ws.linOff[q] = int32(q * lanes * 4)
		}
	}
	return ws.linOff
}

// junkRows returns w rows of n values each, one per worker, for the
// transposes to write samples past the batch's end to.
func (ws *work) junkRows(w, n int) [][]float32 {
	if len(ws.junk) != w || len(ws.junk[0]) < n {
		ws.junk = make([][]float32, w)
		for i := range ws.junk {
			ws.junk[i] = make([]float32, n)
		}
	}
	return ws.junk
}

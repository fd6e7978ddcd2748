package main

import "fmt"

// transposeAMD64 writes the transposes of 16 rows of floats into vectors
// of 16 (one value per row) and back, for the sample-minor blocks of
// package ops (convsm.go):
//
//	transposeIn:  for column q of block b (q = 16b + t): the vector
//	              (row[0][q], …, row[15][q]) is stored at dst + off[q] bytes.
//	transposeOut: row[s][q] = the lane s of the vector at src + 64q, for q
//	              in the blocks.
//
// The Tail variants load the rows (In) or store to them (Out) under the
// lane mask, for a short last block; the others move whole blocks with
// plain loads and stores. AVX-512: each block is 16 loads, 64 shuffles in
// registers and 16 stores. AVX2 (suffix AVX2): each block is four 8×8
// transposes of 24 shuffles each, the 8-lane halves of the vectors; the
// tails use the per-lane mask transArgs.lanemask.
func transposeAMD64(a *asm) {
	Z := make([]string, 16)
	for i := range Z {
		Z[i] = fmt.Sprintf("Z%d", i)
	}
	prologue := func(fn string) {
		a.l("// func %s(t *transArgs)", fn)
		a.l("TEXT ·%s(SB), NOSPLIT, $0-8", fn)
		a.i("MOVQ t+0(FP), DI")
		a.i("MOVQ transArgs_rows(DI), SI")
		a.i("MOVQ transArgs_vec(DI), DX")
		a.i("MOVQ transArgs_off(DI), R10")
		a.i("MOVQ transArgs_nblk(DI), CX")
		a.i("MOVQ transArgs_mask(DI), AX")
		a.i("KMOVW AX, K1")
		a.i("XORQ BX, BX") // BX: byte offset of the block in a row
	}
	for _, masked := range []bool{false, true} {
		sfx := ""
		if masked {
			sfx = "Tail"
		}
		fn := "transposeIn" + sfx
		prologue(fn)
		a.l("%s_loop:", fn)
		for i := range 16 {
			a.i("MOVQ %d(SI), AX", 8*i)
			if masked {
				a.i("VMOVUPS.Z (AX)(BX*1), K1, Z%d", i)
			} else {
				a.i("VMOVUPS (AX)(BX*1), Z%d", i)
			}
		}
		transpose16(a, Z, Z)
		for j := range 16 {
			a.i("MOVLQSX %d(R10), AX", 4*j)
			a.i("VMOVUPS Z%d, (DX)(AX*1)", j)
		}
		a.i("ADDQ $64, BX")
		a.i("ADDQ $64, R10")
		a.i("DECQ CX")
		a.i("JNZ %s_loop", fn)
		a.i("VZEROUPPER")
		a.i("RET")
		a.l("")

		fn = "transposeOut" + sfx
		prologue(fn)
		a.l("%s_loop:", fn)
		for i := range 16 {
			a.i("VMOVUPS %d(DX), Z%d", 64*i, i)
		}
		transpose16(a, Z, Z)
		for j := range 16 {
			a.i("MOVQ %d(SI), AX", 8*j)
			if masked {
				a.i("VMOVUPS Z%d, K1, (AX)(BX*1)", j)
			} else {
				a.i("VMOVUPS Z%d, (AX)(BX*1)", j)
			}
		}
		a.i("ADDQ $64, BX")
		a.i("ADDQ $1024, DX")
		a.i("DECQ CX")
		a.i("JNZ %s_loop", fn)
		a.i("VZEROUPPER")
		a.i("RET")
		a.l("")
	}
	for _, masked := range []bool{false, true} {
		transposeAVX2(a, masked)
	}
}

// transpose16 transposes the 16×16 block in the registers r (row i in
// r[i]); column j lands in t[j]. It uses Z16-Z31 as scratch: stage 3 reads
// the rows' registers and writes the scratch ones, so stage 4 may write
// the results over the rows.
func transpose16(a *asm, r, t []string) {
	s := make([]string, 16)
	for i := range s {
		s[i] = fmt.Sprintf("Z%d", 16+i)
	}
	// Stage 1: interleave pairs of rows (within 128-bit lanes).
	for k := range 8 {
		a.i("VUNPCKLPS %s, %s, %s", r[2*k+1], r[2*k], s[2*k])
		a.i("VUNPCKHPS %s, %s, %s", r[2*k+1], r[2*k], s[2*k+1])
	}
	// Stage 2: pairs of pairs, as 64-bit units: b[4k+c] holds rows
	// 4k…4k+3 of columns c, c+4, c+8, c+12.
	b := r // reuse the row registers
	for k := range 4 {
		a.i("VUNPCKLPD %s, %s, %s", s[4*k+2], s[4*k], b[4*k])
		a.i("VUNPCKHPD %s, %s, %s", s[4*k+2], s[4*k], b[4*k+1])
		a.i("VUNPCKLPD %s, %s, %s", s[4*k+3], s[4*k+1], b[4*k+2])
		a.i("VUNPCKHPD %s, %s, %s", s[4*k+3], s[4*k+1], b[4*k+3])
	}
	// Stages 3 and 4: gather the 128-bit lanes of column c from b[c],
	// b[4+c], b[8+c], b[12+c].
	for c := range 4 {
		e, f, g, h := s[4*c], s[4*c+1], s[4*c+2], s[4*c+3]
		a.i("VSHUFF32X4 $0x88, %s, %s, %s", b[4+c], b[c], e)
		a.i("VSHUFF32X4 $0xdd, %s, %s, %s", b[4+c], b[c], f)
		a.i("VSHUFF32X4 $0x88, %s, %s, %s", b[12+c], b[8+c], g)
		a.i("VSHUFF32X4 $0xdd, %s, %s, %s", b[12+c], b[8+c], h)
	}
	for c := range 4 {
		e, f, g, h := s[4*c], s[4*c+1], s[4*c+2], s[4*c+3]
		a.i("VSHUFF32X4 $0x88, %s, %s, %s", g, e, t[c])
		a.i("VSHUFF32X4 $0xdd, %s, %s, %s", g, e, t[c+8])
		a.i("VSHUFF32X4 $0x88, %s, %s, %s", h, f, t[c+4])
		a.i("VSHUFF32X4 $0xdd, %s, %s, %s", h, f, t[c+12])
	}
}

// transpose8 transposes the 8×8 block in Y0…Y7 (row i in Yi): column c
// lands in Y(8+c).
func transpose8(a *asm) {
	r := func(i int) string { return fmt.Sprintf("Y%d", i) }
	t := func(i int) string { return fmt.Sprintf("Y%d", 8+i) }
	for k := range 4 {
		a.i("VUNPCKLPS %s, %s, %s", r(2*k+1), r(2*k), t(2*k))
		a.i("VUNPCKHPS %s, %s, %s", r(2*k+1), r(2*k), t(2*k+1))
	}
	// r0 = columns 0|4 of rows 0-3, r1 = 1|5, r2 = 2|6, r3 = 3|7; r4… rows 4-7.
	for h := range 2 {
		lo, hi := t(4*h), t(4*h+1)
		lo2, hi2 := t(4*h+2), t(4*h+3)
		a.i("VSHUFPS $0x44, %s, %s, %s", lo2, lo, r(4*h))
		a.i("VSHUFPS $0xee, %s, %s, %s", lo2, lo, r(4*h+1))
		a.i("VSHUFPS $0x44, %s, %s, %s", hi2, hi, r(4*h+2))
		a.i("VSHUFPS $0xee, %s, %s, %s", hi2, hi, r(4*h+3))
	}
	for c := range 4 {
		a.i("VPERM2F128 $0x20, %s, %s, %s", r(4+c), r(c), t(c))
		a.i("VPERM2F128 $0x31, %s, %s, %s", r(4+c), r(c), t(4+c))
	}
}

// transposeAVX2 writes transposeInAVX2 and transposeOutAVX2 (or their Tail
// variants): each block of 16 rows × 16 columns as four 8×8 transposes,
// (hs, hq) taking the rows 8hs… and the columns 8hq….
func transposeAVX2(a *asm, masked bool) {
	sfx := "AVX2"
	if masked {
		sfx = "TailAVX2"
	}
	prologue := func(fn string) {
		a.l("// func %s(t *transArgs)", fn)
		a.l("TEXT ·%s(SB), NOSPLIT, $0-8", fn)
		a.i("MOVQ t+0(FP), DI")
		a.i("MOVQ transArgs_rows(DI), SI")
		a.i("MOVQ transArgs_vec(DI), DX")
		a.i("MOVQ transArgs_off(DI), R10")
		a.i("MOVQ transArgs_nblk(DI), CX")
		a.i("XORQ BX, BX")
	}
	fn := "transposeIn" + sfx
	prologue(fn)
	a.l("%s_loop:", fn)
	for hq := range 2 {
		for hs := range 2 {
			if masked {
				a.i("VMOVDQU %s(DI), Y8", field("transArgs_lanemask", 32*hq))
			}
			for r := range 8 {
				a.i("MOVQ %d(SI), AX", 8*(8*hs+r))
				if masked {
					a.i("VMASKMOVPS %d(AX)(BX*1), Y8, Y%d", 32*hq, r)
				} else {
					a.i("VMOVUPS %d(AX)(BX*1), Y%d", 32*hq, r)
				}
			}
			transpose8(a)
			for c := range 8 {
				a.i("MOVLQSX %d(R10), AX", 4*(8*hq+c))
				a.i("VMOVUPS Y%d, %d(DX)(AX*1)", 8+c, 32*hs)
			}
		}
	}
	a.i("ADDQ $64, BX")
	a.i("ADDQ $64, R10")
	a.i("DECQ CX")
	a.i("JNZ %s_loop", fn)
	a.i("VZEROUPPER")
	a.i("RET")
	a.l("")

	fn = "transposeOut" + sfx
	prologue(fn)
	a.l("%s_loop:", fn)
	for hq := range 2 {
		for hs := range 2 {
			for c := range 8 {
				a.i("VMOVUPS %d(DX), Y%d", 64*(8*hq+c)+32*hs, c)
			}
			transpose8(a)
			if masked {
				a.i("VMOVDQU %s(DI), Y0", field("transArgs_lanemask", 32*hq))
			}
			for r := range 8 {
				a.i("MOVQ %d(SI), AX", 8*(8*hs+r))
				if masked {
					a.i("VMASKMOVPS Y%d, Y0, %d(AX)(BX*1)", 8+r, 32*hq)
				} else {
					a.i("VMOVUPS Y%d, %d(AX)(BX*1)", 8+r, 32*hq)
				}
			}
		}
	}
	a.i("ADDQ $64, BX")
	a.i("ADDQ $1024, DX")
	a.i("DECQ CX")
	a.i("JNZ %s_loop", fn)
	a.i("VZEROUPPER")
	a.i("RET")
	a.l("")
}

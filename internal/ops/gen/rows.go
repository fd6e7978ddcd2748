package main

// rowsAMD64 writes the AVX-512 kernels that move the rows of im2col and
// col2im (package ops, rows.go). A row is ow values x[o + s·j], j < ow, of a
// (padded) image, read or added back through one 32-lane window at offset
// o, so each row is a few vector instructions whatever its length
// (s·(ow − 1) < 32).
//
//	gatherRows:     dst[r·ow + j] = src[off[r] + s·j]           (im2col)
//	scatterAddRows: src[off[r] + s·j] += dst[r·ow + j]          (col2im; rows must not overlap)
func rowsAMD64(a *asm) {
	prologue := func(fn string) {
		a.l("// func %s(t *rowArgs)", fn)
		a.l("TEXT ·%s(SB), NOSPLIT, $0-8", fn)
		a.i("MOVQ t+0(FP), DI")
		a.i("MOVQ rowArgs_dst(DI), R8")
		a.i("MOVQ rowArgs_src(DI), R9")
		a.i("MOVQ rowArgs_off(DI), R10")
		a.i("MOVQ rowArgs_n(DI), CX")
		a.i("MOVQ rowArgs_step(DI), R11")
		a.i("MOVQ rowArgs_mlo(DI), AX")
		a.i("KMOVW AX, K1")
		a.i("MOVQ rowArgs_mhi(DI), AX")
		a.i("KMOVW AX, K2")
		a.i("MOVQ rowArgs_mst(DI), AX")
		a.i("KMOVW AX, K3")
	}
	epilogue := func(fn string) {
		a.i("ADDQ R11, R8")
		a.i("ADDQ $4, R10")
		a.i("DECQ CX")
		a.i("JNZ %s_loop", fn)
		a.i("VZEROUPPER")
		a.i("RET")
		a.l("")
	}

	// gather: Z0 = index (s·j), window in Z1 (lanes 0-15) and Z2 (lanes 16-31).
	prologue("gatherRows")
	a.i("MOVQ rowArgs_idx(DI), AX")
	a.i("VMOVDQU32 (AX), Z0")
	a.l("gatherRows_loop:")
	a.i("MOVLQSX (R10), AX")
	a.i("VMOVUPS.Z (R9)(AX*4), K1, Z1")
	a.i("VMOVUPS.Z 64(R9)(AX*4), K2, Z2")
	a.i("VPERMT2PS Z2, Z0, Z1")
	a.i("VMOVUPS Z1, K3, (R8)")
	epilogue("gatherRows")

	// scatter-add: the row's ow values spread to the window's lanes s·j by
	// two permutations with a zero table (Z3 = 0), added to the window and
	// stored back under the window masks.
	prologue("scatterAddRows")
	a.i("MOVQ rowArgs_lo(DI), AX")
	a.i("VMOVDQU32 (AX), Z4")
	a.i("MOVQ rowArgs_hi(DI), AX")
	a.i("VMOVDQU32 (AX), Z5")
	a.i("VPXORD Z3, Z3, Z3")
	a.l("scatterAddRows_loop:")
	a.i("MOVLQSX (R10), AX")
	a.i("VMOVUPS.Z (R8), K3, Z0")
	a.i("VMOVAPS Z0, Z6")
	a.i("VPERMT2PS Z3, Z4, Z0")
	a.i("VPERMT2PS Z3, Z5, Z6")
	a.i("VMOVUPS.Z (R9)(AX*4), K1, Z1")
	a.i("VMOVUPS.Z 64(R9)(AX*4), K2, Z2")
	a.i("VADDPS Z0, Z1, Z1")
	a.i("VADDPS Z6, Z2, Z2")
	a.i("VMOVUPS Z1, K1, (R9)(AX*4)")
	a.i("VMOVUPS Z2, K2, 64(R9)(AX*4)")
	epilogue("scatterAddRows")
}

package main

import (
	"fmt"
	"go/format"
	"strings"
)

// gofmt formats generated Go source; the generator's own output is valid
// Go, so an error is a bug here.
func gofmt(src string) []byte {
	b, err := format.Source([]byte(src))
	if err != nil {
		panic("gen: generated Go does not parse: " + err.Error())
	}
	return b
}

// gemmAMD64 writes the float32 product tiles (package ops, gemm32.go).
//
// A tile computes, for rows i < MR and vectors j of 16 columns,
//
//	C[i, j] = bias[i] (or 0) + Σ_p A[p·MR + i] · B[p, j]
//
// with A packed (K × MR, row p holding the MR values of column p), B's row
// p, vector j at b[j] + boff[p] bytes, and C's row i, vector j at
// c[j] + i·ldc bytes.
//
// AVX-512 (sgemmTile{MR}x{NV}, MR = 1…6, NV = 1…4): accumulators Z0…Z23
// (row i, vector j in Z(i·NV + j)), B vectors Z24…Z27, broadcasts of A in
// Z28/Z29 (alternating, so that consecutive rows do not wait on one
// register). The last vector is loaded and stored under the lane mask in K1
// (the others are whole), so tails need no copies.
//
// AVX2 (sgemmTileAVX2_{MR}, MR = 1…6, one vector of 16 columns as two
// 8-lane halves): accumulators Y0…Y11 (row i in Y(2i), Y(2i+1)), B in
// Y12/Y13, broadcasts in Y14/Y15 — the 6×16 shape of the usual AVX2
// kernels. The masked variant (sgemmTileAVX2Mask_{MR}) loads and stores
// under the per-lane mask tileArgs.lanemask; it runs on the last vector of
// a product only when that vector is not whole.
func gemmAMD64(a *asm) {
	bregs := []string{"R8", "R9", "R10", "R11"}
	for mr := 1; mr <= 6; mr++ {
		for nv := 1; nv <= 4; nv++ {
			fn := fmt.Sprintf("sgemmTile%dx%d", mr, nv)
			acc := func(i, j int) string { return fmt.Sprintf("Z%d", i*nv+j) }
			a.l("// func %s(t *tileArgs)", fn)
			a.l("TEXT ·%s(SB), NOSPLIT, $0-8", fn)
			a.i("MOVQ t+0(FP), DI")
			a.i("MOVQ tileArgs_k(DI), CX")
			a.i("MOVQ tileArgs_a(DI), SI")
			a.i("MOVQ tileArgs_boff(DI), DX")
			a.i("MOVQ tileArgs_mask(DI), AX")
			a.i("KMOVW AX, K1")
			for j := range nv {
				a.i("MOVQ %s(DI), %s", field("tileArgs_b", 8*j), bregs[j])
			}
			// Accumulators start at the bias, or zero.
			a.i("MOVQ tileArgs_bias(DI), BX")
			a.i("TESTQ BX, BX")
			a.i("JZ %s_zero", fn)
			for i := range mr {
				a.i("VBROADCASTSS %d(BX), %s", 4*i, acc(i, 0))
				for j := 1; j < nv; j++ {
					a.i("VMOVAPS %s, %s", acc(i, 0), acc(i, j))
				}
			}
			a.i("JMP %s_loop", fn)
			a.l("%s_zero:", fn)
			for i := range mr {
				for j := range nv {
					a.i("VPXORD %s, %s, %s", acc(i, j), acc(i, j), acc(i, j))
				}
			}
			a.l("%s_loop:", fn)
			a.i("MOVQ (DX), BX")
			for j := range nv {
				if j == nv-1 {
					a.i("VMOVUPS.Z (%s)(BX*1), K1, Z%d", bregs[j], 24+j)
				} else {
					a.i("VMOVUPS (%s)(BX*1), Z%d", bregs[j], 24+j)
				}
			}
			for i := range mr {
				t := fmt.Sprintf("Z%d", 28+i%2)
				a.i("VBROADCASTSS %d(SI), %s", 4*i, t)
				for j := range nv {
					a.i("VFMADD231PS Z%d, %s, %s", 24+j, t, acc(i, j))
				}
			}
			a.i("ADDQ $8, DX")
			a.i("ADDQ $%d, SI", 4*mr)
			a.i("DECQ CX")
			a.i("JNZ %s_loop", fn)
			// Store row by row.
			for j := range nv {
				a.i("MOVQ %s(DI), %s", field("tileArgs_c", 8*j), bregs[j])
			}
			a.i("MOVQ tileArgs_ldc(DI), BX")
			for i := range mr {
				for j := range nv {
					if j == nv-1 {
						a.i("VMOVUPS %s, K1, (%s)", acc(i, j), bregs[j])
					} else {
						a.i("VMOVUPS %s, (%s)", acc(i, j), bregs[j])
					}
				}
				if i+1 < mr {
					for j := range nv {
						a.i("ADDQ BX, %s", bregs[j])
					}
				}
			}
			a.i("VZEROUPPER")
			a.i("RET")
			a.l("")
		}
	}
	for _, masked := range []bool{false, true} {
		for mr := 1; mr <= 6; mr++ {
			gemmAVX2(a, mr, masked)
		}
	}
	for nv := 2; nv <= 4; nv++ {
		gemmAVX2Row(a, nv)
	}
}

// gemmAVX2Row writes the AVX2 tile of one row and nv whole vectors
// (sgemmTileAVX2_1x{NV}): 2·nv accumulators, so that enough independent
// sums hide the FMA latency when A has a single row; B is read straight by
// the FMAs.
func gemmAVX2Row(a *asm, nv int) {
	fn := avx2RowName(nv)
	bregs := []string{"R8", "R9", "R10", "R11"}
	a.l("// func %s(t *tileArgs)", fn)
	a.l("TEXT ·%s(SB), NOSPLIT, $0-8", fn)
	a.i("MOVQ t+0(FP), DI")
	a.i("MOVQ tileArgs_k(DI), CX")
	a.i("MOVQ tileArgs_a(DI), SI")
	a.i("MOVQ tileArgs_boff(DI), DX")
	for j := range nv {
		a.i("MOVQ %s(DI), %s", field("tileArgs_b", 8*j), bregs[j])
	}
	a.i("MOVQ tileArgs_bias(DI), BX")
	a.i("TESTQ BX, BX")
	a.i("JZ %s_zero", fn)
	a.i("VBROADCASTSS (BX), Y0")
	for r := 1; r < 2*nv; r++ {
		a.i("VMOVAPS Y0, Y%d", r)
	}
	a.i("JMP %s_loop", fn)
	a.l("%s_zero:", fn)
	for r := range 2 * nv {
		a.i("VXORPS Y%d, Y%d, Y%d", r, r, r)
	}
	a.l("%s_loop:", fn)
	a.i("MOVQ (DX), BX")
	a.i("VBROADCASTSS (SI), Y15")
	for j := range nv {
		a.i("VFMADD231PS (%s)(BX*1), Y15, Y%d", bregs[j], 2*j)
		a.i("VFMADD231PS 32(%s)(BX*1), Y15, Y%d", bregs[j], 2*j+1)
	}
	a.i("ADDQ $8, DX")
	a.i("ADDQ $4, SI")
	a.i("DECQ CX")
	a.i("JNZ %s_loop", fn)
	for j := range nv {
		a.i("MOVQ %s(DI), %s", field("tileArgs_c", 8*j), bregs[j])
		a.i("VMOVUPS Y%d, (%s)", 2*j, bregs[j])
		a.i("VMOVUPS Y%d, 32(%s)", 2*j+1, bregs[j])
	}
	a.i("VZEROUPPER")
	a.i("RET")
	a.l("")
}

func avx2RowName(nv int) string { return fmt.Sprintf("sgemmTileAVX2_1x%d", nv) }

// gemmAVX2 writes the AVX2 tile of mr rows and one vector of 16 columns.
func gemmAVX2(a *asm, mr int, masked bool) {
	fn := avx2TileName(mr, masked)
	acc := func(i, h int) string { return fmt.Sprintf("Y%d", 2*i+h) }
	a.l("// func %s(t *tileArgs)", fn)
	a.l("TEXT ·%s(SB), NOSPLIT, $0-8", fn)
	a.i("MOVQ t+0(FP), DI")
	a.i("MOVQ tileArgs_k(DI), CX")
	a.i("MOVQ tileArgs_a(DI), SI")
	a.i("MOVQ tileArgs_boff(DI), DX")
	a.i("MOVQ tileArgs_b(DI), R8")
	a.i("MOVQ tileArgs_bias(DI), BX")
	a.i("TESTQ BX, BX")
	a.i("JZ %s_zero", fn)
	for i := range mr {
		a.i("VBROADCASTSS %d(BX), %s", 4*i, acc(i, 0))
		a.i("VMOVAPS %s, %s", acc(i, 0), acc(i, 1))
	}
	a.i("JMP %s_loop", fn)
	a.l("%s_zero:", fn)
	for i := range mr {
		for h := range 2 {
			a.i("VXORPS %s, %s, %s", acc(i, h), acc(i, h), acc(i, h))
		}
	}
	a.l("%s_loop:", fn)
	a.i("MOVQ (DX), BX")
	if masked {
		a.i("VMOVDQU tileArgs_lanemask(DI), Y14")
		a.i("VMASKMOVPS (R8)(BX*1), Y14, Y12")
		a.i("VMOVDQU %s(DI), Y15", field("tileArgs_lanemask", 32))
		a.i("VMASKMOVPS 32(R8)(BX*1), Y15, Y13")
	} else {
		a.i("VMOVUPS (R8)(BX*1), Y12")
		a.i("VMOVUPS 32(R8)(BX*1), Y13")
	}
	for i := range mr {
		t := fmt.Sprintf("Y%d", 14+i%2)
		a.i("VBROADCASTSS %d(SI), %s", 4*i, t)
		a.i("VFMADD231PS Y12, %s, %s", t, acc(i, 0))
		a.i("VFMADD231PS Y13, %s, %s", t, acc(i, 1))
	}
	a.i("ADDQ $8, DX")
	a.i("ADDQ $%d, SI", 4*mr)
	a.i("DECQ CX")
	a.i("JNZ %s_loop", fn)
	a.i("MOVQ tileArgs_c(DI), R8")
	a.i("MOVQ tileArgs_ldc(DI), BX")
	if masked {
		a.i("VMOVDQU tileArgs_lanemask(DI), Y12")
		a.i("VMOVDQU %s(DI), Y13", field("tileArgs_lanemask", 32))
	}
	for i := range mr {
		if masked {
			a.i("VMASKMOVPS %s, Y12, (R8)", acc(i, 0))
			a.i("VMASKMOVPS %s, Y13, 32(R8)", acc(i, 1))
		} else {
			a.i("VMOVUPS %s, (R8)", acc(i, 0))
			a.i("VMOVUPS %s, 32(R8)", acc(i, 1))
		}
		if i+1 < mr {
			a.i("ADDQ BX, R8")
		}
	}
	a.i("VZEROUPPER")
	a.i("RET")
	a.l("")
}

func avx2TileName(mr int, masked bool) string {
	if masked {
		return fmt.Sprintf("sgemmTileAVX2Mask%d", mr)
	}
	return fmt.Sprintf("sgemmTileAVX2_%d", mr)
}

// field is a go_asm.h field offset plus off bytes.
func field(name string, off int) string {
	if off == 0 {
		return name
	}
	return fmt.Sprintf("%s+%d", name, off)
}

// gemmDecls is gemm_amd64.go: the Go declarations of the tiles and their
// tables.
func gemmDecls() []byte {
	var g strings.Builder
	g.WriteString(header + "package ops\n\n")
	for mr := 1; mr <= 6; mr++ {
		for nv := 1; nv <= 4; nv++ {
			fmt.Fprintf(&g, "//go:noescape\nfunc sgemmTile%dx%d(t *tileArgs)\n\n", mr, nv)
		}
	}
	for _, masked := range []bool{false, true} {
		for mr := 1; mr <= 6; mr++ {
			fmt.Fprintf(&g, "//go:noescape\nfunc %s(t *tileArgs)\n\n", avx2TileName(mr, masked))
		}
	}
	for nv := 2; nv <= 4; nv++ {
		fmt.Fprintf(&g, "//go:noescape\nfunc %s(t *tileArgs)\n\n", avx2RowName(nv))
	}
	g.WriteString("// tilesAVX512.fn[mr-1][nv-1] is the AVX-512 tile of mr rows and nv vectors of 16 columns.\n")
	g.WriteString("var tilesAVX512 = tileSet{\n\tvecs: 4,\n\trowVecs: 4,\n\tfn: [tileRows][tileVecs]func(*tileArgs){\n")
	for mr := 1; mr <= 6; mr++ {
		var fs []string
		for nv := 1; nv <= 4; nv++ {
			fs = append(fs, fmt.Sprintf("sgemmTile%dx%d", mr, nv))
		}
		fmt.Fprintf(&g, "\t\t{%s},\n", strings.Join(fs, ", "))
	}
	g.WriteString("\t},\n}\n\n")
	g.WriteString("// tilesAVX2.fn[mr-1][0] is the AVX2 tile of mr rows and one vector of 16 columns,\n")
	g.WriteString("// tilesAVX2.fn[0][nv-1] the tile of one row and nv vectors (for products of\n")
	g.WriteString("// one row); tilesAVX2.masked[mr-1] is fn[mr-1][0] under tileArgs.lanemask.\n")
	g.WriteString("var tilesAVX2 = tileSet{\n\tvecs: 1,\n\trowVecs: 4,\n\tfn: [tileRows][tileVecs]func(*tileArgs){\n")
	for mr := 1; mr <= 6; mr++ {
		fs := []string{avx2TileName(mr, false)}
		if mr == 1 {
			for nv := 2; nv <= 4; nv++ {
				fs = append(fs, avx2RowName(nv))
			}
		}
		fmt.Fprintf(&g, "\t\t{%s},\n", strings.Join(fs, ", "))
	}
	g.WriteString("\t},\n\tmasked: [tileRows]func(*tileArgs){\n")
	for mr := 1; mr <= 6; mr++ {
		fmt.Fprintf(&g, "\t\t%s,\n", avx2TileName(mr, true))
	}
	g.WriteString("\t},\n}\n")
	return gofmt(g.String())
}

package main

import (
	"fmt"
	"math"
	"strings"
)

// simdAMD64 writes the AVX2+FMA and AVX-512 kernels of the logistic
// function and SiLU (package ops, expf.go), one macro per width.
func simdAMD64(a *asm) {
	consts := []struct {
		name  string
		float bool
		v     float64
	}{
		{"expHi", true, 89.0}, {"expLo", true, -87.3}, {"log2e", true, 1.44269504088896341},
		{"expC1", true, 0.693359375}, {"expC2", true, -2.12194440e-4},
		{"expP0", true, 1.9875691500e-4}, {"expP1", true, 1.3981999507e-3}, {"expP2", true, 8.3334519073e-3},
		{"expP3", true, 4.1665795894e-2}, {"expP4", true, 1.6666665459e-1}, {"expP5", true, 5.0000001201e-1},
		{"one", true, 1.0}, {"bias127", false, 127},
	}
	for _, c := range consts {
		bits := uint32(c.v)
		if c.float {
			bits = math.Float32bits(float32(c.v))
		}
		for i := range 16 {
			a.l("DATA %s<>+%d(SB)/4, $0x%08x", c.name, 4*i, bits)
		}
		a.l("GLOBL %s<>(SB), RODATA|NOPTR, $64", c.name)
		a.l("")
	}
	a.l("%s", sigmoidMacro("Y", "SIGMOID_AVX2"))
	a.l("%s", sigmoidMacro("Z", "SIGMOID_AVX512"))

	bodies := []struct {
		fn    string
		nargs int
		body  []string
	}{
		// y = x·s
		{"siluFwd", 2, []string{"VMULPS R0, R1, R1", "VMOVUPS R1, (DI)"}},
		// gx = gy·s·(1 + x·(1−s)); p0 = gx, p1 = x, p2 = gy
		{"siluBwd", 3, []string{"VSUBPS R1, R11, R2", "VMULPS R0, R2, R2", "VADDPS R11, R2, R2",
			"VMULPS R1, R2, R2", "VMOVUPS (DX), R3", "VMULPS R3, R2, R2", "VMOVUPS R2, (DI)"}},
		// y = s
		{"sigmoidFwd", 2, []string{"VMOVUPS R1, (DI)"}},
		// y = x·s and d = s·(1 + x·(1−s)), the derivative; p0 = y, p1 = x, p2 = d
		{"siluFwdD", 3, []string{"VMULPS R0, R1, R2", "VMOVUPS R2, (DI)", "VSUBPS R1, R11, R3", "VMULPS R0, R3, R3",
			"VADDPS R11, R3, R3", "VMULPS R1, R3, R3", "VMOVUPS R3, (DX)"}},
	}
	for _, b := range bodies {
		simdKernel(a, b.fn, "AVX2", "Y", 8, b.nargs, b.body, true)
		simdKernel(a, b.fn, "AVX512", "Z", 16, b.nargs, b.body, true)
	}
	// p0 = p1·p2, with no logistic.
	mul := []string{"VMOVUPS (DX), R2", "VMULPS R0, R2, R2", "VMOVUPS R2, (DI)"}
	simdKernel(a, "mul", "AVX2", "Y", 8, 3, mul, false)
	simdKernel(a, "mul", "AVX512", "Z", 16, 3, mul, false)
}

// sigmoidMacro is the logistic of R0 into R1, using R1…R5, with the
// constants in R6…R12 (expf.go has the algorithm).
func sigmoidMacro(R, name string) string {
	r := func(i int) string { return fmt.Sprintf("%s%d", R, i) }
	zero := fmt.Sprintf("VPXORD %s, %s, %s", r(1), r(1), r(1))
	if R == "Y" {
		zero = fmt.Sprintf("VPXOR %s, %s, %s", r(1), r(1), r(1))
	}
	lines := []string{
		zero,
		fmt.Sprintf("VSUBPS %s, %s, %s", r(0), r(1), r(1)), // t = -x
		fmt.Sprintf("VMINPS %s, %s, %s", r(1), r(6), r(1)), // min(hi, t): NaN t stays NaN
		fmt.Sprintf("VMAXPS %s, %s, %s", r(1), r(7), r(1)), // max(lo, t)
		fmt.Sprintf("VMULPS %s, %s, %s", r(8), r(1), r(2)), // t*log2e
		fmt.Sprintf("VCVTPS2DQ %s, %s", r(2), r(3)),        // n = round(t*log2e)
		fmt.Sprintf("VCVTDQ2PS %s, %s", r(3), r(2)),
		fmt.Sprintf("VFNMADD231PS %s, %s, %s", r(9), r(2), r(1)),  // r = t - n*C1
		fmt.Sprintf("VFNMADD231PS %s, %s, %s", r(10), r(2), r(1)), // r -= n*C2
		fmt.Sprintf("VMOVUPS expP0<>(SB), %s", r(4)),
		fmt.Sprintf("VFMADD213PS expP1<>(SB), %s, %s", r(1), r(4)),
		fmt.Sprintf("VFMADD213PS expP2<>(SB), %s, %s", r(1), r(4)),
		fmt.Sprintf("VFMADD213PS expP3<>(SB), %s, %s", r(1), r(4)),
		fmt.Sprintf("VFMADD213PS expP4<>(SB), %s, %s", r(1), r(4)),
		fmt.Sprintf("VFMADD213PS expP5<>(SB), %s, %s", r(1), r(4)),
		fmt.Sprintf("VMULPS %s, %s, %s", r(1), r(1), r(5)),      // r²
		fmt.Sprintf("VFMADD213PS %s, %s, %s", r(1), r(5), r(4)), // p·r² + r
		fmt.Sprintf("VADDPS %s, %s, %s", r(11), r(4), r(4)),     // + 1
		fmt.Sprintf("VPADDD %s, %s, %s", r(12), r(3), r(3)),
		fmt.Sprintf("VPSLLD $23, %s, %s", r(3), r(3)),       // 2^n
		fmt.Sprintf("VMULPS %s, %s, %s", r(3), r(4), r(4)),  // e = exp(t)
		fmt.Sprintf("VADDPS %s, %s, %s", r(11), r(4), r(4)), // 1 + e
		fmt.Sprintf("VDIVPS %s, %s, %s", r(4), r(11), r(1)), // 1/(1+e)
	}
	for i, l := range lines {
		lines[i] = "\t" + l + ";"
	}
	return fmt.Sprintf("#define %s \\\n", name) + strings.Join(lines, " \\\n") + "\n"
}

// simdKernel writes one element-wise kernel over n values, a multiple of
// the lanes: nargs pointers in DI, SI, DX, the input at SI.
func simdKernel(a *asm, fn, suffix, R string, lanes, nargs int, body []string, sigmoid bool) {
	macro := "SIGMOID_AVX512"
	if R == "Y" {
		macro = "SIGMOID_AVX2"
	}
	args := []string{"DI", "SI", "DX"}[:nargs]
	var params []string
	for i := range nargs {
		params = append(params, fmt.Sprintf("p%d *float32", i))
	}
	name := fn + suffix
	a.l("// func %s(%s, n int)", name, strings.Join(params, ", "))
	a.l("TEXT ·%s(SB), NOSPLIT, $0-%d", name, 8*nargs+8)
	for i, r := range args {
		a.i("MOVQ p%d+%d(FP), %s", i, 8*i, r)
	}
	a.i("MOVQ n+%d(FP), CX", 8*nargs)
	for i, c := range []string{"expHi", "expLo", "log2e", "expC1", "expC2", "one", "bias127"} {
		a.i("VMOVUPS %s<>(SB), %s%d", c, R, 6+i)
	}
	a.l("%s_loop:", name)
	a.i("CMPQ CX, $%d", lanes)
	a.i("JL %s_done", name)
	a.i("VMOVUPS (SI), %s0", R)
	if sigmoid {
		a.i("%s", macro)
	}
	for _, b := range body {
		a.i("%s", strings.ReplaceAll(b, "R", R))
	}
	for _, r := range args {
		a.i("ADDQ $%d, %s", 4*lanes, r)
	}
	a.i("SUBQ $%d, CX", lanes)
	a.i("JMP %s_loop", name)
	a.l("%s_done:", name)
	a.i("VZEROUPPER")
	a.i("RET")
	a.l("")
}

// Command gen writes the generated assembly of package ops and the Go
// declarations that go with it: the float32 product tiles (gemm_amd64.s,
// gemm_amd64.go; AVX-512 and AVX2+FMA), the sample-minor transposes
// (transpose_amd64.s), the rows of im2col/col2im (rows_amd64.s) and the
// logistic kernels (simd_amd64.s). Each generator function documents the
// maths and the register plan of its kernels. Run it from package ops's
// directory, as its go:generate line does:
//
//	go generate ./internal/ops
//
// Every file it writes starts with a "Code generated … DO NOT EDIT." line.
// The assembly reads its arguments' struct fields through the offsets the
// Go toolchain writes to go_asm.h (tileArgs_k and so on), so the layout of
// the structs in package ops is the only copy of it; go vet checks the
// frame offsets of the functions that take plain arguments. The test of
// this package fails when a committed file differs from what gen writes.
package main

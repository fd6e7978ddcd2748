// Command compare runs ebm's benchmark workloads and the PyTorch reference
// of the same workloads in the same run, each workload in its own process,
// and prints one Markdown table: time per operation for both, the ratio
// ours/PyTorch (below 1 means ebm is faster) in wall-clock time and in CPU
// time (all threads; steadier on a busy machine), and each process's peak
// resident memory.
//
//	go run ./benchmarks/cmd/compare                  # all workloads, 3 s each
//	go run ./benchmarks/cmd/compare -run langevin -seconds 5 -rounds 3
//
// PyTorch runs with OMP_WAIT_POLICY=PASSIVE and as many threads as Go's
// GOMAXPROCS. Use -python "" to skip it, -device cuda for its GPU column.
// Built with -tags torch, the workloads NAME@torch run on ebm's libtorch
// backend, with the same thread environment as PyTorch, against PyTorch's
// NAME; -floor adds a third side for them, the same loops written in C++
// against libtorch (benchmarks/libtorch):
//
//	go run -tags torch ./benchmarks/cmd/compare -run @torch -floor "$(benchmarks/libtorch/run.sh --build)/floor"
//
// -simd avx512|avx2|go caps both sides to one instruction set, to measure
// on this machine what a CPU without AVX-512 (or without AVX2) gets: ebm's
// workers run with EBM_SIMD, PyTorch with ATEN_CPU_CAPABILITY (its ATen
// kernels) and DNNL_MAX_CPU_ISA (its oneDNN convolutions), and both with
// OPENBLAS_CORETYPE, so that OpenBLAS, where loaded, uses the same
// instruction set (Haswell for avx2; Nehalem, SSE4.2, for go):
//
//	go run ./benchmarks/cmd/compare -simd avx2 -run cnn
//	EBM_BLAS=gonum go run ./benchmarks/cmd/compare -simd go -run cnn
package main

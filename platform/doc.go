// Package platform reports what a program's arithmetic runs on and what it
// has cost: Kernels describes the matrix-product library and the
// element-wise kernels in use (for a program's start-up line), and
// CPUSeconds reads the CPU time the process has used (user plus system,
// all threads), which programs and benchmarks report next to wall-clock
// time because on a shared machine it is the steadier measure of work.
package platform

// Package ops holds the custom Gorgonia operations ebm's layers are built
// from, each one fused operation forward and one per input backward, in
// place of chains of Gorgonia's primitive ops:
//
//   - element-wise activations y = f(x), backward gx = gy·f'(x) (SiLU and
//     the logistic in SIMD assembly for float32, see expf.go);
//
//   - Linear, y = x·Wᵀ + b, backward gx = gy·W, gW = gyᵀ·x, gb = Σₙ gy;
//
//   - Conv2d (cross-correlation, as torch.nn.Conv2d) written straight to
//     NCHW with its bias,
//
//     y[n,o,i,j] = b[o] + Σ_{c,u,v} W[o,c,u,v]·x[n, c, s·i−p+u, s·j−p+v],
//
//     with backward gx = col2im(Wᵀ·gy), gW = gy·colᵀ, gb = Σ gy, where
//     col = im2col(x) holds the input patches.
//
// Every op, forward and backward, declares its own derivatives in terms of
// ops of this package (diff.go): the backward ops of Linear and Conv2d are
// bilinear, so their derivatives are the forward and backward ops again,
// and an activation's backward f'(x)·gy is differentiated by the ops
// f⁽ⁿ⁾(x)·a₁·…·aₘ (nth.go, any order). A backward pass can therefore be
// differentiated again — the θ-gradient of a score-matching loss — on the
// same fast paths as the first derivatives.
//
// How the float32 products run depends on the instruction set, the
// level (level.go): the best the CPU supports, or the one the environment
// variable EBM_SIMD names ("avx512", "avx2", "neon", "go"); [Kernels]
// says which runs, for a command's start-up line.
//
//   - avx512, avx2 and neon: the products are tiles kept in registers (up
//     to 6×64 outputs in AVX-512, 6×16 in AVX2+FMA and in arm64's NEON;
//     gemm32.go, gemm_amd64.s, gemm_arm64.s), which read the filters
//     packed once per call and their other operand through per-vector
//     bases and per-row offsets, so they read and write tensors in place.
//     Convolutions of batches of 16 samples or more run in a sample-minor
//     layout (convsm.go): chunks of 16 samples are transposed so that each
//     image position is one vector of 16 samples (two 8-lane halves in
//     AVX2, four quarters in NEON), the forward product reads the padded
//     input directly (no column block), and ∂x is the transposed
//     convolution computed one stride phase at a time, each a dense
//     product (no col2im). Linear layers of 16 samples or more transpose
//     the batch the same way and run one product over all of it
//     (linear32.go). Smaller batches go through column blocks per chunk of
//     samples (im2col/col2im, by vector rows in AVX-512, rows.go). ∂W goes
//     through internal/blas when it runs a native library (OpenBLAS), and
//     on the tiles otherwise (dw32.go), where gonum's GEMM is slower;
//
//   - go (other CPUs, the purego build tag, EBM_SIMD=go): the same
//     sample-minor products on tiles written in Go (gemm32_go.go) where
//     no native BLAS is loaded and the CPU is not amd64; otherwise im2col,
//     one GEMM per chunk of samples through internal/blas (OpenBLAS when
//     it loads), col2im;
//
//   - float64, always: im2col, GEMM through internal/blas, col2im.
//
// The assembly is written by a Go program, go run ./gen (go generate),
// and reads its arguments' struct fields through the offsets the Go
// toolchain puts in go_asm.h, so a struct's declaration is the only copy of
// its layout.
//
// Work is split over GOMAXPROCS goroutines in chunks of samples, handed
// out from a shared counter; each output value is a sum in a fixed order
// (∂W adds its per-chunk parts in chunk order), so runs are reproducible
// bit for bit. Ops own their output buffers and reuse them across
// runs (see buffers.go for why that is safe). Every op supports float32 and
// float64.
package ops

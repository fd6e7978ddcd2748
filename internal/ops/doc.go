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
//     computed as one matrix product W·col with col = im2col(x) over the
//     whole batch; backward gx = col2im(Wᵀ·gy), gW = gy·colᵀ, gb = Σ gy.
//
// Matrix products go through internal/blas (OpenBLAS when it loads);
// im2col, col2im and the element-wise kernels are split over GOMAXPROCS
// goroutines. Ops own their output buffers and reuse them across runs (see
// buffers.go for why that is safe). Every op supports float32 and float64.
package ops

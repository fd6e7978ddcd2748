package ops

import (
	"fmt"
	"math"
)

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func kernel[F func(float64) float64, D func(x, y float64) float64](name string, f F, d D) *Kernel {
	return &Kernel{
		Name:      name,
		Forward32: forward[float32](f),
		Forward64: forward[float64](f),
		Back32:    backward[float32](d),
		Back64:    backward[float64](d),
	}
}

func forward[T float](f func(float64) float64) func(y, x []T) {
	return func(y, x []T) {
		y = y[:len(x)]
		for i, v := range x {
			y[i] = T(f(float64(v)))
		}
	}
}

// backward returns gx = gy·d(x, y) where d is f' written in terms of x and
// y = f(x).
func backward[T float](d func(x, y float64) float64) func(gx, x, y, gy []T) {
	return func(gx, x, y, gy []T) {
		gx, y, gy = gx[:len(x)], y[:len(x)], gy[:len(x)]
		for i, v := range x {
			gx[i] = T(float64(gy[i]) * d(float64(v), float64(y[i])))
		}
	}
}

// SiLU is x·σ(x), also called Swish. Its float32 kernels are the SIMD ones
// of expf.go. In a graph with a backward pass, the forward also writes the
// derivative σ(x)(1 + x(1 − σ(x))), which the backward multiplies by the
// incoming gradient (ForwardD32); otherwise the backward recomputes it from x.
var SiLU = func() *Kernel {
	k := kernel("SiLU",
		func(x float64) float64 { return x * sigmoid(x) },
		func(x, _ float64) float64 { s := sigmoid(x); return s * (1 + x*(1-s)) })
	k.Forward32 = SiLU32
	k.ForwardD32 = SiLUD32
	k.Back32 = func(gx, x, _, gy []float32) { SiLUGrad32(gx, x, gy) }
	return withSiLUNth(k)
}()

// Sigmoid is σ(x) = 1/(1+e^−x).
var Sigmoid = func() *Kernel {
	k := kernel("Sigmoid", sigmoid,
		func(_, y float64) float64 { return y * (1 - y) })
	k.Forward32 = Sigmoid32
	k.Back32 = func(gx, _, y, gy []float32) {
		gx, y = gx[:len(gy)], y[:len(gy)]
		for i, g := range gy {
			gx[i] = g * (y[i] * (1 - y[i]))
		}
	}
	return withSigmoidNth(k)
}()

// Tanh is the hyperbolic tangent.
var Tanh = withTanhNth(kernel("Tanh", math.Tanh,
	func(_, y float64) float64 { return 1 - y*y }))

// Softplus returns log(1+e^(βx))/β, linear where βx > threshold, as
// torch.nn.Softplus(beta, threshold) computes it.
func Softplus(beta, threshold float64) *Kernel {
	return withSoftplusNth(kernel(fmt.Sprintf("Softplus(%g,%g)", beta, threshold),
		func(x float64) float64 {
			if x*beta > threshold {
				return x
			}
			return math.Log1p(math.Exp(beta*x)) / beta
		},
		func(x, _ float64) float64 {
			if x*beta > threshold {
				return 1
			}
			return sigmoid(beta * x)
		}), beta, threshold)
}

// ELU returns x for x > 0 and α(e^x − 1) otherwise.
func ELU(alpha float64) *Kernel {
	return withELUNth(kernel(fmt.Sprintf("ELU(%g)", alpha),
		func(x float64) float64 {
			if x > 0 {
				return x
			}
			return alpha * math.Expm1(x)
		},
		func(x, _ float64) float64 {
			if x > 0 {
				return 1
			}
			return alpha * math.Exp(x)
		}), alpha)
}

// LeakyReLU returns x for x > 0 and slope·x otherwise.
func LeakyReLU(slope float64) *Kernel {
	return withLeakyReLUNth(kernel(fmt.Sprintf("LeakyReLU(%g)", slope),
		func(x float64) float64 {
			if x > 0 {
				return x
			}
			return slope * x
		},
		func(x, _ float64) float64 {
			if x > 0 {
				return 1
			}
			return slope
		}), slope)
}

package optim

import (
	"errors"
	"math"

	"gorgonia.org/tensor"
)

// ErrNonFinite is wrapped by errors about NaN or Inf gradients.
var ErrNonFinite = errors.New("optim: non-finite gradient")

// GradNorm returns the global Euclidean norm of grads, √Σ g².
func GradNorm(grads []*tensor.Dense) float64 {
	var s float64
	for _, g := range grads {
		switch d := g.Data().(type) {
		case []float32:
			for _, v := range d {
				s += float64(v) * float64(v)
			}
		case []float64:
			for _, v := range d {
				s += v * v
			}
		}
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales grads in place so that their global norm is at most
// maxNorm, as torch.nn.utils.clip_grad_norm_ does, and returns the norm
// before clipping. maxNorm ≤ 0 leaves grads unchanged.
func ClipGradNorm(grads []*tensor.Dense, maxNorm float64) float64 {
	n := GradNorm(grads)
	if maxNorm <= 0 || !(n > maxNorm) {
		return n
	}
	scale := maxNorm / (n + 1e-6)
	for _, g := range grads {
		switch d := g.Data().(type) {
		case []float32:
			for i := range d {
				d[i] = float32(float64(d[i]) * scale)
			}
		case []float64:
			for i := range d {
				d[i] *= scale
			}
		}
	}
	return n
}

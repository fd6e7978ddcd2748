package nn

import (
	"fmt"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/ops"
	G "gorgonia.org/gorgonia"
)

// Activation is an element-wise nonlinearity without parameters. Each is
// one fused operation forward and one backward.
type Activation struct {
	name   string
	kind   string  // SiLU, Sigmoid, Tanh, Softplus, ELU, LeakyReLU
	param  float64 // ELU's α, LeakyReLU's slope
	kernel *ops.Kernel
}

// Kind returns the activation's kind — "SiLU", "Sigmoid", "Tanh",
// "Softplus", "ELU" or "LeakyReLU" — and its parameter (ELU's α,
// LeakyReLU's slope; 0 for the others), for backends that rebuild a model
// elsewhere.
func (a *Activation) Kind() (kind string, param float64) { return a.kind, a.param }

// SiLU returns the Swish/SiLU activation x·σ(x), the default of image EBMs.
func SiLU() *Activation { return &Activation{name: "SiLU", kind: "SiLU", kernel: ops.SiLU} }

// Swish is another name for SiLU.
func Swish() *Activation { return SiLU() }

// Sigmoid returns σ(x) = 1/(1+e^−x).
func Sigmoid() *Activation { return &Activation{name: "Sigmoid", kind: "Sigmoid", kernel: ops.Sigmoid} }

// Tanh returns the hyperbolic tangent.
func Tanh() *Activation { return &Activation{name: "Tanh", kind: "Tanh", kernel: ops.Tanh} }

// Softplus returns log(1+eˣ), as torch.nn.Softplus() (β = 1, linear above
// 20) computes it.
func Softplus() *Activation {
	return &Activation{name: "Softplus", kind: "Softplus", kernel: ops.Softplus(1, 20)}
}

// ELU returns x for x > 0 and α(eˣ − 1) otherwise (torch's default α = 1).
func ELU(alpha float64) *Activation {
	return &Activation{name: fmt.Sprintf("ELU(%g)", alpha), kind: "ELU", param: alpha, kernel: ops.ELU(alpha)}
}

// LeakyReLU returns x for x > 0 and slope·x otherwise (torch's default
// slope is 0.01; EBMs often use 0.2).
func LeakyReLU(slope float64) *Activation {
	return &Activation{name: fmt.Sprintf("LeakyReLU(%g)", slope), kind: "LeakyReLU", param: slope, kernel: ops.LeakyReLU(slope)}
}

func (a *Activation) String() string { return a.name }

// Params returns nil: activations have no parameters.
func (a *Activation) Params() []*graph.Param { return nil }

// Forward implements graph.Model.
func (a *Activation) Forward(_ *graph.Builder, x *G.Node) (*G.Node, error) {
	return ops.Apply(a.kernel, x)
}

// Flatten reshapes (N, d1, d2, ...) to (N, d1·d2·...), like torch.nn.Flatten.
type Flatten struct{}

func (Flatten) String() string { return "Flatten" }

// Params returns nil.
func (Flatten) Params() []*graph.Param { return nil }

// Forward implements graph.Model.
func (Flatten) Forward(_ *graph.Builder, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) < 2 {
		return nil, &graph.ShapeError{Layer: "Flatten", Got: s, Want: "(N, ...) with at least 2 dimensions"}
	}
	if len(s) == 2 {
		return x, nil
	}
	return G.Reshape(x, []int{s[0], s.TotalSize() / s[0]})
}

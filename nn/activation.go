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
	kernel *ops.Kernel
}

// SiLU returns the Swish/SiLU activation x·σ(x), the default of image EBMs.
func SiLU() *Activation { return &Activation{"SiLU", ops.SiLU} }

// Swish is another name for SiLU.
func Swish() *Activation { return SiLU() }

// Sigmoid returns σ(x) = 1/(1+e^−x).
func Sigmoid() *Activation { return &Activation{"Sigmoid", ops.Sigmoid} }

// Tanh returns the hyperbolic tangent.
func Tanh() *Activation { return &Activation{"Tanh", ops.Tanh} }

// Softplus returns log(1+eˣ), as torch.nn.Softplus() (β = 1, linear above
// 20) computes it.
func Softplus() *Activation { return &Activation{"Softplus", ops.Softplus(1, 20)} }

// ELU returns x for x > 0 and α(eˣ − 1) otherwise (torch's default α = 1).
func ELU(alpha float64) *Activation {
	return &Activation{fmt.Sprintf("ELU(%g)", alpha), ops.ELU(alpha)}
}

// LeakyReLU returns x for x > 0 and slope·x otherwise (torch's default
// slope is 0.01; EBMs often use 0.2).
func LeakyReLU(slope float64) *Activation {
	return &Activation{fmt.Sprintf("LeakyReLU(%g)", slope), ops.LeakyReLU(slope)}
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

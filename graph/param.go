package graph

import (
	"fmt"
	"strings"

	"gorgonia.org/tensor"
)

// Float32 and Float64 are the two dtypes graphs compile for.
var (
	Float32 = tensor.Float32
	Float64 = tensor.Float64
)

// Param is a named, trainable tensor. Its Value is the storage every
// compiled graph reads: an optimizer that updates Value in place is seen by
// all of them at their next run. Replacing Value (as [Cast] does) is seen
// only by graphs compiled afterwards.
//
// Reading a Param from several goroutines is safe. Writing it (SetFloat64s,
// an optimiser step) while a graph that holds it runs, or compiling two
// graphs that hold it at the same time (Gorgonia sets the tensor's engine
// when it compiles), is a data race.
type Param struct {
	// Name is the parameter's full name, as in a PyTorch state_dict
	// ("0.weight"). Containers prefix the names of their children when
	// they are built (see [Prefix]).
	Name string
	// Value holds the parameter, float32 or float64, in PyTorch's layout.
	Value *tensor.Dense
}

// NewParam returns a zero-filled parameter of the given dtype and shape.
func NewParam(name string, dt tensor.Dtype, shape ...int) *Param {
	checkDtype(dt)
	return &Param{Name: name, Value: tensor.New(tensor.Of(dt), tensor.WithShape(shape...))}
}

// Size returns the number of elements of p.
func (p *Param) Size() int { return p.Value.Shape().TotalSize() }

// Shape returns a copy of p's shape.
func (p *Param) Shape() []int { return append([]int(nil), p.Value.Shape()...) }

// Dtype returns p's element type.
func (p *Param) Dtype() tensor.Dtype { return p.Value.Dtype() }

// Float64s copies p's values into dst (allocated when nil) as float64.
func (p *Param) Float64s(dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, p.Size())
	}
	switch d := p.Value.Data().(type) {
	case []float64:
		copy(dst, d)
	case []float32:
		for i, v := range d {
			dst[i] = float64(v)
		}
	case float64: // a scalar parameter
		dst[0] = d
	case float32:
		dst[0] = float64(d)
	}
	return dst
}

// SetFloat64s sets p's values from src, converting to p's dtype.
// It panics if len(src) != p.Size().
func (p *Param) SetFloat64s(src []float64) {
	if len(src) != p.Size() {
		panic(fmt.Sprintf("graph: SetFloat64s: %d values for parameter %q of size %d", len(src), p.Name, p.Size()))
	}
	switch d := p.Value.Data().(type) {
	case []float64:
		copy(d, src)
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	case float64: // a scalar parameter
		p.Value.Set(0, src[0])
	case float32:
		p.Value.Set(0, float32(src[0]))
	}
}

// Prefix prepends prefix and a dot to the names of ps and returns ps.
// Containers call it on their children's parameters when they are built,
// so a Linear inside a Sequential at index 0 owns "0.weight" and "0.bias".
func Prefix(prefix string, ps []*Param) []*Param {
	for _, p := range ps {
		if p.Name == "" {
			p.Name = prefix
		} else {
			p.Name = prefix + "." + p.Name
		}
	}
	return ps
}

// Cast converts every parameter of m to dtype dt in place (replacing each
// Param's Value), like PyTorch's module.double() and module.float().
// Graphs compiled before the cast keep the old values.
func Cast(m Model, dt tensor.Dtype) {
	checkDtype(dt)
	for _, p := range m.Params() {
		if p.Value.Dtype() == dt {
			continue
		}
		v := p.Float64s(nil)
		np := tensor.New(tensor.Of(dt), tensor.WithShape(p.Value.Shape()...))
		p.Value = np
		p.SetFloat64s(v)
	}
}

// CheckNames returns an error if two parameters of ps share a name or a
// name is empty; names must be unique to save and load a model.
func CheckNames(ps []*Param) error {
	seen := make(map[string]bool, len(ps))
	var dup []string
	for _, p := range ps {
		if p.Name == "" {
			return fmt.Errorf("graph: a parameter of shape %v has no name", p.Value.Shape())
		}
		if seen[p.Name] {
			dup = append(dup, p.Name)
		}
		seen[p.Name] = true
	}
	if len(dup) > 0 {
		return fmt.Errorf("graph: parameter names used twice: %s", strings.Join(dup, ", "))
	}
	return nil
}

// NumParams returns the total number of scalar parameters of m.
func NumParams(m Model) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Size()
	}
	return n
}

func checkDtype(dt tensor.Dtype) {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		panic(fmt.Sprintf("graph: dtype %v: only float32 and float64 are supported", dt))
	}
}

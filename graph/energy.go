package graph

import (
	"fmt"
	"math"

	"github.com/ebmgo/ebm/energy"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Config says what a model is compiled for.
type Config struct {
	// Shape is the event shape of one sample, for example {2} for points in
	// the plane or {1, 28, 28} for MNIST digits. Required.
	Shape []int
	// Dtype is the element type of the graph. The zero value means the
	// dtype of the model's parameters (Float32 for a model without any).
	Dtype tensor.Dtype
	// Batch, if positive, compiles the machines for batches of this many
	// samples at once, so that errors surface from NewEnergy. Other batch
	// sizes are compiled on first use and kept.
	Batch int
}

// Energy is a model compiled into reusable Gorgonia machines that compute
// per-sample energies f(x) and their input gradients ∇x f. It implements
// energy.Differentiable.
//
// Machines are built once per batch size and reused: F and FGrad build no
// graph and allocate little. The gradient machine is compiled on the
// subgraph that leads to f and ∇x f, so no ∇θ work is done while sampling.
// An Energy is not safe for concurrent use.
type Energy struct {
	model Model
	shape []int
	dim   int
	dtype tensor.Dtype
	sizes map[int]*energyMachines
	// The noise level of a noise-conditional model (SetNoise).
	sigma    float64
	sigmaSet bool
}

type energyMachines struct {
	x        *G.Node
	xv       *tensor.Dense
	sigv     *tensor.Dense // per-sample noise levels, for noise-conditional models
	cond     bool          // the model read the noise level
	fv, dxv  G.Value       // outputs, copied out by read nodes as they are computed
	fwd, bwd G.VM
}

// NewEnergy compiles m for samples of shape cfg.Shape. The model's output
// must have shape (N) or (N, 1): one energy per sample.
func NewEnergy(m Model, cfg Config) (*Energy, error) {
	dt, err := resolveDtype(m, cfg.Dtype)
	if err != nil {
		return nil, err
	}
	if len(cfg.Shape) == 0 {
		return nil, fmt.Errorf("graph: NewEnergy: Config.Shape is empty; give the shape of one sample, e.g. {2} or {1, 28, 28}")
	}
	dim := 1
	for _, d := range cfg.Shape {
		if d <= 0 {
			return nil, fmt.Errorf("graph: NewEnergy: sample shape %v has a non-positive dimension", fmtShape(cfg.Shape))
		}
		dim *= d
	}
	e := &Energy{model: m, shape: append([]int(nil), cfg.Shape...), dim: dim, dtype: dt, sizes: map[int]*energyMachines{}}
	if cfg.Batch > 0 {
		if _, err := e.machines(cfg.Batch); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Dim returns the number of values in one sample.
func (e *Energy) Dim() int { return e.dim }

// Shape returns a copy of the event shape of one sample.
func (e *Energy) Shape() []int { return append([]int(nil), e.shape...) }

// Dtype returns the element type the graph computes in.
func (e *Energy) Dtype() tensor.Dtype { return e.dtype }

// Model returns the compiled model.
func (e *Energy) Model() Model { return e.model }

// SetNoise sets the noise level σ at which a noise-conditional model (one
// that reads Builder.Noise) is evaluated by the following calls of F and
// FGrad: the energy is then f_θ(x; σ), one member of the family that
// annealed Langevin dynamics walks down (sampling.AnnealedLangevin). It
// returns an error if σ is not positive and finite. For other models it
// has no effect.
func (e *Energy) SetNoise(sigma float64) error {
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return fmt.Errorf("graph: SetNoise(%v): the noise level must be positive and finite", sigma)
	}
	e.sigma, e.sigmaSet = sigma, true
	return nil
}

// NoiseConditional reports whether the model reads the noise level (see
// SetNoise). It compiles the model for one sample if nothing is compiled
// yet.
func (e *Energy) NoiseConditional() (bool, error) {
	for _, m := range e.sizes {
		return m.cond, nil
	}
	m, err := e.machines(1)
	if err != nil {
		return false, err
	}
	return m.cond, nil
}

// F sets dst[n] = f(x_n) for the len(dst) samples stored row-major in x.
func (e *Energy) F(dst, x []float64) error {
	m, err := e.prepare(dst, x)
	if err != nil {
		return err
	}
	if err := run(m.fwd); err != nil {
		return fmt.Errorf("graph: energy forward: %w", err)
	}
	readInto(dst, m.fv)
	m.fwd.Reset()
	return nil
}

// FGrad sets dst[n] = f(x_n) and grad to ∇x f, laid out like x.
func (e *Energy) FGrad(dst, grad, x []float64) error {
	if len(grad) != len(x) {
		return fmt.Errorf("graph: FGrad: gradient buffer has %d values for an input of %d: %w", len(grad), len(x), energy.ErrShape)
	}
	m, err := e.prepare(dst, x)
	if err != nil {
		return err
	}
	if err := run(m.bwd); err != nil {
		return fmt.Errorf("graph: energy gradient: %w", err)
	}
	readInto(dst, m.fv)
	readInto(grad, m.dxv)
	m.bwd.Reset()
	return nil
}

func (e *Energy) prepare(dst, x []float64) (*energyMachines, error) {
	n := len(dst)
	if n == 0 || len(x) != n*e.dim {
		return nil, fmt.Errorf("graph: batch of %d values for %d samples of shape %v (want %d values): %w",
			len(x), n, fmtShape(e.shape), n*e.dim, energy.ErrShape)
	}
	m, err := e.machines(n)
	if err != nil {
		return nil, err
	}
	if m.cond {
		if !e.sigmaSet {
			return nil, fmt.Errorf("%w: call Energy.SetNoise first", ErrNoNoise)
		}
		fill(m.sigv, e.sigma)
	}
	writeFrom(m.xv, x)
	return m, nil
}

func (e *Energy) machines(n int) (*energyMachines, error) {
	if m, ok := e.sizes[n]; ok {
		return m, nil
	}
	m := &energyMachines{}
	err := guard("compile energy", func() error {
		b := NewBuilder(e.dtype)
		shape := append([]int{n}, e.shape...)
		m.x = b.Input("x", shape...)
		m.xv = tensor.New(tensor.Of(e.dtype), tensor.WithShape(shape...))
		if err := G.Let(m.x, m.xv); err != nil {
			return err
		}
		b.noise = b.Input("sigma", n)
		m.sigv = tensor.New(tensor.Of(e.dtype), tensor.WithShape(n))
		if err := G.Let(b.noise, m.sigv); err != nil {
			return err
		}
		f, err := perSample(b, e.model, m.x, n)
		if err != nil {
			return err
		}
		m.cond = b.noiseUsed
		sum, err := G.Sum(f)
		if err != nil {
			return err
		}
		grads, err := G.Grad(sum, m.x)
		if err != nil {
			return fmt.Errorf("∇x: %w", err)
		}
		// Outputs are copied out by read nodes the moment they are computed:
		// the machine may reuse their memory for later operations.
		readF := G.Read(f, &m.fv)
		readDx := G.Read(grads[0], &m.dxv)
		g := b.Graph()
		m.fwd = G.NewTapeMachine(g.SubgraphRoots(readF))
		m.bwd = G.NewTapeMachine(g.SubgraphRoots(readF, readDx))
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.sizes[n] = m
	return m, nil
}

// perSample runs the model on x and returns its output as a vector of n
// energies, or an error if the model does not give one value per sample.
func perSample(b *Builder, m Model, x *G.Node, n int) (*G.Node, error) {
	out, err := m.Forward(b, x)
	if err != nil {
		return nil, err
	}
	s := out.Shape()
	switch {
	case len(s) == 1 && s[0] == n:
		return out, nil
	case len(s) == 2 && s[0] == n && s[1] == 1:
		return G.Reshape(out, tensor.Shape{n})
	}
	return nil, fmt.Errorf("model output has shape %v, want one energy per sample: (%d) or (%d, 1): %w", fmtShape(s), n, n, energy.ErrShape)
}

func resolveDtype(m Model, want tensor.Dtype) (tensor.Dtype, error) {
	var have tensor.Dtype
	for _, p := range m.Params() {
		if have == (tensor.Dtype{}) {
			have = p.Value.Dtype()
			continue
		}
		if p.Value.Dtype() != have {
			return want, fmt.Errorf("graph: parameters mix %v and %v (%q); use graph.Cast", have, p.Value.Dtype(), p.Name)
		}
	}
	if want == (tensor.Dtype{}) {
		if have == (tensor.Dtype{}) {
			return tensor.Float32, nil
		}
		return have, nil
	}
	if want != tensor.Float32 && want != tensor.Float64 {
		return want, fmt.Errorf("graph: dtype %v: only float32 and float64 are supported", want)
	}
	if have != (tensor.Dtype{}) && have != want {
		return want, fmt.Errorf("graph: model parameters are %v but %v was asked for; convert them first with graph.Cast(model, %v)", have, want, want)
	}
	return want, nil
}

func run(m G.VM) error {
	err := m.RunAll()
	if err != nil {
		m.Reset()
	}
	return err
}

// fill sets every value of t to v.
func fill(t *tensor.Dense, v float64) {
	switch d := t.Data().(type) {
	case []float64:
		for i := range d {
			d[i] = v
		}
	case []float32:
		for i := range d {
			d[i] = float32(v)
		}
	}
}

// writeFrom copies src into the backing of t, converting to t's dtype.
func writeFrom(t *tensor.Dense, src []float64) {
	switch d := t.Data().(type) {
	case []float64:
		copy(d, src)
	case []float32:
		for i, v := range src {
			d[i] = float32(v)
		}
	}
}

// readInto copies the value v into dst as float64.
func readInto(dst []float64, v G.Value) {
	switch d := v.Data().(type) {
	case []float64:
		copy(dst, d)
	case []float32:
		for i := range dst {
			dst[i] = float64(d[i])
		}
	case float64:
		dst[0] = d
	case float32:
		dst[0] = float64(d)
	}
}

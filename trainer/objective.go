package trainer

import (
	"fmt"
	"math"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/sampling"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Objective is what each training iteration minimises, chosen by
// Config.Objective; nil there is contrastive divergence with the energy
// regulariser Config.Alpha. The objectives of this package:
//
//   - ImprovedCD: contrastive divergence with the KL term of improved CD and its
//     data-augmentation transitions (Du et al. 2021);
//   - ScoreMatching: exact score matching (Hyvärinen 2005);
//   - SlicedScoreMatching: sliced score matching (Song et al. 2019);
//   - DenoisingScoreMatching: denoising score matching with one noise
//     level or a geometric ladder of them (Vincent 2011; Song & Ermon
//     2019), optionally noise-conditional;
//   - NCE: noise-contrastive estimation with a learned log Z (Gutmann &
//     Hyvärinen 2010).
//
// All of them train through the same Trainer: checkpoints, monitors,
// metrics, divergence handling and rollbacks work as for CD. The
// score-matching family needs ∇θ of an expression in ∇x f, which the Go
// backend compiles with graph.NewSecondOrderLoss.
//
// An iteration's random inputs (noise, projections, noise samples) are
// drawn on the CPU from the trainer's random stream and handed to the
// backend as a Batch, so a run resumes bit for bit and every backend
// computes the same loss on the same values.
type Objective interface {
	// Name is the objective's short name: "esm", "ssm", "dsm",
	// "nce", "icd" (as flags and checkpoints write it).
	Name() string
	// Sampled reports whether iterations draw model samples x⁻ by MCMC
	// (the CD family does; score matching and NCE do not).
	Sampled() bool

	// plan prepares the objective for a run: the loss, its inputs, and
	// how each iteration fills them.
	plan(a planArgs) (*plan, error)
}

// Batch is one iteration's input to an objective's loss, drawn by the
// trainer: the model input batches (row-major, Shape per sample) and the
// auxiliary inputs, in the order the objective documents.
type Batch struct {
	Inputs [][]float64
	Aux    [][]float64
}

// ObjectiveUpdater is a Backend that trains objectives other than plain
// contrastive divergence (Config.Objective). The Go backend is one; New
// refuses an objective with a backend that is not.
type ObjectiveUpdater interface {
	// UpdateObjective computes the objective's loss on in and its
	// gradient, clips it, and applies one optimiser step with learning
	// rate lr, as Update does for CD. FNeg is the mean energy of the
	// objective's second model input where it has one (CD's samples,
	// NCE's noise), and 0 otherwise.
	UpdateObjective(in *Batch, lr float64) (UpdateStats, error)
}

type planArgs struct {
	shape    []int
	dim      int
	batch    int
	dtype    tensor.Dtype
	alpha    float64 // CD's energy regulariser
	data     Data    // for fitting NCE's noise; nil: none to fit to
	parallel bool    // a data-parallel run
}

// plan is an objective prepared for a run.
type plan struct {
	obj   Objective
	loss  graph.LossConfig      // Shape, Batches, Aux and the objective's Params
	first graph.LossFunc        // a first-order loss (NCE, CD without KL), or
	fn    graph.SecondOrderFunc // a second-order one
	// fill draws the iteration's inputs into batch from the trainer's
	// data batch, chains and random stream, and sets t.xneg to what the
	// loss contrasts the data with.
	fill  func(t *Trainer, b *Batch) error
	batch Batch
	fneg  int // model input whose mean f is UpdateStats.FNeg; −1 for none
}

func (p *plan) alloc(shape []int, batches []int, aux [][]int) {
	p.loss.Shape, p.loss.Batches, p.loss.Aux = shape, batches, aux
	dim := 1
	for _, d := range shape {
		dim *= d
	}
	p.batch.Inputs = make([][]float64, len(batches))
	for i, n := range batches {
		p.batch.Inputs[i] = make([]float64, n*dim)
	}
	p.batch.Aux = make([][]float64, len(aux))
	for i, s := range aux {
		n := 1
		for _, d := range s {
			n *= d
		}
		p.batch.Aux[i] = make([]float64, n)
	}
}

// Params returns the objective's own trainable parameters (NCE's log Z),
// trained and checkpointed with the model's; nil for the others.
func (p *plan) params() []*graph.Param { return p.loss.Params }

// modelDtype is the dtype of m's parameters (float32 without any).
func modelDtype(m graph.Model) tensor.Dtype {
	for _, p := range m.Params() {
		return p.Value.Dtype()
	}
	return tensor.Float32
}

// NewObjectiveLoss compiles obj's loss for model, as the Go backend trains
// it, on batches of batch samples of the given shape, with alpha the
// energy regulariser of the CD objectives: Run takes a Batch's Inputs and
// then its Aux, and Params lists the objective's own parameters (NCE's
// log Z, initially 0) after the model's. NCE needs its Noise set here:
// there are no data to fit it to.
func NewObjectiveLoss(model graph.Model, obj Objective, shape []int, batch int, alpha float64) (*graph.Loss, error) {
	if model == nil || obj == nil {
		return nil, fmt.Errorf("trainer: NewObjectiveLoss: model and objective are required")
	}
	dim := 1
	for _, d := range shape {
		dim *= d
	}
	if len(shape) == 0 || dim <= 0 || batch <= 0 {
		return nil, fmt.Errorf("trainer: NewObjectiveLoss: sample shape %v, batch %d", shape, batch)
	}
	dt := modelDtype(model)
	p, err := obj.plan(planArgs{shape: shape, dim: dim, batch: batch, dtype: dt, alpha: alpha})
	if err != nil {
		return nil, err
	}
	p.loss.Dtype = dt
	if p.first != nil {
		return graph.NewLoss(model, p.loss, p.first)
	}
	return graph.NewSecondOrderLoss(model, p.loss, p.fn)
}

// trainedParams are the model's parameters and then the objective's.
func (t *Trainer) trainedParams() []*graph.Param {
	ps := t.model.Params()
	if t.plan != nil {
		ps = append(append([]*graph.Param(nil), ps...), t.plan.params()...)
	}
	return ps
}

// ObjectiveParams returns the trainable parameters of the objective
// itself (NCE's learned log Z) that New made for this run, for backends: a
// backend trains them with the model's, and its optimiser state lists
// them after the model's parameters (as Loss.Params does); their values
// live in these Params. Nil for objectives without any, and before New.
func (c *Config) ObjectiveParams() []*graph.Param {
	if c.plan == nil {
		return nil
	}
	return c.plan.params()
}

// objectiveName is the objective's name, "cd" without one.
func (c *Config) objectiveName() string {
	if c.Objective == nil {
		return "cd"
	}
	return c.Objective.Name()
}

// sampled reports whether iterations draw model samples.
func (c *Config) sampled() bool { return c.Objective == nil || c.Objective.Sampled() }

// setupObjective compiles the objective's loss for the Go backend.
func (g *goBackend) setupObjective(model graph.Model, cfg *Config, batch int) error {
	p := cfg.plan
	if cfg.sampled() {
		e, err := graph.NewEnergy(model, graph.Config{Shape: cfg.Shape, Batch: batch})
		if err != nil {
			return fmt.Errorf("trainer: compiling the energy: %w", err)
		}
		g.energy = e
		if g.kernel, err = cfg.Kernel(e); err != nil {
			return fmt.Errorf("trainer: making the sampler: %w", err)
		}
	}
	var err error
	if p.first != nil {
		g.loss, err = graph.NewLoss(model, p.loss, p.first)
	} else {
		g.loss, err = graph.NewSecondOrderLoss(model, p.loss, p.fn)
	}
	if err != nil {
		return fmt.Errorf("trainer: compiling the %s loss: %w", p.obj.Name(), err)
	}
	g.fneg = p.fneg
	g.adam, err = optim.NewAdam(g.loss.Params(), cfg.Adam)
	if err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// UpdateObjective implements ObjectiveUpdater.
func (g *goBackend) UpdateObjective(in *Batch, lr float64) (UpdateStats, error) {
	var st UpdateStats
	g.args = append(append(g.args[:0], in.Inputs...), in.Aux...)
	l, err := g.loss.Run(g.args...)
	if err != nil {
		return st, err
	}
	st.Loss = l
	if f := g.loss.F(0); f != nil {
		st.FPos = mean(f)
	}
	if g.fneg >= 0 {
		st.FNeg = mean(g.loss.F(g.fneg))
	}
	return st, g.step(&st, lr)
}

// step averages the gradients over the ranks, clips them, checks them
// and the loss, and applies the optimiser: the end of every update.
func (g *goBackend) step(st *UpdateStats, lr float64) error {
	if c := g.cfg.Collective; c != nil && c.Size() > 1 {
		if err := g.averageOverRanks(c, st); err != nil {
			return err
		}
	}
	st.GradNorm = optim.ClipGradNorm(g.loss.Grads(), g.cfg.ClipGradNorm)
	if !finite(st.Loss) || !finite(st.GradNorm) {
		return fmt.Errorf("trainer: loss %g, gradient norm %g: %w", st.Loss, st.GradNorm, optim.ErrNonFinite)
	}
	g.adam.SetLR(lr)
	return g.adam.Step(g.loss.Grads())
}

// updateObjective fills the objective's inputs for this iteration and
// runs the backend's update.
func (t *Trainer) updateObjective(lr float64) (UpdateStats, error) {
	if err := t.plan.fill(t, &t.plan.batch); err != nil {
		return UpdateStats{}, err
	}
	return t.backend.(ObjectiveUpdater).UpdateObjective(&t.plan.batch, lr)
}

// preparePlan makes the objective's plan at New, before the backend's
// Setup compiles it.
func (t *Trainer) preparePlan() error {
	if t.cfg.Objective == nil {
		return nil
	}
	if _, ok := t.backend.(ObjectiveUpdater); !ok {
		return fmt.Errorf("trainer: the backend (%T) trains contrastive divergence only, not the %s objective", t.backend, t.cfg.Objective.Name())
	}
	p, err := t.cfg.Objective.plan(planArgs{shape: t.cfg.Shape, dim: t.dim, batch: t.batch, dtype: modelDtype(t.model),
		alpha: t.cfg.Alpha, data: t.data, parallel: t.coll != nil})
	if err != nil {
		return err
	}
	p.obj = t.cfg.Objective
	p.loss.Dtype = modelDtype(t.model)
	t.plan, t.cfg.plan = p, p
	return nil
}

// expr builds graph expressions, keeping the first error: once one
// operation fails, the later ones return nil without building.
type expr struct {
	b   *graph.Builder
	err error
}

func (e *expr) keep(n *G.Node, err error) *G.Node {
	if e.err != nil {
		return nil
	}
	if err != nil {
		e.err = err
		return nil
	}
	return n
}

func (e *expr) ok(ns ...*G.Node) bool {
	for _, n := range ns {
		if n == nil && e.err == nil {
			e.err = fmt.Errorf("trainer: nil node")
		}
	}
	return e.err == nil
}

func (e *expr) add(a, b *G.Node) *G.Node {
	if !e.ok(a, b) {
		return nil
	}
	return e.keep(G.Add(a, b))
}

func (e *expr) sub(a, b *G.Node) *G.Node {
	if !e.ok(a, b) {
		return nil
	}
	return e.keep(G.Sub(a, b))
}

func (e *expr) mul(a, b *G.Node) *G.Node {
	if !e.ok(a, b) {
		return nil
	}
	return e.keep(G.HadamardProd(a, b))
}

func (e *expr) scale(c float64, a *G.Node) *G.Node {
	if !e.ok(a) {
		return nil
	}
	return e.keep(G.Mul(e.b.Constant(c), a))
}

func (e *expr) sum(a *G.Node, along ...int) *G.Node {
	if !e.ok(a) {
		return nil
	}
	return e.keep(G.Sum(a, along...))
}

func (e *expr) square(a *G.Node) *G.Node {
	if !e.ok(a) {
		return nil
	}
	return e.keep(G.Square(a))
}

func (e *expr) neg(a *G.Node) *G.Node {
	if !e.ok(a) {
		return nil
	}
	return e.keep(G.Neg(a))
}

// rows reshapes a batch (N, Shape...) to (N, d).
func (e *expr) rows(a *G.Node) *G.Node {
	if !e.ok(a) {
		return nil
	}
	s := a.Shape()
	if len(s) == 2 {
		return a
	}
	return e.keep(G.Reshape(a, tensor.Shape{s[0], s.TotalSize() / s[0]}))
}

func (e *expr) result(n *G.Node) (*G.Node, error) {
	if e.err != nil {
		return nil, e.err
	}
	return n, nil
}

// constant adds a node holding the values v (converted to the graph's
// dtype) of the given shape.
func constant(b *graph.Builder, name string, v []float64, shape ...int) *G.Node {
	t := tensor.New(tensor.Of(b.Dtype()), tensor.WithShape(shape...))
	switch d := t.Data().(type) {
	case []float64:
		copy(d, v)
	case []float32:
		for i, x := range v {
			d[i] = float32(x)
		}
	}
	return G.NewTensor(b.Graph(), b.Dtype(), len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(t))
}

func fullShape(n int, shape []int) []int { return append([]int{n}, shape...) }

func checkPositive(name string, v float64) error {
	if !(v > 0) || math.IsInf(v, 0) {
		return fmt.Errorf("trainer: %s = %v, want positive and finite", name, v)
	}
	return nil
}

// wrapDiverged marks a non-finite value found while preparing inputs as a
// divergence.
func wrapDiverged(format string, args ...any) error {
	return fmt.Errorf("trainer: "+format+": %w", append(args, sampling.ErrDiverged)...)
}

// augment applies ImprovedCD.Augment to the chains' starting points.
func (t *Trainer) augment() {
	o, ok := t.cfg.Objective.(ImprovedCD)
	if !ok || o.Augment.isZero() {
		return
	}
	if len(t.augBuf) < t.dim {
		t.augBuf = make([]float64, t.dim)
	}
	o.Augment.Apply(t.rng, t.xneg, t.batch, t.cfg.Shape, t.augBuf)
}

// logZ is NCE's learned log normaliser, or 0.
func (p *plan) logZ() float64 {
	for _, q := range p.loss.Params {
		if q.Name == logZParam {
			return q.Float64s(nil)[0]
		}
	}
	return 0
}

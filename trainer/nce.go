package trainer

import (
	"fmt"
	"math"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

// NoiseDensity is a normalised density that noise-contrastive estimation
// contrasts the data with: log q(x) = F(x) − LogZ(), with exact samples.
// energy.Gaussian is one.
type NoiseDensity interface {
	energy.ExactSampler
	LogZ() float64
}

// NCE is noise-contrastive estimation (Gutmann & Hyvärinen 2010): logistic
// regression of data against ν noise samples per data sample from a known
// density q, with the model log p_θ(x) = f_θ(x) − c and c, the log
// normaliser, a learned scalar:
//
//	G(u) = f_θ(u) − c − log q(u) − log ν
//	J = mean over data x of [softplus(−G(x)) + Σ_{ν noise y} softplus(G(y))]
//
// At its optimum p_θ = p_data and c = log Z(θ), so c estimates the log
// partition function (Metrics.LogZ). Batch: Inputs {x (N), y (νN)}, Aux
// {log q(x) (N), log q(y) (νN)}.
type NCE struct {
	// Noise is q. Nil fits a Gaussian to FitSamples data samples drawn from
	// the data stream when the trainer is made (its position is put back
	// afterwards): full covariance up to 256 dimensions, diagonal above,
	// with Ridge times the mean variance added to every variance.
	Noise NoiseDensity
	// Ratio is ν, noise samples per data sample; 0 means 1.
	Ratio int
	// FitSamples is the number of data samples the Gaussian is fitted to;
	// 0 means 4096 (rounded up to whole batches).
	FitSamples int
	// Ridge regularises the fitted covariance; 0 means 0.01.
	Ridge float64
}

// Name returns "nce".
func (NCE) Name() string { return "nce" }

// Sampled returns false.
func (NCE) Sampled() bool { return false }

// logZParam is the name of NCE's learned log normaliser in checkpoints.
const logZParam = "objective.log_z"

func (o NCE) plan(a planArgs) (*plan, error) {
	nu := o.Ratio
	if nu == 0 {
		nu = 1
	}
	if nu < 0 || o.FitSamples < 0 || o.Ridge < 0 {
		return nil, fmt.Errorf("trainer: NCE: Ratio %d, FitSamples %d and Ridge %g must not be negative", o.Ratio, o.FitSamples, o.Ridge)
	}
	q := o.Noise
	if q == nil && a.parallel {
		return nil, fmt.Errorf("trainer: NCE in a data-parallel run needs NCE.Noise: each rank would fit its own Gaussian to its own shard")
	}
	if q == nil && a.data == nil {
		return nil, fmt.Errorf("trainer: NCE needs NCE.Noise when there are no data to fit a Gaussian to")
	}
	if q == nil {
		var err error
		if q, err = fitGaussian(a.data, a.dim, o.FitSamples, o.Ridge); err != nil {
			return nil, err
		}
	} else if q.Dim() != a.dim {
		return nil, fmt.Errorf("trainer: NCE.Noise has dimension %d, the data %d", q.Dim(), a.dim)
	}
	logZ := graph.NewParam(logZParam, a.dtype, 1) // a vector: optimisers and checkpoints take tensors
	n, m := a.batch, nu*a.batch
	p := &plan{fneg: 1}
	p.alloc(a.shape, []int{n, m}, [][]int{{n}, {m}})
	p.loss.Params = []*graph.Param{logZ}
	logNu := math.Log(float64(nu))
	sp := nn.Softplus()
	p.first = func(b *graph.Builder, f []*G.Node) (*G.Node, error) {
		e := &expr{b: b}
		c := e.sum(b.Param(logZ))                // the scalar
		ratio := func(f, logq *G.Node) *G.Node { // G(u)
			return e.sub(e.sub(e.sub(f, c), logq), b.Constant(logNu))
		}
		gx, gy := ratio(f[0], f[2]), ratio(f[1], f[3])
		if e.err != nil {
			return nil, e.err
		}
		lx, err := sp.Forward(b, e.neg(gx))
		if err != nil {
			return nil, err
		}
		ly, err := sp.Forward(b, gy)
		if err != nil {
			return nil, err
		}
		return e.result(e.scale(1/float64(n), e.add(e.sum(lx), e.sum(ly))))
	}
	logq := func(dst, x []float64) error {
		if err := q.F(dst, x); err != nil {
			return err
		}
		lz := q.LogZ()
		for i := range dst {
			dst[i] -= lz
		}
		return nil
	}
	p.fill = func(t *Trainer, b *Batch) error {
		x, y := b.Inputs[0], b.Inputs[1]
		copy(x, t.xpos)
		if err := q.Sample(t.rng, y); err != nil {
			return fmt.Errorf("trainer: NCE noise: %w", err)
		}
		if err := logq(b.Aux[0], x); err != nil {
			return fmt.Errorf("trainer: NCE log q(data): %w", err)
		}
		if err := logq(b.Aux[1], y); err != nil {
			return fmt.Errorf("trainer: NCE log q(noise): %w", err)
		}
		copy(t.xneg, y)
		return nil
	}
	return p, nil
}

// fitGaussian fits N(mean, cov + ridge·mean variance·I) to at least want
// samples of the trainer's data stream, and puts the stream back.
func fitGaussian(data Data, dim, want int, ridge float64) (*energy.Gaussian, error) {
	if want == 0 {
		want = 4096
	}
	if ridge == 0 {
		ridge = 0.01
	}
	state, err := data.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("trainer: NCE: saving the data position: %w", err)
	}
	defer func() { _ = data.UnmarshalBinary(state) }()
	d, bs := dim, data.Size()
	full := d <= 256
	mean := make([]float64, d)
	m2 := make([]float64, d) // Σ x² (diagonal) or
	var cross []float64      // Σ x xᵀ (full)
	if full {
		cross = make([]float64, d*d)
	}
	buf := make([]float64, bs*d)
	count := 0
	for count < want {
		k := data.Next(buf, nil)
		if k <= 0 {
			break
		}
		for s := range k {
			row := buf[s*d : (s+1)*d]
			for i, v := range row {
				mean[i] += v
				if full {
					r := cross[i*d : (i+1)*d]
					for j, w := range row {
						r[j] += v * w
					}
				} else {
					m2[i] += v * v
				}
			}
		}
		count += k
	}
	if count < 2 {
		return nil, fmt.Errorf("trainer: NCE: the data gave %d samples to fit the noise to", count)
	}
	nf := float64(count)
	for i := range mean {
		mean[i] /= nf
	}
	variance := func(i int) float64 {
		if full {
			return cross[i*d+i]/nf - mean[i]*mean[i]
		}
		return m2[i]/nf - mean[i]*mean[i]
	}
	avg := 0.0
	for i := range d {
		avg += variance(i)
	}
	avg /= float64(d)
	if !(avg > 0) {
		return nil, fmt.Errorf("trainer: NCE: the data has no variance to fit a Gaussian to")
	}
	if !full {
		vars := make([]float64, d)
		for i := range vars {
			vars[i] = max(variance(i), 0) + ridge*avg
		}
		return energy.NewDiagGaussian(mean, vars)
	}
	cov := make([]float64, d*d)
	for i := range d {
		for j := range d {
			cov[i*d+j] = cross[i*d+j]/nf - mean[i]*mean[j]
		}
		cov[i*d+i] += ridge * avg
	}
	for i := range d { // exact symmetry
		for j := range i {
			v := (cov[i*d+j] + cov[j*d+i]) / 2
			cov[i*d+j], cov[j*d+i] = v, v
		}
	}
	return energy.NewGaussian(mean, cov)
}

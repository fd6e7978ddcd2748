package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/graph"
	G "gorgonia.org/gorgonia"
)

// ImprovedCD is contrastive divergence (the loss of a nil Config.Objective, with
// Config.Alpha) with the two additions of improved contrastive divergence
// (Du, Li, Tenenbaum & Mordatch 2021):
//
// The KL term. The CD gradient leaves out how the sampler's distribution
// q_θ depends on θ; the term that restores it is KL(q_θ ‖ p_θ), whose
// gradient the paper takes through the last Langevin step, with the
// energy of the stepped samples evaluated by a copy of the parameters
// held fixed (θ̄):
//
//	x̃ = y + λ·∇x f_θ(y),   y = x⁻ + ξ,   ξ ~ N(0, KLNoise²)
//	L = L_CD(x⁺, x⁻) + KL·mean(−f_θ̄(x̃))
//
// so its θ-gradient, −KL·λ·∇θ(vᵀ∇x f_θ(y)) with v = ∇x f_θ̄(x̃), is a
// second derivative of f (graph.Terms.FrozenF). The step starts at the
// chains' end points x⁻: it is one more step of the sampler, taken in the
// graph, with the sampler's noise σ before the gradient step as the
// UvA/Du & Mordatch sampler adds it; clipping and clamping are not
// differentiated (the paper's sampler has neither).
//
// Data-augmentation transitions. Before sampling, each chain's start
// (from the replay buffer or fresh noise) goes through a random
// augmentation (Augment): jumps between modes that small Langevin steps
// do not make.
//
// Batch: Inputs {x⁺, x⁻}, Aux {ξ} (with KL > 0; none otherwise).
type ImprovedCD struct {
	// KL weighs the KL term; 0 leaves it out.
	KL float64
	// KLStep is λ, the gradient step of the differentiable step; 0 means
	// 10, the image sampler's (sampling.ClippedLangevin(10, 0.005)).
	KLStep float64
	// KLNoise is the standard deviation of the noise added before the
	// step; 0 means 0.005, and a negative value means none.
	KLNoise float64
	// Augment transforms the chains' starting points; the zero value
	// does nothing.
	Augment Augmentation
}

// Name returns "icd".
func (ImprovedCD) Name() string { return "icd" }

// Sampled returns true.
func (ImprovedCD) Sampled() bool { return true }

func (o ImprovedCD) plan(a planArgs) (*plan, error) {
	if o.KL < 0 || math.IsNaN(o.KL) || math.IsInf(o.KL, 0) {
		return nil, fmt.Errorf("trainer: ImprovedCD.KL = %v, want ≥ 0 and finite", o.KL)
	}
	if err := o.Augment.validate(a.shape); err != nil {
		return nil, err
	}
	step, noise := o.KLStep, o.KLNoise
	if step == 0 {
		step = 10
	}
	if noise == 0 {
		noise = 0.005
	} else if noise < 0 {
		noise = 0
	}
	if err := checkPositive("ImprovedCD.KLStep", step); err != nil {
		return nil, err
	}
	alpha := a.alpha
	p := &plan{fneg: 1}
	n := a.batch
	if o.KL == 0 {
		p.alloc(a.shape, []int{n, n}, nil)
		p.first = graph.CDLoss(alpha)
	} else {
		p.alloc(a.shape, []int{n, n}, [][]int{fullShape(n, a.shape)})
		cd := graph.CDLoss(alpha)
		p.fn = func(t *graph.Terms) (*G.Node, error) {
			e := &expr{b: t.Builder()}
			fp, err := t.F(t.Input(0), nil)
			if err != nil {
				return nil, err
			}
			fn, err := t.F(t.Input(1), nil)
			if err != nil {
				return nil, err
			}
			loss, err := cd(t.Builder(), []*G.Node{fp, fn})
			if err != nil {
				return nil, err
			}
			y := e.add(t.Input(1), t.Aux(0))
			if e.err != nil {
				return nil, e.err
			}
			s, err := t.Score(y, nil)
			if err != nil {
				return nil, err
			}
			xt := e.add(y, e.scale(step, s))
			if e.err != nil {
				return nil, e.err
			}
			fk, err := t.FrozenF(xt, nil)
			if err != nil {
				return nil, err
			}
			return e.result(e.add(loss, e.scale(-o.KL/float64(n), e.sum(fk))))
		}
	}
	p.fill = func(t *Trainer, b *Batch) error {
		copy(b.Inputs[0], t.xpos)
		copy(b.Inputs[1], t.xneg)
		if len(b.Aux) > 0 {
			for i := range b.Aux[0] {
				b.Aux[0][i] = noise * t.rng.NormFloat64()
			}
		}
		return nil
	}
	return p, nil
}

// Augmentation is a random transformation of a batch of samples: the
// data-augmentation transitions of improved contrastive divergence,
// applied to the chains' starting points before sampling. The
// transformations of images (Shift, FlipHorizontal, Rotate) need a sample
// shape (C, H, W) or (H, W). The zero value is the identity.
type Augmentation struct {
	// Prob is the probability that a chain is augmented; 0 means 1.
	Prob float64
	// Shift translates images by up to Shift pixels in each direction,
	// uniformly, filling with Fill.
	Shift int
	// FlipHorizontal mirrors images left–right with probability ½.
	FlipHorizontal bool
	// Rotate rotates images by an angle uniform in ±Rotate degrees
	// (bilinear, about the centre, filling with Fill).
	Rotate float64
	// Noise adds Gaussian noise of this standard deviation.
	Noise float64
	// Fill is the value of pixels moved in from outside the image: the
	// background (−1 for MNIST in [−1, 1]).
	Fill float64
	// Min and Max, if Min < Max, clamp the result.
	Min, Max float64
}

func (a Augmentation) isZero() bool { return a == Augmentation{} }

func (a Augmentation) validate(shape []int) error {
	if a.isZero() {
		return nil
	}
	switch {
	case a.Prob < 0 || a.Prob > 1 || math.IsNaN(a.Prob):
		return fmt.Errorf("trainer: Augmentation.Prob = %v, want in [0, 1]", a.Prob)
	case a.Shift < 0 || a.Rotate < 0 || a.Noise < 0 || math.IsNaN(a.Rotate) || math.IsNaN(a.Noise) || math.IsInf(a.Rotate, 0) || math.IsInf(a.Noise, 0):
		return fmt.Errorf("trainer: Augmentation: Shift %d, Rotate %v and Noise %v must be finite and not negative", a.Shift, a.Rotate, a.Noise)
	case a.Min > a.Max:
		return fmt.Errorf("trainer: Augmentation clamps to [%v, %v]", a.Min, a.Max)
	}
	if a.Shift > 0 || a.FlipHorizontal || a.Rotate > 0 {
		if _, _, _, ok := imageShape(shape); !ok {
			return fmt.Errorf("trainer: Augmentation: Shift, FlipHorizontal and Rotate need image samples (C, H, W) or (H, W), not %v", shape)
		}
	}
	return nil
}

func imageShape(shape []int) (c, h, w int, ok bool) {
	switch len(shape) {
	case 2:
		return 1, shape[0], shape[1], true
	case 3:
		return shape[0], shape[1], shape[2], true
	}
	return 0, 0, 0, false
}

// Apply transforms each of the n samples of shape in x in place, drawing
// from rng. scratch, if it holds at least one sample, is used as working
// space.
func (a Augmentation) Apply(rng *rand.Rand, x []float64, n int, shape []int, scratch []float64) {
	if a.isZero() || n == 0 {
		return
	}
	d := len(x) / n
	if len(scratch) < d {
		scratch = make([]float64, d)
	}
	tmp := scratch[:d]
	prob := a.Prob
	if prob == 0 {
		prob = 1
	}
	c, h, w, image := imageShape(shape)
	for s := range n {
		if prob < 1 && rng.Float64() >= prob {
			continue
		}
		row := x[s*d : (s+1)*d]
		if image && (a.Shift > 0 || a.Rotate > 0 || a.FlipHorizontal) {
			dx, dy := 0.0, 0.0
			if a.Shift > 0 {
				dx = float64(rng.IntN(2*a.Shift+1) - a.Shift)
				dy = float64(rng.IntN(2*a.Shift+1) - a.Shift)
			}
			angle := 0.0
			if a.Rotate > 0 {
				angle = (2*rng.Float64() - 1) * a.Rotate * math.Pi / 180
			}
			flip := a.FlipHorizontal && rng.IntN(2) == 1
			warp(tmp, row, c, h, w, dx, dy, angle, flip, a.Fill)
			copy(row, tmp)
		}
		if a.Noise > 0 {
			for i := range row {
				row[i] += a.Noise * rng.NormFloat64()
			}
		}
		if a.Min < a.Max {
			for i, v := range row {
				row[i] = math.Max(a.Min, math.Min(a.Max, v))
			}
		}
	}
}

// warp sets dst to src (c×h×w) mirrored (flip), rotated by angle about
// the centre and shifted by (dx, dy), sampling bilinearly from src with
// fill outside it: dst(p) = src(R⁻¹(p − centre − shift) + centre).
func warp(dst, src []float64, c, h, w int, dx, dy, angle float64, flip bool, fill float64) {
	cy, cx := float64(h-1)/2, float64(w-1)/2
	cos, sin := math.Cos(angle), math.Sin(angle)
	at := func(ch, i, j int) float64 {
		if i < 0 || i >= h || j < 0 || j >= w {
			return fill
		}
		return src[(ch*h+i)*w+j]
	}
	for i := range h {
		for j := range w {
			y, x := float64(i)-cy-dy, float64(j)-cx-dx
			sy, sx := cos*y+sin*x+cy, -sin*y+cos*x+cx
			if flip {
				sx = float64(w-1) - sx
			}
			y0, x0 := math.Floor(sy), math.Floor(sx)
			fy, fx := sy-y0, sx-x0
			i0, j0 := int(y0), int(x0)
			for ch := range c {
				v := (1-fy)*((1-fx)*at(ch, i0, j0)+fx*at(ch, i0, j0+1)) +
					fy*((1-fx)*at(ch, i0+1, j0)+fx*at(ch, i0+1, j0+1))
				dst[(ch*h+i)*w+j] = v
			}
		}
	}
}

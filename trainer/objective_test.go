package trainer

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/internal/gradcheck"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
)

// sliceData streams batches from a fixed slice, in order, wrapping around.
type sliceData struct {
	x         []float64
	dim, size int
	pos       int
}

func (d *sliceData) Dim() int  { return d.dim }
func (d *sliceData) Size() int { return d.size }
func (d *sliceData) Next(dst []float64, _ []int) int {
	n := len(d.x) / d.dim
	for s := range d.size {
		copy(dst[s*d.dim:(s+1)*d.dim], d.x[((d.pos+s)%n)*d.dim:])
	}
	d.pos = (d.pos + d.size) % n
	return d.size
}
func (d *sliceData) MarshalBinary() ([]byte, error) { return []byte{byte(d.pos)}, nil }
func (d *sliceData) UnmarshalBinary(b []byte) error {
	if len(b) != 1 {
		return errors.New("sliceData: bad state")
	}
	d.pos = int(b[0])
	return nil
}

// objectiveCase is an objective and its loss computed independently from
// first-order machines: e evaluates the model, e0 a fixed copy of it (the
// θ̄ of the KL term), b is the iteration's Batch.
type objectiveCase struct {
	obj Objective
	ref func(t *testing.T, e, e0 *graph.Energy, b *Batch, extra []float64) float64
}

func energyGrad(t *testing.T, e *graph.Energy, x []float64) (f, g []float64) {
	t.Helper()
	f, g = make([]float64, len(x)/e.Dim()), make([]float64, len(x))
	if err := e.FGrad(f, g, x); err != nil {
		t.Fatal(err)
	}
	return f, g
}

// hvpFD is ∇²f(x)·v per sample by central differences of ∇x f.
func hvpFD(t *testing.T, e *graph.Energy, x, v []float64) []float64 {
	const h = 1e-5
	xp, xm := make([]float64, len(x)), make([]float64, len(x))
	for i := range x {
		xp[i], xm[i] = x[i]+h*v[i], x[i]-h*v[i]
	}
	_, gp := energyGrad(t, e, xp)
	_, gm := energyGrad(t, e, xm)
	for i := range gp {
		gp[i] = (gp[i] - gm[i]) / (2 * h)
	}
	return gp
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func objectiveCases() []objectiveCase {
	return []objectiveCase{
		{ScoreMatching{}, func(t *testing.T, e, _ *graph.Energy, b *Batch, _ []float64) float64 {
			x := b.Inputs[0]
			d := e.Dim()
			n := len(x) / d
			_, s := energyGrad(t, e, x)
			l := 0.0
			for _, v := range s {
				l += 0.5 * v * v
			}
			for i := range d {
				u := make([]float64, len(x))
				for r := range n {
					u[r*d+i] = 1
				}
				hv := hvpFD(t, e, x, u)
				for r := range n {
					l += hv[r*d+i]
				}
			}
			return l / float64(n)
		}},
		{SlicedScoreMatching{Projections: 2}, sslRef(false)},
		{SlicedScoreMatching{Projections: 3, Rademacher: true, NoVarianceReduction: true}, sslRef(true)},
		{DenoisingScoreMatching{Sigma: 0.3}, dsmRef},
		{DenoisingScoreMatching{Levels: 4, SigmaMax: 1, SigmaMin: 0.05}, dsmRef},
		{NCE{Ratio: 2}, func(t *testing.T, e, _ *graph.Energy, b *Batch, extra []float64) float64 {
			c := extra[0]
			fx, _ := energyGrad(t, e, b.Inputs[0])
			fy, _ := energyGrad(t, e, b.Inputs[1])
			l := 0.0
			for i, f := range fx {
				l += softplus(-(f - c - b.Aux[0][i] - math.Log(2)))
			}
			for i, f := range fy {
				l += softplus(f - c - b.Aux[1][i] - math.Log(2))
			}
			return l / float64(len(fx))
		}},
		{ImprovedCD{KL: 0.7, KLStep: 0.05, KLNoise: 0.01}, func(t *testing.T, e, e0 *graph.Energy, b *Batch, _ []float64) float64 {
			const alpha = 0.1
			fp, _ := energyGrad(t, e, b.Inputs[0])
			fn, _ := energyGrad(t, e, b.Inputs[1])
			mean := func(v []float64) float64 { return sum(v) / float64(len(v)) }
			sq := func(v []float64) []float64 {
				o := make([]float64, len(v))
				for i, x := range v {
					o[i] = x * x
				}
				return o
			}
			l := mean(fn) - mean(fp) + alpha*(mean(sq(fp))+mean(sq(fn)))
			y := make([]float64, len(b.Inputs[1]))
			for i := range y {
				y[i] = b.Inputs[1][i] + b.Aux[0][i]
			}
			_, s := energyGrad(t, e, y)
			for i := range y {
				y[i] += 0.05 * s[i]
			}
			fk, _ := energyGrad(t, e0, y)
			return l - 0.7*mean(fk)
		}},
	}
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

func sslRef(plain bool) func(t *testing.T, e, _ *graph.Energy, b *Batch, _ []float64) float64 {
	return func(t *testing.T, e, _ *graph.Energy, b *Batch, _ []float64) float64 {
		x := b.Inputs[0]
		d := e.Dim()
		n := len(x) / d
		_, s := energyGrad(t, e, x)
		m := float64(len(b.Aux))
		l := 0.0
		if !plain {
			for _, v := range s {
				l += 0.5 * v * v
			}
		}
		for _, v := range b.Aux {
			hv := hvpFD(t, e, x, v)
			for i := range v {
				l += v[i] * hv[i] / m
			}
			if plain {
				for r := range n {
					vs := 0.0
					for j := r * d; j < (r+1)*d; j++ {
						vs += v[j] * s[j]
					}
					l += 0.5 * vs * vs / m
				}
			}
		}
		return l / float64(n)
	}
}

func dsmRef(t *testing.T, e, _ *graph.Energy, b *Batch, _ []float64) float64 {
	_, s := energyGrad(t, e, b.Inputs[0])
	l := 0.0
	for i := range s {
		r := b.Aux[1][i]*s[i] + b.Aux[0][i]
		l += 0.5 * r * r
	}
	return l / float64(len(b.Aux[2]))
}

// TestObjectiveLosses checks every objective's compiled loss in float64
// against the same loss computed from first-order machines (Hessian–vector
// products by central differences of ∇x f), and its gradient with respect
// to every parameter — the model's and NCE's log Z — against central
// differences of that reference. The KL term's reference evaluates the
// stepped samples with a second copy of the model that the differences
// do not move, which is what holding θ̄ fixed means.
func TestObjectiveLosses(t *testing.T) {
	for _, oc := range objectiveCases() {
		t.Run(fmt.Sprintf("%s%+v", oc.obj.Name(), oc.obj), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 5))
			build := func() *nn.Sequential { return nn.NewMLP(rand.New(rand.NewPCG(7, 7)), nn.SiLU, 2, 8, 8, 1) }
			m, m0 := build(), build()
			graph.Cast(m, graph.Float64)
			graph.Cast(m0, graph.Float64)
			data := &sliceData{x: make([]float64, 64), dim: 2, size: 4}
			for i := range data.x {
				data.x[i] = rng.NormFloat64()
			}
			tr, err := New(m, data, Config{Shape: []int{2}, Iterations: 1, Adam: optimAdam(1e-3), Alpha: 0.1, Objective: oc.obj, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			data.Next(tr.xpos, nil)
			for i := range tr.xneg {
				tr.xneg[i] = rng.NormFloat64()
			}
			p := tr.plan
			if err := p.fill(tr, &p.batch); err != nil {
				t.Fatal(err)
			}
			for _, q := range p.loss.Params {
				q.SetFloat64s([]float64{0.3})
			}
			g := tr.backend.(*goBackend)
			args := append(append([][]float64(nil), p.batch.Inputs...), p.batch.Aux...)
			got, err := g.loss.Run(args...)
			if err != nil {
				t.Fatal(err)
			}
			e, err := graph.NewEnergy(m, graph.Config{Shape: []int{2}})
			if err != nil {
				t.Fatal(err)
			}
			e0, err := graph.NewEnergy(m0, graph.Config{Shape: []int{2}})
			if err != nil {
				t.Fatal(err)
			}
			extra := func() []float64 {
				var v []float64
				for _, q := range p.loss.Params {
					v = append(v, q.Float64s(nil)...)
				}
				return v
			}
			ref := func() float64 { return oc.ref(t, e, e0, &p.batch, extra()) }
			if want := ref(); math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("loss %.12g, reference %.12g", got, want)
			}
			for i, q := range g.loss.Params() {
				if _, err := g.loss.Run(args...); err != nil {
					t.Fatal(err)
				}
				grad := append([]float64(nil), g.loss.Grads()[i].Data().([]float64)...)
				theta := q.Value.Data()
				var vals []float64
				switch v := theta.(type) {
				case []float64:
					vals = v
				case float64:
					vals = []float64{v}
				}
				f := func(x []float64) float64 {
					q.SetFloat64s(x)
					return ref()
				}
				orig := append([]float64(nil), vals...)
				if err := gradcheck.Check("∂/∂"+q.Name, f, append([]float64(nil), vals...), grad, 1e-6, 3e-6); err != nil {
					t.Error(err)
				}
				q.SetFloat64s(orig)
			}
		})
	}
}

func optimAdam(lr float64) optim.AdamConfig { return optim.AdamConfig{LR: lr, Beta2: 0.999} }

// warp: a shift moves a pixel, a quarter turn rotates about the centre, a
// flip mirrors, pixels from outside take the fill value.
func TestWarp(t *testing.T) {
	const h, w = 5, 5
	src := make([]float64, h*w)
	src[1*w+3] = 1 // row 1, column 3
	at := func(img []float64, i, j int) float64 { return img[i*w+j] }
	dst := make([]float64, h*w)
	warp(dst, src, 1, h, w, 1, 2, 0, false, -1) // dx = 1, dy = 2
	if at(dst, 3, 4) != 1 || at(dst, 0, 0) != -1 || at(dst, 3, 3) != 0 {
		t.Errorf("shift by (1, 2): %v", dst)
	}
	warp(dst, src, 1, h, w, 0, 0, 0, true, -1)
	if at(dst, 1, 1) != 1 || sum(dst) != 1 {
		t.Errorf("flip: %v", dst)
	}
	warp(dst, src, 1, h, w, 0, 0, math.Pi/2, false, -1)
	// (row 1, col 3) is (−1, +1) from the centre; a quarter turn of the
	// image content takes it to (−1, −1)+… as dst(p) = src(R⁻¹p): check
	// that exactly one pixel is lit and it is 2 from the centre.
	lit := 0
	for i := range h {
		for j := range w {
			if math.Abs(at(dst, i, j)-1) < 1e-9 {
				lit++
				if (i-2)*(i-2)+(j-2)*(j-2) != 2 {
					t.Errorf("quarter turn lit (%d, %d)", i, j)
				}
			}
		}
	}
	if lit != 1 {
		t.Errorf("quarter turn: %d lit pixels: %v", lit, dst)
	}
	a := Augmentation{Shift: 2, Noise: 0.1, Min: -1, Max: 1, Fill: -1}
	if err := a.validate([]int{2}); err == nil {
		t.Error("Shift on 2-D points accepted")
	}
	x := make([]float64, 3*h*w)
	a.Apply(rand.New(rand.NewPCG(1, 1)), x, 3, []int{1, h, w}, nil)
	for _, v := range x {
		if v < -1 || v > 1 {
			t.Fatalf("clamped augmentation gave %v", v)
		}
	}
}

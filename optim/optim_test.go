package optim_test

import (
	"math"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/optim"
	"gorgonia.org/tensor"
)

// TestAdamMatchesPyTorch replays five steps of torch.optim.AdamW and Adam on
// f(θ) = (1+t)·‖θ − c‖²; the reference values were printed by PyTorch 1.13
// in float64 (see the script in the comment below).
//
//	th = torch.tensor([0.3, 0.1, -0.7], requires_grad=True)
//	opt = cls([th], lr=0.1, betas=(beta1, 0.99), eps=1e-8, weight_decay=wd)
//	for i in range(5): zero_grad; (((th - c)**2).sum() * (1 + i)).backward(); step
func TestAdamMatchesPyTorch(t *testing.T) {
	c := []float64{1, -2, 0.5}
	for _, tc := range []struct {
		beta1, wd float64
		want      []float64
	}{
		{0.9, 0.01, []float64{0.7922557963514857, -0.3871434338898687, -0.2069129677049587}},
		{0, 0, []float64{0.8593376863647803, -0.5370140850825409, -0.08607316830067496}},
	} {
		p := graph.NewParam("theta", graph.Float64, 3)
		p.SetFloat64s([]float64{0.3, 0.1, -0.7})
		a, err := optim.NewAdam([]*graph.Param{p}, optim.AdamConfig{LR: 0.1, Beta1: tc.beta1, Beta2: 0.99, WeightDecay: tc.wd})
		if err != nil {
			t.Fatal(err)
		}
		g := tensor.New(tensor.Of(tensor.Float64), tensor.WithShape(3))
		for i := range 5 {
			th := p.Float64s(nil)
			gd := g.Data().([]float64)
			for j := range gd {
				gd[j] = 2 * (th[j] - c[j]) * float64(1+i)
			}
			if err := a.Step([]*tensor.Dense{g}); err != nil {
				t.Fatal(err)
			}
		}
		got := p.Float64s(nil)
		for j := range got {
			if math.Abs(got[j]-tc.want[j]) > 1e-14 {
				t.Errorf("β1=%g wd=%g: θ = %v, want %v", tc.beta1, tc.wd, got, tc.want)
				break
			}
		}
	}
}

func TestAdamRejectsNonFinite(t *testing.T) {
	p := graph.NewParam("w", graph.Float32, 2)
	a, _ := optim.NewAdam([]*graph.Param{p}, optim.AdamConfig{LR: 1})
	g := tensor.New(tensor.WithBacking([]float32{1, float32(math.NaN())}))
	if err := a.Step([]*tensor.Dense{g}); err == nil {
		t.Fatal("no error for a NaN gradient")
	}
	if v := p.Float64s(nil); v[0] != 0 || v[1] != 0 || a.Steps() != 0 {
		t.Errorf("parameters changed to %v after a rejected step", v)
	}
}

func TestAdamStateRoundTrip(t *testing.T) {
	mk := func() (*graph.Param, *optim.Adam) {
		p := graph.NewParam("w", graph.Float32, 2)
		a, _ := optim.NewAdam([]*graph.Param{p}, optim.AdamConfig{LR: 0.01, Beta1: 0.5})
		return p, a
	}
	g := tensor.New(tensor.WithBacking([]float32{1, -2}))
	p1, a1 := mk()
	for range 3 {
		a1.Step([]*tensor.Dense{g})
	}
	p2, a2 := mk()
	for range 2 {
		a2.Step([]*tensor.Dense{g})
	}
	// Resume a third optimiser from a2's state and parameters.
	p3, a3 := mk()
	if err := a3.SetState(a2.State()); err != nil {
		t.Fatal(err)
	}
	p3.SetFloat64s(p2.Float64s(nil))
	a3.Step([]*tensor.Dense{g})
	if v1, v3 := p1.Float64s(nil), p3.Float64s(nil); v1[0] != v3[0] || v1[1] != v3[1] {
		t.Errorf("resumed %v, uninterrupted %v", v3, v1)
	}
}

func TestClipGradNorm(t *testing.T) {
	g1 := tensor.New(tensor.WithBacking([]float64{3, 0}))
	g2 := tensor.New(tensor.WithBacking([]float32{0, 4}))
	gs := []*tensor.Dense{g1, g2}
	if n := optim.ClipGradNorm(gs, 1); n != 5 {
		t.Errorf("norm before clipping %g, want 5", n)
	}
	if n := optim.GradNorm(gs); math.Abs(n-1) > 1e-6 {
		t.Errorf("norm after clipping %g, want 1", n)
	}
}

func TestSchedules(t *testing.T) {
	for _, tc := range []struct {
		spec string
		t    int
		want float64
	}{
		{"constant", 100, 1},
		{"step:10:0.5", 25, 0.25},
		{"exp:0.9", 2, 0.81},
		{"cosine:100", 50, 0.5},
		{"cosine:100:0.1", 100, 0.1},
		{"constant,warmup:10", 4, 0.5},
	} {
		s, err := optim.ParseSchedule(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.LR(1, tc.t); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s at %d: %g, want %g", tc.spec, tc.t, got, tc.want)
		}
	}
	for _, bad := range []string{"step:0:0.5", "linear", "exp", "cosine:10,foo:1"} {
		if _, err := optim.ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) gave no error", bad)
		}
	}
}

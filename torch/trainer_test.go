//go:build torch

package torch

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
)

// TestTrainerMatchesGo takes training steps with the Trainer and with
// graph.Loss + optim.ClipGradNorm + optim.Adam on a copy of the same
// model, in float64, and compares losses, gradient norms and parameters.
func TestTrainerMatchesGo(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  TrainConfig
	}{
		{"uva", TrainConfig{Alpha: 0.1, Adam: optim.AdamConfig{LR: 1e-2, Beta1: 0, Beta2: 0.999}, ClipGradNorm: 0.1}},
		{"momentum-decay", TrainConfig{Adam: optim.AdamConfig{LR: 3e-3, Beta1: 0.9, WeightDecay: 0.01}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer noLeak(t)()
			build := func() *nn.Sequential {
				rng := rand.New(rand.NewPCG(21, 22))
				m := nn.NewSequential(
					nn.NewConv2d(rng, 1, 3, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.SiLU(),
					nn.Flatten{}, nn.NewLinear(rng, 3*3*3, 8), nn.LeakyReLU(0.2), nn.NewLinear(rng, 8, 1))
				graph.Cast(m, graph.Float64)
				return m
			}
			shape := []int{1, 6, 6}
			mg, mt := build(), build()
			loss, err := graph.NewLoss(mg, graph.LossConfig{Shape: shape, Batches: []int{4, 3}}, graph.CDLoss(tc.cfg.Alpha))
			if err != nil {
				t.Fatal(err)
			}
			adam, err := optim.NewAdam(loss.Params(), tc.cfg.Adam)
			if err != nil {
				t.Fatal(err)
			}
			tm, err := NewModel(mt, shape, testDev)
			if err != nil {
				t.Fatal(err)
			}
			defer tm.Close()
			tr, err := NewTrainer(tm, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			rng := rand.New(rand.NewPCG(5, 5))
			for step := 0; step < 5; step++ {
				xp, xn := randn(rng, 4*36), randn(rng, 3*36)
				l, err := loss.Run(xp, xn)
				if err != nil {
					t.Fatal(err)
				}
				norm := optim.ClipGradNorm(loss.Grads(), tc.cfg.ClipGradNorm)
				if err := adam.Step(loss.Grads()); err != nil {
					t.Fatal(err)
				}
				st, err := tr.Step(xp, xn)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(st.Loss-l) > 1e-12 || math.Abs(st.GradNorm-norm) > 1e-12*math.Max(1, norm) {
					t.Fatalf("step %d: torch loss %.15g norm %.15g, Go loss %.15g norm %.15g", step, st.Loss, st.GradNorm, l, norm)
				}
			}
			if err := tm.SyncToGraph(); err != nil {
				t.Fatal(err)
			}
			for i, p := range mt.Params() {
				want := mg.Params()[i].Float64s(nil)
				for j, v := range p.Float64s(nil) {
					if math.Abs(v-want[j]) > 1e-10 {
						t.Fatalf("%s[%d] after 5 steps: torch %.15g, Go %.15g", p.Name, j, v, want[j])
					}
				}
			}
			// The optimiser state round-trips through optim's format.
			s, err := tr.AdamState()
			if err != nil {
				t.Fatal(err)
			}
			gs := adam.State()
			if s.Step != gs.Step {
				t.Fatalf("step %d, Go %d", s.Step, gs.Step)
			}
			for i := range gs.V {
				for j := range gs.V[i] {
					if math.Abs(s.V[i][j]-gs.V[i][j]) > 1e-12*math.Max(1e-12, gs.V[i][j]) || math.Abs(s.M[i][j]-gs.M[i][j]) > 1e-12 {
						t.Fatalf("moment %d[%d]: torch m %g v %g, Go m %g v %g", i, j, s.M[i][j], s.V[i][j], gs.M[i][j], gs.V[i][j])
					}
				}
			}
			if err := tr.SetAdamState(gs); err != nil {
				t.Fatal(err)
			}
			if err := tr.SetAdamState(optim.AdamState{M: gs.M[:1], V: gs.V[:1]}); err == nil {
				t.Error("SetAdamState took a state for one parameter")
			}
		})
	}
}

// TestTrainerFloat32 trains the float32 model in both backends and checks
// agreement to float32 precision.
func TestTrainerFloat32(t *testing.T) {
	defer noLeak(t)()
	build := func() *nn.Sequential {
		return nn.NewMLP(rand.New(rand.NewPCG(1, 9)), nn.SiLU, 2, 32, 32, 1)
	}
	cfg := TrainConfig{Alpha: 0.1, Adam: optim.AdamConfig{LR: 1e-3}, ClipGradNorm: 1}
	mg, mt := build(), build()
	loss, err := graph.NewLoss(mg, graph.LossConfig{Shape: []int{2}, Batches: []int{64, 64}}, graph.CDLoss(cfg.Alpha))
	if err != nil {
		t.Fatal(err)
	}
	adam, _ := optim.NewAdam(loss.Params(), cfg.Adam)
	tm, err := NewModel(mt, []int{2}, testDev)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	tr, err := NewTrainer(tm, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	for range 10 {
		xp, xn := randn(rng, 128), randn(rng, 128)
		l, _ := loss.Run(xp, xn)
		optim.ClipGradNorm(loss.Grads(), cfg.ClipGradNorm)
		adam.Step(loss.Grads())
		st, err := tr.Step(xp, xn)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(st.Loss-l) > 1e-4*math.Max(1, math.Abs(l)) {
			t.Fatalf("loss: torch %g, Go %g", st.Loss, l)
		}
	}
	if err := tm.SyncToGraph(); err != nil {
		t.Fatal(err)
	}
	for i, p := range mt.Params() {
		want := mg.Params()[i].Float64s(nil)
		for j, v := range p.Float64s(nil) {
			if math.Abs(v-want[j]) > 2e-5 {
				t.Fatalf("%s[%d]: torch %.8g, Go %.8g", p.Name, j, v, want[j])
			}
		}
	}
}

func TestTrainerNonFinite(t *testing.T) {
	defer noLeak(t)()
	rng := rand.New(rand.NewPCG(1, 1))
	m := nn.NewMLP(rng, nn.SiLU, 2, 4, 1)
	tm, _ := NewModel(m, []int{2}, testDev)
	defer tm.Close()
	tr, err := NewTrainer(tm, TrainConfig{Adam: optim.AdamConfig{LR: 1e-3}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	before := make([]float64, 2)
	x := []float64{0.1, 0.2}
	tm.F(before[:1], x)
	_, err = tr.Step([]float64{math.NaN(), 0}, []float64{0, 0})
	if !errors.Is(err, optim.ErrNonFinite) {
		t.Fatalf("NaN data: got %v", err)
	}
	tm.F(before[1:], x)
	if before[0] != before[1] || tr.Steps() != 0 {
		t.Errorf("a failed step changed the model")
	}
	for _, lr := range []float64{0, -1e-3, math.NaN(), math.Inf(1)} {
		if err := tr.SetLR(lr); err == nil || tr.Config().Adam.LR != 1e-3 {
			t.Errorf("SetLR(%g): got %v, rate now %g", lr, err, tr.Config().Adam.LR)
		}
	}
	if _, err := NewTrainer(tm, TrainConfig{}); err == nil {
		t.Error("zero learning rate accepted")
	}
	if _, err := tr.Step(make([]float64, 3), make([]float64, 2)); err == nil {
		t.Error("3 values for samples of 2 accepted")
	}
}

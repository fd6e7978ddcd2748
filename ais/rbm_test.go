package ais

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
)

// TestForwardReverseRBM checks RBM AIS, forward and reverse from exact
// draws, against the exact log Z over several seeds and RBMs, with three
// bases: the base-rate RBM of draws from the model (as one would fit it to
// data), the uniform base (nil) and a base with weights.
func TestForwardReverseRBM(t *testing.T) {
	for _, size := range [][2]int{{10, 6}, {4, 9}} {
		nv, nh := size[0], size[1]
		for _, baseKind := range []string{"base rate", "uniform", "weighted"} {
			var est, se, rest, rse []float64
			for seed := range uint64(4) {
				rbm := must(energy.NewRandomRBM(rand.New(rand.NewPCG(seed, 7)), nv, nh, energy.RBMInit{WeightScale: 0.8, BiasScale: 0.8}))
				exact := must(rbm.LogZ())
				rng := rand.New(rand.NewPCG(seed, 33))
				data := make([]float64, 500*nv)
				if err := rbm.Sample(rng, data); err != nil {
					t.Fatal(err)
				}
				cfg := RBMConfig{Schedule: must(RBMSchedule(750))}
				switch baseKind {
				case "base rate":
					cfg.Base = must(energy.NewBaseRateRBM(data, nv, 3))
				case "weighted":
					cfg.Base = must(energy.NewRandomRBM(rand.New(rand.NewPCG(seed, 8)), nv, 3, energy.RBMInit{WeightScale: 0.5, BiasScale: 0.5, Data: data}))
				}
				res, err := ForwardRBM(context.Background(), rng, rbm, 100, cfg)
				if err != nil {
					t.Fatal(err)
				}
				// Shift the estimates by the exact value so that seeds
				// with different RBMs pool.
				est, se = append(est, res.LogZ-exact), append(se, res.StdErr)
				x := make([]float64, 100*nv)
				if err := rbm.Sample(rng, x); err != nil {
					t.Fatal(err)
				}
				rres, err := ReverseRBM(context.Background(), rng, rbm, x, cfg)
				if err != nil {
					t.Fatal(err)
				}
				rest, rse = append(rest, rres.LogZ-exact), append(rse, rres.StdErr)
				if rres.LogZ < exact-3*rres.StdErr {
					t.Errorf("%d×%d %s seed %d: reverse AIS %.5f ± %.5f below the exact %.5f", nv, nh, baseKind, seed, rres.LogZ, rres.StdErr, exact)
				}
			}
			aisCheckEstimates(t, fmt.Sprintf("ForwardRBM %d×%d, %s base", nv, nh, baseKind), est, se, 0)
			aisCheckEstimates(t, fmt.Sprintf("ReverseRBM %d×%d, %s base", nv, nh, baseKind), rest, rse, 0)
		}
	}
}

// TestForwardRBMMatchesGenericAIS runs the generic AIS with single-site
// Gibbs on an RBM from a BinaryBase (the base-rate RBM without hidden
// units) and checks that it and the RBM path agree with the exact value; it
// ties the RBM path's formulas to Anneal's.
func TestForwardRBMMatchesGenericAIS(t *testing.T) {
	rbm := must(energy.NewRandomRBM(rand.New(rand.NewPCG(9, 9)), 8, 5, energy.RBMInit{WeightScale: 1, BiasScale: 1}))
	exact := must(rbm.LogZ())
	bias := []float64{0.5, -0.5, 0, 1, -1, 0.2, 0.3, -0.2}
	base, _ := NewBinaryBase(0, 1, bias)
	baseRBM := must(energy.NewRBM(8, 2, make([]float64, 16), bias, []float64{0.3, -2}))
	var est, se, rest, rse []float64
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 34))
		res, err := Forward(context.Background(), rng, base, rbm, 100, Config{
			Schedule: must(LinearSchedule(300)),
			Kernel: func(e energy.Energy, _ float64) (sampling.Kernel, error) {
				return sampling.NewGibbs(e.(energy.Discrete), sampling.GibbsConfig{})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		est, se = append(est, res.LogZ), append(se, res.StdErr)
		rres, err := ForwardRBM(context.Background(), rand.New(rand.NewPCG(seed, 35)), rbm, 100, RBMConfig{Schedule: must(LinearSchedule(300)), Base: baseRBM})
		if err != nil {
			t.Fatal(err)
		}
		rest, rse = append(rest, rres.LogZ), append(rse, rres.StdErr)
	}
	aisCheckEstimates(t, "generic AIS on an RBM", est, se, exact)
	aisCheckEstimates(t, "RBM AIS from a base with hidden biases", rest, rse, exact)
}

func TestRBMAISErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	rbm := must(energy.NewRandomRBM(rng, 6, 4, energy.RBMInit{}))
	ctx := context.Background()
	sched := must(LinearSchedule(5))
	for name, tc := range map[string]struct {
		n    int
		cfg  RBMConfig
		want error
	}{
		"no chains":       {0, RBMConfig{Schedule: sched}, nil},
		"negative steps":  {4, RBMConfig{Schedule: sched, Steps: -1}, nil},
		"bad schedule":    {4, RBMConfig{Schedule: []float64{0, 0.5}}, nil},
		"base of 5 units": {4, RBMConfig{Schedule: sched, Base: must(energy.NewRandomRBM(rng, 5, 2, energy.RBMInit{}))}, energy.ErrShape},
	} {
		_, err := ForwardRBM(ctx, rng, rbm, tc.n, tc.cfg)
		if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	big := must(energy.NewRandomRBM(rng, 30, 5, energy.RBMInit{}))
	intractable := must(energy.NewRandomRBM(rng, 30, 30, energy.RBMInit{}))
	if _, err := ForwardRBM(ctx, rng, big, 4, RBMConfig{Schedule: sched, Base: intractable}); !errors.Is(err, energy.ErrTooLarge) {
		t.Errorf("a 30×30 base with weights: %v, want ErrTooLarge", err)
	}
	if _, err := ReverseRBM(ctx, rng, rbm, make([]float64, 7), RBMConfig{Schedule: sched}); !errors.Is(err, energy.ErrShape) {
		t.Errorf("ReverseRBM of 7 values for 6 units: %v, want ErrShape", err)
	}
	if _, err := ReverseRBM(ctx, rng, rbm, []float64{0, 1, 0.5, 0, 0, 0}, RBMConfig{Schedule: sched}); err == nil {
		t.Error("ReverseRBM accepted a visible value of 0.5")
	}
}

// BenchmarkForwardRBM784x500 measures one temperature of RBM AIS (block
// Gibbs step plus weight update) on a 784×500 RBM with 100 chains and a
// base without weights, the unit of Salakhutdinov and Murray's
// 14,500-temperature run.
func BenchmarkForwardRBM784x500(b *testing.B) {
	rbm := must(energy.NewRandomRBM(rand.New(rand.NewPCG(1, 1)), 784, 500, energy.RBMInit{WeightScale: 0.01, BiasScale: 0.01}))
	rng := rand.New(rand.NewPCG(2, 2))
	const temps = 20
	cfg := RBMConfig{Schedule: must(LinearSchedule(temps))}
	for b.Loop() {
		if _, err := ForwardRBM(context.Background(), rng, rbm, 100, cfg); err != nil {
			b.Fatal(err)
		}
	}
	perTemp := b.Elapsed().Seconds() / float64(b.N*temps)
	b.ReportMetric(1/perTemp, "temps/s")
	b.ReportMetric(14500*perTemp, "s/14500-run")
}

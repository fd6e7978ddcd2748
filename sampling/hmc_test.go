package sampling

import (
	"testing"

	"github.com/ebmgo/ebm/energy"
)

func TestHMCHardTargets(t *testing.T) {
	for _, tg := range contHardTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			t.Parallel()
			contCheckHard(t, tg, func(e energy.Differentiable) (Kernel, error) {
				return NewHMC(e, HMCConfig{TrajectoryLength: 4, Jitter: 0.5, Adapt: AdaptConfig{TargetAccept: 0.9}})
			}, RunConfig{Warmup: 1000, Draws: 2000})
		})
	}
}

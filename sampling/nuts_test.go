package sampling

import (
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

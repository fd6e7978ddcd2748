package trainer_test

import (
	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/optim"
)

func optimCfg(lr float64) optim.AdamConfig {
	return optim.AdamConfig{LR: lr, Beta1: 0.0, Beta2: 0.999}
}

// mustRBM returns r, or panics on err: for RBMs drawn with settings that
// are valid by construction.
func mustRBM(r *energy.RBM, err error) *energy.RBM {
	if err != nil {
		panic(err)
	}
	return r
}

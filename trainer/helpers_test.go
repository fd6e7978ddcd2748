package trainer_test

import "github.com/ebmgo/ebm/optim"

func optimCfg(lr float64) optim.AdamConfig {
	return optim.AdamConfig{LR: lr, Beta1: 0.0, Beta2: 0.999}
}

package benchmarks

import (
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/sampling"
)

// Sampler workloads. Their targets are analytic (package energy), so the
// cost is the kernel's own: leapfrog arithmetic, tree building, Metropolis
// corrections and random numbers.
const (
	GaussDim    = 100 // dimension of the Gaussian target of HMC and NUTS
	GaussChains = 16  // chains per batch
	HMCStepSize = 0.08
	HMCSteps    = 20
	RBMVisible  = 784
	RBMHidden   = 500
	RBMChains   = 100
)

// Gauss100 returns the target of the HMC and NUTS workloads: N(0, diag(σ²))
// in 100 dimensions with σ from 0.1 to 1, a condition number of 100.
func Gauss100() (*energy.Gaussian, error) {
	mean := make([]float64, GaussDim)
	v := make([]float64, GaussDim)
	for i := range v {
		s := 0.1 + 0.9*float64(i)/float64(GaussDim-1)
		v[i] = s * s
	}
	return energy.NewDiagGaussian(mean, v)
}

// RBM784x500 returns a binary RBM of MNIST's size with small random
// weights (N(0, 0.01²)) and zero biases.
func RBM784x500(rng *rand.Rand) (*energy.RBM, error) {
	w := make([]float64, RBMVisible*RBMHidden)
	for i := range w {
		w[i] = 0.01 * rng.NormFloat64()
	}
	return energy.NewRBM(RBMVisible, RBMHidden, w, make([]float64, RBMVisible), make([]float64, RBMHidden))
}

// SamplerRun is a kernel with its chains, for workloads and benchmarks
// that also record traces for the effective sample size.
type SamplerRun struct {
	K     sampling.Kernel
	S     sampling.State
	Info  sampling.Info
	rng   *rand.Rand
	Evals int // gradient evaluations per chain so far
}

// Step advances every chain by one transition.
func (r *SamplerRun) Step() error {
	var err error
	r.S, r.Info, err = r.K.Step(r.rng, r.S)
	r.Evals += r.Info.GradEvals
	return err
}

// NewSamplerRun starts kernel k's n chains at x0 (len n·D).
func NewSamplerRun(rng *rand.Rand, k sampling.Kernel, x0 []float64, n int) (*SamplerRun, error) {
	s, err := k.Init(x0, n)
	if err != nil {
		return nil, err
	}
	return &SamplerRun{K: k, S: s, rng: rng}, nil
}

// NewGaussRun returns HMC ("hmc") or NUTS ("nuts") on Gauss100 with a
// fixed step size, chains started at draws from the target.
func NewGaussRun(rng *rand.Rand, kind string) (*SamplerRun, error) {
	g, err := Gauss100()
	if err != nil {
		return nil, err
	}
	var k sampling.Kernel
	if kind == "nuts" {
		k, err = sampling.NewNUTS(g, sampling.NUTSConfig{StepSize: HMCStepSize})
	} else {
		k, err = sampling.NewHMC(g, sampling.HMCConfig{StepSize: HMCStepSize, NumSteps: HMCSteps})
	}
	if err != nil {
		return nil, err
	}
	x0 := make([]float64, GaussChains*GaussDim)
	for i := range x0 {
		s := 0.1 + 0.9*float64(i%GaussDim)/float64(GaussDim-1)
		x0[i] = s * rng.NormFloat64()
	}
	return NewSamplerRun(rng, k, x0, GaussChains)
}

// NewRBMRun returns block Gibbs on RBM784x500 with RBMChains chains from
// uniform random binary images.
func NewRBMRun(rng *rand.Rand) (*SamplerRun, error) {
	m, err := RBM784x500(rng)
	if err != nil {
		return nil, err
	}
	k, err := sampling.NewBlockGibbs(m)
	if err != nil {
		return nil, err
	}
	x0 := make([]float64, RBMChains*RBMVisible)
	for i := range x0 {
		x0[i] = math.Round(rng.Float64())
	}
	return NewSamplerRun(rng, k, x0, RBMChains)
}

func init() {
	for _, kind := range []string{"hmc", "nuts"} {
		desc := "HMC (ε 0.08, 20 leapfrog steps)"
		if kind == "nuts" {
			desc = "NUTS (ε 0.08, max depth 10)"
		}
		register(Workload{
			Name: kind + "/gauss100", Desc: desc + ", 100-d Gaussian, 16 chains", Unit: "transitions/s", Units: 1, Torch: kind == "hmc",
			Setup: func(seed uint64) (func() error, error) {
				r, err := NewGaussRun(rand.New(rand.NewPCG(seed, 5)), kind)
				if err != nil {
					return nil, err
				}
				return r.Step, nil
			},
		})
	}
	register(Workload{
		Name: "gibbs/rbm784x500", Desc: "block Gibbs sweep, binary RBM 784×500, 100 chains", Unit: "sweeps/s", Units: 1, Torch: true,
		Setup: func(seed uint64) (func() error, error) {
			r, err := NewRBMRun(rand.New(rand.NewPCG(seed, 6)))
			if err != nil {
				return nil, err
			}
			return r.Step, nil
		},
	})
}

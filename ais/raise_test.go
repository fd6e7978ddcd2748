package ais

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/internal/mathx"
)

// annealingModel returns q(v) for every state v of a small RBM (state s has
// unit i = bit i of s): the distribution of the state forward RBM AIS ends
// in, from a base without weights with visible biases bA, along betas,
// computed by enumerating the transitions
// T_β(v'|v) = Σ_h p_β(h|v) p_β(v'|h).
func annealingModel(rbm *energy.RBM, bA, betas []float64) []float64 {
	nv, nh := rbm.Visible(), rbm.Hidden()
	w, b, c := rbm.Params()
	states := 1 << nv
	bit := func(s, i int) float64 { return float64(s >> i & 1) }
	q := make([]float64, states)
	for s := range q {
		q[s] = 1
		for i := range nv {
			p := mathx.Sigmoid(bA[i])
			if bit(s, i) == 0 {
				p = 1 - p
			}
			q[s] *= p
		}
	}
	for k := 1; k < len(betas)-1; k++ {
		beta := betas[k]
		next := make([]float64, states)
		for s := range states {
			for h := range 1 << nh {
				ph := 1.0
				for j := range nh {
					a := c[j]
					for i := range nv {
						a += bit(s, i) * w[i*nh+j]
					}
					p := mathx.Sigmoid(beta * a)
					if bit(h, j) == 0 {
						p = 1 - p
					}
					ph *= p
				}
				for t := range states {
					pv := 1.0
					for i := range nv {
						a := b[i]
						for j := range nh {
							a += w[i*nh+j] * bit(h, j)
						}
						p := mathx.Sigmoid((1-beta)*bA[i] + beta*a)
						if bit(t, i) == 0 {
							p = 1 - p
						}
						pv *= p
					}
					next[t] += q[s] * ph * pv
				}
			}
		}
		q = next
	}
	return q
}

// TestRAISERBMUnbiased checks that exp(log q̂(v)) is unbiased for the
// annealing model's q(v), computed exactly, at every state of a 3×2 RBM
// along a short schedule (where q is far from the RBM), for bases with one
// and with two hidden units.
func TestRAISERBMUnbiased(t *testing.T) {
	rbm := must(energy.NewRandomRBM(rand.New(rand.NewPCG(4, 4)), 3, 2, energy.RBMInit{WeightScale: 2, BiasScale: 1}))
	bA := []float64{0.8, -0.4, 0.1}
	betas := []float64{0, 0.3, 0.55, 0.8, 1}
	q := annealingModel(rbm, bA, betas)
	const draws = 20000
	for _, nhA := range []int{1, 2} {
		base := must(energy.NewRBM(3, nhA, make([]float64, 3*nhA), bA, make([]float64, nhA)))
		for s := range q {
			v := make([]float64, draws*3)
			for r := range draws {
				for i := range 3 {
					v[r*3+i] = float64(s >> i & 1)
				}
			}
			res, err := RAISERBM(context.Background(), rand.New(rand.NewPCG(uint64(s), 5)), rbm, v, 1, RBMConfig{Schedule: betas, Base: base})
			if err != nil {
				t.Fatal(err)
			}
			ratio := make([]float64, draws)
			for r, l := range res.LogLik {
				ratio[r] = math.Exp(l) / q[s]
			}
			m, variance := mathx.MeanVar(ratio)
			se := math.Sqrt(variance / draws)
			if math.Abs(m-1) > 4*se {
				t.Errorf("base with %d hidden units, state %03b: mean q̂/q = %.4f ± %.4f, want 1", nhA, s, m, se)
			}
		}
	}
}

// TestRAISERBMBracketsExact checks RAISE on exact draws of 10×6 RBMs over
// several seeds: with a long schedule its mean log-likelihood is within a
// few standard errors of the exact one, never clearly above it, and
// forward AIS and RAISE bracket it.
func TestRAISERBMBracketsExact(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		rbm := must(energy.NewRandomRBM(rand.New(rand.NewPCG(seed, 17)), 10, 6, energy.RBMInit{WeightScale: 1, BiasScale: 0.8}))
		exact := must(rbm.LogZ())
		rng := rand.New(rand.NewPCG(seed, 18))
		data := make([]float64, 400*10)
		if err := rbm.Sample(rng, data); err != nil {
			t.Fatal(err)
		}
		f := make([]float64, 400)
		if err := rbm.F(f, data); err != nil {
			t.Fatal(err)
		}
		var ll float64
		for _, x := range f {
			ll += (x - exact) / 400
		}
		cfg := RBMConfig{Schedule: must(RBMSchedule(1000)), Base: must(energy.NewBaseRateRBM(data, 10, 6))}
		res, err := RAISERBM(ctx, rng, rbm, data, 4, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Temps != 1000 || len(res.LogLik) != 400 || !(res.ESS >= 1 && res.ESS <= 4) {
			t.Errorf("seed %d: %d temperatures, %d points, ESS %v", seed, res.Temps, len(res.LogLik), res.ESS)
		}
		// The implied log Z removes the spread of the points' f.
		if d := res.LogZ - exact; math.Abs(d) > 4*res.LogZStdErr+0.01 {
			t.Errorf("seed %d: RAISE log Z %.4f ± %.4f, exact %.4f", seed, res.LogZ, res.LogZStdErr, exact)
		}
		if math.Abs(res.Mean-(ll+exact-res.LogZ)) > 1e-9 {
			t.Errorf("seed %d: mean log-likelihood %.6f is not mean f − LogZ = %.6f", seed, res.Mean, ll+exact-res.LogZ)
		}
		fwd, err := ForwardRBM(ctx, rng, rbm, 400, cfg)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := res.Mean, ll+exact-fwd.LogZ
		tol := 4 * math.Hypot(res.LogZStdErr, fwd.StdErr)
		if ll < lo-tol || ll > hi+tol {
			t.Errorf("seed %d: exact test LL %.4f outside [RAISE %.4f, forward AIS %.4f] ± %.4f", seed, ll, lo, hi, tol)
		}
		t.Logf("seed %d: exact %.4f, RAISE %.4f (log Z %.4f ± %.4f), forward %.4f", seed, ll, lo, res.LogZ, res.LogZStdErr, hi)
	}
}

func TestRAISERBMErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	rbm := must(energy.NewRandomRBM(rng, 4, 3, energy.RBMInit{}))
	ctx := context.Background()
	cfg := RBMConfig{Schedule: must(LinearSchedule(5))}
	if _, err := RAISERBM(ctx, rng, rbm, nil, 1, cfg); !errors.Is(err, energy.ErrShape) {
		t.Errorf("no points: %v, want ErrShape", err)
	}
	if _, err := RAISERBM(ctx, rng, rbm, make([]float64, 6), 1, cfg); !errors.Is(err, energy.ErrShape) {
		t.Errorf("6 values for 4 units: %v, want ErrShape", err)
	}
	if _, err := RAISERBM(ctx, rng, rbm, []float64{0, 1, 0.5, 1}, 1, cfg); err == nil {
		t.Error("accepted a visible value of 0.5")
	}
	if _, err := RAISERBM(ctx, rng, rbm, make([]float64, 4), 0, cfg); err == nil {
		t.Error("accepted 0 chains per point")
	}
	if _, err := RAISERBM(ctx, rng, rbm, make([]float64, 4), 1, RBMConfig{Schedule: []float64{0, 0.5}}); err == nil {
		t.Error("accepted a schedule that stops at 0.5")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := RAISERBM(cctx, rng, rbm, make([]float64, 4), 1, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

package sampling

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ebmgo/ebm/diagnostics"
	"github.com/ebmgo/ebm/energy"
)

// The benchmarks of the continuous kernels run on a 100-dimensional
// zero-mean Gaussian with condition number 100 (variances log-spaced from
// 1 to 0.01) in a random rotation, so that a diagonal mass matrix cannot
// undo it, with 8 chains started uniformly in ±2.
//
// BenchmarkGradsToRMSE* report the gradient evaluations per chain that
// adapted HMC and NUTS need after warm-up until the bias of E[x²],
//
//	b² = (1/C) Σ_c (1/d) Σ_i (m̂_ci − Σ_ii)² / Var[x_i²],   Var[x_i²] = 2Σ_ii²,
//
// with m̂_ci chain c's running mean of x_i², first falls below 0.1² (the
// measure of Robnik et al. 2023, "Microcanonical Hamiltonian Monte Carlo",
// averaged over chains), and the gradient evaluations warm-up took. The
// counts are per chain (Info.Leapfrogs); NUTS in lock-step makes the batch
// pay for its largest tree, reported as batch-grads/chain.
//
// BenchmarkESS* report the smallest bulk ESS over the 100 coordinates per
// second of sampling (warm-up excluded) and per gradient evaluation, for
// 1000 draws per chain after 1000 warm-up iterations.

func contBenchTarget(b *testing.B) *energy.Gaussian {
	g, err := energy.NewIllConditionedGaussian(100, 100, rand.New(rand.NewPCG(100, 100)))
	if err != nil {
		b.Fatal(err)
	}
	return g
}

func BenchmarkGradsToRMSEHMC(b *testing.B) {
	benchGradsToRMSE(b, func(e energy.Differentiable) (Kernel, error) {
		return NewHMC(e, HMCConfig{TrajectoryLength: 1.5, Jitter: 0.5})
	})
}
func BenchmarkGradsToRMSENUTS(b *testing.B) {
	benchGradsToRMSE(b, func(e energy.Differentiable) (Kernel, error) { return NewNUTS(e, NUTSConfig{}) })
}

func benchGradsToRMSE(b *testing.B, newK func(e energy.Differentiable) (Kernel, error)) {
	g := contBenchTarget(b)
	cov := g.Cov()
	d := g.Dim()
	const chains, warmup, maxSteps = 8, 1000, 20000
	var sumGrads, sumBatch, sumWarm, runs float64
	seed := uint64(0)
	for b.Loop() {
		seed++
		k, err := newK(g)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 77))
		res, err := Run(context.Background(), rng, k, contStart(rng, chains, make([]float64, d)), chains, RunConfig{Warmup: warmup})
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range res.LeapfrogsPerChain {
			sumWarm += float64(l) / chains
		}
		s := res.Final
		m := make([]float64, chains*d)
		grads := make([]float64, chains)
		batch := 0.0
		reached := false
		for n := 1; n <= maxSteps && !reached; n++ {
			var info Info
			if s, info, err = k.Step(rng, s); err != nil {
				b.Fatal(err)
			}
			batch += float64(info.GradEvals)
			var b2 float64
			for c := 0; c < chains; c++ {
				grads[c] += float64(info.Leapfrogs[c])
				x := s.Chain(c)
				for i := 0; i < d; i++ {
					mi := &m[c*d+i]
					*mi += (x[i]*x[i] - *mi) / float64(n)
					v := cov[i*d+i]
					b2 += (*mi - v) * (*mi - v) / (2 * v * v)
				}
			}
			if b2/float64(chains*d) < 0.01 {
				reached = true
			}
		}
		if !reached {
			b.Fatalf("seed %d: b did not fall below 0.1 in %d steps", seed, maxSteps)
		}
		for _, gc := range grads {
			sumGrads += gc / chains
		}
		sumBatch += batch
		runs++
	}
	b.ReportMetric(sumGrads/runs, "grads/chain")
	b.ReportMetric(sumBatch/runs, "batch-grads/chain")
	b.ReportMetric(sumWarm/runs, "warmup-grads/chain")
}

func BenchmarkESSHMC(b *testing.B) {
	benchESS(b, func(e energy.Differentiable) (Kernel, error) {
		return NewHMC(e, HMCConfig{TrajectoryLength: 1.5, Jitter: 0.5})
	})
}
func BenchmarkESSNUTS(b *testing.B) {
	benchESS(b, func(e energy.Differentiable) (Kernel, error) { return NewNUTS(e, NUTSConfig{}) })
}
func BenchmarkESSNUTSPerChain(b *testing.B) {
	benchESS(b, func(e energy.Differentiable) (Kernel, error) { return NewNUTS(e, NUTSConfig{PerChain: true}) })
}
func BenchmarkESSMALA(b *testing.B) {
	benchESS(b, func(e energy.Differentiable) (Kernel, error) { return NewMALA(e, MALAConfig{}) })
}
func BenchmarkESSRWMH(b *testing.B) {
	benchESS(b, func(e energy.Differentiable) (Kernel, error) { return NewRWMH(e, RWMHConfig{}) })
}

func benchESS(b *testing.B, newK func(e energy.Differentiable) (Kernel, error)) {
	g := contBenchTarget(b)
	d := g.Dim()
	const chains, draws = 8, 1000
	var essPerSec, essPerGrad, runs float64
	seed := uint64(0)
	for b.Loop() {
		seed++
		k, err := newK(g)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 78))
		res, err := Run(context.Background(), rng, k, contStart(rng, chains, make([]float64, d)), chains, RunConfig{Warmup: 1000})
		if err != nil {
			b.Fatal(err)
		}
		// Sample by hand to count the cost of this phase alone: the
		// gradient evaluations of each chain's own trajectories (RWMH:
		// its f evaluations, one per transition).
		s := res.Final
		tr := Trace{Draws: draws, Chains: chains, Dim: d, X: make([]float64, 0, draws*chains*d)}
		var grads float64
		start := time.Now()
		for range draws {
			var info Info
			if s, info, err = k.Step(rng, s); err != nil {
				b.Fatal(err)
			}
			tr.X = append(tr.X, s.X...)
			switch {
			case info.Leapfrogs != nil:
				for _, l := range info.Leapfrogs {
					grads += float64(l) / chains
				}
			case info.GradEvals > 0:
				grads += float64(info.GradEvals)
			default:
				grads++
			}
		}
		elapsed := time.Since(start)
		minESS := math.Inf(1)
		for i := 0; i < d; i++ {
			ess, err := diagnostics.ESS(tr.Series(i))
			if err != nil {
				b.Fatal(err)
			}
			minESS = math.Min(minESS, ess)
		}
		essPerSec += minESS / elapsed.Seconds()
		essPerGrad += minESS / chains / grads
		runs++
	}
	b.ReportMetric(essPerSec/runs, "minESS/s")
	b.ReportMetric(essPerGrad/runs, "minESS/grad")
}

// BenchmarkStep* time one transition of 8 chains on the 100-d Gaussian
// with fixed parameters near the adapted ones (ε from the ESS benchmarks,
// identity metric), reporting the energy rows evaluated per step. NUTS's
// two batching modes differ here: lock-step evaluates all 8 rows for the
// largest tree, per-chain only each chain's own tree.
func BenchmarkStepHMC(b *testing.B) {
	benchStep(b, func(e energy.Differentiable) (Kernel, error) {
		return NewHMC(e, HMCConfig{StepSize: 0.1, NumSteps: 15})
	})
}
func BenchmarkStepNUTSLockStep(b *testing.B) {
	benchStep(b, func(e energy.Differentiable) (Kernel, error) { return NewNUTS(e, NUTSConfig{StepSize: 0.1}) })
}
func BenchmarkStepNUTSPerChain(b *testing.B) {
	benchStep(b, func(e energy.Differentiable) (Kernel, error) {
		return NewNUTS(e, NUTSConfig{StepSize: 0.1, PerChain: true})
	})
}
func BenchmarkStepMALA(b *testing.B) {
	benchStep(b, func(e energy.Differentiable) (Kernel, error) { return NewMALA(e, MALAConfig{StepSize: 0.005}) })
}
func BenchmarkStepRWMH(b *testing.B) {
	benchStep(b, func(e energy.Differentiable) (Kernel, error) { return NewRWMH(e, RWMHConfig{StepSize: 0.05}) })
}
func BenchmarkStepLangevin(b *testing.B) {
	benchStep(b, func(e energy.Differentiable) (Kernel, error) { return NewULA(e, 0.005) })
}

func benchStep(b *testing.B, newK func(e energy.Differentiable) (Kernel, error)) {
	g := contBenchTarget(b)
	const chains = 8
	k, err := newK(g)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 79))
	s, err := k.Init(contStart(rng, chains, make([]float64, g.Dim())), chains)
	if err != nil {
		b.Fatal(err)
	}
	perChain := false
	if n, ok := k.(*NUTS); ok {
		perChain = n.cfg.PerChain
	}
	for range 100 {
		if s, _, err = k.Step(rng, s); err != nil {
			b.Fatal(err)
		}
	}
	var rows float64
	for b.Loop() {
		var info Info
		if s, info, err = k.Step(rng, s); err != nil {
			b.Fatal(err)
		}
		switch {
		case perChain:
			for _, l := range info.Leapfrogs {
				rows += float64(l)
			}
		case info.GradEvals > 0:
			rows += float64(chains * info.GradEvals)
		default:
			rows += chains
		}
	}
	b.ReportMetric(rows/float64(b.N), "rows/op")
}

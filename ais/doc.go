// Package ais estimates normalising constants by annealed importance
// sampling (Neal 2001): log Z of an energy-based model p(x) = exp(f(x))/Z,
// with a standard error, from chains that move from a distribution whose
// log Z is known to the target through a sequence of intermediate
// distributions. The chains move with the Markov kernels of package
// sampling.
//
// # Forward AIS
//
// Along the geometric path between a normalised base p0 = exp(f0)/Z0 and
// the target f1 (Anneal),
//
//	f_β(x) = (1 − β) f0(x) + β f1(x),   p_β ∝ p0^(1−β) p1^β,
//
// over a schedule 0 = β_0 < β_1 < … < β_K = 1, Forward starts n chains
// from exact draws of p0 and accumulates, for each chain,
//
//	log w = Σ_{k=1..K} (β_k − β_{k−1}) (f1 − f0)(x_{k−1}),
//
// moving x_{k−1} → x_k with transitions that leave p_{β_k} invariant. Then
// E[w] = Z1/Z0, so
//
//	log Ẑ1 = log Z0 + log mean(w)
//
// is unbiased for Z1 and, by Jensen's inequality, a stochastic lower bound
// of log Z1. Result reports the delta-method standard error
// sd(w)/(√n mean w) and the effective sample size of the weights
// ESS = (Σw)²/Σw².
//
// # Reverse AIS and the sandwich
//
// Reverse (Burda, Grosse and Salakhutdinov 2015) runs the schedule
// backwards from draws of the target: E[w] = Z0/Z1 and
// log Ẑ1 = log Z0 − log mean(w) is a stochastic upper bound — when the
// starting draws are exact. Forward and reverse together sandwich log Z.
// For a model too large to sample exactly the draws are the ends of long
// Markov chains; if those chains have not reached the model distribution
// (they sit in the modes they started in, typically near the data), the
// reverse estimate loses its guarantee and can fall below the true value,
// making the sandwich look tighter than it is. RAISE (below) needs no
// model samples and is the safer lower half for such models.
//
// # RAISE: held-out log-likelihood without model samples
//
// RAISERBM (Burda, Grosse and Salakhutdinov 2015) starts reverse chains at
// the data points themselves. For each point v it estimates, unbiasedly on
// the linear scale, q(v): the probability of v under the annealing model,
// the distribution forward AIS's chains end in. Averaged over held-out
// data it is a stochastic lower bound of that model's log-likelihood and
// usually a conservative estimate of the RBM's (the annealing chains lag
// behind the sharpening target, so q fits the data worse), the side
// opposite forward AIS's. It is the lower half of the sandwich for models
// too large to sample exactly: forward AIS and RAISE agree when the
// chains keep up, and their gap measures how far they do not. Mass of the
// model that the annealing chains never reach escapes both alike; a
// forward weight ESS of a few chains is the usual sign of it.
//
// # How far to trust an estimate
//
// An AIS estimate rests on the chains that carry the weight: when a few
// log weights dominate, the ESS is a handful of chains, the standard error
// (computed from those same weights) is itself unreliable, and because the
// weights are heavy-tailed the estimate is more likely to fall below log Z
// than above it. More temperatures make consecutive distributions closer
// and the weights more even; a base closer to the target (the base-rate
// RBM rather than the uniform distribution, or a small RBM fitted to the
// data) shortens the path; more chains help only once the weights are
// even. A working rule: accept a forward estimate when its weight ESS is
// at least half the chains, and report the ESS with the estimate.
//
// # Schedules
//
// LinearSchedule, GeometricSchedule (crowded near β = 0, where a broad base
// changes fastest), SigmoidSchedule (Grosse et al. 2013, crowded at both
// ends), PiecewiseSchedule, and RBMSchedule, Salakhutdinov and Murray's
// 500/4,000/10,000 steps over [0, 0.5], [0.5, 0.9], [0.9, 1] scaled to any
// length. They return errors for counts a user sets out of range.
//
// # Restricted Boltzmann machines
//
// ForwardRBM and ReverseRBM are Salakhutdinov and Murray's (2008) AIS for
// binary RBMs (energy.RBM). The path runs between two RBMs, a base A with
// known log Z (usually the base-rate RBM, energy.NewBaseRateRBM, whose
// visible biases match the data's pixel means and which has no weights)
// and the target B, through the RBMs over v and both hidden layers whose
// joint log-density mixes A's and B's with weights 1 − β and β; summing
// the hidden units out,
//
//	f_β(v) = ((1−β) b_A + β b_B)ᵀv + Σ_j softplus((1−β)(c_A + vᵀW_A)_j)
//	                               + Σ_k softplus(β (c_B + vᵀW_B)_k).
//
// Each temperature takes block Gibbs steps of that joint, h_A and h_B
// given v and then v given both, through the energy.RBM's batched
// conditionals (one matrix product per layer and step, element-wise work
// on GOMAXPROCS goroutines); a base without weights needs no h_A. Then
// Z_0 = Z_A·2^{nh_B}, Z_K = Z_B·2^{nh_A}, and
//
//	log Ẑ_B = log Z_A + (nh_B − nh_A) log 2 ± log mean(w)
//
// (+ forward, − reverse).
//
// # Other models
//
// Forward and Reverse take any energy.Energy target and any Base (a
// normalised distribution with exact draws: energy.Gaussian, BinaryBase
// for binary variables) and a Config.Kernel that builds, for each
// intermediate energy Anneal(base, target, β), a sampling.Kernel that
// leaves it invariant: MALA or HMC for differentiable energies, Gibbs or
// Gibbs-with-Gradients for discrete ones (Anneal keeps what both energies
// implement: gradients, Values and SiteLogits).
package ais

// Package sampling draws samples from energy-based models
// p(x) = exp(f(x)) / Z with Markov chain Monte Carlo, where f is the
// unnormalised log-density of an energy.Energy (higher is more probable).
//
// # Kernels, states and runs
//
// Every sampler is a Kernel: Init(x, n) evaluates what it needs at the
// starting positions of a batch of n chains, and Step(rng, s) advances
// every chain by one transition, with all chains of the batch sharing one
// energy call per function or gradient evaluation (neural energies are
// batched). The State (positions X, f and ∇f) is updated in place; the
// per-step Info reports acceptance, divergences and cost. Randomness comes
// only from the *rand.Rand passed in, so a run is reproducible from its
// seed. Kernels allocate on their first Step and not after.
//
// Run drives any kernel: warm-up (adapting Adaptive kernels), kept draws
// with thinning, a per-step callback that can stop the run, and
// cancellation through a context. Its Result holds a Trace of draws ×
// chains × dimension with accessors (Trace.Series) that give the chains ×
// draws layout of package diagnostics (ESS, split R̂, MCSE).
//
// Continuous kernels: Langevin (unadjusted Langevin dynamics as EBM
// training uses it, and the textbook ULA), AnnealedLangevin (over the
// noise ladder of a noise-conditional score model), MALA, HMC, NUTS and
// RWMH.
// Discrete kernels: Gibbs, BlockGibbs and Gibbs-with-Gradients (GWG), whose
// types document their updates. Annealed importance sampling, which
// estimates log Z with these kernels, is package ais.
//
// # Step sizes and what one Step does
//
// "Step size" means something different in each kernel; Info.StepSize
// reports the value as the caller set it (or as warm-up adapted it):
//
//	kernel                     step size             one Step, per chain
//	Langevin (LangevinConfig)  ε: x += (ε/2)∇f + σξ  one update, one gradient
//	ClippedLangevin(λ, σ)      λ: x += λ·clip(∇f)    one update (its config holds ε = 2λ;
//	                                                 Info.StepSize reports ε)
//	AnnealedLangevin           ε at the last level:  one update at the current level
//	                           αᵢ = ε σᵢ²/σ_L²       (Info.StepSize reports αᵢ)
//	NewULA(e, h)               h: x += h∇f + √(2h)ξ  one update (Config holds ε = 2h;
//	                                                 Info.StepSize reports h)
//	MALA                       h: x' = x + hM⁻¹∇f    one proposal, accepted or not
//	                              + √(2h)M^(−½)ξ
//	HMC, NUTS                  ε: the leapfrog step  one trajectory (HMC: L leapfrogs;
//	                                                 NUTS: a tree of up to 2^MaxDepth)
//	RWMH                       ε: x' = x + ε√M⁻¹⊙ξ  one proposal
//	Gibbs                      —                     a sweep: every variable once
//	                                                 (random scan: Dim() updates)
//	BlockGibbs                 —                     h ~ p(h|v), then v ~ p(v|h)
//	GWG                        —                     one flip proposal: to compare with
//	                                                 a Gibbs sweep, run Dim() Steps
//
// # Langevin dynamics
//
// Langevin is the Euler–Maruyama discretisation of the Langevin diffusion
// dx = ½∇f(x)dt + dW, whose stationary density is exp(f). With the step
// size ε and noise scale σ set separately,
//
//	x ← x + (ε/2)·∇f(x) + σ·ξ,   ξ ~ N(0, I),
//
// optionally clipping every element of ∇f to ±c and clamping x to a box.
// σ = √ε is the discretised diffusion (its zero value); the textbook
// unadjusted Langevin algorithm x ← x + h∇f + √(2h)ξ is ε = 2h (NewULA).
// Without a Metropolis correction the chain's stationary density is not
// exactly exp(f): for a Gaussian target N(μ, Σ) it is N(μ, V) with
// V = σ²(I − A²)⁻¹, A = I − (ε/2)Σ⁻¹, which tends to Σ as ε → 0 with
// σ = √ε. Image EBMs (Du & Mordatch 2019; the UvA tutorial) write the
// update as x ← x + λ∇f + σξ with λ = 10, σ = 0.005 — that is ε = 2λ,
// a noise far below √ε, i.e. a sampler of a much colder density, which
// those models are trained with. ClippedLangevin reproduces the
// tutorial's sampler exactly, noise before the gradient step included.
//
// A chain whose new position has a non-finite f or ∇f keeps its old
// position and is marked divergent.
//
// # Annealed Langevin dynamics
//
// A score model trained by denoising score matching over a ladder of
// noise levels σ₁ > … > σ_L (Song & Ermon 2019) knows the data smoothed at
// every level; a NoiseConditional energy f(x; σ) gives them all.
// AnnealedLangevin runs StepsPerLevel Langevin steps at each level in
// turn with step αᵢ = ε σᵢ²/σ_L² and noise √αᵢ, so chains cross the
// connected landscape of the large levels before the small ones sharpen
// it; Denoise then takes Tweedie's step x + σ_L²∇f(x; σ_L), the posterior
// mean of the clean sample.
//
// # MALA
//
// The Metropolis-adjusted Langevin algorithm proposes, with step size h and
// a diagonal preconditioner M⁻¹,
//
//	x' = x + h·M⁻¹∇f(x) + √(2h)·M^(−½)ξ,   q(x'|x) = N(x'; x + hM⁻¹∇f(x), 2hM⁻¹),
//
// and accepts with probability min(1, exp(f(x') − f(x))·q(x|x')/q(x'|x)).
// It is one leapfrog step of HMC with ε = √(2h). Warm-up tunes h towards
// an acceptance of 0.574 (Roberts & Rosenthal 1998).
//
// # Hamiltonian Monte Carlo
//
// HMC augments x (the position q) with a momentum p ~ N(0, M), M diagonal,
// and simulates the Hamiltonian H(q, p) = −f(q) + ½pᵀM⁻¹p with the
// leapfrog integrator:
//
//	p ← p + (ε/2)∇f(q);   q ← q + εM⁻¹p;   p ← p + (ε/2)∇f(q),
//
// L times (or ⌊T/ε⌋ times for a fixed integration time T), then accepts
// the end point with probability min(1, exp(H₀ − H₁)). A trajectory whose
// energy error H − H₀ exceeds 1000 (Stan's bound) or becomes NaN is
// divergent: that chain stops integrating, is rejected and is marked
// divergent, while the other chains of the batch go on. The energy is
// never evaluated at a non-finite position.
//
// # NUTS
//
// The No-U-Turn sampler (Hoffman & Gelman 2014) in the form Stan uses
// (Betancourt 2017, "A conceptual introduction to HMC", appendix A): the
// trajectory is doubled forwards or backwards at random; a new sub-tree is
// built recursively and discarded if, within it, any sub-tree makes a
// U-turn or a leapfrog step diverges; the transition ends when the whole
// trajectory makes a U-turn, a sub-tree is discarded, or the depth reaches
// MaxDepth (10). The generalised criterion for a (sub-)trajectory with end
// momenta p⁻, p⁺ and momentum sum ρ is (M⁻¹p⁻)·ρ > 0 and (M⁻¹p⁺)·ρ > 0,
// checked across each merged tree and, as Stan ≥ 2.21 does, across each
// pair of halves extended by one point of the other. The next state is
// drawn by multinomial sampling over the trajectory with weights
// exp(−H): biased progressive sampling between the old tree and a new
// sub-tree, uniform within sub-trees. Info.AcceptProb is Stan's acceptance
// statistic, the mean of min(1, exp(H₀ − H)) over all leapfrog steps.
//
// Chains of a batch build trees of different depths. By default NUTS runs
// them in lock-step: all chains go through the same recursion, one batched
// energy call per leapfrog step, and a chain whose tree has ended waits
// (its row is still evaluated, at its last position). The batch pays for
// the largest tree (Info.GradEvals), each chain's own length being in
// Info.Leapfrogs. That is the right choice for neural energies, whose cost
// per call hardly depends on the batch size. NUTSConfig.PerChain instead
// builds the trees one chain at a time with single-sample energy calls,
// paying exactly Σ Leapfrogs, which is cheaper for analytic energies, whose
// cost is linear in the batch. BenchmarkStepNUTSLockStep/PerChain and
// BenchmarkESSNUTS/NUTSPerChain measure the two on a rotated 100-d
// Gaussian.
//
// # Random-walk Metropolis–Hastings
//
// RWMH proposes x' = x + ε·√(M⁻¹) ⊙ ξ, a Gaussian step with diagonal
// covariance ε²M⁻¹, and accepts with probability
// min(1, exp(f(x') − f(x))). It needs f only. The default scale is
// ε = 2.38/√d and warm-up tunes ε towards TargetAcceptRWMH(d) — 0.44 in
// one dimension, tending to 0.234 in many (Gelman, Roberts & Gilks 1996)
// — and M⁻¹ towards the target's variances.
//
// # Warm-up adaptation
//
// HMC, NUTS, MALA and RWMH are Adaptive: during Run's warm-up their raw
// transition StepWith is called with parameters (step size ε, diagonal
// M⁻¹) that Stan's windowed adaptation updates after every iteration:
//
//   - ε by dual averaging (Hoffman & Gelman 2014, §3.2; Nesterov 2009) of
//     the acceptance statistic a_t towards the target δ: with
//     H̄_t = (1 − 1/(t+t₀))H̄_{t−1} + (δ − a_t)/(t+t₀), the next step size is
//     exp(μ − √t·H̄_t/γ), μ = log 10ε₀, and the one kept at the end is
//     exp(x̄_t), x̄_t = t^−κ·log ε_t + (1 − t^−κ)·x̄_{t−1}; Stan's γ = 0.05,
//     t₀ = 10, κ = 0.75 and δ = 0.8 for HMC and NUTS;
//   - M⁻¹ in slow windows: after an initial buffer of 75 iterations,
//     windows of 25, 50, 100, … iterations (the last stretched to end 50
//     iterations before the end of warm-up) each estimate the variance σ̂²
//     of the positions, and M⁻¹ becomes Stan's regularised
//     (n/(n+5))·σ̂² + 10⁻³·5/(n+5). After each window ε is searched afresh
//     (Hoffman & Gelman's heuristic: double or halve ε until the
//     acceptance of one trial step crosses δ) and dual averaging restarts
//     from it.
//
// Adaptation over a batch pools the chains: dual averaging is fed the
// mean acceptance statistic over the chains at each iteration, and the
// variance estimate takes every chain's position at every window
// iteration (so n in the regularisation is chains × window length). All
// chains then share the adapted parameters, as Stan's chains would if
// they pooled their warm-up. Pooling early, before the chains have mixed,
// overestimates the variance, which errs on the safe side.
//
// # Divergences
//
// No kernel lets a NaN or Inf into a chain: a proposal, trajectory or
// update with a non-finite energy or gradient is rejected (or, for
// Langevin, not made) and the chain is marked in Info.Divergent; Run
// counts them in Result.Divergences. Init returns an error wrapping
// ErrDiverged if a chain starts where f or ∇f is not finite.
//
// # Warnings
//
// Run's Result carries Warnings, signs that the draws may not be
// trusted, each a line with its numbers and the remedy for a program to
// print (Stan prints the same). The diagnostics behind them are package
// diagnostics', computed on every coordinate and on f (Result.Diagnostics;
// RunConfig.NoDiagnostics skips them when they would cost more than the
// sampling, for high-dimensional targets).
//
//   - WarnDivergences: transitions after warm-up diverged (in a run that
//     keeps no draws and adapts nothing, as EBM training samples: any
//     transition). The chains
//     avoid where their trajectories diverge, typically regions of high
//     curvature (the bend of a banana, the neck of a funnel), so moments
//     are biased even when R̂ and ESS look healthy. Raise the target
//     acceptance (AdaptConfig.TargetAccept 0.95 or 0.99: a smaller step
//     size), or reparameterise the target (a non-centred funnel).
//   - WarnTreeDepth: NUTS trajectories were cut at NUTSConfig.MaxDepth: an
//     efficiency problem, not a bias; raise MaxDepth, lengthen warm-up for
//     a better mass matrix, or reparameterise.
//   - WarnBulkESS, WarnTailESS: fewer effective draws than RunConfig.MinESS
//     (100 per chain): means, intervals, MCSE and R̂ are unreliable. Run
//     longer, or use a kernel that moves further per step.
//   - WarnRHat: split R̂ above RunConfig.MaxRHat (1.01): the chains
//     disagree. Run longer; if it persists the target is multimodal or
//     some chains are stuck.
//   - WarnStepSize: the adapted step size was still shrinking at the end
//     of warm-up, ending below a third of its first value: the chains kept
//     reaching regions of stronger curvature. Lengthen warm-up, raise the
//     target acceptance or reparameterise.
//   - WarnStuck: a coordinate or f took one value in every draw (or a
//     non-finite one): the chains do not move.
//
// No warning is necessary for trustworthy draws, not sufficient: chains
// that all miss a region agree with each other.
//
// # Gibbs sampling
//
// Gibbs (gibbs.go) updates one variable of an energy.Discrete at a time
// from its exact conditional p(x_i = v_k | x_−i) ∝ exp(f(x with x_i = v_k)),
// in a systematic, permuted or random scan (GibbsConfig). The conditional
// log-ratios come from SiteLogits when the energy is an
// energy.SiteConditional, and from K evaluations of f otherwise; binary
// and categorical variables are treated alike. BlockGibbs alternates
// h ~ p(h | v) and v ~ p(v | h) for any Bipartite model (energy.RBM).
//
// # Gibbs-with-Gradients
//
// GWG (gwg.go; Grathwohl et al. 2021) flips one binary variable per step,
// chosen from q(i | x) = softmax(d̃(x)/2) with the first-order estimate
// d̃(x)_i = (x'_i − x_i) ∂f/∂x_i of f(flip_i x) − f(x), and accepts with
// probability min(1, exp(f(x') − f(x)) q(i | x')/q(i | x)).
package sampling

// Package energy defines the Energy interface every sampler in ebm works
// with, and a catalogue of energies with known answers: continuous targets
// with exact log Z and moments, discrete models (RBM, Ising, Potts) with
// exact partition functions, and the exact computations themselves
// (enumeration, transfer matrices, grid quadrature).
//
// An energy-based model is a density p(x) = exp(f(x)) / Z, where f is the
// unnormalised log-density (the negative of the physicist's energy) and
// Z = ∫ exp(f(x)) dx is the partition function. Ratios need no Z:
//
//	log p(x1) − log p(x2) = f(x1) − f(x2)   (see LogRatio)
//
// Energies work on batches: F(dst, x) writes f of each of the N samples
// stored row-major in x. Differentiable energies also give ∇x f, which
// Langevin dynamics, MALA, HMC and Gibbs-with-Gradients need. Neural
// energies compiled by package graph satisfy the same interfaces, so every
// sampler runs on analytic and neural energies alike.
//
// # Continuous energies with known answers
//
// Each implements [Analytic] (f, ∇f, and the exact log Z, mean and
// covariance) and all but DoubleWell implement [ExactSampler], drawing
// independent exact samples as references for samplers and estimators:
//
//	Gaussian    f = −½(x−μ)ᵀΣ⁻¹(x−μ)                     log Z = (d/2) log 2π + ½ log det Σ
//	Mixture     f = log Σ_k w_k N(x; μ_k, Σ_k)            log Z = log Σ_k w_k
//	Banana      x₁ ~ N(0, σ₁²), x₂|x₁ ~ N(b(x₁²−σ₁²), 1)   log Z = log 2πσ₁ (2-D)
//	Rosenbrock  f = −s[(a−x₁)² + b(x₂−x₁²)²]              log Z = log π − log s − ½ log b
//	Funnel      v ~ N(0, σ²), x_i|v ~ N(0, e^v)           log Z = 0 (f is normalised)
//	DoubleWell  f = Σ_i −a(x_i²−1)² + c x_i                log Z = d log z₁, z₁ by quadrature
//
// The moments are closed forms (Var x₂ = 1 + 2b²σ₁⁴ for the banana,
// Cov(x₁, x₂) = 2aσ² for Rosenbrock, Var x_i = e^{σ²/2} for the funnel,
// Σ_k π_k(Σ_k + μ_kμ_kᵀ) − μμᵀ for mixtures), except DoubleWell's, which
// come from one-dimensional quadrature accurate to ~1e−13.
// NewIllConditionedGaussian gives covariances with eigenvalues log-spaced
// from 1 to 1/cond in a Haar-random rotation, the stress test for step
// size and mass-matrix adaptation.
// FitGaussian fits N(μ, Σ + ridge·v̄·I) to samples (the sample mean and
// covariance, v̄ their mean variance): fresh starting points for the
// chains of image EBMs with the data's pixel correlations.
//
// # Discrete energies
//
// Discrete variables are float64 values from a finite set, [Discrete]'s
// Values(). Gibbs samplers use [SiteConditional]'s SiteLogits, the change
// of f when one variable takes each value, when an energy has it:
//
//	RBM    f(v) = bᵀv + Σ_j softplus(c_j + (vᵀW)_j)   v ∈ {0,1}^nv (hidden units summed out)
//	Ising  f(s) = J Σ_⟨ij⟩ s_i s_j + h Σ_i s_i        s ∈ {−1,+1}^(l²), periodic l×l lattice
//	Potts  f(x) = J Σ_⟨ij⟩ 1[x_i = x_j]               x ∈ {0…q−1}^(l²), periodic l×l lattice
//
// RBM and Ising are also Differentiable on the real relaxation (the same
// formula for real inputs), for Gibbs-with-Gradients.
//
// # Restricted Boltzmann machines
//
// RBM is the one restricted Boltzmann machine of ebm: block Gibbs
// sampling, contrastive-divergence training (package trainer) and annealed
// importance sampling (package ais) all go through it. Besides f and its
// single-site logits it has the block conditionals
//
//	p(h_j = 1 | v) = σ(c_j + (vᵀW)_j),   p(v_i = 1 | h) = σ(b_i + (Wh)_i),
//
// as inputs (HiddenInputs, VisibleInputs: the logits), probabilities
// (HiddenProbs, VisibleProbs) and draws (SampleHidden, SampleVisible), for
// batches of any size: a batch of N·nv·nh ≥ 2¹⁶ takes one matrix product
// through ebm's BLAS engine and shares the element-wise work among
// GOMAXPROCS goroutines, with Bernoulli draws that depend on the caller's
// generator alone. JointF is the joint log-density bᵀv + cᵀh + vᵀWh.
// NewRandomRBM draws a starting point (weights N(0, σ²), visible biases
// optionally the data's log-odds, BaseRateBias). The base-rate RBM of
// Salakhutdinov and Murray (2008), NewBaseRateRBM, has no weights: its
// units are independent, so its log Z = Σ_i softplus(b_i) + Σ_j softplus(c_j)
// and its exact samples cost nothing at any size; it is the usual start of
// annealed importance sampling. Sample draws exact samples of any RBM
// whose smaller layer can be enumerated.
//
// # Exact partition functions
//
// All sums are kept in log-sum-exp form, so log Z is exact and finite for
// f of any magnitude (tested at |f| ~ 1e4):
//
//   - [LogZEnumerate] and [Enumerate] sum over all K^D states of any
//     Discrete energy (up to MaxEnumerateStates = 2^24), Enumerate also
//     giving the exact means and covariance.
//   - (*RBM).LogZ enumerates the smaller layer and sums the other out:
//     log Z = log Σ_h exp(cᵀh + Σ_i softplus(b_i + (Wh)_i)) for nh ≤ nv,
//     in Gray-code order, O(2^min(nv,nh)·max(nv,nh)); 784×16 is exact.
//     Without weights it is the closed form above, at any size.
//   - (*Ising).LogZ uses Kaufman's (1949) closed form for the finite
//     torus at h = 0, at any size; with a field, and for (*Potts).LogZ,
//     the row transfer matrix, Z = Tr T^l, costing l²·K^(2l+1)
//     (Ising to 10×10, 3-state Potts to 6×6).
//   - [Quadrature] integrates exp(f) over a box by the trapezoidal rule,
//     for 1-D to 3-D energies, analytic or neural: log Z, an error estimate
//     (the change from the rule with twice the step, and the mass on the
//     box's faces) and the moments. It reproduces the closed forms above
//     to ~1e−14.
//
// Computations beyond their limits return errors wrapping [ErrTooLarge]
// (use annealed importance sampling, package ais, instead); bad
// parameters return errors wrapping [ErrParameter], wrong lengths
// [ErrShape].
package energy

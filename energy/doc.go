// Package energy defines the Energy interface every sampler in ebm works
// with, and a catalogue of energies with known answers.
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
// Each implements [Analytic]: f, ∇f, the exact log Z, mean and covariance;
// all but DoubleWell also draw exact samples ([ExactSampler]).
//
//	Gaussian     f = −½(x−μ)ᵀΣ⁻¹(x−μ)                 log Z = (d/2)log 2π + ½ log det Σ
//	Mixture      f = log Σ_k w_k N(x; μ_k, Σ_k)          log Z = log Σ w_k
//	Banana       x₁ ~ N(0,σ₁²), x₂|x₁ ~ N(b(x₁²−σ₁²), 1)  log Z = log 2πσ₁ (2-D)
//	Rosenbrock   f = −s[(a−x₁)² + b(x₂−x₁²)²]           log Z = log π − log s − ½ log b
//	Funnel       v ~ N(0,σ²), x_i|v ~ N(0, e^v)         log Z = 0 (normalised)
//	DoubleWell   f = Σ −a(x_i²−1)² + c x_i               log Z by quadrature to ~1e−13
//
// NewIllConditionedGaussian gives covariances with log-spaced eigenvalues
// from 1 to 1/cond in a random rotation.
//
// # Quadrature
//
// [Quadrature] integrates exp(f) for any low-dimensional energy on a grid
// by the trapezoidal rule, giving log Z, an error estimate (the change
// from the rule with twice the step, and the mass on the box's faces) and
// the moments: the exact answer for 1-D and 2-D neural energies.
package energy

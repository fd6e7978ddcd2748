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
package energy

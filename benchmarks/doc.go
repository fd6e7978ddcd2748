// Package benchmarks measures ebm's speed on the workloads users run —
// Langevin sampling of neural energies and contrastive-divergence training —
// side by side with a PyTorch reference of the same workloads
// (benchmarks/pytorch). See README.md for the latest table and how to make
// it.
package benchmarks

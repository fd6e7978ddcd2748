// Command quickstart is the tour of ebm's API that the README walks
// through, as a program that runs in about half a minute on one core:
//
//	go run ./examples/quickstart
//
// It trains an MLP energy f_θ: ℝ² → ℝ on the 8 Gaussians toy set with
// replay-buffer contrastive divergence (package trainer), compiles the
// trained network into an energy with f and ∇x f (package graph), compares
// two points by their log-ratio (no Z needed), computes log Z by quadrature
// and the test negative log-likelihood against the data's exact entropy
// (package energy), and draws from the model with MALA, Stan-style warm-up
// included, with its diagnostics (package sampling).
//
// Every step uses only the public API; the README copies its code.
package main

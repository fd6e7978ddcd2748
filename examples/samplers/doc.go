// Command samplers runs HMC, NUTS and MALA of package sampling, each with
// Stan's warm-up adaptation, on hard targets with exact moments — the
// strongly twisted banana, the Rosenbrock distribution, Neal's funnel and a
// 100-d ill-conditioned Gaussian — and reports how well each does per
// gradient evaluation.
//
//	go run ./examples/samplers                         # the whole table (≈5 CPU minutes)
//	go run ./examples/samplers -targets funnel -reps 3 # one target, three seeds
//	go run ./examples/samplers -draws 4000             # longer runs
//
// For every sampler × target it measures the error of every coordinate's
// mean and variance against the truth in Monte Carlo standard errors, bulk
// and tail ESS per gradient evaluation (diagnostics.ESS, ESSTail), the
// largest split R̂ (diagnostics.SplitRHat), divergences and wall time. It writes into
// -dir (runs/samplers): results.md and results.json, a picture of the draws
// over the exact density per target (funnel.png shows (x₁, v)) and trace
// plots against gradient evaluations (*-trace.png). Progress goes to
// stderr, the table to stdout.
package main

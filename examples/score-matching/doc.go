// Command score-matching trains the same MLP energy on each of the 2-D toy
// data sets of package datasets with every training objective of package
// trainer — contrastive divergence, improved CD (its KL term), exact,
// sliced and denoising score matching, noise-conditional denoising score
// matching over a noise ladder, and noise-contrastive estimation — for the
// same wall-clock time each, and measures how close each gets to the
// data: the test negative log-likelihood with the partition function by
// quadrature, against the data's exact entropy. The gap NLL − H is
// KL(p_data‖p_θ) ≥ 0; it is estimated with the exact log p_data as a
// control variate (KL ± its standard error).
//
//	go run ./examples/score-matching                         # 7 data sets × 7 objectives, 20 s each (≈18 min)
//	go run ./examples/score-matching -data rings -budget 1m  # one data set, longer
//	go run ./examples/score-matching -objectives cd,dsm      # some objectives
//
// It writes into -dir (runs/score-matching): results.md and results.json
// (the table) and summary.png (true densities beside the learned ones).
// The table goes to stdout, progress to stderr.
package main

// Command rbm-mnist trains binary restricted Boltzmann machines on
// binarised MNIST with CD-1, CD-k and persistent CD, and measures what the
// literature measures: the average log-probability of the test images in
// nats.
//
//	go run ./examples/rbm-mnist                   # defaults: ≈ 20 min on 2 cores
//	go run ./examples/rbm-mnist -preset paper     # the long runs of the papers (many hours)
//	go run ./examples/rbm-mnist -h                # every setting
//
// Two model sizes:
//
//   - 784×16 (-small-hidden): log Z is exact by enumerating the 2^16
//     hidden states (energy.RBM.LogZ), so the test log-likelihood is exact.
//     The program also runs AIS on these models, to show how close the
//     estimator comes where the answer is known.
//   - 784×500 (-large-hidden): log Z is estimated by annealed importance
//     sampling (Salakhutdinov & Murray 2008) from a base-rate RBM, forward
//     (a stochastic lower bound of log Z, so an upper bound of the test
//     log-likelihood) and reverse from samples of long Gibbs chains (an
//     upper bound of log Z if those samples were exact), each with its
//     standard error: the sandwich.
//
// Images are thresholded at half intensity (p/255 > 0.5). The output
// folder (-dir, default runs/rbm-mnist) receives results.md (the table),
// results.json (every number and setting), filters and samples as PNG
// grids and training curves. Training state is saved after every epoch;
// running the same command again resumes unfinished models and reuses
// finished ones (-fresh starts over).
package main

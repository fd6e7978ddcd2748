// Command rbm-mnist trains binary restricted Boltzmann machines on
// binarised MNIST with CD-1, CD-k and persistent CD, and measures what the
// literature measures: the average log-probability of the test images in
// nats.
//
//	go run ./examples/rbm-mnist                   # defaults: CD-1, CD-10, PCD-1 at 784×16; CD-1, CD-3, PCD-1 at 784×500
//	go run ./examples/rbm-mnist -preset ordering  # CD-1, CD-3, CD-25 and PCD-1 with one recipe
//	go run ./examples/rbm-mnist -preset momentum  # CD-1 and CD-3 under rbm.m's momentum 0.9 against 0.5
//	go run ./examples/rbm-mnist -preset paper     # the long runs of the papers (many hours)
//	go run ./examples/rbm-mnist -h                # every setting
//
// Every method trains with one recipe unless its entry says otherwise:
// CD at learning rate 0.01 and PCD at 0.02, both decaying linearly to 0,
// momentum 0.5, weight decay 2·10⁻⁴. A method's entry may change its own
// settings after colons: -large-methods cd1,cd3:m0.9:const trains CD-3
// with momentum 0.9 after epoch 5 at a constant rate (Hinton's rbm.m),
// which makes 784×500 models diverge a few epochs after the switch.
//
// Two model sizes:
//
//   - 784×16 (-small-hidden): log Z is exact by enumerating the 2^16
//     hidden states (energy.RBM.LogZ), so the test log-likelihood is exact.
//     The program also runs AIS on these models, to show how close the
//     estimator comes where the answer is known.
//   - 784×500 (-large-hidden): log Z is estimated by annealed importance
//     sampling (Salakhutdinov & Murray 2008) from a base-rate RBM. Forward
//     AIS is a stochastic lower bound of log Z, so an upper bound of the
//     test log-likelihood; an AIS run whose weight ESS is below half the
//     chains (-ais-min-ess) is repeated with more temperatures, up to
//     -ais-max-temps, and every row reports the temperatures and the ESS
//     its estimate rests on. The other side is RAISE (Burda, Grosse &
//     Salakhutdinov 2015, ais.RAISERBM): reverse annealing chains that
//     start at test images (-raise-images, the same random subset for
//     every model) and estimate each image's log-probability from below
//     on average, without samples of the RBM. The test log-likelihood
//     lies between the two unless the RBM has mass no annealing chain
//     reaches; the width of the interval says how well it is known.
//
// Images are thresholded at half intensity (p/255 > 0.5). The output
// folder (-dir, default runs/rbm-mnist) receives results.md (the table),
// results.json (every number and setting), filters and samples as PNG
// grids and training curves. Training state is saved after every epoch;
// running the same command again resumes unfinished models and reuses
// finished ones (-fresh starts over).
package main

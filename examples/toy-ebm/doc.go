// Command toy-ebm trains an energy-based model on each of the 2-D toy data
// sets of package datasets and measures how close it gets to the data: the
// test negative log-likelihood, with the partition function by quadrature,
// against the data's exact entropy. The gap NLL − H is KL(p_data‖p_θ) ≥ 0.
//
//	go run ./examples/toy-ebm                        # all seven data sets (≈10 min on 2 free cores)
//	go run ./examples/toy-ebm -data rings,moons      # some of them
//	go run ./examples/toy-ebm -iters 8000            # longer training
//
// It writes into -dir (runs/toy-ebm): results.md and results.json (the
// table), summary.png (every data set, data beside model), and per data set
// a folder with density.png (true density, learned density, model samples)
// and the trainer's run (checkpoint, metrics.jsonl, loss and landscape
// pictures). Ctrl-C writes checkpoints; the same command resumes. Progress
// goes to stderr, the table to stdout.
package main

// Command mnist-ebm trains, samples and evaluates a convolutional
// energy-based model of MNIST digits.
//
//	go run ./cmd/mnist-ebm                 # train with the default recipe (≈10 min on 2 cores)
//	go run ./cmd/mnist-ebm -preset long    # 4× longer, learning rate annealed (≈36 min)
//	go run ./cmd/mnist-ebm sample -dir runs/mnist
//	go run ./cmd/mnist-ebm eval -dir runs/mnist
//
// Modes:
//
//	train   train (the default); resumes when the run folder has a checkpoint
//	sample  load a model, run Langevin chains from noise, write a PNG grid
//	eval    energies of test digits against noise, corrupted and shifted
//	        digits (AUROC), and the quality of samples
//
// Settings come from a preset (-preset default|long|quick), then a JSON
// file (-config), then flags; run with -h for the list. Ctrl-C during
// training writes a checkpoint and exits; the same command resumes.
package main

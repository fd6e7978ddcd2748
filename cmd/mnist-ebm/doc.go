// Command mnist-ebm trains, samples and evaluates a convolutional
// energy-based model of MNIST digits — or of any other images given with
// -data.
//
//	go run ./cmd/mnist-ebm                 # train with the default recipe (≈13 min on 2 cores)
//	go run ./cmd/mnist-ebm sample -dir runs/mnist
//	go run ./cmd/mnist-ebm eval -dir runs/mnist
//	go run ./cmd/mnist-ebm -preset tutorial-lr2e-3   # the replay-buffer recipe of the UvA tutorial, lr 2e-3
//
// The default recipe trains the model with the chain that sample runs:
// every iteration starts all chains afresh from a Gaussian fitted to the
// training images and runs 60 Langevin steps (short-run training,
// -chains short-run -init gaussian), so fresh samples are as good as
// training's. -preset tutorial-lr2e-3 keeps a replay buffer of past
// samples instead (-chains replay -init uniform), whose samples are good
// but whose fresh chains are not; -preset long runs it four times as
// long, and -preset quick for seconds.
//
// Other images: -data DIR reads, with its format detected, a folder of
// PNG/JPEG/GIF files (one sub-folder per class, or none; train/ and test/
// sub-folders for splits), IDX files (Fashion-MNIST, KMNIST; EMNIST as
// DIR/emnist-SET) or CIFAR-10's binary batches. The model is sized from
// the images (-size N or WxH and -channels 1|3 convert them; -arch resnet
// picks a small residual network instead of the CNN), the run folder
// defaults to runs/NAME for -data …/NAME, and the run's settings record
// the shape so that sample and eval rebuild the model. Samples are scored
// by the classifier in the run folder's judge.safetensors (written by
// cmd/train-classifier -data DIR -out DIR_OF_RUN/judge.safetensors), or
// by -judge FILE; MNIST's is built in.
//
// Objectives: -objective picks what training minimises — cd (the
// default), icd (CD with improved CD's KL term), dsm (denoising score
// matching), ssm (sliced score matching) or nce (noise-contrastive
// estimation); see trainer.Objective. -preset dsm trains a
// noise-conditional score model over ten noise levels (-levels,
// -sigma-max, -sigma-min); sample and eval draw its samples by annealed
// Langevin dynamics (-sample-steps over the levels, -anneal-step).
//
//	go run ./cmd/mnist-ebm -preset dsm     # score model by denoising score matching (runs/mnist-dsm)
//
// Modes:
//
//	train   train (the default); resumes when the run folder has a checkpoint
//	sample  load a model, run Langevin chains from noise, write a PNG grid
//	eval    energies of test images against noise, corrupted, shifted and
//	        flipped images (AUROC), and the quality of samples
//
// Settings come from a preset (-preset default|tutorial-lr2e-3|long|quick|dsm), then a JSON
// file (-config), then flags; run with -h for the list. Ctrl-C, SIGTERM
// or SIGHUP during training writes a checkpoint and exits (128 + the
// signal); the same command resumes, with the run's own settings
// (DIR/config.json): a change that alters what the run computes is
// refused unless -allow-changed-settings, and every training segment's
// settings are kept in DIR/config-history.jsonl. One training at a time
// holds a run folder (an OS lock on DIR/.lock, named in the refusal of a
// second one); checkpoints carry per-tensor checksums, checked on
// resuming. The README's "Checkpoints and resuming" says what is
// guaranteed.
//
// Data-parallel training (a build with -tags torch; libtorch's c10d, Gloo
// on CPUs, NCCL on GPUs): every process is a rank that trains on its shard
// of the images with a batch of -batch and a buffer of -buffer, and the
// gradients are averaged over the ranks at every iteration. On one host,
//
//	mnist-ebm -nproc 2 ...                                     # starts the 2 ranks itself
//	torchrun --nproc_per_node 2 --no_python ./mnist-ebm ...    # the same under torchrun
//
// and on several hosts torchrun on each (--nnodes, --node_rank,
// --master_addr, --master_port). Only rank 0 writes the run folder and
// prints; a run of N ranks resumes from its checkpoint on N ranks. A rank
// that fails or stops answering stops the others within -dist-timeout.
package main

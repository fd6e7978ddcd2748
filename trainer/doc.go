// Package trainer trains energy-based models: by maximum likelihood with
// contrastive divergence, as image EBMs are trained, or by the other
// objectives of the field (Config.Objective).
//
// For p_θ(x) = exp(f_θ(x)) / Z(θ) the log-likelihood gradient is
//
//	∇θ log p_θ(x⁺) = ∇θ f_θ(x⁺) − E_{x∼p_θ}[∇θ f_θ(x)].
//
// Each iteration draws a data batch x⁺, runs MCMC chains (Langevin dynamics
// by default; any sampling.Kernel) to get samples x⁻ of the model, and takes
// one optimiser step on
//
//	L = mean f(x⁻) − mean f(x⁺) + α·(mean f(x⁺)² + mean f(x⁻)²),
//
// whose gradient estimates the negative log-likelihood gradient; α keeps
// the energies near zero (Du & Mordatch 2019).
//
// # Other objectives
//
// Config.Objective replaces contrastive divergence by
//
//	ImprovedCD              CD plus the KL term of improved CD (a gradient
//	                        through the last Langevin step, θ̄ held fixed)
//	                        and data-augmentation transitions (Du et al. 2021)
//	ScoreMatching           exact score matching, ½‖∇x f‖² + tr ∇²x f (Hyvärinen 2005)
//	SlicedScoreMatching     vᵀ∇²x f v + ½‖∇x f‖², random projections v (Song et al. 2019)
//	DenoisingScoreMatching  ½σ²‖∇x f(x + σz; σ) + z/σ‖², one level or a geometric
//	                        ladder, noise-conditional if asked (Vincent 2011; Song & Ermon 2019)
//	NCE                     logistic regression against noise with a learned log Z
//	                        (Gutmann & Hyvärinen 2010)
//
// The score-matching family needs no sampling and no log Z, but its
// θ-gradient differentiates ∇x f again (graph.NewSecondOrderLoss). Every
// objective goes through the same loop: checkpoints (which record the
// objective, and NCE's log Z), metrics, monitors, divergence handling. For
// objectives without model samples, Metrics.FNeg and Gap are 0 (NCE: the
// mean f of the noise) and MaxGap does not apply; a non-finite loss or
// gradient is a divergence as for CD. A score model trained over a noise
// ladder is sampled with sampling.AnnealedLangevin.
//
// # Where chains start
//
//   - Replay (default): from a replay buffer of past samples of fixed
//     capacity (8,192), except that each chain restarts from fresh noise
//     with probability 0.05; the end points go back into the buffer,
//     overwriting the oldest.
//   - PCD: the same chains continue from one iteration to the next.
//   - CD: at the data batch (CD-k).
//   - ShortRun: every chain of every iteration from fresh noise, for
//     Steps transitions (short-run MCMC, Nijkamp et al. 2019): the
//     model is trained with the very sampler that draws its samples
//     afterwards, noise and Steps transitions, and learns to make that
//     short chain produce data; nothing persists between iterations.
//
// # Run folder, checkpoints and resuming
//
// With Config.Dir set, the trainer writes there:
//
//	checkpoint.safetensors  everything needed to resume (below)
//	model.safetensors       the parameters alone, loadable by PyTorch
//	metrics.jsonl           one JSON line per iteration (Metrics)
//
// Pictures are a Monitor's job: install monitor.Pictures (package
// trainer/monitor) in Config.Monitors for loss and energy curves, sample
// and replay-buffer grids of image data, and energy landscapes of 2-D data.
// Monitors run after every iteration and read the trainer through its
// accessors; Config.Progress is the hook for progress displays.
//
// # Data
//
// The data batches x⁺ come from a Data stream: *datasets.Batches (seeded,
// shuffled, allocation-free) or any type with the same methods, such as a
// shard of a larger data set. Its position is part of the checkpoint.
//
// A checkpoint holds the parameters, the optimiser's moments and step, the
// replay buffer or persistent chains, the random generator, the data
// iterator's position, the iteration and the learning-rate scale. It is
// written atomically (temporary file, fsync, rename) every CheckpointEvery
// iterations, at the end, and when the context is cancelled. New restores
// the checkpoint it finds in Dir, so a run killed at any moment resumes
// from its last checkpoint, and the resumed run reproduces the
// uninterrupted one bit for bit (with the Go backend). metrics.jsonl is
// cut back to the checkpoint's iteration on resume.
//
// Every tensor of a checkpoint carries the CRC-32C (Castagnoli) of its
// stored bytes in the metadata (key "crc32c/" + its name, 8 hex digits),
// and the metadata that of its sorted keys and values (key "crc32c"), so
// that any tool can check a checkpoint. New, rollbacks and ReadBuffer
// verify them: a corrupt checkpoint, or one holding NaN or Inf (the state
// of a diverged run), is an error wrapping ErrCheckpoint that names the
// file and the tensor, and changes nothing.
//
// # Divergence
//
// Training has diverged when the loss, an energy or a gradient is NaN or
// Inf, when the sampler reports sampling.ErrDiverged, or when the energy
// gap |mean f(x⁺) − mean f(x⁻)| exceeds Config.MaxGap. With the Stop policy
// Run returns an error wrapping sampling.ErrDiverged that names the iteration; with
// Rollback it restores the last good checkpoint, multiplies the learning
// rate by RollbackFactor (0.5) and goes on, up to MaxRollbacks times.
//
// # Data-parallel training
//
// With Config.Collective set (package torch/dist provides one over
// libtorch's c10d: Gloo on CPUs, NCCL on GPUs), each of the run's N
// processes ("ranks") is one Trainer: every rank trains a replica of the
// model on its own Data (a shard of the data set), with its own replay
// buffer of BufferSize samples (or persistent chains) and its own random
// stream, NewRankSource(Seed, rank) — rank 0's is a one-process run's.
// Each iteration the ranks sample independently, then average their
// gradients (and the loss statistics) before the update,
//
//	∇θ L = (1/N) Σ_r ∇θ L_r,
//
// which with equal batches is the gradient of the loss of the union of
// their batches: a world of N with batch B trains as one process with
// batch N·B whose chains were drawn in N independent groups. Every rank
// applies the same update, so the replicas stay identical bit for bit.
//
// New compares a description of every rank's configuration with rank 0's
// (a rank that differs names the settings) and starts every rank from
// rank 0's parameters and optimiser state, or from rank 0's checkpoint,
// each rank restoring its own shard. Rank 0 alone writes the run folder:
// the checkpoint holds every rank's buffer, generator and data position
// (rank 0's under the names of a one-process checkpoint, rank r's under
// "rank<r>/"), gathered at the checkpoint's iteration, so that a world of
// the same size resumes bit for bit. Monitors and Progress run on rank 0
// only; their Metrics are of the whole world: loss, energies and
// gradient norm of the union, acceptance and timings averaged over the
// ranks, divergences and fresh chains counted over all of them.
//
// The ranks decide together: after sampling they compare notes, and if
// any rank was cancelled, failed or diverged, all undo the iteration and
// stop, roll back or fail together, so that a checkpoint never mixes
// iterations. A rank that dies or hangs shows up on the others as an
// error of the collective within its timeout; the last checkpoint is
// untouched.
//
// # Backends
//
// The default backend computes everything in Go through Gorgonia graphs
// (package graph), package sampling and package optim. A Backend can run
// the sampling, or the whole step, elsewhere: package torch (build tag
// torch) runs them in libtorch on CPU or GPU.
package trainer

// Package torch is ebm's optional libtorch backend: it runs the same nn
// models as package graph on the CPU or a CUDA GPU through libtorch, by way
// of github.com/sugarme/gotch, with the heavy inner loops — MCMC sampling
// and, if asked, whole training steps — on the device.
//
// The package builds only with the build tag torch and a prepared gotch
// (scripts/torch/setup.sh; see torch/README.md). Without the tag it is
// this documentation alone, so the default build stays pure Go.
//
// # Models
//
// NewModel translates a graph.Model made of nn.Sequential, nn.Linear,
// nn.Conv2d, nn.Flatten and nn.Activation (SiLU, Sigmoid, Tanh, Softplus,
// ELU(α), LeakyReLU(s)) into libtorch operations and copies the
// parameters to the device. A Model computes the unnormalised
// log-density f(x) of each sample and ∇x f by libtorch's autograd; it
// implements energy.Differentiable, so it can replace graph.Energy under
// any sampler of package sampling. f and ∇x f agree with graph.NewEnergy
// to float32 precision (and to 1e-12 in float64). The activations with a
// parameter become identities over libtorch's fixed-parameter ops:
//
//	LeakyReLU_s(x) = s·x + (1−s)·relu(x),   ELU_α(x) = (1−α)·relu(x) + α·ELU_1(x),
//
// which have the Go kernels' values and derivatives everywhere.
//
// # Samplers on the device
//
// Model.Langevin, Model.MALA and Model.HMC copy the chains to the device
// once, run every transition there — noise from libtorch's generator
// (ManualSeed), the energy and its gradient, the update, the divergence
// masks — and copy the final positions back. Their configurations are
// those of package sampling and are validated by its constructors; the
// updates are sampling's:
//
//	Langevin:  x ← clamp(x + (ε/2)·clip(∇f(x)) + σ·ξ)            (or noise first)
//	MALA:      x' ~ N(x + h·M⁻¹∇f(x), 2h·M⁻¹), accept w.p. min(1, e^{f(x')−f(x)} q(x|x')/q(x'|x))
//	HMC:       L leapfrog steps of H(q, p) = −f(q) + ½pᵀM⁻¹p, accept w.p. min(1, e^{H₀−H₁})
//
// A chain whose proposal has a non-finite position, energy or gradient
// (or, for HMC, an energy error above the bound) keeps its position and
// counts as a divergence, as in sampling; the check reads each tensor once
// (its rows' minima and maxima) and copies nothing. Per step nothing
// crosses between Go and the device: statistics accumulate on the device
// and are read at the end, as trainer.SampleStats. A Langevin step
// allocates only what the network's forward and backward passes need —
// the proposal is one buffer updated in place — and makes as many
// libtorch calls as PyTorch's own loop (benchmarks/libtorch/opcount.sh).
//
// # Training
//
// A Trainer minimises the contrastive-divergence loss of graph.CDLoss,
//
//	L = mean f(x⁻) − mean f(x⁺) + α·(mean f(x⁺)² + mean f(x⁻)²),
//
// with gradient-norm clipping and the Adam update of package optim
// (β1 = 0 allowed), parameters and float64 moments kept on the device;
// AdamState and SetAdamState move the optimiser state in optim's format,
// and Model.SyncToGraph / SyncFromGraph move the parameters. Backend
// plugs all of it into package trainer (sampling only, or the whole step).
//
// The other objectives of package trainer (trainer.Config.Objective: exact,
// sliced and denoising score matching, NCE, improved CD's KL term) run
// through libtorch's double backward: the score ∇x f is taken with
// create_graph, the loss built on it (and on Hessian–vector products taken
// the same way) is differentiated with respect to θ. Model.ObjectiveLoss,
// Trainer.StepObjective and Backend.UpdateObjective compute the Go
// backend's losses term for term on the same trainer.Batch (tested to
// 1e-10 in float64). Noise-conditional models (nn.NoiseBias) are not
// translated.
//
// # Threads, memory, errors
//
// libtorch's grad mode and gotch's last error are per OS thread, so every
// call pins its goroutine to a thread while it runs. libtorch computes on
// the CPU with OpenMP threads, whose count is also a setting of each OS
// thread; every call applies the package's count (SetNumThreads; by
// default runtime.GOMAXPROCS(0), or what OMP_NUM_THREADS says when it is
// set) to the thread it runs on, whichever thread Go gives it. Every
// tensor a call makes is freed before it returns (no finalizers), and
// within a call as soon as it is dead, as Python's reference counting
// would: memory stays flat over any number of steps. On glibc the first
// call sets malloc so that memory a step frees stays for the next (blocks
// up to 32 MiB from the heap, trimmed only past 128 MiB free) instead of
// being handed back to the kernel and faulted in again; a program that
// sets any of malloc's environment variables (MALLOC_ARENA_MAX,
// MALLOC_TOP_PAD_, GLIBC_TUNABLES, ...) keeps its own. Errors raised inside libtorch come back as Go
// errors wrapping ErrTorch; nothing in this package calls log.Fatal or
// exits. Models, Trainers and Backends own device memory: Close them.
package torch

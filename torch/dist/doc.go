// Package dist runs work on several processes and machines through
// libtorch's distributed layer, c10d: process groups over Gloo (CPU
// tensors and host memory, over TCP) or NCCL (CUDA tensors), found
// through a TCP key-value store, as torch.distributed does. It is what
// data-parallel training in package trainer runs on: a *Group is a
// trainer.Collective.
//
// Most of the package builds only with the build tag torch and a gotch
// prepared by scripts/torch/setup.sh, which compiles ebm's C++ shim over
// c10d (scripts/torch/ebm_dist.cpp) into the same library as gotch's
// wrapper; Gloo needs Gloo's headers when the script runs (Debian:
// libgloo-dev), NCCL a CUDA libtorch. Without the tag the package holds
// the launcher and the environment contract only (Launch, FromEnv), in
// pure Go.
//
// # Starting the processes
//
// A run of N processes ("ranks") is described by torchrun's environment
// variables: MASTER_ADDR and MASTER_PORT locate the store, RANK in
// [0, WORLD_SIZE) is this process, LOCAL_RANK its index on its host (the
// GPU it uses with NCCL). torchrun sets them:
//
//	torchrun --nproc_per_node 2 --no_python ./program ...                 # one host
//	torchrun --nnodes 2 --node_rank 0 --master_addr HOST0 --master_port 29500 \
//		--nproc_per_node 8 --no_python ./program ...                       # on each of two hosts
//
// and so does Launch, for one host without Python. NewFromEnv (or New
// with a Rendezvous) joins the run: rank 0 starts the store (unless
// torchrun's launcher already runs one, TORCHELASTIC_USE_AGENT_STORE),
// each rank registers there, the ranks check that no rank appears twice
// and that they agree on WORLD_SIZE, and then connect to one another.
// Missing or malformed variables, a port in use, ranks that disagree or
// never arrive are errors of one line each, the last after
// Config.Timeout.
//
// # Collectives
//
// Every rank calls the same collectives in the same order with buffers of
// the same sizes. AllReduce replaces each rank's x_r by the reduction over
// the ranks,
//
//	x_r ← Σ_{q=0}^{N−1} x_q   (Sum; or the elementwise Max or Min),
//
// identical on every rank; a data-parallel update divides the summed
// gradients by N, which with equal batches is the gradient of the loss of
// the union of the ranks' batches. Broadcast copies root's buffer to every
// rank, Gather collects every rank's on root, Barrier waits for all.
// AllReduceFloat32, AllReduceFloat64, AllReduceInt64, BroadcastBytes and
// GatherBytes work on Go memory (copied through a tensor on the group's
// device); AllReduceTensors and BroadcastTensors work on libtorch tensors
// in place (gotch's *ts.Tensor, or any Tensor), all of one dtype, on the
// CPU for Gloo and on the GPU of LOCAL_RANK for NCCL, flattened into one
// buffer per call as DDP's buckets are.
//
// # Failures
//
// Every collective has a timeout: Config.Timeout, or less when the
// context's deadline is earlier. A rank that exits or crashes is usually
// noticed at once (its connections close); a rank that hangs, after the
// timeout. Either way the collective returns an error that names it, its
// size, this rank and the backend, and wraps ErrCollective; C++
// exceptions never escape as aborts. After a failure the group refuses
// further collectives, since the ranks no longer agree on what comes
// next. With NCCL, the package switches libtorch's watchdog from ending
// the process to reporting the timeout (TORCH_NCCL_ASYNC_ERROR_HANDLING=0
// unless set).
package dist

// ebm_dist.cpp: a C API over libtorch's c10d (TCPStore, ProcessGroupGloo,
// ProcessGroupNCCL) for ebm's package torch/dist. scripts/torch/setup.sh
// compiles it into libgotch.so beside gotch's own wrapper, as a unit of
// its own; scripts/torch/ebm_dist.go.txt is its Go side.
//
// Errors: every function catches what libtorch throws and stores the
// message in gotch's thread-local last error (torch_last_err, read by
// get_and_reset_last_err), returning NULL, 0 or -1; nothing here aborts.
// Each function is one top-level definition, so that setup.sh's stub pass
// can replace one that a libtorch version lacks by one that reports an
// error, like the generated wrappers.
//
// Which backends exist is decided when this unit is compiled: setup.sh
// defines USE_C10D_GLOO when libtorch exports ProcessGroupGloo and Gloo's
// headers are installed (Debian: libgloo-dev), and USE_C10D_NCCL when a
// CUDA libtorch exports ProcessGroupNCCL and nccl.h is found.
//
// The process-group types differ between libtorch versions (1.x:
// subclasses of c10d::ProcessGroup; 2.x: of c10d::Backend), so a group
// keeps the concrete type and calls it through a template.

#include <ATen/ATen.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>

#if defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define EBM_HAVE_GLOO 1
#else
#define EBM_HAVE_GLOO 0
#endif

#if defined(USE_C10D_NCCL) && __has_include(<nccl.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define EBM_HAVE_NCCL 1
#else
#define EBM_HAVE_NCCL 0
#endif

// gotch's thread-local last error, defined in torch_api.cpp.
extern thread_local char *torch_last_err;

#ifndef PROTECT
#define PROTECT(x)                                                             \
  try {                                                                        \
    x                                                                          \
  } catch (const std::exception &e) {                                          \
    torch_last_err = strdup(e.what());                                         \
  }
#endif

namespace {

void set_error(const std::exception &e) { torch_last_err = strdup(e.what()); }

using ms = std::chrono::milliseconds;

struct ebm_store {
  c10::intrusive_ptr<c10d::Store> store;
};

struct ebm_group {
  std::string backend;
  int rank = 0, size = 0;
  ms timeout{0};
  c10::Device device{c10::kCPU};
#if EBM_HAVE_GLOO
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
#if EBM_HAVE_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  // The first failure of a collective. Later calls fail at once: after a
  // timeout or a lost peer the ranks no longer agree on which collective
  // comes next.
  std::string broken;
  // Buffers of the collectives on host memory, reused (host_tensor).
  std::vector<at::Tensor> scratch;
};

// with_pg calls f with the group's process group.
template <class F> void with_pg(ebm_group *g, F f) {
#if EBM_HAVE_GLOO
  if (g->gloo) {
    f(*g->gloo);
    return;
  }
#endif
#if EBM_HAVE_NCCL
  if (g->nccl) {
    f(*g->nccl);
    return;
  }
#endif
  throw std::runtime_error("the process group is closed");
}

ms timeout_of(ebm_group *g, int64_t timeout_ms) {
  return timeout_ms > 0 ? ms(timeout_ms) : g->timeout;
}

// run starts a collective with start(pg), waits for it at most the
// timeout, and marks the group broken if it fails. what names it in
// errors.
template <class Start>
void run(ebm_group *g, const char *what, int64_t timeout_ms, Start start) {
  if (!g->broken.empty()) {
    throw std::runtime_error(std::string(what) +
                             ": the process group failed earlier (" +
                             g->broken + ")");
  }
  ms t = timeout_of(g, timeout_ms);
  try {
    with_pg(g, [&](auto &pg) {
      auto work = start(pg, t);
      work->wait(t);
    });
  } catch (const std::exception &e) {
    std::string msg = e.what();
    // libtorch appends a C++ backtrace; keep the first line.
    auto nl = msg.find("\nException raised from");
    if (nl != std::string::npos)
      msg.resize(nl);
    if (msg.find("timed out") != std::string::npos ||
        msg.find("Timed out") != std::string::npos) {
      msg += " (timeout " + std::to_string(t.count()) + " ms)";
    }
    g->broken = std::string(what) + ": " + msg;
    throw std::runtime_error(g->broken);
  }
}

// host_tensor returns a tensor on the group's device holding the n values
// at data. The tensor is the group's own (reused from call to call while
// no unfinished collective holds it), never the caller's memory: a
// collective abandoned after a timeout must not write into Go memory.
at::Tensor host_tensor(ebm_group *g, const void *data, int64_t n, int dtype) {
  auto type = static_cast<at::ScalarType>(dtype);
  at::Tensor t;
  for (auto &s : g->scratch) {
    if (s.scalar_type() == type && s.numel() == n && s.use_count() == 1) {
      t = s;
      break;
    }
  }
  if (!t.defined()) {
    t = at::empty({n}, at::TensorOptions().dtype(type).device(g->device));
    if (g->scratch.size() < 8)
      g->scratch.push_back(t);
  }
  if (n > 0) {
    if (t.is_cuda())
      t.copy_(at::from_blob(const_cast<void *>(data), {n}, type));
    else
      std::memcpy(t.data_ptr(), data, n * t.element_size());
  }
  return t;
}

void host_copy_back(const at::Tensor &t, void *data) {
  if (t.numel() == 0)
    return;
  if (t.is_cuda())
    at::from_blob(data, {t.numel()}, t.scalar_type()).copy_(t);
  else
    std::memcpy(data, t.data_ptr(), t.numel() * t.element_size());
}

c10d::ReduceOp reduce_op(int op) {
  switch (op) {
  case 0:
    return c10d::ReduceOp::SUM;
  case 1:
    return c10d::ReduceOp::MAX;
  case 2:
    return c10d::ReduceOp::MIN;
  }
  throw std::runtime_error("unknown reduce op " + std::to_string(op));
}

// flat concatenates tensors of one dtype and device into one flat tensor,
// as DDP's buckets do: c10d's collectives on a list mean one tensor per
// device, all of one size.
at::Tensor flat(const std::vector<at::Tensor> &ts) {
  std::vector<at::Tensor> parts;
  parts.reserve(ts.size());
  for (auto &t : ts) {
    if (t.scalar_type() != ts[0].scalar_type() || t.device() != ts[0].device())
      throw std::runtime_error(
          "tensors of one call must share dtype and device");
    parts.push_back(t.reshape({-1}));
  }
  return parts.size() == 1 ? parts[0].clone() : at::cat(parts);
}

void unflat(const at::Tensor &f, std::vector<at::Tensor> &ts) {
  int64_t off = 0;
  at::NoGradGuard no_grad;
  for (auto &t : ts) {
    int64_t n = t.numel();
    t.copy_(f.narrow(0, off, n).view(t.sizes()));
    off += n;
  }
}

std::vector<at::Tensor> tensors_of(void **ts, int n) {
  std::vector<at::Tensor> v;
  for (int i = 0; i < n; i++) {
    if (ts[i] == nullptr)
      throw std::runtime_error("nil tensor");
    v.push_back(*static_cast<at::Tensor *>(ts[i]));
  }
  return v;
}

} // namespace

extern "C" {

// ebm_dist_has_backend reports whether this build has the backend "gloo"
// or "nccl".
int ebm_dist_has_backend(const char *backend) {
  std::string b = backend;
  if (b == "gloo")
    return EBM_HAVE_GLOO;
  if (b == "nccl")
    return EBM_HAVE_NCCL;
  return 0;
}

// ebm_dist_set_log_level sets the least severity libtorch logs (0 info, 1
// warning, 2 error, 3 fatal) and returns the previous one. c10d logs
// every failed bind and connection attempt; the Go side reports them as
// one error instead.
int ebm_dist_set_log_level(int level) {
#ifdef C10_USE_GLOG
  int prev = FLAGS_minloglevel;
  FLAGS_minloglevel = level;
#else
  int prev = FLAGS_caffe2_log_level;
  FLAGS_caffe2_log_level = level;
#endif
  return prev;
}

// ebm_dist_store_new connects to (client) or starts (server) the TCPStore
// at host:port; a non-empty prefix scopes every key (torchrun's agent
// store). timeout_ms bounds the connection and every later wait.
void *ebm_dist_store_new(const char *host, int port, int is_server,
                         int world_size, int64_t timeout_ms,
                         const char *prefix) {
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(port);
    o.isServer = is_server != 0;
    o.numWorkers = static_cast<std::size_t>(world_size);
    o.waitWorkers = false;
    o.timeout = ms(timeout_ms);
    c10::intrusive_ptr<c10d::Store> s =
        c10::make_intrusive<c10d::TCPStore>(std::string(host), o);
    if (prefix != nullptr && prefix[0] != 0)
      s = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), s);
    return new ebm_store{s};
  } catch (const std::exception &e) {
    set_error(e);
  }
  return nullptr;
}

void ebm_dist_store_free(void *s) { delete static_cast<ebm_store *>(s); }

// ebm_dist_store_set sets key to the n bytes at value.
void ebm_dist_store_set(void *s, const char *key, const void *value,
                        int64_t n) {
  try {
    auto p = static_cast<const uint8_t *>(value);
    std::vector<uint8_t> v(p, p + n);
    static_cast<ebm_store *>(s)->store->set(std::string(key), v);
  } catch (const std::exception &e) {
    set_error(e);
  }
}

// ebm_dist_store_get waits at most timeout_ms for key and returns its value
// (malloc'd, *n bytes; free it), or NULL with the last error set.
void *ebm_dist_store_get(void *s, const char *key, int64_t timeout_ms,
                         int64_t *n) {
  try {
    auto &st = static_cast<ebm_store *>(s)->store;
    st->wait({std::string(key)}, ms(timeout_ms));
    auto v = st->get(std::string(key));
    *n = static_cast<int64_t>(v.size());
    void *out = std::malloc(v.empty() ? 1 : v.size());
    if (!v.empty())
      std::memcpy(out, v.data(), v.size());
    return out;
  } catch (const std::exception &e) {
    set_error(e);
  }
  return nullptr;
}

// ebm_dist_store_add adds delta to the counter key and returns the sum.
int64_t ebm_dist_store_add(void *s, const char *key, int64_t delta) {
  try {
    return static_cast<ebm_store *>(s)->store->add(std::string(key), delta);
  } catch (const std::exception &e) {
    set_error(e);
  }
  return -1;
}

// ebm_dist_group_new makes the process group of rank among size ranks
// over the store: backend "gloo" (CPU tensors) or "nccl" (CUDA tensors on
// device_index). timeout_ms bounds every collective that names no timeout
// of its own.
void *ebm_dist_group_new(void *s, const char *backend, int rank, int size,
                         int device_index, int64_t timeout_ms) {
  try {
    auto st = static_cast<ebm_store *>(s)->store;
    auto g = std::make_unique<ebm_group>();
    g->backend = backend;
    g->rank = rank;
    g->size = size;
    g->timeout = ms(timeout_ms);
    if (g->backend == "gloo") {
#if EBM_HAVE_GLOO
      auto o = c10d::ProcessGroupGloo::Options::create(ms(timeout_ms));
      const char *ifname = std::getenv("GLOO_SOCKET_IFNAME");
      if (ifname != nullptr && ifname[0] != 0)
        o->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else
        o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      o->threads = 2;
      g->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(st, rank, size, o);
#else
      throw std::runtime_error(
          "this libtorch build has no Gloo backend (or Gloo's headers, "
          "Debian's libgloo-dev, were missing when scripts/torch/setup.sh "
          "ran)");
#endif
    } else if (g->backend == "nccl") {
#if EBM_HAVE_NCCL
      g->device =
          c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(device_index));
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = ms(timeout_ms);
      g->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(st, rank, size, o);
#else
      throw std::runtime_error(
          "this libtorch build has no NCCL backend (NCCL needs a CUDA "
          "libtorch; rerun scripts/torch/setup.sh against one)");
#endif
    } else {
      throw std::runtime_error("unknown backend \"" + g->backend +
                               "\" (want gloo or nccl)");
    }
    return g.release();
  } catch (const std::exception &e) {
    set_error(e);
  }
  return nullptr;
}

// ebm_dist_group_free destroys the group. A group that failed is not
// destroyed but dropped: its worker threads may still be inside the
// failed collective until the transport gives up, and joining them could
// block.
void ebm_dist_group_free(void *p) {
  auto g = static_cast<ebm_group *>(p);
  if (g == nullptr || !g->broken.empty())
    return;
  try {
    delete g;
  } catch (const std::exception &e) {
    set_error(e);
  }
}

// ebm_dist_allreduce_host replaces the n values of dtype (an
// at::ScalarType) at data by their reduction (op 0 sum, 1 max, 2 min) over
// the ranks. The values travel through a tensor the library owns, so a
// collective abandoned after a timeout never writes into the caller's
// memory.
void ebm_dist_allreduce_host(void *p, void *data, int64_t n, int dtype, int op,
                             int64_t timeout_ms) {
  try {
    auto g = static_cast<ebm_group *>(p);
    std::vector<at::Tensor> v{host_tensor(g, data, n, dtype)};
    c10d::AllreduceOptions o;
    o.reduceOp = reduce_op(op);
    run(g, "allreduce", timeout_ms, [&](auto &pg, ms t) {
      o.timeout = t;
      return pg.allreduce(v, o);
    });
    host_copy_back(v[0], data);
  } catch (const std::exception &e) {
    set_error(e);
  }
}

// ebm_dist_broadcast_host replaces the n values at data on every rank by
// root's.
void ebm_dist_broadcast_host(void *p, void *data, int64_t n, int dtype,
                             int root, int64_t timeout_ms) {
  try {
    auto g = static_cast<ebm_group *>(p);
    std::vector<at::Tensor> v{host_tensor(g, data, n, dtype)};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    run(g, "broadcast", timeout_ms, [&](auto &pg, ms t) {
      o.timeout = t;
      return pg.broadcast(v, o);
    });
    host_copy_back(v[0], data);
  } catch (const std::exception &e) {
    set_error(e);
  }
}

// ebm_dist_gather_host gathers every rank's n values at in into out on
// root (size·n values, rank-major); out is unused on the other ranks.
void ebm_dist_gather_host(void *p, const void *in, int64_t n, int dtype,
                          void *out, int root, int64_t timeout_ms) {
  try {
    auto g = static_cast<ebm_group *>(p);
    std::vector<at::Tensor> input{host_tensor(g, in, n, dtype)};
    std::vector<std::vector<at::Tensor>> output;
    if (g->rank == root) {
      output.emplace_back();
      for (int r = 0; r < g->size; r++)
        output[0].push_back(at::empty_like(input[0]));
    }
    c10d::GatherOptions o;
    o.rootRank = root;
    run(g, "gather", timeout_ms, [&](auto &pg, ms t) {
      o.timeout = t;
      return pg.gather(output, input, o);
    });
    if (g->rank == root)
      host_copy_back(at::cat(output[0]), out);
  } catch (const std::exception &e) {
    set_error(e);
  }
}

// ebm_dist_allreduce reduces n tensors (gotch handles: torch::Tensor*) of
// one dtype on the group's device in place.
void ebm_dist_allreduce(void *p, void **ts, int n, int op,
                        int64_t timeout_ms) {
  try {
    auto g = static_cast<ebm_group *>(p);
    auto v = tensors_of(ts, n);
    if (v.empty())
      return;
    std::vector<at::Tensor> f{flat(v)};
    c10d::AllreduceOptions o;
    o.reduceOp = reduce_op(op);
    run(g, "allreduce", timeout_ms, [&](auto &pg, ms t) {
      o.timeout = t;
      return pg.allreduce(f, o);
    });
    unflat(f[0], v);
  } catch (const std::exception &e) {
    set_error(e);
  }
}

// ebm_dist_broadcast replaces n tensors on every rank by root's, in place.
void ebm_dist_broadcast(void *p, void **ts, int n, int root,
                        int64_t timeout_ms) {
  try {
    auto g = static_cast<ebm_group *>(p);
    auto v = tensors_of(ts, n);
    if (v.empty())
      return;
    std::vector<at::Tensor> f{flat(v)};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    run(g, "broadcast", timeout_ms, [&](auto &pg, ms t) {
      o.timeout = t;
      return pg.broadcast(f, o);
    });
    unflat(f[0], v);
  } catch (const std::exception &e) {
    set_error(e);
  }
}

// ebm_dist_barrier returns when every rank has called it.
void ebm_dist_barrier(void *p, int64_t timeout_ms) {
  try {
    auto g = static_cast<ebm_group *>(p);
    c10d::BarrierOptions o;
    if (g->device.is_cuda())
      o.device_ids = {g->device.index()};
    run(g, "barrier", timeout_ms, [&](auto &pg, ms t) {
      o.timeout = t;
      return pg.barrier(o);
    });
  } catch (const std::exception &e) {
    set_error(e);
  }
}

} // extern "C"

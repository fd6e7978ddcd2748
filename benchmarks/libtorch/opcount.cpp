// opcount.cpp: counts what a process asks of libtorch, for comparing the
// Go backend, PyTorch and the C++ floor call for call. Built as
// libopcount.so by benchmarks/libtorch/run.sh and loaded into any process
// that uses libtorch with LD_PRELOAD:
//
//   EBM_OPCOUNT=/tmp/go.txt LD_PRELOAD=.../libopcount.so program ...
//
// It counts every operator call the dispatcher records (top-level and
// nested, forward and backward: libtorch's RecordFunction callbacks, the
// same events torch.profiler sees) and every allocation of tensor memory
// by libtorch's CPU allocator (count and bytes). The totals are written to
// $EBM_OPCOUNT (default: standard error) every 200 ms and at exit, so a
// process that ends without running C++ destructors (a Go program) still
// leaves them; divide by the number of operations the process ran. With
// EBM_OPCOUNT_PARENTS=1 each operator is counted with the operator that
// called it ("aten::sum < aten::where" is a sum inside a where; a
// top-level call has no "<").
#include <ATen/record_function.h>
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::mutex mu;
std::map<std::string, long>* counts = new std::map<std::string, long>;  // never freed: read until exit
std::atomic<long> allocs{0}, allocBytes{0};
bool parents = false;
thread_local std::vector<std::string> stack;  // the calling operators, with EBM_OPCOUNT_PARENTS

// counting wraps libtorch's CPU allocator.
struct Counting final : c10::Allocator {
  c10::Allocator* base;
  explicit Counting(c10::Allocator* b) : base(b) {}
  c10::DataPtr allocate(size_t n) const override {
    allocs++;
    allocBytes += n;
    return base->allocate(n);
  }
  c10::DeleterFnPtr raw_deleter() const override { return base->raw_deleter(); }
};

void dump() {
  std::vector<std::pair<long, std::string>> rows;
  long total = 0;
  {
    std::lock_guard<std::mutex> l(mu);
    for (auto& kv : *counts) {
      rows.emplace_back(kv.second, kv.first);
      total += kv.second;
    }
  }
  std::sort(rows.rbegin(), rows.rend());
  const char* path = getenv("EBM_OPCOUNT");
  std::string tmp = path ? std::string(path) + ".tmp" : "";
  FILE* f = path ? fopen(tmp.c_str(), "w") : stderr;
  if (!f) return;
  fprintf(f, "%ld operator calls\n%ld allocations\n%ld bytes allocated\n", total, allocs.load(), allocBytes.load());
  for (auto& r : rows) fprintf(f, "%ld %s\n", r.first, r.second.c_str());
  if (path) {
    fclose(f);
    rename(tmp.c_str(), path);
  }
}

struct Init {
  Init() {
    c10::SetCPUAllocator(new Counting(c10::GetCPUAllocator()), /*priority=*/100);
    const char* p = getenv("EBM_OPCOUNT_PARENTS");
    parents = p && *p && *p != '0';
    at::addGlobalCallback(at::RecordFunctionCallback(
                              [](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
                                std::string name = fn.name();
                                std::string key = name;
                                if (parents) {
                                  if (!stack.empty()) key += " < " + stack.back();
                                  stack.push_back(name);
                                }
                                std::lock_guard<std::mutex> l(mu);
                                (*counts)[key]++;
                                return nullptr;
                              },
                              [](const at::RecordFunction&, at::ObserverContext*) {
                                if (parents && !stack.empty()) stack.pop_back();
                              })
                              .needsInputs(false)
                              .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}));
    if (getenv("EBM_OPCOUNT")) {
      std::thread([] {
        for (;;) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          dump();
        }
      }).detach();
    }
  }
  ~Init() { dump(); }
} init;

}  // namespace

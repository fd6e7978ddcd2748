// floor.cpp: the floor for ebm's libtorch backend. The workloads of
// benchmarks/pytorch/bench.py, written directly against libtorch's C++ API
// with nothing between the loop and the library: no Python, no Go, no cgo.
// What the Go backend (package torch) takes above this is its own overhead.
//
//   benchmarks/libtorch/run.sh [WORKLOAD...]       builds and runs it
//   floor WORKLOAD [--seconds S] [--threads T] [--device cpu|cuda]
//
// WORKLOAD is langevin/toy2d, langevin/mlp784, langevin/cnn or train/cnn, with
// the models, shapes, settings and dtype (float32) of bench.py. It prints one
// JSON object in bench.py's format (ms_per_op, cpu_ms_per_op, ...), so the
// three sides compare line by line.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <sys/resource.h>
#include <map>
#include <string>

namespace {

constexpr double kStepSize = 10.0, kNoise = 0.005, kGradClip = 0.03;
constexpr int kTrainSteps = 60;
constexpr double kAlpha = 0.1, kLR = 1e-4;
constexpr int64_t kBuffer = 8192, kTrainData = 1024;
constexpr double kReinit = 0.05;

torch::nn::Sequential mlp(std::vector<int64_t> sizes, bool image) {
  torch::nn::Sequential s;
  if (image) s->push_back(torch::nn::Flatten());
  for (size_t i = 0; i + 1 < sizes.size(); i++) {
    s->push_back(torch::nn::Linear(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.size()) s->push_back(torch::nn::SiLU());
  }
  return s;
}

torch::nn::Sequential mnistCNN(int64_t hidden) {
  int64_t c1 = hidden / 2, c2 = hidden, c3 = 2 * hidden;
  using torch::nn::Conv2d;
  using torch::nn::Conv2dOptions;
  return torch::nn::Sequential(
      Conv2d(Conv2dOptions(1, c1, 5).stride(2).padding(4)), torch::nn::SiLU(),
      Conv2d(Conv2dOptions(c1, c2, 3).stride(2).padding(1)), torch::nn::SiLU(),
      Conv2d(Conv2dOptions(c2, c3, 3).stride(2).padding(1)), torch::nn::SiLU(),
      Conv2d(Conv2dOptions(c3, c3, 3).stride(2).padding(1)), torch::nn::SiLU(),
      torch::nn::Flatten(), torch::nn::Linear(4 * c3, c3), torch::nn::SiLU(),
      torch::nn::Linear(c3, 1));
}

// One Langevin step of the UvA recipe, as bench.py's langevin_step.
torch::Tensor langevinStep(torch::nn::Sequential& model, torch::Tensor x) {
  x = (x + kNoise * torch::randn_like(x)).clamp_(-1, 1);
  x.requires_grad_(true);
  auto f = model->forward(x);
  auto g = torch::autograd::grad({f.sum()}, {x})[0];
  torch::NoGradGuard ng;
  x = (x + kStepSize * g.clamp_(-kGradClip, kGradClip)).clamp_(-1, 1);
  return x.detach();
}

void setGrad(torch::nn::Sequential& model, bool on) {
  for (auto& p : model->parameters()) p.requires_grad_(on);
}

std::function<void()> setup(const std::string& name, torch::Device dev) {
  torch::manual_seed(1);
  torch::nn::Sequential model;
  std::vector<int64_t> shape = {128, 1, 28, 28};
  if (name == "langevin/toy2d") {
    model = mlp({2, 128, 128, 1}, false);
    shape = {1024, 2};
  } else if (name == "langevin/mlp784") {
    model = mlp({784, 256, 256, 1}, true);
  } else if (name == "langevin/cnn" || name == "train/cnn") {
    model = mnistCNN(32);
  } else {
    fprintf(stderr, "floor: unknown workload %s\n", name.c_str());
    exit(2);
  }
  model->to(dev, torch::kFloat32);
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
  auto x = std::make_shared<torch::Tensor>(torch::rand(shape, opts) * 2 - 1);
  if (name.rfind("langevin/", 0) == 0) {
    setGrad(model, false);
    return [model, x]() mutable { *x = langevinStep(model, *x); };
  }
  // train/cnn: bench.py's iteration of ebm's trainer.
  auto opt = std::make_shared<torch::optim::Adam>(
      model->parameters(), torch::optim::AdamOptions(kLR).betas({0.0, 0.999}));
  std::vector<int64_t> ishape(shape.begin() + 1, shape.end());
  auto with = [](int64_t n, std::vector<int64_t> s) {
    s.insert(s.begin(), n);
    return s;
  };
  auto data = torch::rand(with(kTrainData, ishape), opts) * 2 - 1;
  auto buf = torch::empty(with(kBuffer, ishape), opts);
  struct Ring {
    int64_t size = 0, next = 0, pos = kTrainData;
    torch::Tensor perm;
  };
  auto ring = std::make_shared<Ring>();
  int64_t n = shape[0];
  return [=]() mutable {
    if (ring->pos + n > kTrainData) {
      ring->perm = torch::randperm(kTrainData, torch::TensorOptions().dtype(torch::kLong).device(dev));
      ring->pos = 0;
    }
    auto xpos = data.index({ring->perm.slice(0, ring->pos, ring->pos + n)});
    ring->pos += n;
    xpos = (xpos + kNoise * torch::randn_like(xpos)).clamp_(-1, 1);
    auto x = torch::rand(shape, opts) * 2 - 1;
    if (ring->size > 0) {
      auto keep = torch::rand({n}, opts) >= kReinit;
      auto idx = torch::randint(0, ring->size, {n}, torch::TensorOptions().dtype(torch::kLong).device(dev));
      x.index_put_({keep}, buf.index({idx.index({keep})}));
    }
    setGrad(model, false);
    for (int i = 0; i < kTrainSteps; i++) x = langevinStep(model, x);
    setGrad(model, true);
    auto fp = model->forward(xpos).squeeze(1), fn = model->forward(x).squeeze(1);
    auto loss = fn.mean() - fp.mean() + kAlpha * (fp.pow(2).mean() + fn.pow(2).mean());
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();  // zero_grad(set_to_none=True)
    loss.backward();
    opt->step();
    auto slots = (ring->next + torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(dev))) % kBuffer;
    buf.index_put_({slots}, x);
    ring->next = (ring->next + n) % kBuffer;
    ring->size = std::min(ring->size + n, kBuffer);
  };
}

double cpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

long minorFaults() {
  rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_minflt;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: floor WORKLOAD [--seconds S] [--threads T] [--device cpu|cuda]\n");
    return 2;
  }
  std::string name = argv[1], device = "cpu";
  double seconds = 3;
  int threads = 0;
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (a == "--threads" && i + 1 < argc) {
      threads = atoi(argv[++i]);
    } else if (a == "--device" && i + 1 < argc) {
      device = argv[++i];
    } else {
      fprintf(stderr, "floor: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (threads > 0) torch::set_num_threads(threads);
  torch::Device dev(device == "cuda" ? torch::kCUDA : torch::kCPU);
  auto op = setup(name, dev);
  auto sync = [&]() {
    if (dev.is_cuda()) torch::cuda::synchronize();
  };
  double t0 = now();
  do {
    op();
    sync();
  } while (now() - t0 <= std::min(1.0, seconds / 3));
  int n = 0;
  double c0 = cpuSeconds(), el;
  long f0 = minorFaults();
  t0 = now();
  while (true) {
    op();
    n++;
    sync();
    el = now() - t0;
    if (el >= seconds && n >= 3) break;
  }
  double cpu = cpuSeconds() - c0;
  double faults = double(minorFaults() - f0) / n;
  printf("{\"workload\": \"%s\", \"ops\": %d, \"seconds\": %g, \"ms_per_op\": %g, \"cpu_ms_per_op\": %g, "
         "\"page_faults_per_op\": %g, \"device\": \"%s\", \"threads\": %d, \"torch\": \"%s (C++)\"}\n",
         name.c_str(), n, el, el * 1e3 / n, cpu * 1e3 / n, faults, device.c_str(), torch::get_num_threads(), TORCH_VERSION);
  return 0;
}

//go:build torch

package torch

import (
	"fmt"

	lib "github.com/sugarme/gotch/libtch"
)

// Device is where tensors live and computations run: the CPU (the zero
// value) or a CUDA device.
type Device struct {
	cuda  bool
	index int
}

// CPU is the host processor.
var CPU = Device{}

// CUDA returns the CUDA device with the given index (0 for the first GPU).
// A device that does not exist (a negative index, or one past the GPUs
// libtorch sees) makes NewModel return an error.
func CUDA(index int) Device { return Device{cuda: true, index: index} }

// IsCUDA reports whether d is a CUDA device.
func (d Device) IsCUDA() bool { return d.cuda }

func (d Device) String() string {
	if d.cuda {
		return fmt.Sprintf("cuda:%d", d.index)
	}
	return "cpu"
}

// c returns gotch's device number: -1 for the CPU, the index for CUDA.
func (d Device) c() int {
	if d.cuda {
		return d.index
	}
	return -1
}

// CUDAAvailable reports whether libtorch was built with CUDA and sees at
// least one GPU.
func CUDAAvailable() bool {
	defer lockThread()()
	ok := lib.AtcCudaIsAvailable()
	_ = lastErr()
	return ok
}

// CUDADeviceCount returns the number of GPUs libtorch sees (0 without
// CUDA).
func CUDADeviceCount() int {
	defer lockThread()()
	n := int(lib.AtcCudaDeviceCount())
	if lastErr() != nil || n < 0 {
		return 0
	}
	return n
}

// DefaultDevice returns CUDA(0) when CUDA is available and CPU otherwise.
func DefaultDevice() Device {
	if CUDAAvailable() {
		return CUDA(0)
	}
	return CPU
}

// check returns an error if d cannot be used.
func (d Device) check() error {
	if !d.cuda {
		return nil
	}
	if d.index < 0 {
		return fmt.Errorf("torch: device %v: negative CUDA device index", d)
	}
	if n := CUDADeviceCount(); d.index >= n {
		return fmt.Errorf("torch: device %v: libtorch sees %d CUDA devices (is this a CUDA build of libtorch? run scripts/torch/setup.sh against it)", d, n)
	}
	return nil
}

// ManualSeed seeds libtorch's default random generators (CPU and every
// CUDA device), from which every sampler in this package draws its noise,
// as torch.manual_seed does. Runs with the same seed, device, libtorch
// build and thread count give the same results (on the CPU, bit for bit).
// The generators are global to the process.
func ManualSeed(seed int64) {
	defer lockThread()()
	lib.AtManualSeed(seed)
	_ = lastErr()
}

// SetNumThreads sets the number of threads libtorch uses within an
// operation on the CPU, as torch.set_num_threads does, for every call of
// this package on any OS thread. It returns an error unless n is
// positive. The default is runtime.GOMAXPROCS(0) at the package's first
// call (the Go backend's parallelism), unless OMP_NUM_THREADS or
// MKL_NUM_THREADS is set, which libtorch then follows.
func SetNumThreads(n int) error {
	if n <= 0 {
		return fmt.Errorf("torch: SetNumThreads(%d): need a positive thread count", n)
	}
	defer lockThread()()
	setThreads(n)
	if err := lastErr(); err != nil {
		return fmt.Errorf("torch: SetNumThreads(%d): %w", n, err)
	}
	return nil
}

// NumThreads returns the number of threads libtorch uses within an
// operation on the CPU.
func NumThreads() int {
	defer lockThread()()
	n := lib.AtGetNumThreads()
	_ = lastErr()
	return n
}

// SetAllowTF32 allows or forbids TensorFloat-32 arithmetic in CUDA matrix
// products and convolutions of float32 tensors (torch.backends.cuda.matmul.
// allow_tf32 and torch.backends.cudnn.allow_tf32). TF32 is faster on
// Ampere and later GPUs but rounds inputs to 10 mantissa bits, so float32
// results then agree with the CPU and Gorgonia to about 1e-3 instead of
// 1e-6. libtorch's defaults are: off for matrix products, on for
// convolutions. It has no effect on the CPU.
func SetAllowTF32(on bool) error {
	defer lockThread()()
	lib.EbmSetAllowTF32(on)
	if err := lastErr(); err != nil {
		return fmt.Errorf("torch: SetAllowTF32: %w", err)
	}
	return nil
}

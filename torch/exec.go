//go:build torch

package torch

// #cgo LDFLAGS: -ldl
// #define _GNU_SOURCE
// #include <dlfcn.h>
// #include <stdlib.h>
//
// // libtorch's CPU threads are OpenMP's, whose count is a setting of each
// // OS thread. The OpenMP runtime libtorch loaded is found at run time, so
// // that nothing here links to one.
// static int (*ebm_omp_get)(void);
// static void (*ebm_omp_set)(int);
// static void ebm_omp_init(void) {
// 	ebm_omp_get = (int (*)(void))dlsym(RTLD_DEFAULT, "omp_get_max_threads");
// 	ebm_omp_set = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
// }
// static void ebm_omp_threads(int n) {
// 	if (ebm_omp_get && ebm_omp_set && ebm_omp_get() != n) ebm_omp_set(n);
// }
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// ErrTorch is wrapped by every error that libtorch reported.
var ErrTorch = errors.New("libtorch error")

// torchError is an error raised inside libtorch (a C++ exception caught by
// gotch's wrapper), with libtorch's message less its C++ backtrace.
type torchError struct{ msg string }

func (e *torchError) Error() string        { return e.msg }
func (e *torchError) Is(target error) bool { return target == ErrTorch }

// lastErr returns and clears libtorch's last error on this OS thread.
func lastErr() error {
	p := unsafe.Pointer(lib.GetAndResetLastErr())
	if p == nil {
		return nil
	}
	msg := C.GoString((*C.char)(p))
	C.free(p)
	// Keep libtorch's message, not the C++ backtrace that follows it.
	if i := strings.Index(msg, "\nException raised from"); i >= 0 {
		msg = msg[:i]
	}
	return &torchError{strings.TrimSpace(msg)}
}

// live counts the tensor handles this package holds (made and not yet
// freed), so tests can check that a computation frees all it makes, on any
// device.
var live atomic.Int64

// handle is a libtorch tensor: a C pointer to a heap torch::Tensor, which
// must be freed with lib.AtFree exactly once.
type handle = lib.Ctensor

// exec runs a sequence of libtorch calls on one locked OS thread. Every
// tensor a call returns is recorded and freed by release unless taken
// (take) by a longer-lived owner; the first error stops all later calls,
// so a computation is written without an error check per line and checked
// once (e.err) at the end.
type exec struct {
	err     error
	tmp     []handle
	scalars []lib.Cscalar
	// out is the output slots of the atg_* calls (two for aminmax). It is
	// a separate allocation holding only C pointers: cgo checks the whole
	// object a pointer passed to C points into, and exec itself holds Go
	// pointers.
	out *[2]handle
	// zero is the scalar 0, made on first use.
	zero lib.Cscalar
	// f32, if set, is a staging buffer reused by the float32 conversions
	// between Go's float64 slices and tensors (a Model's own, so that
	// repeated calls allocate no Go memory).
	f32 *[]float32
}

// buf32 returns a float32 staging slice of length n.
func (e *exec) buf32(n int) []float32 {
	if e.f32 == nil {
		return make([]float32, n)
	}
	if cap(*e.f32) < n {
		*e.f32 = make([]float32, n)
	}
	return (*e.f32)[:n]
}

func newExec() *exec { return &exec{out: new([2]handle)} }

// lockThread pins the calling goroutine to its OS thread: libtorch's grad
// mode and gotch's last error are thread-local. It also gives the thread
// the package's CPU thread count (see threads). It returns the unlock.
func lockThread() func() {
	runtime.LockOSThread()
	threadsOnce.Do(initThreads)
	if n := threads.Load(); n > 0 {
		C.ebm_omp_threads(C.int(n))
	}
	return runtime.UnlockOSThread
}

// threads is the number of CPU threads libtorch runs an operation on, or
// 0 to leave it to libtorch (OMP_NUM_THREADS or MKL_NUM_THREADS set). Its
// OpenMP runtime keeps the count per OS thread, fixed when a thread first
// runs a parallel operation, and libtorch's set_num_threads changes it
// for the calling thread only; Go moves goroutines between OS threads, so
// lockThread applies it to every thread this package runs on.
var (
	threads     atomic.Int64
	threadsOnce sync.Once
)

// malloced reports whether tuneMalloc changed malloc's settings.
var malloced bool

// initThreads runs at the package's first call: it sets malloc up for
// libtorch's tensors (see tuneMalloc) and the default thread count,
// runtime.GOMAXPROCS(0) threads as the Go backend uses, unless the
// environment chooses.
func initThreads() {
	malloced = tuneMalloc()
	C.ebm_omp_init()
	if os.Getenv("OMP_NUM_THREADS") != "" || os.Getenv("MKL_NUM_THREADS") != "" {
		return
	}
	setThreads(runtime.GOMAXPROCS(0))
}

// setThreads sets libtorch's thread count (and its global default for
// threads that have run nothing yet) on this OS thread and records it for
// the others.
func setThreads(n int) {
	lib.AtSetNumThreads(n)
	threads.Store(int64(n))
}

// result records the tensor an atg_* call wrote to e.out[0].
func (e *exec) result(name string) handle {
	t := e.out[0]
	e.out[0] = nil
	if err := lastErr(); err != nil {
		if t != nil {
			lib.AtFree(t)
		}
		if e.err == nil {
			e.err = fmt.Errorf("torch: %s: %w", name, err)
		}
		return nil
	}
	if t == nil {
		if e.err == nil {
			e.err = fmt.Errorf("torch: %s returned no tensor: %w", name, ErrTorch)
		}
		return nil
	}
	e.tmp = append(e.tmp, t)
	live.Add(1)
	return t
}

// check records a libtorch error from a call that returns no tensor.
func (e *exec) check(name string) {
	if err := lastErr(); err != nil && e.err == nil {
		e.err = fmt.Errorf("torch: %s: %w", name, err)
	}
}

// fail records err unless an earlier error is recorded.
func (e *exec) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

// take removes t from the temporaries, so release leaves it alive; the
// caller becomes its owner and frees it with free.
func (e *exec) take(t handle) handle {
	for i := len(e.tmp) - 1; i >= 0; i-- {
		if e.tmp[i] == t {
			e.tmp = append(e.tmp[:i], e.tmp[i+1:]...)
			return t
		}
	}
	return t
}

// mark returns a position in the temporaries for keep.
func (e *exec) mark() int { return len(e.tmp) }

// keep frees the temporaries made since mark m except those in ts, which
// stay temporaries. Freeing a tensor handle as soon as it is dead, as
// Python's reference counting does, lets libtorch free the memory behind
// it early (autograd keeps what backward needs): memory is then reused
// within a step instead of piling up until release, which would make
// malloc hand the pages back and fault them in again at the next step.
func (e *exec) keep(m int, ts ...handle) {
	j := m
	for i := m; i < len(e.tmp); i++ {
		t := e.tmp[i]
		kept := false
		for _, k := range ts {
			if t == k {
				kept = true
				break
			}
		}
		if kept {
			e.tmp[j] = t
			j++
			continue
		}
		lib.AtFree(t)
		live.Add(-1)
	}
	clear(e.tmp[j:])
	e.tmp = e.tmp[:j]
}

// release frees every temporary tensor.
func (e *exec) release() {
	for i, t := range e.tmp {
		lib.AtFree(t)
		e.tmp[i] = nil
	}
	live.Add(-int64(len(e.tmp)))
	e.tmp = e.tmp[:0]
}

// close frees the temporaries and the scalars.
func (e *exec) close() {
	e.release()
	for _, s := range e.scalars {
		lib.AtsFree(s)
	}
	e.scalars = nil
	e.zero = nil
}

// zeroScalar returns the scalar 0, freed by close.
func (e *exec) zeroScalar() lib.Cscalar {
	if e.zero == nil {
		e.zero = e.scalar(0)
	}
	return e.zero
}

// free frees an owned tensor; nil is a no-op.
func free(t handle) {
	if t != nil {
		lib.AtFree(t)
		live.Add(-1)
	}
}

// scalar returns a libtorch scalar freed by close.
func (e *exec) scalar(v float64) lib.Cscalar {
	s := lib.AtsFloat(v)
	e.scalars = append(e.scalars, s)
	return s
}

// Tensor construction and transfer.

// Element types, as c10::ScalarType numbers.
const (
	kindFloat32 = 6
	kindFloat64 = 7
	kindInt64   = 4
	kindBool    = 11
)

// fromFloat64s returns a tensor of the given shape and kind (float32 or
// float64) on device dev holding x.
func (e *exec) fromFloat64s(x []float64, shape []int64, kind int, dev int) handle {
	if e.err != nil {
		return nil
	}
	var cpu handle
	switch kind {
	case kindFloat64:
		cpu = lib.AtTensorOfData(unsafe.Pointer(&x[0]), shape, uint(len(shape)), 8, kindFloat64)
	case kindFloat32:
		buf := e.buf32(len(x))
		for i, v := range x {
			buf[i] = float32(v)
		}
		cpu = lib.AtTensorOfData(unsafe.Pointer(&buf[0]), shape, uint(len(shape)), 4, kindFloat32)
		runtime.KeepAlive(buf)
	default:
		panic(fmt.Sprintf("torch: element kind %d", kind))
	}
	e.out[0] = cpu
	t := e.result("tensor from Go data")
	if dev < 0 || t == nil {
		return t
	}
	return e.to(t, dev)
}

// fromFloat32s is fromFloat64s for float32 data.
func (e *exec) fromFloat32s(x []float32, shape []int64, kind int, dev int) handle {
	if e.err != nil {
		return nil
	}
	if kind != kindFloat32 {
		x64 := make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		return e.fromFloat64s(x64, shape, kind, dev)
	}
	e.out[0] = lib.AtTensorOfData(unsafe.Pointer(&x[0]), shape, uint(len(shape)), 4, kindFloat32)
	t := e.result("tensor from Go data")
	if dev < 0 || t == nil {
		return t
	}
	return e.to(t, dev)
}

// toFloat64s copies the first len(dst) elements of t (of kind) to dst,
// from any device.
func (e *exec) toFloat64s(dst []float64, t handle, kind int) {
	if e.err != nil || len(dst) == 0 {
		return
	}
	switch kind {
	case kindFloat64:
		lib.AtCopyData(t, unsafe.Pointer(&dst[0]), uint(len(dst)), 8)
	case kindFloat32:
		buf := e.buf32(len(dst))
		lib.AtCopyData(t, unsafe.Pointer(&buf[0]), uint(len(dst)), 4)
		for i, v := range buf {
			dst[i] = float64(v)
		}
	case kindInt64:
		buf := make([]int64, len(dst))
		lib.AtCopyData(t, unsafe.Pointer(&buf[0]), uint(len(dst)), 8)
		for i, v := range buf {
			dst[i] = float64(v)
		}
	default:
		panic(fmt.Sprintf("torch: element kind %d", kind))
	}
	e.check("copy to Go")
}

// toFloat32s copies t (float32) to dst.
func (e *exec) toFloat32s(dst []float32, t handle) {
	if e.err != nil || len(dst) == 0 {
		return
	}
	lib.AtCopyData(t, unsafe.Pointer(&dst[0]), uint(len(dst)), 4)
	e.check("copy to Go")
}

func (e *exec) to(t handle, dev int) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgTo(&e.out[0], t, int32(dev))
	return e.result("to device")
}

func (e *exec) toKind(t handle, dev, kind int) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgToDevice(&e.out[0], t, int32(dev), int32(kind), 0, 0)
	return e.result("to dtype")
}

// copyAs returns a copy of t (same device) with element kind `kind`.
func (e *exec) copyAs(t handle, kind int) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgToDtype(&e.out[0], t, int32(kind), 0, 1)
	return e.result("to dtype")
}

// shape returns t's shape.
func (e *exec) shape(t handle) []int64 {
	if e.err != nil {
		return nil
	}
	n := lib.AtDim(t)
	s := make([]int64, n)
	if n > 0 {
		lib.AtShape(t, unsafe.Pointer(&s[0]))
	}
	e.check("shape")
	return s
}

// Layers.

func (e *exec) linear(x, w, b handle) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgLinear(&e.out[0], x, w, b)
	return e.result("linear")
}

var dilation1 = []int64{1, 1}

func (e *exec) conv2d(x, w, b handle, stride, padding []int64) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgConv2d(&e.out[0], x, w, b, stride, 2, padding, 2, dilation1, 2, 1)
	return e.result("conv2d")
}

func (e *exec) unary(name string, f func(*handle, handle), x handle) handle {
	if e.err != nil {
		return nil
	}
	f(&e.out[0], x)
	return e.result(name)
}

func (e *exec) binary(name string, f func(*handle, handle, handle), x, y handle) handle {
	if e.err != nil {
		return nil
	}
	f(&e.out[0], x, y)
	return e.result(name)
}

func (e *exec) withScalar(name string, f func(*handle, handle, lib.Cscalar), x handle, s lib.Cscalar) handle {
	if e.err != nil {
		return nil
	}
	f(&e.out[0], x, s)
	return e.result(name)
}

func (e *exec) add(x, y handle) handle      { return e.binary("add", lib.AtgAdd, x, y) }
func (e *exec) addIn(x, y handle) handle    { return e.binary("add_", lib.AtgAdd_, x, y) }
func (e *exec) sub(x, y handle) handle      { return e.binary("sub", lib.AtgSub, x, y) }
func (e *exec) mul(x, y handle) handle      { return e.binary("mul", lib.AtgMul, x, y) }
func (e *exec) mulIn(x, y handle) handle    { return e.binary("mul_", lib.AtgMul_, x, y) }
func (e *exec) div(x, y handle) handle      { return e.binary("div", lib.AtgDiv, x, y) }
func (e *exec) and(x, y handle) handle      { return e.binary("logical_and", lib.AtgLogicalAnd, x, y) }
func (e *exec) lessThan(x, y handle) handle { return e.binary("lt", lib.AtgLtTensor, x, y) }
func (e *exec) minimum(x, y handle) handle  { return e.binary("minimum", lib.AtgMinimum, x, y) }

func (e *exec) addS(x handle, s lib.Cscalar) handle {
	return e.withScalar("add", lib.AtgAddScalar, x, s)
}
func (e *exec) eq(x handle, s lib.Cscalar) handle {
	return e.withScalar("eq", lib.AtgEq, x, s)
}
func (e *exec) le(x handle, s lib.Cscalar) handle {
	return e.withScalar("le", lib.AtgLe, x, s)
}
func (e *exec) fullLike(x handle, s lib.Cscalar) handle {
	return e.withScalar("full_like", lib.AtgFullLike, x, s)
}

// stack stacks tensors of one shape along a new first dimension.
func (e *exec) stack(ts []handle) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgStack(&e.out[0], ts, len(ts), 0)
	return e.result("stack")
}

// rand returns n draws from U(0, 1) on device dev, in float64.
func (e *exec) rand(n int, dev int) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgRand(&e.out[0], []int64{int64(n)}, 1, kindFloat64, int32(dev))
	return e.result("rand")
}

func (e *exec) mulS(x handle, s lib.Cscalar) handle {
	return e.withScalar("mul", lib.AtgMulScalar, x, s)
}
func (e *exec) mulSIn(x handle, s lib.Cscalar) handle {
	return e.withScalar("mul_", lib.AtgMulScalar_, x, s)
}

func (e *exec) silu(x handle) handle     { return e.unary("silu", lib.AtgSilu, x) }
func (e *exec) sigmoid(x handle) handle  { return e.unary("sigmoid", lib.AtgSigmoid, x) }
func (e *exec) tanh(x handle) handle     { return e.unary("tanh", lib.AtgTanh, x) }
func (e *exec) softplus(x handle) handle { return e.unary("softplus", lib.AtgSoftplus, x) }
func (e *exec) elu(x handle) handle      { return e.unary("elu", lib.AtgElu, x) }
func (e *exec) relu(x handle) handle     { return e.unary("relu", lib.AtgRelu, x) }
func (e *exec) exp(x handle) handle      { return e.unary("exp", lib.AtgExp, x) }
func (e *exec) log(x handle) handle      { return e.unary("log", lib.AtgLog, x) }
func (e *exec) sqrt(x handle) handle     { return e.unary("sqrt", lib.AtgSqrt, x) }
func (e *exec) square(x handle) handle   { return e.unary("square", lib.AtgSquare, x) }
func (e *exec) isfinite(x handle) handle { return e.unary("isfinite", lib.AtgIsfinite, x) }
func (e *exec) detach(x handle) handle   { return e.unary("detach", lib.AtgDetach, x) }
func (e *exec) randnLike(x handle) handle {
	return e.unary("randn_like", lib.AtgRandnLike, x)
}
func (e *exec) randLike(x handle) handle { return e.unary("rand_like", lib.AtgRandLike, x) }
func (e *exec) zerosLike(x handle) handle {
	return e.unary("zeros_like", lib.AtgZerosLike, x)
}

// sum returns the sum of all elements of x, as a 0-d tensor.
func (e *exec) sum(x handle) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgSum(&e.out[0], x, -1)
	return e.result("sum")
}

// sumKind is sum with the accumulation and result in kind.
func (e *exec) sumKind(x handle, kind int) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgSum(&e.out[0], x, int32(kind))
	return e.result("sum")
}

func (e *exec) mean(x handle) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgMean(&e.out[0], x, -1)
	return e.result("mean")
}

// sumRows returns the per-sample sums of x, over every dimension but the
// first.
func (e *exec) sumRows(x handle, rank int) handle { return e.sumRowsKind(x, rank, -1) }

// sumRowsKind is sumRows accumulating and returning element kind `kind`
// (-1: x's kind). For rank 1 it returns x itself (or a copy in kind).
func (e *exec) sumRowsKind(x handle, rank, kind int) handle {
	if e.err != nil {
		return nil
	}
	if rank == 1 {
		if kind < 0 {
			return x
		}
		return e.copyAs(x, kind)
	}
	var buf [8]int64
	dims := buf[:0]
	for i := 1; i < rank; i++ {
		dims = append(dims, int64(i))
	}
	lib.AtgSumDimIntlist(&e.out[0], x, dims, len(dims), 0, int32(kind))
	return e.result("sum")
}

func (e *exec) reshape(x handle, shape []int64) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgReshape(&e.out[0], x, shape, len(shape))
	return e.result("reshape")
}

func (e *exec) flatten(x handle) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgFlatten(&e.out[0], x, 1, -1)
	return e.result("flatten")
}

func (e *exec) clamp(x handle, lo, hi lib.Cscalar) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgClamp(&e.out[0], x, lo, hi)
	return e.result("clamp")
}

func (e *exec) clampIn(x handle, lo, hi lib.Cscalar) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgClamp_(&e.out[0], x, lo, hi)
	return e.result("clamp_")
}

func (e *exec) normalIn(x handle, mean, std float64) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgNormal_(&e.out[0], x, mean, std)
	return e.result("normal_")
}

// whereOut writes where(cond, x, y) into out, which may be x or y.
func (e *exec) whereOut(out, cond, x, y handle) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgWhereSelfOut(&e.out[0], out, cond, x, y)
	return e.result("where")
}

// rowMinMax returns the minimum and the maximum of each of the n rows of
// x (x viewed as (n, rest)), in one pass; a NaN in a row makes both NaN.
func (e *exec) rowMinMax(x handle, n int) (lo, hi handle) {
	v := e.reshape(x, []int64{int64(n), -1})
	if e.err != nil {
		return nil, nil
	}
	lib.AtgAminmax(&e.out[0], v, 1, 0, 0)
	hi, e.out[1] = e.out[1], nil
	if hi != nil {
		e.tmp = append(e.tmp, hi)
		live.Add(1)
	}
	return e.result("aminmax"), hi
}

func (e *exec) where(cond, x, y handle) handle {
	if e.err != nil {
		return nil
	}
	lib.AtgWhereSelf(&e.out[0], cond, x, y)
	return e.result("where")
}

// requiresGrad makes the leaf x require a gradient (in place).
func (e *exec) requiresGrad(x handle, on bool) {
	if e.err != nil {
		return
	}
	r := 0
	if on {
		r = 1
	}
	lib.AtgRequiresGrad_(&e.out[0], x, int32(r))
	e.result("requires_grad_")
}

// copyIn copies src into dst (in place, any devices).
func (e *exec) copyIn(dst, src handle) {
	if e.err != nil {
		return
	}
	lib.AtCopy_(dst, src)
	e.check("copy_")
}

// grad returns ∂(Σ outputs)/∂inputs[i] for each input, which must require
// gradients, without accumulating into .grad. The graph is freed.
func (e *exec) grad(outputs, inputs []handle) []handle {
	if e.err != nil {
		return nil
	}
	res := make([]handle, len(inputs))
	lib.AtRunBackward(&outputs[0], len(outputs), &inputs[0], len(inputs), &res[0], 0, 0)
	if err := lastErr(); err != nil {
		for _, t := range res {
			if t != nil {
				lib.AtFree(t)
			}
		}
		e.fail(fmt.Errorf("torch: backward: %w", err))
		return nil
	}
	e.tmp = append(e.tmp, res...)
	live.Add(int64(len(res)))
	return res
}

func (e *exec) grad1(output, input handle) handle {
	if e.err != nil {
		return nil
	}
	o, i := [1]handle{output}, [1]handle{input}
	var r [1]handle
	lib.AtRunBackward(&o[0], 1, &i[0], 1, &r[0], 0, 0)
	if err := lastErr(); err != nil {
		if r[0] != nil {
			lib.AtFree(r[0])
		}
		e.fail(fmt.Errorf("torch: backward: %w", err))
		return nil
	}
	e.tmp = append(e.tmp, r[0])
	live.Add(1)
	return r[0]
}

// item returns the value of a one-element tensor.
func (e *exec) item(t handle, kind int) float64 {
	var v [1]float64
	e.toFloat64s(v[:], t, kind)
	return v[0]
}

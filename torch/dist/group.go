//go:build torch

package dist

// #include <stdlib.h>
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	lib "github.com/sugarme/gotch/libtch"
)

// ErrCollective is wrapped by every error of a collective operation: a
// peer that left or crashed, a timeout, or a group that failed earlier.
// After such an error the group is unusable (the ranks no longer agree on
// which collective comes next); every later call fails at once.
var ErrCollective = errors.New("dist: collective failed")

// Op is a reduction.
type Op int

const (
	Sum Op = iota // elementwise sum (the zero value)
	Max           // elementwise maximum
	Min           // elementwise minimum
)

func (o Op) String() string {
	switch o {
	case Sum:
		return "sum"
	case Max:
		return "max"
	case Min:
		return "min"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Config configures a Group.
type Config struct {
	// Backend is "gloo" (CPU tensors, over TCP; the zero value) or "nccl"
	// (CUDA tensors, the GPU of LOCAL_RANK; needs a CUDA libtorch).
	Backend string
	// Timeout bounds the rendezvous (waiting for every rank to join) and
	// every collective that has no earlier context deadline; 0 means 10
	// minutes. A rank that stops answering turns into an error wrapping
	// ErrCollective after at most this long; a rank whose process ends is
	// usually noticed at once, when its connections close.
	Timeout time.Duration
}

// A Group is this process's membership in a process group of c10d: the
// ranks of one run, connected through Gloo or NCCL. Every rank must call
// the same collectives in the same order with the same sizes. A Group's
// methods may be called from several goroutines; they run one at a time.
type Group struct {
	mu      sync.Mutex
	store   unsafe.Pointer
	pg      unsafe.Pointer
	rz      Rendezvous
	backend string
	timeout time.Duration
	closed  bool
}

// Tensor is a libtorch tensor as gotch hands it out: *ts.Tensor of
// github.com/sugarme/gotch/ts has this method (the torch::Tensor* it
// wraps).
type Tensor interface{ Ctensor() unsafe.Pointer }

// HasBackend reports whether this build of libtorch (as prepared by
// scripts/torch/setup.sh) has the backend "gloo" or "nccl".
func HasBackend(backend string) bool { return lib.EbmDistHasBackend(backend) }

// NewFromEnv joins the run that torchrun's environment variables
// describe (see FromEnv).
func NewFromEnv(ctx context.Context, cfg Config) (*Group, error) {
	rz, err := FromEnv()
	if err != nil {
		return nil, err
	}
	return New(ctx, rz, cfg)
}

// New joins the run rz describes: rank 0 starts the TCP store at
// MasterAddr:MasterPort (unless the launcher runs it), every rank
// registers there, the ranks check that they agree on the world size and
// that no rank appears twice, and then build the process group. It
// returns once every rank has joined, or with an error after
// cfg.Timeout (or ctx's deadline, if earlier).
func New(ctx context.Context, rz Rendezvous, cfg Config) (*Group, error) {
	if err := rz.Validate(); err != nil {
		return nil, err
	}
	if cfg.Backend == "" {
		cfg.Backend = "gloo"
	}
	if cfg.Backend != "gloo" && cfg.Backend != "nccl" {
		return nil, fmt.Errorf("dist: backend %q: want gloo or nccl", cfg.Backend)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("dist: negative timeout %v", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if !HasBackend(cfg.Backend) {
		return nil, fmt.Errorf("dist: libtorch (as scripts/torch/setup.sh built it) has no %s backend%s", cfg.Backend, backendHint(cfg.Backend))
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Backend == "nccl" {
		// libtorch's NCCL watchdog would otherwise end the whole process
		// on a timeout; this package reports it as an error instead.
		for _, v := range []string{"TORCH_NCCL_ASYNC_ERROR_HANDLING", "NCCL_ASYNC_ERROR_HANDLING"} {
			if _, set := os.LookupEnv(v); !set {
				os.Setenv(v, "0")
			}
		}
	}
	g := &Group{rz: rz, backend: cfg.Backend, timeout: cfg.Timeout}
	ms := g.millis(ctx)
	// The rendezvous blocks in C++; a cancelled ctx returns at once and
	// leaves the attempt to end by itself (within the timeout).
	type result struct {
		g   *Group
		err error
	}
	done := make(chan result, 1)
	go func() {
		err := g.rendezvous(ms)
		if err != nil {
			g = nil
		}
		done <- result{g, err}
	}()
	select {
	case r := <-done:
		return r.g, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.g != nil {
				r.g.Close()
			}
		}()
		if cause := context.Cause(ctx); cause != ctx.Err() {
			return nil, fmt.Errorf("dist: rank %d: joining the run: %w (%v)", rz.Rank, ctx.Err(), cause)
		}
		return nil, fmt.Errorf("dist: rank %d: joining the run: %w", rz.Rank, ctx.Err())
	}
}

// rendezvous connects g to the store and the other ranks, waiting at most
// ms milliseconds for each step.
func (g *Group) rendezvous(ms int64) error {
	rz, cfg := g.rz, Config{Backend: g.backend, Timeout: g.timeout}
	defer runtime.UnlockOSThread()
	runtime.LockOSThread()
	// c10d logs every failed bind and connection attempt to stderr; the
	// errors below say what went wrong in one line. TORCH_CPP_LOG_LEVEL
	// set by the user wins.
	if _, set := os.LookupEnv("TORCH_CPP_LOG_LEVEL"); !set {
		prev := lib.EbmDistSetLogLevel(3)
		defer lib.EbmDistSetLogLevel(prev)
	}
	server := rz.Rank == 0 && !rz.AgentStore
	g.store = lib.EbmDistStoreNew(rz.MasterAddr, rz.MasterPort, server, rz.WorldSize, ms, rz.storePrefix())
	if g.store == nil {
		msg := lastError()
		where := fmt.Sprintf("%s:%d (MASTER_ADDR:MASTER_PORT)", rz.MasterAddr, rz.MasterPort)
		if server {
			return fmt.Errorf("dist: rank 0 cannot start the store on %s: %s", where, storeHint(msg))
		}
		return fmt.Errorf("dist: rank %d cannot reach the store at %s within %v: %s", rz.Rank, where, cfg.Timeout, storeHint(msg))
	}
	if err := g.join(ms); err != nil {
		lib.EbmDistStoreFree(g.store)
		return err
	}
	g.pg = lib.EbmDistGroupNew(g.store, cfg.Backend, rz.Rank, rz.WorldSize, rz.LocalRank, ms)
	if g.pg == nil {
		msg := lastError()
		lib.EbmDistStoreFree(g.store)
		return fmt.Errorf("dist: rank %d of %d: making the %s process group: %s", rz.Rank, rz.WorldSize, cfg.Backend, msg)
	}
	return nil
}

// join registers this rank in the store and checks the world: a rank
// that appears twice, or ranks that disagree on the world size, are
// errors here rather than a hang in the process group's set-up. Rank 0
// publishes its world size and then reads every other rank's; each other
// rank reads rank 0's before publishing its own, so that it has seen rank
// 0's value by the time rank 0 can find a disagreement and leave (taking
// its store with it).
func (g *Group) join(ms int64) error {
	rz := g.rz
	if n := lib.EbmDistStoreAdd(g.store, "ebm/join/rank/"+strconv.Itoa(rz.Rank), 1); n != 1 {
		if n < 0 {
			return fmt.Errorf("dist: rank %d: registering in the store: %s", rz.Rank, lastError())
		}
		return fmt.Errorf("dist: two processes have RANK=%d (WORLD_SIZE %d)", rz.Rank, rz.WorldSize)
	}
	mine := []byte(strconv.Itoa(rz.WorldSize))
	publish := func() error {
		lib.EbmDistStoreSet(g.store, "ebm/join/world/"+strconv.Itoa(rz.Rank), mine)
		if msg := lastErrorOrNil(); msg != "" {
			return fmt.Errorf("dist: rank %d: registering in the store: %s", rz.Rank, msg)
		}
		return nil
	}
	check := func(q int) error {
		v, ok := lib.EbmDistStoreGet(g.store, "ebm/join/world/"+strconv.Itoa(q), ms)
		if !ok {
			msg := lastError()
			low := strings.ToLower(msg)
			switch {
			case strings.Contains(low, "timeout") || strings.Contains(low, "timed out"):
				return fmt.Errorf("dist: rank %d: rank %d did not join within %v (WORLD_SIZE=%d here)", rz.Rank, q, time.Duration(ms)*time.Millisecond, rz.WorldSize)
			case q == 0:
				return fmt.Errorf("dist: rank %d: lost rank 0's store during the rendezvous (rank 0 failed?): %s", rz.Rank, msg)
			}
			return fmt.Errorf("dist: rank %d: waiting for rank %d: %s", rz.Rank, q, msg)
		}
		if string(v) != string(mine) {
			return fmt.Errorf("dist: ranks disagree on the world size: WORLD_SIZE=%d for rank %d, %s for rank %d", rz.WorldSize, rz.Rank, v, q)
		}
		return nil
	}
	if rz.Rank != 0 {
		err := check(0)
		if perr := publish(); err == nil {
			err = perr
		}
		return err
	}
	if err := publish(); err != nil {
		return err
	}
	for q := 1; q < rz.WorldSize; q++ {
		if err := check(q); err != nil {
			return err
		}
	}
	return nil
}

// Rank returns this process's rank in [0, Size()).
func (g *Group) Rank() int { return g.rz.Rank }

// Size returns the number of ranks.
func (g *Group) Size() int { return g.rz.WorldSize }

// LocalRank returns the rank among this host's processes.
func (g *Group) LocalRank() int { return g.rz.LocalRank }

// Backend returns "gloo" or "nccl".
func (g *Group) Backend() string { return g.backend }

// Timeout returns the timeout of collectives.
func (g *Group) Timeout() time.Duration { return g.timeout }

func (g *Group) String() string {
	return fmt.Sprintf("rank %d of %d (%s)", g.rz.Rank, g.rz.WorldSize, g.backend)
}

// Close leaves the group. Rank 0's store goes with it, so rank 0 should
// close last (after a final Barrier, say) when others still need it.
func (g *Group) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil
	}
	g.closed = true
	defer runtime.UnlockOSThread()
	runtime.LockOSThread()
	lib.EbmDistGroupFree(g.pg)
	lib.EbmDistStoreFree(g.store)
	if msg := lastErrorOrNil(); msg != "" {
		return fmt.Errorf("dist: closing the group: %s", msg)
	}
	return nil
}

// The at::ScalarType codes of the host buffers.
const (
	scalarUint8   = 0
	scalarInt64   = 4
	scalarFloat32 = 6
	scalarFloat64 = 7
)

// AllReduceFloat32 replaces x on every rank by its elementwise sum over
// the ranks. Every rank passes the same length.
func (g *Group) AllReduceFloat32(ctx context.Context, x []float32) error {
	return g.host(ctx, "allreduce", len(x), scalarFloat32, func(p unsafe.Pointer, ms int64) {
		lib.EbmDistAllReduceHost(g.pg, p, len(x), scalarFloat32, int(Sum), ms)
	}, slicePtr(x))
}

// AllReduceFloat64 replaces x on every rank by its elementwise sum over
// the ranks.
func (g *Group) AllReduceFloat64(ctx context.Context, x []float64) error {
	return g.AllReduceFloat64Op(ctx, Sum, x)
}

// AllReduceFloat64Op replaces x on every rank by its elementwise
// reduction op over the ranks.
func (g *Group) AllReduceFloat64Op(ctx context.Context, op Op, x []float64) error {
	return g.host(ctx, "allreduce", len(x), scalarFloat64, func(p unsafe.Pointer, ms int64) {
		lib.EbmDistAllReduceHost(g.pg, p, len(x), scalarFloat64, int(op), ms)
	}, slicePtr(x))
}

// AllReduceInt64 replaces x on every rank by its elementwise reduction op
// over the ranks.
func (g *Group) AllReduceInt64(ctx context.Context, op Op, x []int64) error {
	return g.host(ctx, "allreduce", len(x), scalarInt64, func(p unsafe.Pointer, ms int64) {
		lib.EbmDistAllReduceHost(g.pg, p, len(x), scalarInt64, int(op), ms)
	}, slicePtr(x))
}

// BroadcastBytes replaces b on every rank by root's b. Every rank passes
// the same length.
func (g *Group) BroadcastBytes(ctx context.Context, b []byte, root int) error {
	if err := g.checkRoot(root); err != nil {
		return err
	}
	return g.host(ctx, "broadcast", len(b), scalarUint8, func(p unsafe.Pointer, ms int64) {
		lib.EbmDistBroadcastHost(g.pg, p, len(b), scalarUint8, root, ms)
	}, slicePtr(b))
}

// GatherBytes collects every rank's in (all of one length n) into out on
// root, rank r's at out[r·n:(r+1)·n]; out must hold Size()·n bytes on
// root and is not used elsewhere (nil will do).
func (g *Group) GatherBytes(ctx context.Context, in, out []byte, root int) error {
	if err := g.checkRoot(root); err != nil {
		return err
	}
	if g.rz.Rank == root && len(out) != g.rz.WorldSize*len(in) {
		return fmt.Errorf("dist: gather: out has %d bytes, want %d ranks × %d", len(out), g.rz.WorldSize, len(in))
	}
	var op unsafe.Pointer
	if g.rz.Rank == root {
		op = slicePtr(out)
	}
	return g.host(ctx, "gather", len(in), scalarUint8, func(p unsafe.Pointer, ms int64) {
		lib.EbmDistGatherHost(g.pg, p, len(in), scalarUint8, op, root, ms)
	}, slicePtr(in))
}

// Barrier returns once every rank has called it.
func (g *Group) Barrier(ctx context.Context) error {
	return g.call(ctx, "barrier", "", func(ms int64) { lib.EbmDistBarrier(g.pg, ms) })
}

// AllReduceTensors reduces tensors in place over the ranks: every rank
// passes tensors of the same shapes, all of one dtype and on the group's
// device (the CPU for gloo, the CUDA device of LOCAL_RANK for nccl). They
// travel as one flat buffer, one collective per call.
func (g *Group) AllReduceTensors(ctx context.Context, op Op, ts ...Tensor) error {
	ps, err := ctensors(ts)
	if err != nil {
		return err
	}
	return g.call(ctx, "allreduce", fmt.Sprintf("%d tensors", len(ts)), func(ms int64) {
		lib.EbmDistAllReduce(g.pg, ps, int(op), ms)
	})
}

// BroadcastTensors replaces tensors on every rank by root's, in place.
func (g *Group) BroadcastTensors(ctx context.Context, root int, ts ...Tensor) error {
	if err := g.checkRoot(root); err != nil {
		return err
	}
	ps, err := ctensors(ts)
	if err != nil {
		return err
	}
	return g.call(ctx, "broadcast", fmt.Sprintf("%d tensors", len(ts)), func(ms int64) {
		lib.EbmDistBroadcast(g.pg, ps, root, ms)
	})
}

func ctensors(ts []Tensor) ([]unsafe.Pointer, error) {
	ps := make([]unsafe.Pointer, len(ts))
	for i, t := range ts {
		if t == nil || t.Ctensor() == nil {
			return nil, fmt.Errorf("dist: tensor %d is nil", i)
		}
		ps[i] = t.Ctensor()
	}
	return ps, nil
}

func (g *Group) checkRoot(root int) error {
	if root < 0 || root >= g.rz.WorldSize {
		return fmt.Errorf("dist: root rank %d outside [0, %d)", root, g.rz.WorldSize)
	}
	return nil
}

// host runs a collective on a host buffer of n values.
func (g *Group) host(ctx context.Context, what string, n int, dtype int, f func(p unsafe.Pointer, ms int64), p unsafe.Pointer) error {
	kind := map[int]string{scalarUint8: "bytes", scalarInt64: "int64 values", scalarFloat32: "float32 values", scalarFloat64: "float64 values"}[dtype]
	return g.call(ctx, what, fmt.Sprintf("%d %s", n, kind), func(ms int64) { f(p, ms) })
}

// call runs one collective under the group's lock on a locked OS thread
// and turns libtorch's error into one that names the collective.
func (g *Group) call(ctx context.Context, what, size string, f func(ms int64)) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return fmt.Errorf("dist: %s: the group is closed", what)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	defer runtime.UnlockOSThread()
	runtime.LockOSThread()
	f(g.millis(ctx))
	msg := lastErrorOrNil()
	if msg == "" {
		return nil
	}
	if size != "" {
		size = " of " + size
	}
	// The message starts with the collective's name (from the C side);
	// keep it once, and drop Gloo's source locations.
	msg = strings.TrimPrefix(msg, what+": ")
	msg = glooLocation.ReplaceAllString(msg, "")
	return &collectiveError{fmt.Sprintf("dist: %s%s (rank %d of %d, %s): %s (a rank left, failed or stopped answering)",
		what, size, g.rz.Rank, g.rz.WorldSize, g.backend, msg)}
}

// glooLocation matches the source locations Gloo puts in its messages,
// "[../gloo/transport/tcp/pair.cc:598] ".
var glooLocation = regexp.MustCompile(`\[[^\]]*\.(cc|h|cpp):\d+\] `)

// collectiveError is a failed collective; it matches ErrCollective.
type collectiveError struct{ msg string }

func (e *collectiveError) Error() string        { return e.msg }
func (e *collectiveError) Is(target error) bool { return target == ErrCollective }

// millis is the timeout of a call in milliseconds: the group's, or less
// if ctx has an earlier deadline (at least 1 ms).
func (g *Group) millis(ctx context.Context) int64 {
	t := g.timeout
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d); left < t {
			t = left
		}
	}
	return max(t.Milliseconds(), 1)
}

func slicePtr[T any](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}

// lastError returns and clears libtorch's last error on this OS thread,
// first line only (the C++ backtrace dropped).
func lastError() string {
	if msg := lastErrorOrNil(); msg != "" {
		return msg
	}
	return "unknown libtorch error"
}

func lastErrorOrNil() string {
	p := unsafe.Pointer(lib.GetAndResetLastErr())
	if p == nil {
		return ""
	}
	msg := C.GoString((*C.char)(p))
	C.free(p)
	if i := strings.Index(msg, "\nException raised from"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimSpace(msg)
}

func backendHint(b string) string {
	if b == "nccl" {
		return " (NCCL needs a CUDA libtorch: run scripts/torch/setup.sh against one)"
	}
	return " (install Gloo's headers, apt-get install libgloo-dev, and run scripts/torch/setup.sh again)"
}

// storeHint shortens libtorch's store errors to their cause.
func storeHint(msg string) string {
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "address already in use") || strings.Contains(low, "errno: 98"):
		return "the port is in use (address already in use; pick another MASTER_PORT)"
	case strings.Contains(low, "timed out") || strings.Contains(low, "timeout"):
		return "timed out (is rank 0 running, and MASTER_ADDR:MASTER_PORT reachable?)"
	}
	return msg
}

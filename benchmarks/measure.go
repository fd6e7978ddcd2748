package benchmarks

import (
	"fmt"
	"time"

	"github.com/ebmgo/ebm/platform"
)

// Result is one measurement of a workload.
type Result struct {
	Workload string  `json:"workload"`
	Ops      int     `json:"ops"`
	Seconds  float64 `json:"seconds"`
	MsPerOp  float64 `json:"ms_per_op"`
	// CPUMsPerOp is the process's CPU time (all threads) per operation:
	// on a busy machine it varies less than the wall-clock time.
	CPUMsPerOp float64 `json:"cpu_ms_per_op"`
}

// PerSecond returns the workload's units per second.
func (r Result) PerSecond(w Workload) float64 { return w.Units * 1e3 / r.MsPerOp }

// Measure sets w up and runs it for at least the given duration and at
// least three operations, after a warm-up of up to a second (first runs
// allocate buffers and load libraries), the same protocol as
// benchmarks/pytorch/bench.py.
func Measure(w Workload, seed uint64, d time.Duration) (Result, error) {
	op, err := w.Setup(seed)
	if err != nil {
		return Result{}, fmt.Errorf("benchmarks: %s: setup: %w", w.Name, err)
	}
	start := time.Now()
	for {
		if err := op(); err != nil {
			return Result{}, fmt.Errorf("benchmarks: %s: %w", w.Name, err)
		}
		if time.Since(start) > min(time.Second, d/3) {
			break
		}
	}
	n := 0
	start, cpu0 := time.Now(), platform.CPUSeconds()
	for {
		if err := op(); err != nil {
			return Result{}, fmt.Errorf("benchmarks: %s: %w", w.Name, err)
		}
		n++
		if el := time.Since(start); el >= d && n >= 3 {
			return Result{Workload: w.Name, Ops: n, Seconds: el.Seconds(), MsPerOp: el.Seconds() * 1e3 / float64(n),
				CPUMsPerOp: (platform.CPUSeconds() - cpu0) * 1e3 / float64(n)}, nil
		}
	}
}

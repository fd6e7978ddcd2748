package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ebmgo/ebm/benchmarks"
	"github.com/ebmgo/ebm/internal/blas"
	"github.com/ebmgo/ebm/internal/ops"
)

type measurement struct {
	benchmarks.Result
	MaxRSS  int64  `json:"-"` // KiB
	Torch   string `json:"torch,omitempty"`
	Kernels string `json:"kernels,omitempty"` // ours: ops.Kernels() and the BLAS in the worker
	Err     string `json:"-"`
}

// simdCaps is, for each -simd value, the environment of our workers and of
// PyTorch's: both capped to the same instruction set. PyTorch's ATen
// kernels follow ATEN_CPU_CAPABILITY, its convolutions (oneDNN) follow
// DNNL_MAX_CPU_ISA, and OpenBLAS (ours and the one PyTorch links, when
// loaded) follows OPENBLAS_CORETYPE; "go" stands for an x86-64 CPU
// without AVX2 (SSE4.1).
var simdCaps = map[string]struct{ ours, torch []string }{
	"avx512": {
		ours:  []string{"EBM_SIMD=avx512"},
		torch: []string{"ATEN_CPU_CAPABILITY=avx512"},
	},
	"avx2": {
		ours:  []string{"EBM_SIMD=avx2", "OPENBLAS_CORETYPE=Haswell"},
		torch: []string{"ATEN_CPU_CAPABILITY=avx2", "DNNL_MAX_CPU_ISA=AVX2", "OPENBLAS_CORETYPE=Haswell"},
	},
	"go": {
		ours:  []string{"EBM_SIMD=go", "OPENBLAS_CORETYPE=Nehalem"},
		torch: []string{"ATEN_CPU_CAPABILITY=default", "DNNL_MAX_CPU_ISA=SSE41", "OPENBLAS_CORETYPE=Nehalem"},
	},
}

func main() {
	var (
		worker  = flag.String("worker", "", "internal: measure one workload in this process and print JSON")
		seconds = flag.Float64("seconds", 3, "measuring time per workload and side")
		rounds  = flag.Int("rounds", 1, "alternate ours/PyTorch this many times per workload and keep the median")
		run     = flag.String("run", "", "only workloads whose name contains one of these comma-separated strings")
		python  = flag.String("python", "/usr/bin/python3", "Python with torch; empty to skip PyTorch")
		script  = flag.String("script", "", "path of benchmarks/pytorch/bench.py (found from the module root by default)")
		device  = flag.String("device", "cpu", "PyTorch device: cpu or cuda")
		simd    = flag.String("simd", "", "cap both sides to one instruction set: avx512, avx2 or go (see -h)")
		floor   = flag.String("floor", "", "the C++ floor binary of the @torch workloads (benchmarks/libtorch/run.sh --build prints its folder); empty to skip")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: compare [flags]\n\n")
		flag.PrintDefaults()
		fmt.Fprintf(flag.CommandLine.Output(), "\n-simd sets, for ebm and for PyTorch:\n")
		for _, k := range []string{"avx512", "avx2", "go"} {
			fmt.Fprintf(flag.CommandLine.Output(), "  %-7s ebm: %s\n          PyTorch: %s\n", k,
				strings.Join(simdCaps[k].ours, " "), strings.Join(simdCaps[k].torch, " "))
		}
	}
	flag.Parse()
	if *worker != "" {
		os.Exit(doWorker(*worker, *seconds))
	}
	if _, ok := simdCaps[*simd]; !ok && *simd != "" {
		fmt.Fprintf(os.Stderr, "compare: -simd %q: want avx512, avx2 or go\n", *simd)
		os.Exit(2)
	}
	if err := compare(*seconds, *rounds, *run, *python, *script, *device, *simd, *floor); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func doWorker(name string, seconds float64) int {
	w, ok := benchmarks.Lookup(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "compare: no workload %q\n", name)
		return 2
	}
	r, err := benchmarks.Measure(w, 1, time.Duration(seconds*float64(time.Second)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(measurement{Result: r, Kernels: ops.Kernels() + ", BLAS " + blas.Name()})
	return 0
}

func compare(seconds float64, rounds int, filter, python, script, device, simd, floor string) error {
	threads := runtime.GOMAXPROCS(0)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if python != "" && script == "" {
		if script, err = findScript(); err != nil {
			return err
		}
	}
	var ws []benchmarks.Workload
	for _, w := range benchmarks.Workloads() {
		if filter == "" || containsAny(w.Name, filter) {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return fmt.Errorf("no workload matches %q", filter)
	}

	fmt.Printf("date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Printf("machine: %s, %d cores, GOMAXPROCS=%d, %s/%s\n", cpuModel(), runtime.NumCPU(), threads, runtime.GOOS, runtime.GOARCH)
	fmt.Printf("command: %s\n", strings.Join(append([]string{"go run ./benchmarks/cmd/compare"}, os.Args[1:]...), " "))
	caps := simdCaps[simd]
	if simd != "" {
		fmt.Printf("capped to %s: ebm with %s; PyTorch with %s\n", simd, strings.Join(caps.ours, " "), strings.Join(caps.torch, " "))
	}

	torchVersion, kernels := "", ""
	// PyTorch's threads; the libtorch backend's workers (@torch) get the
	// same, so that both sides run libtorch and OpenBLAS alike.
	torchEnv := []string{"OMP_WAIT_POLICY=PASSIVE", fmt.Sprintf("OMP_NUM_THREADS=%d", threads), fmt.Sprintf("MKL_NUM_THREADS=%d", threads)}
	var rows [][]string
	for _, w := range ws {
		var ours, theirs, floors []measurement
		onTorch := strings.HasSuffix(w.Name, "@torch")
		// langevin/cnn@torch is compared with PyTorch's langevin/cnn.
		name := strings.TrimSuffix(w.Name, "@torch")
		for range max(rounds, 1) {
			env := caps.ours
			if onTorch {
				env = append(append([]string(nil), torchEnv...), caps.torch...)
			}
			m := runChild(self, env, "-worker", w.Name, "-seconds", fmt.Sprint(seconds))
			if m.Kernels != "" {
				kernels = m.Kernels
			}
			ours = append(ours, m)
			if python != "" && w.Torch {
				env := append(append([]string(nil), torchEnv...), caps.torch...)
				m := runChild(python, env, script, name, "--seconds", fmt.Sprint(seconds), "--threads", fmt.Sprint(threads), "--device", device)
				if m.Torch != "" {
					torchVersion = m.Torch
				}
				theirs = append(theirs, m)
			}
			if floor != "" && onTorch {
				env := append(append([]string(nil), torchEnv...), caps.torch...)
				floors = append(floors, runChild(floor, env, name, "--seconds", fmt.Sprint(seconds), "--threads", fmt.Sprint(threads), "--device", device))
			}
		}
		o, t := median(ours), median(theirs)
		row := []string{w.Name, w.Desc, cell(o, w), cell(t, w), ratio(o, t), cpuRatio(o, t), rss(o), rss(t)}
		if floor != "" {
			f := median(floors)
			row = append(row, cell(f, w), ratio(o, f))
		}
		rows = append(rows, row)
		fmt.Fprintf(os.Stderr, "%-16s ours %s  pytorch %s\n", w.Name, row[2], row[3])
	}
	fmt.Printf("ebm: Go %s, kernels %s\n", runtime.Version(), kernels)
	if torchVersion != "" {
		fmt.Printf("pytorch: %s on %s, %d threads, OMP_WAIT_POLICY=PASSIVE\n", torchVersion, device, threads)
	}
	if floor != "" {
		fmt.Printf("floor: %s, the same loops in C++ against libtorch, same threads\n", floor)
	}
	fmt.Println()
	if floor != "" {
		fmt.Println("| workload | setting | ebm | PyTorch | time ratio ebm/PyTorch | CPU-time ratio | peak RSS ebm | peak RSS PyTorch | C++ floor | time ratio ebm/floor |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	} else {
		fmt.Println("| workload | setting | ebm | PyTorch | time ratio ebm/PyTorch | CPU-time ratio | peak RSS ebm | peak RSS PyTorch |")
		fmt.Println("|---|---|---|---|---|---|---|---|")
	}
	for _, r := range rows {
		fmt.Println("| " + strings.Join(r, " | ") + " |")
	}
	return nil
}

// runChild runs a measuring process and reads its JSON result and peak RSS.
func runChild(prog string, env []string, args ...string) measurement {
	cmd := exec.Command(prog, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var m measurement
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && cmd.ProcessState != nil {
		m.MaxRSS = ru.Maxrss
	}
	if err != nil {
		m.Err = strings.TrimSpace(lastLine(errb.String()))
		if m.Err == "" {
			m.Err = err.Error()
		}
		return m
	}
	if err := json.Unmarshal(lastJSON(out.Bytes()), &m); err != nil {
		m.Err = fmt.Sprintf("bad output %q: %v", out.String(), err)
	}
	return m
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func lastJSON(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return lines[len(lines)-1]
}

func median(ms []measurement) *measurement {
	var ok []measurement
	var last *measurement
	for i := range ms {
		if ms[i].Err == "" {
			ok = append(ok, ms[i])
		} else {
			last = &ms[i]
		}
	}
	if len(ok) == 0 {
		return last
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i].MsPerOp < ok[j].MsPerOp })
	return &ok[len(ok)/2]
}

func cell(m *measurement, w benchmarks.Workload) string {
	switch {
	case m == nil:
		return "—"
	case m.Err != "":
		return "error: " + m.Err
	}
	return fmt.Sprintf("%.3g %s (%.3g ms, %.3g CPU-ms)", w.Units*1e3/m.MsPerOp, w.Unit, m.MsPerOp, m.CPUMsPerOp)
}

func ratio(o, t *measurement) string {
	if o == nil || t == nil || o.Err != "" || t.Err != "" {
		return "—"
	}
	return fmt.Sprintf("%.2f×", o.MsPerOp/t.MsPerOp)
}

// cpuRatio compares CPU time (all threads) per operation: less sensitive
// than wall time to other load on the machine.
func cpuRatio(o, t *measurement) string {
	if o == nil || t == nil || o.Err != "" || t.Err != "" || o.CPUMsPerOp == 0 || t.CPUMsPerOp == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", o.CPUMsPerOp/t.CPUMsPerOp)
}

func rss(m *measurement) string {
	if m == nil || m.MaxRSS == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", float64(m.MaxRSS)/1024)
}

func containsAny(s, list string) bool {
	for _, f := range strings.Split(list, ",") {
		if f != "" && strings.Contains(s, f) {
			return true
		}
	}
	return false
}

// findScript locates benchmarks/pytorch/bench.py from the working
// directory upwards.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "benchmarks", "pytorch", "bench.py")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("benchmarks/pytorch/bench.py not found above the working directory; pass -script or -python \"\"")
		}
		dir = parent
	}
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.Index(l, ":"); i >= 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return runtime.GOARCH
}

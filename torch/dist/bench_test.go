//go:build torch

package dist_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/ebmgo/ebm/benchmarks"
	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	"github.com/ebmgo/ebm/optim"
	"github.com/ebmgo/ebm/platform"
	"github.com/ebmgo/ebm/torch"
	"github.com/ebmgo/ebm/torch/dist"
	"github.com/ebmgo/ebm/trainer"
)

// The benchmarks run their ranks as processes of this test binary, like
// the tests; rank 0 prints its measurements as one JSON line.

func init() {
	// bench-allreduce: EBM_DIST_BENCH_PATH "go" times AllReduceFloat32 of
	// the MNIST CNN's gradients packed in one Go buffer (the Go backend's
	// path); "tensors" times AllReduceTensors of the twelve
	// parameter-shaped CPU tensors (the torch backend's).
	workers["bench-allreduce"] = func() error {
		ctx := context.Background()
		g, err := dist.NewFromEnv(ctx, dist.Config{Timeout: time.Minute})
		if err != nil {
			return err
		}
		defer g.Close()
		model := nn.NewMNISTCNN(rand.New(rand.NewPCG(1, 2)), 32)
		n := graph.NumParams(model)
		var op func() error
		switch os.Getenv("EBM_DIST_BENCH_PATH") {
		case "go":
			buf := make([]float32, n)
			op = func() error { return g.AllReduceFloat32(ctx, buf) }
		case "tensors":
			torch.SetNumThreads(1)
			var tensors []dist.Tensor
			for _, p := range model.Params() {
				shape := make([]int64, len(p.Shape()))
				for i, d := range p.Shape() {
					shape[i] = int64(d)
				}
				t, err := ts.Zeros(shape, gotch.Float, gotch.CPU)
				if err != nil {
					return err
				}
				tensors = append(tensors, t)
			}
			op = func() error { return g.AllReduceTensors(ctx, dist.Sum, tensors...) }
		}
		return timeOps(g, n, op)
	}
	// bench-train: iterations of the MNIST recipe (benchmarks' train/cnn:
	// the MNIST CNN, 60 Langevin steps on 128 chains, CD loss, Adam) on
	// rank's shard of MNIST, with GOMAXPROCS as set by the launcher.
	workers["bench-train"] = func() error {
		ctx := context.Background()
		g, err := dist.NewFromEnv(ctx, dist.Config{Timeout: 5 * time.Minute})
		if err != nil {
			return err
		}
		defer g.Close()
		mnist, err := datasets.LoadMNIST(ctx, datasets.Train, datasets.MNISTConfig{})
		if err != nil {
			return err
		}
		var shard []float64
		for i := g.Rank(); i < mnist.N; i += g.Size() {
			shard = append(shard, mnist.Images[i*784:(i+1)*784]...)
		}
		data, err := datasets.NewBatches(shard, 784, datasets.BatchConfig{Size: 128, Seed: uint64(g.Rank())})
		if err != nil {
			return err
		}
		tr, err := trainer.New(nn.NewMNISTCNN(rand.New(rand.NewPCG(1, 2)), 32), data, trainer.Config{
			Shape: []int{1, 28, 28}, Iterations: 1 << 30, Alpha: benchmarks.TrainAlpha,
			Adam:  optim.AdamConfig{LR: benchmarks.TrainLR, Beta1: 0, Beta2: 0.999},
			Steps: benchmarks.TrainSteps, BufferSize: benchmarks.TrainBuffer, ReinitProb: benchmarks.TrainReinit,
			DataNoise: benchmarks.LangevinNoise, DataMin: -1, DataMax: 1, Seed: 1, Collective: g,
		})
		if err != nil {
			return err
		}
		defer tr.Close()
		warm, n := envInt("EBM_DIST_BENCH_WARMUP"), envInt("EBM_DIST_BENCH_N")
		var sample, update, cpu0 float64
		var start time.Time
		for i := range warm + n {
			if i == warm {
				start, cpu0 = time.Now(), platform.CPUSeconds()
			}
			m, err := tr.Step(ctx)
			if err != nil {
				return err
			}
			if i >= warm {
				sample += m.SampleSec
				update += m.UpdateSec
			}
		}
		el := time.Since(start).Seconds()
		// CPU seconds per iteration, the largest over the ranks: what an
		// iteration costs a rank with a core to itself.
		cpu := []float64{(platform.CPUSeconds() - cpu0) / float64(n)}
		if err := g.AllReduceFloat64Op(ctx, dist.Max, cpu); err != nil {
			return err
		}
		if g.Rank() == 0 {
			return json.NewEncoder(os.Stdout).Encode(map[string]float64{
				"it_per_s": float64(n) / el, "sample_s": sample / float64(n), "update_s": update / float64(n),
				"cpu_s": cpu[0], "gomaxprocs": float64(runtime.GOMAXPROCS(0)),
			})
		}
		return nil
	}
}

// timeOps runs op EBM_DIST_BENCH_WARMUP times untimed, then
// EBM_DIST_BENCH_N times timed, and prints the median and mean on rank 0.
func timeOps(g *dist.Group, numel int, op func() error) error {
	for range envInt("EBM_DIST_BENCH_WARMUP") {
		if err := op(); err != nil {
			return err
		}
	}
	n := envInt("EBM_DIST_BENCH_N")
	times := make([]float64, n)
	for i := range times {
		s := time.Now()
		if err := op(); err != nil {
			return err
		}
		times[i] = time.Since(s).Seconds() * 1e6
	}
	if g.Rank() != 0 {
		return nil
	}
	slices.Sort(times)
	mean := 0.0
	for _, t := range times {
		mean += t / float64(n)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]float64{"median_us": times[n/2], "mean_us": mean, "numel": float64(numel)})
}

// benchRanks runs a benchmark worker on world ranks and decodes rank 0's
// JSON line.
func benchRanks(b *testing.B, worker string, world int, env ...string) map[string]float64 {
	b.Helper()
	res := startRanks(b, worker, world, func(int) []string { return env }, 10*time.Minute)
	for r, x := range res {
		if x.code != 0 {
			b.Fatalf("rank %d: exit %d\n%s%s", r, x.code, x.stdout, x.stderr)
		}
	}
	var out map[string]float64
	if err := json.Unmarshal([]byte(strings.TrimSpace(res[0].stdout)), &out); err != nil {
		b.Fatalf("rank 0's output %q: %v", res[0].stdout, err)
	}
	return out
}

// BenchmarkAllReduceMNISTCNN: one all-reduce (sum) of the MNIST CNN's
// gradients (76,993 float32 values) between two processes of this host,
// Gloo over loopback — ebm through a Go buffer (the Go backend), ebm
// through libtorch tensors (the torch backend), and PyTorch's
// torch.distributed.all_reduce (benchmarks/pytorch/allreduce.py) in the
// same run. Reports µs per all-reduce (median of 300 after 30 warm-up).
func BenchmarkAllReduceMNISTCNN(b *testing.B) {
	common := []string{"EBM_DIST_BENCH_WARMUP=30", "EBM_DIST_BENCH_N=300", "OMP_NUM_THREADS=1", "GOMAXPROCS=1"}
	for _, path := range []string{"go", "tensors", "pytorch"} {
		b.Run(path, func(b *testing.B) {
			var out map[string]float64
			if path == "pytorch" {
				script, _ := filepath.Abs("../../benchmarks/pytorch/allreduce.py")
				cmd := exec.Command("/usr/bin/python3", script, "--numel", "76993", "--world", "2", "--n", "300", "--warmup", "30")
				cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OMP_WAIT_POLICY=PASSIVE")
				raw, err := cmd.Output()
				if err != nil {
					b.Skipf("PyTorch reference: %v", err)
				}
				lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
				var got struct{ Median_us, Mean_us float64 }
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
					b.Fatalf("PyTorch reference printed %q: %v", raw, err)
				}
				out = map[string]float64{"median_us": got.Median_us, "mean_us": got.Mean_us}
			} else {
				out = benchRanks(b, "bench-allreduce", 2, append(common, "EBM_DIST_BENCH_PATH="+path)...)
			}
			b.ReportMetric(out["median_us"], "µs/allreduce")
			b.ReportMetric(out["mean_us"], "mean-µs/allreduce")
			b.ReportMetric(out["median_us"]*1e3, "ns/op")
		})
	}
}

// BenchmarkMNISTRecipeRanks: iterations per second of the MNIST recipe
// (benchmarks' train/cnn, batch 128 per rank, on MNIST shards) on one
// process and on two, each with one core (GOMAXPROCS=1, one libtorch
// thread); a world of two trains 256 samples per iteration. ms-update/it
// includes the gradient all-reduce, and with it the wait for the slower
// rank; cpu-ms/it is the CPU time of an iteration on the busiest rank,
// what it costs a rank that has its core to itself.
func BenchmarkMNISTRecipeRanks(b *testing.B) {
	for _, world := range []int{1, 2} {
		b.Run(strconv.Itoa(world)+"proc", func(b *testing.B) {
			out := benchRanks(b, "bench-train", world, "EBM_DIST_BENCH_WARMUP=2", "EBM_DIST_BENCH_N="+envOr("EBM_DIST_BENCH_ITERS", "10"),
				"GOMAXPROCS=1", "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1")
			b.ReportMetric(out["it_per_s"], "it/s")
			b.ReportMetric(out["it_per_s"]*128*float64(world), "samples/s")
			b.ReportMetric(out["sample_s"]*1e3, "ms-sampling/it")
			b.ReportMetric(out["update_s"]*1e3, "ms-update/it")
			b.ReportMetric(out["cpu_s"]*1e3, "cpu-ms/it")
			b.ReportMetric(1e9/out["it_per_s"], "ns/op")
		})
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

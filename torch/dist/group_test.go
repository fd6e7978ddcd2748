//go:build torch

package dist_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/ebmgo/ebm/torch"
	"github.com/ebmgo/ebm/torch/dist"
)

// workerTimeout is the collectives' timeout in a worker:
// EBM_DIST_TEST_TIMEOUT milliseconds, 20 s by default.
func workerTimeout() time.Duration {
	if ms := envInt("EBM_DIST_TEST_TIMEOUT"); ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return 20 * time.Second
}

func init() {
	workers["collectives"] = collectivesWorker
	workers["join"] = func() error {
		g, err := dist.NewFromEnv(context.Background(), dist.Config{Timeout: workerTimeout()})
		if err != nil {
			return err
		}
		defer g.Close()
		return g.Barrier(context.Background())
	}
	// lose: rank 1 leaves in the middle of a run (exit, SIGKILL or a
	// stall, after EBM_DIST_TEST_LOSE); the others keep calling
	// allreduce and print the error they get.
	workers["lose"] = func() error {
		g, err := dist.NewFromEnv(context.Background(), dist.Config{Timeout: workerTimeout()})
		if err != nil {
			return err
		}
		x := make([]float32, 77_000)
		for i := 0; ; i++ {
			if g.Rank() == 1 && i == 3 {
				switch os.Getenv("EBM_DIST_TEST_LOSE") {
				case "kill":
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				case "stall":
					// Silent past the others' timeout, then gone.
					time.Sleep(workerTimeout() + 5*time.Second)
					return nil
				}
			}
			start := time.Now()
			if err := g.AllReduceFloat32(context.Background(), x); err != nil {
				fmt.Printf("after %.1f s: %v (ErrCollective: %v)\n", time.Since(start).Seconds(), err, errors.Is(err, dist.ErrCollective))
				// The group is unusable from now on.
				err2 := g.Barrier(context.Background())
				fmt.Printf("next: %v\n", err2)
				g.Close()
				return nil
			}
		}
	}
}

func collectivesWorker() error {
	ctx := context.Background()
	backend := os.Getenv("EBM_DIST_TEST_BACKEND") // "" (gloo) or nccl
	g, err := dist.NewFromEnv(ctx, dist.Config{Backend: backend, Timeout: workerTimeout()})
	if err != nil {
		return err
	}
	defer g.Close()
	r, n := g.Rank(), g.Size()
	check := func(what string, got, want any) error {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("rank %d: %s = %v, want %v", r, what, got, want)
		}
		return nil
	}
	f32 := []float32{float32(r + 1), 0.5, float32(-r)}
	if err := g.AllReduceFloat32(ctx, f32); err != nil {
		return err
	}
	if err := check("float32 sum", f32, []float32{float32(n * (n + 1) / 2), 0.5 * float32(n), float32(-(n * (n - 1) / 2))}); err != nil {
		return err
	}
	f64 := []float64{float64(r), float64(-r), 1e300}
	if err := g.AllReduceFloat64Op(ctx, dist.Max, f64); err != nil {
		return err
	}
	if err := check("float64 max", f64, []float64{float64(n - 1), 0, 1e300}); err != nil {
		return err
	}
	i64 := []int64{int64(r) << 40, 7}
	if err := g.AllReduceInt64(ctx, dist.Min, i64); err != nil {
		return err
	}
	if err := check("int64 min", i64, []int64{0, 7}); err != nil {
		return err
	}
	b := []byte(fmt.Sprintf("from %03d", r))
	if err := g.BroadcastBytes(ctx, b, n-1); err != nil {
		return err
	}
	if err := check("broadcast", string(b), fmt.Sprintf("from %03d", n-1)); err != nil {
		return err
	}
	in := []byte{byte(r), byte(2 * r), 9}
	var out []byte
	if r == 0 {
		out = make([]byte, 3*n)
	}
	if err := g.GatherBytes(ctx, in, out, 0); err != nil {
		return err
	}
	if r == 0 {
		var want []byte
		for q := range n {
			want = append(want, byte(q), byte(2*q), 9)
		}
		if err := check("gather", out, want); err != nil {
			return err
		}
	}
	if backend == "nccl" {
		// CUDA tensors on this rank's GPU.
		dev := gotch.CudaBuilder(uint(g.LocalRank()))
		a, err := ts.Ones([]int64{4}, gotch.Float, dev)
		if err != nil {
			return err
		}
		c, err := ts.Ones([]int64{2, 3}, gotch.Float, dev)
		if err != nil {
			return err
		}
		if err := g.AllReduceTensors(ctx, dist.Sum, a, c); err != nil {
			return err
		}
		if err := check("CUDA tensor sum", append(a.Float64Values(), c.Float64Values()...), slices.Repeat([]float64{float64(n)}, 10)); err != nil {
			return err
		}
		if err := g.Barrier(ctx); err != nil {
			return err
		}
		fmt.Printf("rank %d of %d ok\n", r, n)
		return nil
	}
	// Tensors of different shapes in one call.
	a, err := ts.OfSlice([]float32{float32(r), 1, 2, 3})
	if err != nil {
		return err
	}
	c, err := ts.OfSlice([]float32{10 * float32(r+1)})
	if err != nil {
		return err
	}
	if err := g.AllReduceTensors(ctx, dist.Sum, a, c); err != nil {
		return err
	}
	sum := float64(n * (n - 1) / 2)
	if err := check("tensor sum", append(a.Float64Values(), c.Float64Values()...),
		[]float64{sum, float64(n), 2 * float64(n), 3 * float64(n), 10 * float64(n*(n+1)/2)}); err != nil {
		return err
	}
	if err := g.BroadcastTensors(ctx, 1%n, c); err != nil {
		return err
	}
	if err := check("tensor broadcast", c.Float64Values(), []float64{10 * float64(n*(n+1)/2)}); err != nil {
		return err
	}
	if err := g.Barrier(ctx); err != nil {
		return err
	}
	fmt.Printf("rank %d of %d ok\n", r, n)
	return nil
}

func TestCollectives(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		res := startRanks(t, "collectives", n, nil, 60*time.Second)
		for r, x := range res {
			if x.code != 0 || !strings.Contains(x.stdout, fmt.Sprintf("rank %d of %d ok", r, n)) {
				t.Errorf("world %d, rank %d: exit %d\n%s%s", n, r, x.code, x.stdout, x.stderr)
			}
		}
	}
}

// On a machine with CUDA GPUs and a CUDA libtorch (scripts/torch/gpu.sh),
// the collectives run over NCCL: a world of one on one GPU, of two on
// two.
func TestNCCL(t *testing.T) {
	if !dist.HasBackend("nccl") || torch.CUDADeviceCount() == 0 {
		t.Skip("no NCCL: needs a CUDA libtorch and a GPU")
	}
	n := min(2, torch.CUDADeviceCount())
	res := startRanks(t, "collectives", n, func(int) []string { return []string{"EBM_DIST_TEST_BACKEND=nccl"} }, 2*time.Minute)
	for r, x := range res {
		if x.code != 0 || !strings.Contains(x.stdout, fmt.Sprintf("rank %d of %d ok", r, n)) {
			t.Errorf("world %d over NCCL, rank %d: exit %d\n%s%s", n, r, x.code, x.stdout, x.stderr)
		}
	}
}

// A rank that dies or stalls turns the others' collective into an error
// that names it, within the timeout, and the group refuses more work.
func TestLostRank(t *testing.T) {
	for _, c := range []struct {
		how     string
		timeout time.Duration
		want    string
	}{
		{"kill", 20 * time.Second, "allreduce of 77000 float32 values (rank 0 of 2, gloo): "},
		{"stall", 2 * time.Second, "allreduce of 77000 float32 values (rank 0 of 2, gloo): "},
	} {
		t.Run(c.how, func(t *testing.T) {
			extra := func(rank int) []string {
				return []string{"EBM_DIST_TEST_LOSE=" + c.how, "EBM_DIST_TEST_TIMEOUT=" + strconv.Itoa(int(c.timeout.Milliseconds()))}
			}
			res := startRanks(t, "lose", 2, extra, c.timeout+40*time.Second)
			out := res[0].stdout
			if res[0].code != 0 || !strings.Contains(out, c.want) || !strings.Contains(out, "ErrCollective: true") ||
				!strings.Contains(out, "next: dist: barrier") {
				t.Fatalf("rank 0: exit %d\n%s%s", res[0].code, out, res[0].stderr)
			}
			if res[0].elapsed > c.timeout+15*time.Second {
				t.Errorf("rank 0 took %v to notice, timeout %v", res[0].elapsed, c.timeout)
			}
			t.Logf("rank 0: %s\nstderr: %s", strings.TrimSpace(out), res[0].stderr)
		})
	}
}

func TestBadRendezvous(t *testing.T) {
	t.Run("port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		rz := dist.Rendezvous{MasterAddr: "127.0.0.1", MasterPort: port, Rank: 0, WorldSize: 1}
		env := append(os.Environ(), rz.Environ()...)
		env = append(env, workerEnv+"=join", "EBM_DIST_TEST_TIMEOUT=5000")
		res := startEnvs(t, [][]string{env}, 30*time.Second)
		want := fmt.Sprintf("rank 0 cannot start the store on 127.0.0.1:%d (MASTER_ADDR:MASTER_PORT): the port is in use", port)
		if res[0].code == 0 || !strings.Contains(res[0].stderr, want) || strings.Count(strings.TrimSpace(res[0].stderr), "\n") > 0 {
			t.Fatalf("exit %d, stderr %q, want one line with %q", res[0].code, res[0].stderr, want)
		}
	})
	t.Run("world sizes differ", func(t *testing.T) {
		res := startRanks(t, "join", 2, func(rank int) []string {
			if rank == 1 {
				return []string{"WORLD_SIZE=3", "EBM_DIST_TEST_TIMEOUT=10000"}
			}
			return []string{"EBM_DIST_TEST_TIMEOUT=10000"}
		}, 40*time.Second)
		for r, x := range res {
			if x.code == 0 || !strings.Contains(x.stderr, "ranks disagree on the world size") {
				t.Errorf("rank %d: exit %d, stderr %q", r, x.code, x.stderr)
			}
		}
	})
	t.Run("rank twice", func(t *testing.T) {
		res := startRanks(t, "join", 3, func(rank int) []string {
			if rank == 2 {
				return []string{"RANK=1", "EBM_DIST_TEST_TIMEOUT=3000"}
			}
			return []string{"EBM_DIST_TEST_TIMEOUT=3000"}
		}, 40*time.Second)
		twice := 0
		for _, x := range res {
			if x.code == 0 {
				t.Errorf("a rank succeeded: %+v", x)
			}
			if strings.Contains(x.stderr, "two processes have RANK=1") {
				twice++
			}
		}
		if twice != 1 {
			t.Errorf("%d ranks report the duplicate: %+v", twice, res)
		}
	})
	t.Run("missing variables", func(t *testing.T) {
		var env []string
		for _, kv := range os.Environ() {
			if !slices.ContainsFunc([]string{"MASTER_", "RANK=", "WORLD_SIZE=", "LOCAL_"}, func(p string) bool { return strings.HasPrefix(kv, p) }) {
				env = append(env, kv)
			}
		}
		env = append(env, workerEnv+"=join", "RANK=0", "WORLD_SIZE=2")
		res := startEnvs(t, [][]string{env}, 30*time.Second)
		want := "dist: environment variable MASTER_ADDR, MASTER_PORT, LOCAL_RANK not set"
		if res[0].code == 0 || !strings.HasPrefix(res[0].stderr, want) {
			t.Fatalf("exit %d, stderr %q, want %q", res[0].code, res[0].stderr, want)
		}
	})
}

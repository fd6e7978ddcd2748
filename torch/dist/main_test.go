package dist_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ebmgo/ebm/torch/dist"
)

// The tests start copies of the test binary as the ranks of a run: with
// EBM_DIST_WORKER=name set, TestMain runs workers[name] instead of the
// tests and exits with its status.
const workerEnv = "EBM_DIST_WORKER"

// workers are the programs a rank can run; files add theirs in init.
var workers = map[string]func() error{}

func TestMain(m *testing.M) {
	if name := os.Getenv(workerEnv); name != "" {
		w, ok := workers[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "no worker %q\n", name)
			os.Exit(2)
		}
		if err := w(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// rankResult is what one rank did.
type rankResult struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// startRanks runs worker in n processes with torchrun's variables for a
// world of n on 127.0.0.1 and a free port, plus extra(rank), and returns
// their results once all have exited, or fails t after limit.
func startRanks(t testing.TB, worker string, n int, extra func(rank int) []string, limit time.Duration) []rankResult {
	t.Helper()
	port, err := dist.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var envs [][]string
	for r := range n {
		rz := dist.Rendezvous{MasterAddr: "127.0.0.1", MasterPort: port, Rank: r, WorldSize: n, LocalRank: r, LocalWorldSize: n}
		env := append(os.Environ(), rz.Environ()...)
		env = append(env, workerEnv+"="+worker)
		if extra != nil {
			env = append(env, extra(r)...)
		}
		envs = append(envs, env)
	}
	return startEnvs(t, envs, limit)
}

// startEnvs runs the test binary once per environment.
func startEnvs(t testing.TB, envs [][]string, limit time.Duration) []rankResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	res := make([]rankResult, len(envs))
	done := make(chan int, len(envs))
	start := time.Now()
	for i, env := range envs {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			err := cmd.Wait()
			res[i] = rankResult{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
			if err != nil && ctx.Err() != nil {
				res[i].code = -2
			}
			done <- i
		}()
	}
	for range envs {
		<-done
	}
	if ctx.Err() != nil {
		t.Fatalf("the ranks did not finish within %v: %+v", limit, res)
	}
	return res
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

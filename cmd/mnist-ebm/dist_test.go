//go:build torch && unix

package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ebmgo/ebm/torch/dist"
	"github.com/ebmgo/ebm/trainer"
)

// -nproc 2 trains one model on two processes: rank 0 reports and writes
// the run folder, whose checkpoint holds both ranks' buffers.
func TestNProcTrains(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	p := startCommand(t, tinyTrain(dir, data, "-nproc", "2", "-dist-timeout", "1m")...)
	code := p.wait(t)
	out, stderr := p.stdout.String(), p.Stderr()
	if code != 0 || !strings.Contains(out, "data-parallel: 2 ranks (gloo)") || !strings.Contains(out, "Sample quality") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if strings.Contains(out, "rank 1:") {
		t.Errorf("rank 1 reported:\n%s", out)
	}
	samples, dim, err := trainer.ReadBuffer(dir)
	if err != nil || len(samples) != 2*32*dim {
		t.Errorf("the checkpoint's buffer: %d values of %d, %v; want both ranks' 32 samples", len(samples), dim, err)
	}
	// The same command resumes, on two processes again.
	p = startCommand(t, tinyTrain(dir, data, "-nproc", "2", "-iterations", "6")...)
	if code := p.wait(t); code != 0 || !strings.Contains(p.stdout.String(), "resuming from the checkpoint at iteration 4") {
		t.Errorf("resume: exit %d\n%s\n%s", code, p.stdout.String(), p.Stderr())
	}
}

// rankProc is one rank started by hand, as torchrun would.
type rankProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
}

// startRanks starts one command per rank with torchrun's variables for a
// world of len(args) on 127.0.0.1; env(rank) adds or overrides variables.
func startRanks(t *testing.T, args [][]string, env func(rank int) []string) []*rankProc {
	t.Helper()
	port, err := dist.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var ps []*rankProc
	for r, a := range args {
		rz := dist.Rendezvous{MasterAddr: "127.0.0.1", MasterPort: port, Rank: r, WorldSize: len(args), LocalRank: r}
		p := &rankProc{done: make(chan struct{})}
		p.cmd = exec.Command(os.Args[0], a...)
		p.cmd.Env = append(append(os.Environ(), "MNIST_EBM_TEST_AS_COMMAND=1"), rz.Environ()...)
		if env != nil {
			p.cmd.Env = append(p.cmd.Env, env(r)...)
		}
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() {
			p.cmd.Process.Kill()
			<-p.done
		})
		ps = append(ps, p)
	}
	return ps
}

// wait waits for the ranks and returns their exit codes (-1: killed).
func waitRanks(t *testing.T, ps []*rankProc, limit time.Duration) []int {
	t.Helper()
	deadline := time.After(limit)
	var codes []int
	for r, p := range ps {
		select {
		case <-p.done:
			codes = append(codes, p.cmd.ProcessState.ExitCode())
		case <-deadline:
			t.Fatalf("rank %d did not finish within %v:\n%s", r, limit, p.stderr.String())
		}
	}
	return codes
}

// oneLine checks that s is a single line of error containing want.
func oneLine(t *testing.T, who, s, want string) {
	t.Helper()
	s = strings.TrimSpace(s)
	if !strings.Contains(s, want) || strings.Contains(s, "\n") || strings.Contains(s, "goroutine ") {
		t.Errorf("%s: stderr %q, want one line with %q", who, s, want)
	}
}

// Bad input to a data-parallel run is one line of error, a non-zero exit,
// and no hang.
func TestDataParallelBadInput(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	t.Run("missing variables", func(t *testing.T) {
		for _, k := range []string{"MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK"} {
			if _, set := os.LookupEnv(k); set {
				t.Skipf("%s is set in the test's environment", k)
			}
		}
		t.Setenv("RANK", "0")
		t.Setenv("WORLD_SIZE", "2")
		code, _, stderr := runCmd(t, tinyTrain(t.TempDir(), data)...)
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
		oneLine(t, "rank", stderr, "mnist-ebm: dist: environment variable MASTER_ADDR, MASTER_PORT, LOCAL_RANK not set")
	})
	t.Run("nproc and WORLD_SIZE", func(t *testing.T) {
		t.Setenv("RANK", "0")
		t.Setenv("WORLD_SIZE", "3")
		t.Setenv("MASTER_ADDR", "127.0.0.1")
		t.Setenv("MASTER_PORT", "1")
		t.Setenv("LOCAL_RANK", "0")
		code, _, stderr := runCmd(t, tinyTrain(t.TempDir(), data, "-nproc", "2")...)
		if code != 2 {
			t.Errorf("exit %d, want 2", code)
		}
		oneLine(t, "rank", stderr, "-nproc 2, but WORLD_SIZE is 3 (under torchrun, leave -nproc out)")
	})
	t.Run("port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		p := startCommand(t, tinyTrain(t.TempDir(), data, "-nproc", "2", "-master-port", fmt.Sprint(port))...)
		start := time.Now()
		code := p.wait(t)
		stderr := p.Stderr()
		want := fmt.Sprintf("mnist-ebm: dist: rank 0 cannot start the store on 127.0.0.1:%d (MASTER_ADDR:MASTER_PORT): the port is in use", port)
		if code == 0 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "mnist-ebm: rank 0 of 2 failed") {
			t.Errorf("exit %d, stderr:\n%s\nwant %q", code, stderr, want)
		}
		if el := time.Since(start); el > 30*time.Second {
			t.Errorf("took %v", el)
		}
	})
	t.Run("different settings", func(t *testing.T) {
		dir := t.TempDir()
		ps := startRanks(t, [][]string{tinyTrain(dir, data), tinyTrain(dir, data, "-lr", "0.003")}, nil)
		codes := waitRanks(t, ps, time.Minute)
		if codes[0] == 0 || codes[1] == 0 {
			t.Errorf("exit codes %v, want failures", codes)
		}
		oneLine(t, "rank 1", ps[1].stderr.String(), "rank 1 was started with settings that differ from rank 0's: Adam {LR:0.003")
		oneLine(t, "rank 0", ps[0].stderr.String(), "comparing the ranks' configurations failed on rank 1")
	})
	t.Run("different world sizes", func(t *testing.T) {
		dir := t.TempDir()
		ps := startRanks(t, [][]string{tinyTrain(dir, data), tinyTrain(dir, data)}, func(rank int) []string {
			if rank == 1 {
				return []string{"WORLD_SIZE=3"}
			}
			return nil
		})
		codes := waitRanks(t, ps, time.Minute)
		for r, p := range ps {
			if codes[r] == 0 {
				t.Errorf("rank %d succeeded", r)
			}
			oneLine(t, fmt.Sprint("rank ", r), p.stderr.String(), "ranks disagree on the world size")
		}
	})
}

// When one rank is killed the other stops within the timeout with an
// error that names the collective, and the run resumes from the last
// checkpoint.
func TestDataParallelKilledRank(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	args := tinyTrain(dir, data, "-iterations", "100000", "-checkpoint-every", "2", "-sample-every", "100000", "-dist-timeout", "30s")
	ps := startRanks(t, [][]string{args, args}, nil)
	// Kill rank 1 once the checkpoint of iteration 2 is on disk.
	ckpt := filepath.Join(dir, "checkpoint.safetensors")
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(ckpt); err == nil {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("no checkpoint within a minute:\n%s", ps[0].stderr.String())
		}
	}
	killed := time.Now()
	ps[1].cmd.Process.Signal(syscall.SIGKILL)
	codes := waitRanks(t, ps, time.Minute)
	if codes[0] == 0 || time.Since(killed) > 30*time.Second {
		t.Errorf("rank 0: exit %d after %v", codes[0], time.Since(killed))
	}
	lines := strings.Split(strings.TrimSpace(ps[0].stderr.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "dist: ") || !strings.Contains(last, "(rank 0 of 2, gloo)") || !strings.Contains(last, "mnist-ebm: trainer: iteration") {
		t.Errorf("rank 0's last line %q does not name the collective", last)
	}
	if _, _, err := trainer.ReadBuffer(dir); err != nil {
		t.Fatalf("the checkpoint after the kill: %v", err)
	}
	// Two new ranks resume from it.
	more := tinyTrain(dir, data, "-iterations", "8")
	ps = startRanks(t, [][]string{more, more}, nil)
	codes = waitRanks(t, ps, time.Minute)
	if codes[0] != 0 || codes[1] != 0 || !strings.Contains(ps[0].stdout.String(), "resuming from the checkpoint at iteration") {
		t.Errorf("resume: exit %v\n%s\n%s", codes, ps[0].stdout.String(), ps[0].stderr.String())
	}
}

// Ctrl-C to mnist-ebm -nproc stops every rank at the same iteration with
// a checkpoint, and the launcher exits as interrupted.
func TestNProcInterrupted(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	p := startCommand(t, tinyTrain(dir, data, "-nproc", "2", "-iterations", "100000", "-checkpoint-every", "100000", "-sample-every", "100000")...)
	p.waitFor(t, "iter ")
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t)
	out, stderr := p.stdout.String(), p.Stderr()
	if code != 130 || !strings.Contains(out, "checkpoint saved") || !strings.Contains(stderr, "the ranks stopped with a checkpoint") {
		t.Fatalf("exit %d, want 130\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	samples, dim, err := trainer.ReadBuffer(dir)
	if err != nil || len(samples) == 0 || len(samples)%(2*dim) != 0 {
		t.Errorf("the checkpoint's buffer: %d values, %v", len(samples), err)
	}
}

// mnist-ebm runs under torchrun: its launcher hosts the store and starts
// the ranks; Ctrl-C, which reaches every rank twice (from the terminal and
// from torchrun), still stops them with a checkpoint.
func TestTorchrunTrains(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch.distributed.run").Run(); err != nil {
		t.Skipf("no torchrun (%s with torch): %v", py, err)
	}
	data := writeMNIST(t, 64, 16, 28, 28)
	dir := t.TempDir()
	port, err := dist.FreePort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	// --redirects 1 --tee 1: torch 1.13's launcher under Python 3.11 fails
	// on its default, no redirection (fixed in torch 2).
	logDir := t.TempDir()
	args := append([]string{"-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", fmt.Sprint(port),
		"--redirects", "1", "--tee", "1", "--log_dir", logDir, "--no_python", os.Args[0]},
		tinyTrain(dir, data, "-iterations", "100000", "-checkpoint-every", "100000", "-sample-every", "100000")...)
	cmd := exec.Command(py, args...)
	cmd.Env = append(os.Environ(), "MNIST_EBM_TEST_AS_COMMAND=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a terminal's process group
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	for start := time.Now(); !strings.Contains(out.String(), "data-parallel: 2 ranks (gloo)"); time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > time.Minute {
			t.Fatalf("no start-up line within a minute:\n%s", out.String())
		}
	}
	time.Sleep(2 * time.Second)
	syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) // Ctrl-C: the whole group
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("torchrun did not stop:\n%s", out.String())
	}
	// Rank 0 says where it stopped, and both ranks' shards are in the
	// checkpoint of that iteration: neither died of the echoed signal.
	// The launcher, interrupted too, may exit before it has copied a
	// rank's last lines to its own output; the ranks' stdout files in
	// logDir have them all.
	text := out.String()
	filepath.WalkDir(logDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "stdout.log" {
			if b, err := os.ReadFile(path); err == nil {
				text += string(b)
			}
		}
		return nil
	})
	m := regexp.MustCompile(`stopped at iteration (\d+); checkpoint saved`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("the ranks did not stop with a checkpoint:\n%s", text)
	}
	if samples, dim, err := trainer.ReadBuffer(dir); err != nil || len(samples) != 2*min(32, 8*mustAtoi(m[1]))*dim { // batch 8, buffer 32
		t.Errorf("checkpoint of iteration %s: %d values, %v", m[1], len(samples), err)
	}
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// lockedBuffer is a bytes.Buffer a test may read while a process writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

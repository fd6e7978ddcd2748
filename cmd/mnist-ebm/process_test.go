package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the built command: with
// MNIST_EBM_TEST_AS_COMMAND=1 in its environment it runs main with its
// arguments, so tests can run the command as a process of its own (signals,
// locks held across processes, kill -9) without building it.
func TestMain(m *testing.M) {
	if os.Getenv("MNIST_EBM_TEST_AS_COMMAND") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// process is the command running as a child process.
type process struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr strings.Builder
	lines  chan string // stderr, line by line
	done   chan struct{}
}

// startCommand starts the command with args in a process of its own.
func startCommand(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{lines: make(chan string, 1000), done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), "MNIST_EBM_TEST_AS_COMMAND=1")
	p.cmd.Stdout = &p.stdout
	errPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		r := bufio.NewReader(errPipe)
		for {
			line, err := r.ReadString('\n')
			p.mu.Lock()
			p.stderr.WriteString(line)
			p.mu.Unlock()
			select {
			case p.lines <- line:
			default:
			}
			if err != nil {
				if err != io.EOF {
					t.Error(err)
				}
				return
			}
		}
	}()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// waitFor waits for a line of stderr containing s, up to a minute.
func (p *process) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line := <-p.lines:
			if strings.Contains(line, s) {
				return
			}
		case <-p.done:
			t.Fatalf("the command ended before printing %q:\n%s", s, p.Stderr())
		case <-timeout:
			t.Fatalf("no line with %q within a minute:\n%s", s, p.Stderr())
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (p *process) wait(t *testing.T) int {
	t.Helper()
	<-p.done
	err := p.cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *process) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

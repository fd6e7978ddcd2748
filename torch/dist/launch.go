package dist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LaunchConfig configures Launch.
type LaunchConfig struct {
	// NProc is the number of processes (ranks) to start; required.
	NProc int
	// Path is the program to run; empty means this executable.
	Path string
	// Args are its arguments (without the program name).
	Args []string
	// Env is the environment every rank starts from; nil means this
	// process's. The rendezvous variables are replaced.
	Env []string
	// MasterAddr is the address rank 0's store listens on and the others
	// connect to; empty means 127.0.0.1 (one host).
	MasterAddr string
	// MasterPort is the store's port; 0 picks a free one.
	MasterPort int
	// Stdout and Stderr receive the ranks' output: rank 0's as it is,
	// the others' line by line behind "rank N: ". Nil discards it.
	Stdout, Stderr io.Writer
	// Grace is how long the ranks get to finish after the first of them
	// fails or ctx is cancelled, before they are killed; 0 means 30 s.
	// They are first sent SIGTERM, on which ebm's programs stop at the
	// next iteration and write a checkpoint. (On Linux the ranks run in a
	// process group of their own, so a Ctrl-C at the terminal reaches
	// only the launcher, which passes it on in this way.)
	Grace time.Duration
}

// ExitError reports a rank that failed.
type ExitError struct {
	Rank int
	Err  error // the *exec.ExitError, or why the process could not start
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("dist: rank %d: %v", e.Rank, e.Err)
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode returns the rank's exit status, or 1 if it has none (killed by
// a signal, or never started).
func (e *ExitError) ExitCode() int {
	var x *exec.ExitError
	if errors.As(e.Err, &x) && x.ExitCode() > 0 {
		return x.ExitCode()
	}
	return 1
}

// Launch starts NProc copies of a program on this host with torchrun's
// environment contract (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE) and waits for them, as torchrun
// --standalone does. When a rank fails, the others are stopped (SIGTERM,
// then SIGKILL after Grace) and Launch returns an *ExitError for the
// first failure; cancelling ctx stops them the same way and returns
// ctx's error once they have exited. A nil error means every rank exited
// with status 0.
func Launch(ctx context.Context, cfg LaunchConfig) error {
	if cfg.NProc < 1 {
		return fmt.Errorf("dist: Launch: %d processes, want ≥ 1", cfg.NProc)
	}
	if cfg.Path == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("dist: Launch: finding this executable: %w", err)
		}
		cfg.Path = exe
	}
	if cfg.MasterAddr == "" {
		cfg.MasterAddr = "127.0.0.1"
	}
	if cfg.MasterPort == 0 {
		p, err := FreePort(cfg.MasterAddr)
		if err != nil {
			return err
		}
		cfg.MasterPort = p
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	base := withoutRendezvous(cfg.Env)
	type exit struct {
		rank int
		err  error
	}
	exits := make(chan exit, cfg.NProc)
	procs := make([]*exec.Cmd, cfg.NProc)
	var flushers []*prefixWriter
	locked := map[io.Writer]io.Writer{}
	// output is where rank r writes: rank 0 straight to a file (a
	// terminal keeps its progress bar), otherwise whole lines, the other
	// ranks' behind "rank r: ", through one lock per writer.
	output := func(w io.Writer, r int) io.Writer {
		if w == nil {
			return nil
		}
		if f, ok := w.(*os.File); ok && r == 0 {
			return f
		}
		if locked[w] == nil {
			locked[w] = &lockedWriter{w: w}
		}
		pre := ""
		if r > 0 {
			pre = fmt.Sprintf("rank %d: ", r)
		}
		p := &prefixWriter{w: locked[w], prefix: pre}
		flushers = append(flushers, p)
		return p
	}
	started := 0
	for r := range cfg.NProc {
		rz := Rendezvous{MasterAddr: cfg.MasterAddr, MasterPort: cfg.MasterPort, Rank: r, WorldSize: cfg.NProc,
			LocalRank: r, LocalWorldSize: cfg.NProc}
		cmd := exec.Command(cfg.Path, cfg.Args...)
		cmd.Env = append(append([]string(nil), base...), rz.Environ()...)
		cmd.SysProcAttr = childAttr()
		cmd.Stdout, cmd.Stderr = output(cfg.Stdout, r), output(cfg.Stderr, r)
		if err := cmd.Start(); err != nil {
			exits <- exit{r, err}
			break
		}
		procs[r] = cmd
		started++
		go func() { exits <- exit{r, cmd.Wait()} }()
	}
	exited := make([]bool, cfg.NProc)
	signal := func(sig os.Signal) {
		for r, p := range procs {
			if p != nil && !exited[r] {
				_ = p.Process.Signal(sig)
			}
		}
	}
	var first *ExitError
	var killTimer <-chan time.Time
	stopping := false
	stopAll := func() {
		if !stopping {
			stopping = true
			signal(syscall.SIGTERM)
			killTimer = time.After(cfg.Grace)
		}
	}
	pending := started
	if started < cfg.NProc {
		pending++ // the start error is in exits
	}
	done := ctx.Done()
	for pending > 0 {
		select {
		case e := <-exits:
			pending--
			exited[e.rank] = true
			if e.err != nil && first == nil && !stopping {
				first = &ExitError{Rank: e.rank, Err: e.err}
			}
			if e.err != nil {
				stopAll()
			}
		case <-done:
			done = nil
			stopAll()
		case <-killTimer:
			killTimer = nil
			signal(syscall.SIGKILL)
		}
	}
	for _, w := range flushers {
		w.Flush()
	}
	switch {
	case first != nil:
		return first
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return nil
}

// FreePort returns a TCP port on addr that nothing listens on now.
func FreePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, fmt.Errorf("dist: finding a free port on %s: %w", addr, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// withoutRendezvous drops the variables Launch sets, and torchrun's agent
// ones, from env.
func withoutRendezvous(env []string) []string {
	drop := map[string]bool{EnvMasterAddr: true, EnvMasterPort: true, EnvRank: true, EnvWorldSize: true,
		EnvLocalRank: true, EnvLocalWorldSize: true, EnvUseAgentStore: true, EnvRestartCount: true}
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return out
}

// lockedWriter serialises the writes of several ranks.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// prefixWriter writes whole lines to w, each behind prefix.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexAny(p.buf, "\n\r")
		if i < 0 {
			break
		}
		line := p.buf[:i+1]
		if len(bytes.TrimSpace(line)) > 0 {
			if _, err := io.WriteString(p.w, p.prefix+strings.TrimRight(string(line), "\r\n")+"\n"); err != nil {
				return len(b), err
			}
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// Flush writes what is left of an unfinished last line.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(bytes.TrimSpace(p.buf)) > 0 {
		io.WriteString(p.w, p.prefix+string(p.buf)+"\n")
	}
	p.buf = nil
}

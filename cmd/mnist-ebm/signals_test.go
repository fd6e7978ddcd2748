//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ebmgo/ebm/platform"
)

// A signal during training ends it with a checkpoint of the last finished
// iteration and the shell's exit code for that signal: SIGINT (Ctrl-C)
// 130, SIGTERM 143, SIGHUP (a closed terminal) 129. The command runs as a
// process of its own and gets a real signal.
func TestSignalsCheckpointAndExit(t *testing.T) {
	data := writeMNIST(t, 64, 16, 28, 28)
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{{syscall.SIGINT, 130, "SIGINT"}, {syscall.SIGTERM, 143, "SIGTERM"}, {syscall.SIGHUP, 129, "SIGHUP"}} {
		dir := t.TempDir()
		// No checkpoint would come before iteration 100000 but the one
		// the signal causes.
		p := startCommand(t, tinyTrain(dir, data, "-iterations", "100000", "-checkpoint-every", "100000", "-sample-every", "100000")...)
		p.waitFor(t, "iter ")
		if err := p.cmd.Process.Signal(tc.sig); err != nil {
			t.Fatal(err)
		}
		code := p.wait(t)
		out, stderr := p.stdout.String(), p.Stderr()
		if code != tc.code || !strings.Contains(stderr, "mnist-ebm: stopped: received "+tc.sig.String()) || !strings.Contains(out, "checkpoint saved") {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.name, code, tc.code, out, stderr)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); err != nil {
			t.Errorf("%s: no checkpoint: %v", tc.name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
			t.Errorf("%s: no model: %v", tc.name, err)
		}
	}
}

// The exit code comes from the signal that cancelled the run, whatever
// mode was running.
func TestSignalExitCodes(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(platform.SignalError{Signal: tc.sig})
		var out, errw strings.Builder
		code := run(ctx, []string{"sample", "-preset", "quick", "-dir", t.TempDir(), "-model", writeModel(t, presets["quick"], nil)}, &out, &errw)
		if code != tc.code || !strings.Contains(errw.String(), "stopped: received") {
			t.Errorf("%v: exit %d, stderr %q; want %d", tc.sig, code, errw.String(), tc.code)
		}
	}
}

//go:build unix

package platform

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

// A signal cancels the context with the signal as the cause, and ExitCode
// gives 128 + its number.
func TestNotifyContext(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGHUP, 129}} {
		ctx, stop := NotifyContext(context.Background())
		if err := syscall.Kill(syscall.Getpid(), tc.sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("%v did not cancel the context", tc.sig)
		}
		var se SignalError
		if !errors.As(context.Cause(ctx), &se) || se.Signal != tc.sig {
			t.Errorf("%v: cause %v", tc.sig, context.Cause(ctx))
		}
		if code, ok := ExitCode(ctx); !ok || code != tc.code {
			t.Errorf("%v: exit code %d, %v; want %d", tc.sig, code, ok, tc.code)
		}
		stop()
	}
	ctx, stop := NotifyContext(context.Background())
	stop()
	if _, ok := ExitCode(ctx); ok {
		t.Error("a context stopped by stop() reports a signal")
	}
}

// A signal passed on by a launcher right after the terminal's (torchrun's
// workers get Ctrl-C twice) is an echo, not a request to exit at once: the
// process survives it and stops in its own time.
func TestNotifyContextEcho(t *testing.T) {
	ctx, stop := NotifyContext(context.Background())
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
	// The echo, after the first was handled.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the process is still alive
	if code, ok := ExitCode(ctx); !ok || code != 130 {
		t.Errorf("exit code %d, %v", code, ok)
	}
}

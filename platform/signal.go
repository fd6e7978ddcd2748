package platform

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// stopSignals are the signals that ask a program to stop: Ctrl-C
// (SIGINT), a polite kill (SIGTERM) and a closed terminal (SIGHUP).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// EchoWindow is how soon after the first stop signal a second one counts
// as an echo of it (a launcher passing the terminal's signal on) rather
// than a request to exit at once.
const EchoWindow = time.Second

// SignalError is the cause of a context cancelled by NotifyContext.
type SignalError struct{ Signal os.Signal }

func (e SignalError) Error() string { return "received " + e.Signal.String() }

// NotifyContext returns a copy of parent that is cancelled, with a
// SignalError as its cause (context.Cause), when the process receives
// SIGINT, SIGTERM or SIGHUP. Long work that watches the context then stops
// cleanly (a trainer writes its checkpoint). A second signal within
// EchoWindow of the first is taken for the same request passed on — a
// Ctrl-C reaches torchrun's workers twice, from the terminal and from
// torchrun — and ignored; after that the default handling is back, so a
// second one while the program is still stopping ends the process at
// once, as a second Ctrl-C does in most tools. stop releases the signal
// handling; call it when the program no longer needs it.
func NotifyContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, stopSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			cancel(SignalError{s})
		case <-done:
			return
		}
		// Echoes of the first signal are ignored; then back to the
		// default handling: a second signal while the program is
		// stopping ends the process at once.
		echo := time.NewTimer(EchoWindow)
		defer echo.Stop()
		for {
			select {
			case <-ch:
			case <-echo.C:
				signal.Stop(ch)
				return
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		select {
		case <-done:
		default:
			close(done)
		}
		cancel(context.Canceled)
	}
}

// ExitCode returns the conventional exit status of a program that stopped
// because of ctx's signal — 128 + the signal's number: 130 for SIGINT,
// 143 for SIGTERM, 129 for SIGHUP — and ok = true; ok is false when ctx
// was not cancelled by a signal.
func ExitCode(ctx context.Context) (code int, ok bool) {
	var se SignalError
	if !errors.As(context.Cause(ctx), &se) {
		return 0, false
	}
	return ExitCodeFor(se.Signal), true
}

// ExitCodeFor returns 128 + the number of s (130 for SIGINT), or 1 for a
// signal without a number.
func ExitCodeFor(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

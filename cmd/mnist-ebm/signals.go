package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// stopSignals stop the command cleanly: training writes a checkpoint of
// its last finished iteration, sampling and evaluation stop at once, and
// the command exits with 128 + the signal's number (130 for Ctrl-C, 143
// for SIGTERM, 129 for SIGHUP, the hang-up of a closed terminal). A second
// signal exits at once; checkpoints are written atomically, so that loses
// nothing but the iterations since the last one.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// signalError is the cause of the context's cancellation when a signal
// stopped the command.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string {
	switch e.sig {
	case os.Interrupt:
		return "stopped by SIGINT (Ctrl-C)"
	case syscall.SIGTERM:
		return "stopped by SIGTERM"
	case syscall.SIGHUP:
		return "stopped by SIGHUP (hang-up)"
	}
	return "stopped by signal " + e.sig.String()
}

// exitCode is the shell's convention for a command ended by a signal.
func (e signalError) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// signalContext returns a context cancelled, with a signalError as its
// cause, by the first of stopSignals; the second one exits the process.
func signalContext() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	go func() {
		first := signalError{<-sigs}
		cancel(first)
		second := signalError{<-sigs}
		fmt.Fprintf(os.Stderr, "\nmnist-ebm: %v while stopping after %s: exiting without waiting\n", second, first.sig)
		os.Exit(second.exitCode())
	}()
	return ctx
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainRun(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// mainRun is the program; it returns the exit code.
func mainRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "rbm-mnist: %v\n", err)
		return 2
	}
	res, err := Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "rbm-mnist: %v\n", err)
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "rbm-mnist: interrupted; training state is saved, the same command resumes")
			return 130
		}
		return 1
	}
	fmt.Fprint(stdout, res.Markdown())
	return 0
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ebmgo/ebm/platform"
)

func main() {
	ctx, stop := platform.NotifyContext(context.Background())
	code := mainRun(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// mainRun is the program; it returns the exit code: 0, 2 for a mistake on
// the command line, 128 + the signal's number when a signal stopped it
// (the training state is saved after every epoch), 1 otherwise.
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
		if code, ok := platform.ExitCode(ctx); ok {
			fmt.Fprintf(stderr, "rbm-mnist: stopped by %v; the training state of every finished epoch is saved, the same command resumes\n", context.Cause(ctx))
			return code
		}
		fmt.Fprintf(stderr, "rbm-mnist: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, res.Markdown())
	return 0
}

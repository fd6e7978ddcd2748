package runlock_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/ebmgo/ebm/internal/runlock"
)

// A program takes its run folder for itself before it writes there; a
// second one is refused with the name of the first.
func ExampleAcquire() {
	dir, _ := os.MkdirTemp("", "run")
	defer os.RemoveAll(dir)
	l, err := runlock.Acquire(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Release()

	_, err = runlock.Acquire(dir) // what a second process would get
	var held *runlock.HeldError
	fmt.Println(errors.Is(err, runlock.ErrLocked), errors.As(err, &held) && held.Holder.PID == os.Getpid())
	// Output:
	// true true
}

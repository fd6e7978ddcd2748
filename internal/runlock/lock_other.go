//go:build !unix && !windows

package runlock

import (
	"errors"
	"os"
)

var errHeld = errors.New("held")

// lockFile cannot lock on this system (Plan 9, js/wasm, WASI): the holder
// is recorded, but other processes are not kept out.
func lockFile(f *os.File) (bool, error) { return false, nil }

func unlockFile(f *os.File) error { return nil }

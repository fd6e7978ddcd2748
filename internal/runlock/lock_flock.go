//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package runlock

import (
	"errors"
	"os"
	"syscall"
)

var errHeld = errors.New("held")

// lockFile takes an exclusive flock(2) lock, without waiting. flock locks
// belong to the open file, so a second Acquire in the same process is
// refused too.
func lockFile(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case err == syscall.EINTR:
			continue
		case err == syscall.EWOULDBLOCK:
			return true, errHeld
		}
		return true, err
	}
}

func unlockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

//go:build aix || (solaris && !illumos)

package runlock

import (
	"errors"
	"io"
	"os"
	"syscall"
)

var errHeld = errors.New("held")

// lockFile takes an exclusive fcntl(2) write lock on the whole file,
// without waiting. Unlike flock, such locks belong to the process: a
// second Acquire in the same process is not refused.
func lockFile(f *os.File) (bool, error) {
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	for {
		err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
		switch {
		case err == nil:
			return true, nil
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN || err == syscall.EACCES:
			return true, errHeld
		}
		return true, err
	}
}

func unlockFile(f *os.File) error {
	lk := syscall.Flock_t{Type: syscall.F_UNLCK, Whence: io.SeekStart}
	return syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk)
}

//go:build windows

package runlock

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

var errHeld = errors.New("held")

var (
	kernel32         = syscall.NewLazyDLL("kernel32.dll")
	procLockFileEx   = kernel32.NewProc("LockFileEx")
	procUnlockFileEx = kernel32.NewProc("UnlockFileEx")
)

const (
	lockfileFailImmediately = 0x1
	lockfileExclusiveLock   = 0x2
	errorLockViolation      = syscall.Errno(33)
	// The lock covers one byte far past the end of the file, so that the
	// holder's identity at its start stays readable by other processes.
	lockOffsetHigh = 0x40000000
)

// lockFile takes an exclusive LockFileEx lock, without waiting.
func lockFile(f *os.File) (bool, error) {
	ol := syscall.Overlapped{OffsetHigh: lockOffsetHigh}
	r, _, err := procLockFileEx.Call(f.Fd(), lockfileExclusiveLock|lockfileFailImmediately, 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r != 0 {
		return true, nil
	}
	if err == errorLockViolation {
		return true, errHeld
	}
	return true, err
}

func unlockFile(f *os.File) error {
	ol := syscall.Overlapped{OffsetHigh: lockOffsetHigh}
	r, _, err := procUnlockFileEx.Call(f.Fd(), 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r == 0 {
		return err
	}
	return nil
}

// Package runlock gives one process at a time the use of a folder, such as
// a training run's folder, through an operating-system lock on a file in
// it (.lock).
//
// The lock is the kernel's, not the file's existence: flock(2) on Linux,
// macOS, the BSDs and illumos, fcntl(2) record locks on Solaris and AIX,
// LockFileEx on Windows. The kernel drops it when the holder ends in any
// way — a clean exit, a panic, kill -9, a crash — so there are no stale
// locks to clear by hand. While it holds the lock, the holder keeps its
// identity in the lock file (process id, host, start time, command line),
// and a second process that is refused names it:
//
//	run folder runs/mnist is in use by pid 4711 on host gpu1, started 2026-12-03 09:40:11 (3m5s ago): mnist-ebm -dir runs/mnist
//
// On systems without file locks (Plan 9, js/wasm, WASI) Acquire records
// the holder but cannot keep a second process out; Lock.Enforced says so.
//
// Locks on network file systems are only as good as the server's support
// (NFSv4 and SMB honour them).
package runlock

package dist

import "syscall"

// childAttr puts a rank in a process group of its own, so that a Ctrl-C
// at the terminal reaches the launcher alone, which passes it on as one
// SIGTERM (a second signal would end ebm's programs without their last
// checkpoint); and makes it receive SIGTERM if the launcher dies, so
// that no rank outlives it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

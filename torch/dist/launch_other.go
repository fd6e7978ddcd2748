//go:build !linux

package dist

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }

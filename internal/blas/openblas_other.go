//go:build !((linux || darwin || freebsd || netbsd) && !android)

package blas

import "errors"

var defaultPaths []string

func loadOpenBLAS([]string) (backend, error) {
	return nil, errors.New("blas: loading a shared library is not supported on this system")
}

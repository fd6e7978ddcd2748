//go:build !amd64 || purego

package ops

func gatherRows(*rowArgs)     { panic("ops: no row kernels in this build") }
func scatterAddRows(*rowArgs) { panic("ops: no row kernels in this build") }

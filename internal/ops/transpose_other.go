//go:build !amd64 || purego

package ops

func transposeIn(*transArgs)  { panic("ops: no transposes in this build") }
func transposeOut(*transArgs) { panic("ops: no transposes in this build") }

//go:build !amd64 || purego

package ops

func transposeIn(*transArgs)      { panic("ops: no transposes in this build") }
func transposeOut(*transArgs)     { panic("ops: no transposes in this build") }
func transposeInTail(*transArgs)  { panic("ops: no transposes in this build") }
func transposeOutTail(*transArgs) { panic("ops: no transposes in this build") }

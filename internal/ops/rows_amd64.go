//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

//go:generate python3 gen_rows.py

//go:noescape
func gatherRows(t *rowArgs)

//go:noescape
func scatterAddRows(t *rowArgs)

var useRows = cpu.X86.HasAVX512F

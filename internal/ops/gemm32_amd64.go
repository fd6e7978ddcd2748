//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

//go:generate python3 gen_gemm.py

var tilesAvailable = cpu.X86.HasAVX512F

//go:build amd64 && !purego

package ops

//go:generate python3 gen_transpose.py

//go:noescape
func transposeIn(t *transArgs)

//go:noescape
func transposeOut(t *transArgs)

//go:noescape
func transposeInTail(t *transArgs)

//go:noescape
func transposeOutTail(t *transArgs)

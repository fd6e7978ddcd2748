//go:build amd64 && !purego

package ops

//go:noescape
func transposeIn(t *transArgs)

//go:noescape
func transposeOut(t *transArgs)

//go:noescape
func transposeInTail(t *transArgs)

//go:noescape
func transposeOutTail(t *transArgs)

//go:noescape
func transposeInAVX2(t *transArgs)

//go:noescape
func transposeOutAVX2(t *transArgs)

//go:noescape
func transposeInTailAVX2(t *transArgs)

//go:noescape
func transposeOutTailAVX2(t *transArgs)

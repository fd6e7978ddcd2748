//go:build amd64 && !purego

package ops

// productKernels returns level l's tiles and transposes.
func productKernels(l simdLevel) (*tileSet, transSet) {
	switch l {
	case levelAVX512:
		return &tilesAVX512, transSet{in: transposeIn, out: transposeOut, inTail: transposeInTail, outTail: transposeOutTail}
	case levelAVX2:
		return &tilesAVX2, transSet{in: transposeInAVX2, out: transposeOutAVX2, inTail: transposeInTailAVX2, outTail: transposeOutTailAVX2}
	}
	return &tilesGo, transGo
}

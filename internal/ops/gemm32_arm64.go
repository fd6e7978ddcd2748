//go:build arm64 && !purego

package ops

// productKernels returns level l's tiles and transposes: the NEON tiles
// with the Go transposes, or everything in Go.
func productKernels(l simdLevel) (*tileSet, transSet) {
	if l == levelNEON {
		return &tilesNEON, transGo
	}
	return &tilesGo, transGo
}

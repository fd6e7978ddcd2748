//go:build !(amd64 || arm64) || purego

package ops

// productKernels returns the portable tiles and transposes: the only ones
// in this build.
func productKernels(simdLevel) (*tileSet, transSet) { return &tilesGo, transGo }

package ops

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/ebmgo/ebm/internal/blas"
)

// Which kernels run. A level is an instruction set: the float32 products
// (gemm32.go), the sample-minor transposes (convsm.go), the rows of
// im2col/col2im (rows.go) and the element-wise kernels (expf.go) all come
// from it:
//
//	avx512  AVX-512F tiles of up to 6×64, 16×16 transposes in registers,
//	        32-lane row windows, 16-lane logistic kernels
//	avx2    AVX2+FMA tiles of 6×16 (two 8-lane halves of each vector),
//	        transposes as four 8×8 blocks, 8-lane logistic kernels; rows
//	        of im2col by table
//	neon    arm64: NEON tiles of 6×16 (four 4-lane quarters per vector);
//	        transposes and logistic kernels in Go
//	go      portable: the logistic kernels in Go; products either as
//	        2×4 register-blocked tiles and transposes in Go, or as GEMMs
//	        through internal/blas on column blocks (im2col/col2im). The
//	        tiles run by default where no native BLAS is loaded and the
//	        CPU is not amd64: on amd64 gonum's GEMM has SSE assembly and
//	        was measured faster than the Go tiles (MNIST CNN Langevin
//	        step 68–76 ms against 94–108 ms, 2 cores, EBM_BLAS=gonum,
//	        2026-12-03); elsewhere gonum's float32 GEMM is plain Go
//	        without blocking.
//
// The best level the CPU (and the build: the purego tag leaves only go)
// supports runs, unless the environment variable EBM_SIMD caps it.

// EnvSIMD is the environment variable that caps the instruction set:
// "avx512", "avx2" or "go" on amd64, "neon" or "go" on arm64. It is read
// once, at start-up.
const EnvSIMD = "EBM_SIMD"

type simdLevel int

const (
	levelGo simdLevel = iota
	levelAVX2
	levelAVX512
	levelNEON
)

func (l simdLevel) String() string {
	return [...]string{"go", "avx2", "avx512", "neon"}[l]
}

// transSet is one level's transposes of 16 rows (convsm.go).
type transSet struct{ in, out, inTail, outTail func(*transArgs) }

var (
	level    = levelGo
	levelErr error // why EBM_SIMD could not be honoured, or nil
	trans    = transGo
)

func init() {
	l, err := chooseLevel(os.Getenv(EnvSIMD), simdLevels())
	levelErr = err
	setLevel(l)
}

// chooseLevel returns the level env asks for, or the best of have (the
// levels this machine runs, best last) with an error when env names none
// of them.
func chooseLevel(env string, have []simdLevel) (simdLevel, error) {
	best := have[len(have)-1]
	if env == "" {
		return best, nil
	}
	var names []string
	for _, l := range have {
		if env == l.String() {
			return l, nil
		}
		names = append(names, l.String())
	}
	for _, l := range []simdLevel{levelGo, levelAVX2, levelAVX512, levelNEON} {
		if env == l.String() {
			return best, fmt.Errorf("%s=%s: not supported by this CPU or build (it runs %s)", EnvSIMD, env, strings.Join(names, ", "))
		}
	}
	return best, fmt.Errorf("%s=%q: want one of %s", EnvSIMD, env, strings.Join(names, ", "))
}

// setLevel switches every kernel to level l, which must be in simdLevels().
func setLevel(l simdLevel) {
	level = l
	simd, simdLanes = simdKernels(l)
	tiles, trans = productKernels(l)
	useRows = l == levelAVX512
	useTiles = l != levelGo || portableTiles && !blas.IsNative()
	useTilesDW = useTiles && !blas.IsNative()
}

// portableTiles reports whether the go level's products run on the Go
// tiles when no native BLAS is loaded (see above).
const portableTiles = runtime.GOARCH != "amd64"

// SIMD names the instruction set the float32 kernels use: "avx512",
// "avx2", "neon" or "go", followed by the reason in brackets when EBM_SIMD asked
// for something else.
func SIMD() string {
	if levelErr != nil {
		return fmt.Sprintf("%s [%v]", level, levelErr)
	}
	return level.String()
}

// SIMDError returns why the value of EBM_SIMD could not be honoured, or
// nil.
func SIMDError() error { return levelErr }

// Kernels describes the float32 kernels that run, for a command to print
// at start-up: the instruction set and how products are computed.
func Kernels() string {
	var s string
	switch {
	case level == levelAVX512:
		s = "avx512 (product tiles 6×64, sample-minor convolutions, SIMD logistic)"
	case level == levelAVX2:
		s = "avx2 (product tiles 6×16, sample-minor convolutions, SIMD logistic)"
	case level == levelNEON:
		s = "neon (product tiles 6×16, sample-minor convolutions; logistic in Go)"
	case useTiles:
		s = "go (portable product tiles 2×4, sample-minor convolutions)"
	default:
		s = "go (products through BLAS)"
	}
	if useTiles && useTilesDW {
		s += ", ∂W on the tiles"
	}
	if levelErr != nil {
		s += " [" + levelErr.Error() + "]"
	}
	return s
}

package ops

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestTranspose16 checks both transposes, with and without a short last
// block, against index arithmetic, on every level.
func TestTranspose16(t *testing.T) {
	eachLevel(t, testTranspose16)
}

func testTranspose16(t *testing.T, _ simdLevel) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{16, 48, 7, 37, 9, 24} {
		src := randF32(rng, lanes*n)
		var rows [lanes]unsafe.Pointer
		for s := range lanes {
			rows[s] = unsafe.Pointer(&src[s*n])
		}
		// In: column q's vector goes to slot perm[q] of vec.
		nv := (n + lanes - 1) / lanes * lanes
		perm := rng.Perm(nv)
		off := make([]int32, nv)
		for q := range off {
			off[q] = int32(perm[q] * lanes * 4)
		}
		vec := make([]float32, nv*lanes)
		transpose16In(&rows, unsafe.Pointer(&vec[0]), off, n)
		for q := range n {
			for s := range lanes {
				if got, want := vec[perm[q]*lanes+s], src[s*n+q]; got != want {
					t.Fatalf("In n=%d: column %d, row %d: %v, want %v", n, q, s, got, want)
				}
			}
		}
		// Out: back to rows.
		dst := make([]float32, lanes*n+1)
		for s := range lanes {
			rows[s] = unsafe.Pointer(&dst[s*n])
		}
		vec2 := make([]float32, nv*lanes)
		for q := range n {
			for s := range lanes {
				vec2[q*lanes+s] = src[s*n+q]
			}
		}
		transpose16Out(&rows, vec2, n)
		for i := range src {
			if dst[i] != src[i] {
				t.Fatalf("Out n=%d: value %d = %v, want %v", n, i, dst[i], src[i])
			}
		}
		if dst[lanes*n] != 0 {
			t.Fatalf("Out n=%d wrote past the rows", n)
		}
	}
}

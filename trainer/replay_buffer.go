package trainer

import (
	"fmt"
	"math/rand/v2"
)

// ReplayBuffer holds past model samples for persistent-chain training, as
// image EBMs use it (Du & Mordatch 2019): each iteration starts its chains
// from samples drawn from the buffer, except a fraction that restarts from
// fresh noise, and the chains' end points go back into the buffer.
//
// The buffer is a ring of fixed capacity: new samples overwrite the oldest.
// It stores float32, which halves its memory (an 8,192-sample MNIST buffer
// takes 25 MB) and is exact for the [−1, 1] pixel values it holds. A
// ReplayBuffer is not safe for concurrent use.
type ReplayBuffer struct {
	dim, capacity int
	data          []float32
	size, next    int // filled slots; slot the next Push writes
	idx           []int
}

// NewReplayBuffer returns an empty buffer of capacity samples of dim
// values, or an error if either is not positive.
func NewReplayBuffer(capacity, dim int) (*ReplayBuffer, error) {
	if capacity <= 0 || dim <= 0 {
		return nil, fmt.Errorf("trainer: NewReplayBuffer(%d, %d): sizes must be positive", capacity, dim)
	}
	return &ReplayBuffer{dim: dim, capacity: capacity, data: make([]float32, capacity*dim)}, nil
}

// Len returns the number of samples held.
func (b *ReplayBuffer) Len() int { return b.size }

// Cap returns the capacity.
func (b *ReplayBuffer) Cap() int { return b.capacity }

// Dim returns the number of values per sample.
func (b *ReplayBuffer) Dim() int { return b.dim }

// Init draws n starting points into x (n×dim): each is fresh noise from
// noise with probability reinit (and always while the buffer is empty),
// otherwise a uniformly chosen buffer sample. It returns the number of fresh
// starts. It uses rng for every choice, so it is deterministic.
func (b *ReplayBuffer) Init(rng *rand.Rand, x []float64, n int, reinit float64, noise func(rng *rand.Rand, x []float64)) int {
	fresh := 0
	for i := range n {
		row := x[i*b.dim : (i+1)*b.dim]
		if b.size == 0 || rng.Float64() < reinit {
			noise(rng, row)
			fresh++
			continue
		}
		j := rng.IntN(b.size)
		src := b.data[j*b.dim : (j+1)*b.dim]
		for k, v := range src {
			row[k] = float64(v)
		}
	}
	return fresh
}

// Push adds the n samples in x to the buffer, overwriting the oldest when
// it is full.
func (b *ReplayBuffer) Push(x []float64, n int) {
	for i := range n {
		dst := b.data[b.next*b.dim : (b.next+1)*b.dim]
		for k, v := range x[i*b.dim : (i+1)*b.dim] {
			dst[k] = float32(v)
		}
		b.next = (b.next + 1) % b.capacity
		b.size = min(b.size+1, b.capacity)
	}
}

// Samples copies up to n buffered samples, newest first, into a new slice
// (n×dim), for snapshots.
func (b *ReplayBuffer) Samples(n int) []float64 {
	n = min(n, b.size)
	out := make([]float64, 0, n*b.dim)
	for i := range n {
		j := (b.next - 1 - i + b.capacity) % b.capacity
		for _, v := range b.data[j*b.dim : (j+1)*b.dim] {
			out = append(out, float64(v))
		}
	}
	return out
}

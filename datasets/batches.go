package datasets

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/energy"
)

// Remainder says what Batches does with the rows left over at the end of
// an epoch when the batch size does not divide the number of rows.
type Remainder int

const (
	// Wrap, the zero value, fills the rest of the batch from the next
	// epoch, reshuffled. Every batch is full, every row is used exactly
	// once per epoch, and a batch can straddle two epochs. Full batches
	// keep a compiled graph at one batch size.
	Wrap Remainder = iota
	// DropLast skips the last N mod Size rows of each epoch. Every batch
	// is full and lies within one epoch; since each epoch is reshuffled,
	// every row is still seen equally often in the long run.
	DropLast
	// Partial returns the last N mod Size rows of each epoch as a short
	// batch, like PyTorch's DataLoader with drop_last=False.
	Partial
)

func (r Remainder) String() string {
	switch r {
	case Wrap:
		return "Wrap"
	case DropLast:
		return "DropLast"
	case Partial:
		return "Partial"
	}
	return fmt.Sprintf("Remainder(%d)", int(r))
}

// BatchConfig configures Batches. Only Size is required.
type BatchConfig struct {
	// Size is the number of rows per batch; it must be positive (and at
	// most the number of rows with DropLast).
	Size int
	// Seed seeds the PCG generator that shuffles each epoch; every seed,
	// 0 included, is valid, and equal seeds give equal batch sequences.
	Seed uint64
	// Remainder is what happens at the end of an epoch; the zero value is
	// Wrap.
	Remainder Remainder
	// Sequential disables shuffling: rows come in their stored order,
	// which is what evaluation wants. The zero value shuffles.
	Sequential bool
}

// Batches iterates over the rows of an N×D row-major data set in shuffled
// mini-batches, epoch after epoch, without end. Each epoch visits the rows
// in a fresh uniformly random order (a Fisher–Yates shuffle of 0..N−1 with
// the iterator's own PCG generator). Next copies a batch into a buffer the
// caller owns and allocates nothing.
//
// Batches does not copy the data set; it must not change while the
// iterator is in use. A Batches is not safe for concurrent use.
type Batches struct {
	data []float64
	n, d int
	cfg  BatchConfig

	pcg      *rand.PCG
	rng      *rand.Rand
	pcgEpoch []byte // PCG state before this epoch's shuffle, for checkpoints
	perm     []int
	pos      int // next position in perm
	epoch    int // completed epochs
}

// NewBatches returns an iterator over the len(data)/dim rows of data. It
// returns an error, and no iterator, if the data set has no rows, dim is
// not positive or does not divide len(data) (wrapping energy.ErrShape),
// cfg.Size is not positive, cfg.Remainder is unknown, or DropLast is asked
// for with fewer rows than one batch.
func NewBatches(data []float64, dim int, cfg BatchConfig) (*Batches, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("datasets: NewBatches: rows of %d values: %w", dim, energy.ErrShape)
	}
	if len(data)%dim != 0 {
		return nil, fmt.Errorf("datasets: NewBatches: %d values are not a whole number of rows of %d: %w", len(data), dim, energy.ErrShape)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("datasets: NewBatches: the data set has no rows")
	}
	if cfg.Size <= 0 {
		return nil, fmt.Errorf("datasets: NewBatches: batch size %d; want a positive BatchConfig.Size", cfg.Size)
	}
	if cfg.Remainder < Wrap || cfg.Remainder > Partial {
		return nil, fmt.Errorf("datasets: NewBatches: unknown BatchConfig.Remainder %d", int(cfg.Remainder))
	}
	n := len(data) / dim
	if cfg.Remainder == DropLast && n < cfg.Size {
		return nil, fmt.Errorf("datasets: NewBatches: DropLast with %d rows and batch size %d would never yield a batch", n, cfg.Size)
	}
	b := &Batches{data: data, n: n, d: dim, cfg: cfg, perm: make([]int, n)}
	b.pcg = rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)
	b.rng = rand.New(b.pcg)
	b.startEpoch()
	return b, nil
}

// startEpoch records the generator state and shuffles a fresh
// permutation. Starting from the identity makes the permutation a function
// of the recorded state alone, which is what checkpoints rely on.
func (b *Batches) startEpoch() {
	b.pcgEpoch, _ = b.pcg.AppendBinary(b.pcgEpoch[:0])
	for i := range b.perm {
		b.perm[i] = i
	}
	if !b.cfg.Sequential {
		b.rng.Shuffle(b.n, func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
	}
	b.pos = 0
}

// Len returns N, the number of rows.
func (b *Batches) Len() int { return b.n }

// Dim returns D, the number of values per row.
func (b *Batches) Dim() int { return b.d }

// Size returns the batch size.
func (b *Batches) Size() int { return b.cfg.Size }

// Epoch returns the number of completed epochs: it becomes e+1 as soon as
// Next has returned the last row of epoch e (with DropLast, the last full
// batch of it).
func (b *Batches) Epoch() int { return b.epoch }

// BatchesPerEpoch returns the number of Next calls per epoch: ⌊N/Size⌋ with
// DropLast, ⌈N/Size⌉ with Partial, and N/Size (not an integer in general)
// on average with Wrap.
func (b *Batches) BatchesPerEpoch() float64 {
	switch b.cfg.Remainder {
	case DropLast:
		return float64(b.n / b.cfg.Size)
	case Partial:
		return float64((b.n + b.cfg.Size - 1) / b.cfg.Size)
	}
	return float64(b.n) / float64(b.cfg.Size)
}

// Next copies the next batch into dst, row-major, and returns the number of
// rows it wrote: Size, except for Partial's short last batch of an epoch.
// If idx is not nil, idx[i] is set to the data-set index of row i (to look
// up labels). dst must hold at least Size·D values and idx, if given, at
// least Size entries; otherwise Next panics. Next never allocates.
func (b *Batches) Next(dst []float64, idx []int) int {
	size, d := b.cfg.Size, b.d
	if len(dst) < size*d {
		panic(fmt.Sprintf("datasets: Batches.Next: dst has %d values, want at least %d×%d = %d", len(dst), size, d, size*d))
	}
	if idx != nil && len(idx) < size {
		panic(fmt.Sprintf("datasets: Batches.Next: idx has %d entries, want at least %d", len(idx), size))
	}
	rows := 0
	for rows < size {
		r := b.perm[b.pos]
		copy(dst[rows*d:(rows+1)*d], b.data[r*d:(r+1)*d])
		if idx != nil {
			idx[rows] = r
		}
		rows++
		b.pos++
		if b.pos == b.n {
			b.epoch++
			b.startEpoch()
			if b.cfg.Remainder == Partial {
				break
			}
		}
	}
	if b.cfg.Remainder == DropLast && b.n-b.pos < size {
		b.epoch++
		b.startEpoch()
	}
	return rows
}

const batchesMagic = "ebmBATv1"

// MarshalBinary returns the iterator's position (epoch, place in the
// epoch, generator state) so that a killed run can resume exactly where it
// stopped: UnmarshalBinary it into a Batches built with the same data size
// and config.
func (b *Batches) MarshalBinary() ([]byte, error) {
	buf := append([]byte(nil), batchesMagic...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(b.n))
	buf = binary.BigEndian.AppendUint64(buf, uint64(b.cfg.Size))
	buf = binary.BigEndian.AppendUint64(buf, uint64(b.epoch))
	buf = binary.BigEndian.AppendUint64(buf, uint64(b.pos))
	return append(buf, b.pcgEpoch...), nil
}

// UnmarshalBinary restores a position saved by MarshalBinary. The
// checkpoint must come from an iterator over the same number of rows with
// the same batch size; otherwise the error wraps ErrBadFormat and b is
// unchanged.
func (b *Batches) UnmarshalBinary(data []byte) error {
	const hdr = len(batchesMagic) + 4*8
	if len(data) < hdr || string(data[:len(batchesMagic)]) != batchesMagic {
		return fmt.Errorf("%w: not a Batches position (%d bytes)", ErrBadFormat, len(data))
	}
	p := data[len(batchesMagic):]
	n, size := binary.BigEndian.Uint64(p), binary.BigEndian.Uint64(p[8:])
	epoch, pos := binary.BigEndian.Uint64(p[16:]), binary.BigEndian.Uint64(p[24:])
	if n != uint64(b.n) || size != uint64(b.cfg.Size) {
		return fmt.Errorf("%w: saved for %d rows in batches of %d, this iterator has %d rows in batches of %d", ErrBadFormat, n, size, b.n, b.cfg.Size)
	}
	if pos >= n || epoch > 1<<62 {
		return fmt.Errorf("%w: position %d of %d rows in epoch %d is impossible", ErrBadFormat, pos, n, epoch)
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(data[hdr:]); err != nil {
		return fmt.Errorf("%w: generator state: %v", ErrBadFormat, err)
	}
	*b.pcg = *pcg
	b.startEpoch()
	b.epoch, b.pos = int(epoch), int(pos)
	return nil
}

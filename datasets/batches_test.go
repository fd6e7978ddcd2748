package datasets

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// rowsData returns n rows of dimension d whose values encode their row
// index: row i is (i, i + 0.5, ...).
func rowsData(n, d int) []float64 {
	x := make([]float64, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			x[i*d+j] = float64(i) + float64(j)/float64(2*d)
		}
	}
	return x
}

// drain calls Next k times and returns the row indices it produced, the
// sizes of the batches and the epoch after each batch, checking that dst
// holds the rows idx names.
func drain(t *testing.T, b *Batches, data []float64, k int) (rows [][]int, epochs []int) {
	t.Helper()
	d := b.Dim()
	dst := make([]float64, b.Size()*d)
	idx := make([]int, b.Size())
	for range k {
		n := b.Next(dst, idx)
		for r := 0; r < n; r++ {
			if !slices.Equal(dst[r*d:(r+1)*d], data[idx[r]*d:(idx[r]+1)*d]) {
				t.Fatalf("row %d of the batch is not data row %d", r, idx[r])
			}
		}
		rows = append(rows, slices.Clone(idx[:n]))
		epochs = append(epochs, b.Epoch())
	}
	return rows, epochs
}

func TestBatchesWrap(t *testing.T) {
	const n, d, size = 10, 3, 4
	data := rowsData(n, d)
	b := mustBatches(t, data, d, BatchConfig{Size: size, Seed: 1})
	rows, epochs := drain(t, b, data, 10) // 40 rows = 4 epochs
	var flat []int
	for _, r := range rows {
		if len(r) != size {
			t.Fatalf("Wrap gave a batch of %d", len(r))
		}
		flat = append(flat, r...)
	}
	// Each consecutive block of n rows is one epoch: a permutation.
	for e := 0; e < 4; e++ {
		ep := slices.Clone(flat[e*n : (e+1)*n])
		slices.Sort(ep)
		for i := range ep {
			if ep[i] != i {
				t.Fatalf("epoch %d is not a permutation: %v", e, flat[e*n:(e+1)*n])
			}
		}
	}
	if !slices.Equal(epochs, []int{0, 0, 1, 1, 2, 2, 2, 3, 3, 4}) { // after rows 4, 8, ..., 40
		t.Errorf("epochs after each batch: %v", epochs)
	}
	if b.BatchesPerEpoch() != 2.5 {
		t.Errorf("BatchesPerEpoch = %v", b.BatchesPerEpoch())
	}
	// Epochs are shuffled differently.
	if slices.Equal(flat[:n], flat[n:2*n]) {
		t.Error("two epochs in the same order")
	}
}

func TestBatchesDropLast(t *testing.T) {
	const n, d, size = 10, 2, 4
	data := rowsData(n, d)
	b := mustBatches(t, data, d, BatchConfig{Size: size, Seed: 2, Remainder: DropLast})
	rows, epochs := drain(t, b, data, 6)
	if !slices.Equal(epochs, []int{0, 1, 1, 2, 2, 3}) {
		t.Errorf("epochs after each batch: %v", epochs)
	}
	for e := 0; e < 3; e++ {
		seen := map[int]bool{}
		for _, r := range rows[2*e : 2*e+2] {
			if len(r) != size {
				t.Fatalf("DropLast gave a batch of %d", len(r))
			}
			for _, i := range r {
				if seen[i] {
					t.Fatalf("epoch %d repeats row %d", e, i)
				}
				seen[i] = true
			}
		}
	}
	if b.BatchesPerEpoch() != 2 {
		t.Errorf("BatchesPerEpoch = %v", b.BatchesPerEpoch())
	}
}

func TestBatchesPartialSequential(t *testing.T) {
	const n, d, size = 7, 1, 3
	data := rowsData(n, d)
	b := mustBatches(t, data, d, BatchConfig{Size: size, Remainder: Partial, Sequential: true})
	rows, epochs := drain(t, b, data, 4)
	want := [][]int{{0, 1, 2}, {3, 4, 5}, {6}, {0, 1, 2}}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("batch %d = %v, want %v", i, rows[i], want[i])
		}
	}
	if !slices.Equal(epochs, []int{0, 0, 1, 1}) {
		t.Errorf("epochs after each batch: %v", epochs)
	}
	if b.BatchesPerEpoch() != 3 {
		t.Errorf("BatchesPerEpoch = %v", b.BatchesPerEpoch())
	}
}

// A batch larger than the data set wraps around several epochs.
func TestBatchesLargerThanData(t *testing.T) {
	data := rowsData(3, 2)
	b := mustBatches(t, data, 2, BatchConfig{Size: 7, Seed: 3})
	rows, epochs := drain(t, b, data, 1)
	if len(rows[0]) != 7 || epochs[0] != 2 {
		t.Errorf("got %v, epoch %d", rows[0], epochs[0])
	}
}

func TestBatchesSeeded(t *testing.T) {
	data := rowsData(50, 2)
	r1, _ := drain(t, mustBatches(t, data, 2, BatchConfig{Size: 8, Seed: 42}), data, 20)
	r2, _ := drain(t, mustBatches(t, data, 2, BatchConfig{Size: 8, Seed: 42}), data, 20)
	r3, _ := drain(t, mustBatches(t, data, 2, BatchConfig{Size: 8, Seed: 43}), data, 20)
	if !slices.EqualFunc(r1, r2, slices.Equal) {
		t.Error("equal seeds gave different batches")
	}
	if slices.EqualFunc(r1, r3, slices.Equal) {
		t.Error("different seeds gave the same batches")
	}
}

// The shuffle is uniform: over many epochs the position of each row in the
// permutation is uniform on 0..n−1, tested by a chi-square over the n×n
// table of (row, position) counts, with 3 seeds.
func TestBatchesShuffleUniform(t *testing.T) {
	const n, epochs = 6, 6000
	data := rowsData(n, 1)
	for _, seed := range []uint64{1, 2, 3} {
		b := mustBatches(t, data, 1, BatchConfig{Size: n, Seed: seed})
		var counts [n][n]float64
		dst, idx := make([]float64, n), make([]int, n)
		for range epochs {
			b.Next(dst, idx)
			for pos, row := range idx {
				counts[row][pos]++
			}
		}
		e := float64(epochs) / n
		var chi2 float64
		for _, r := range counts {
			for _, c := range r {
				chi2 += (c - e) * (c - e) / e
			}
		}
		df := float64((n - 1) * (n - 1))
		if crit := df + 5*math.Sqrt(2*df); chi2 > crit {
			t.Errorf("seed %d: χ² = %.1f with %v degrees of freedom (critical %.1f)", seed, chi2, df, crit)
		}
	}
}

// Next allocates nothing, across epoch boundaries and reshuffles included.
func TestBatchesNoAllocs(t *testing.T) {
	data := rowsData(100, 5)
	for _, rem := range []Remainder{Wrap, DropLast, Partial} {
		b := mustBatches(t, data, 5, BatchConfig{Size: 32, Seed: 7, Remainder: rem})
		dst, idx := make([]float64, 32*5), make([]int, 32)
		if a := testing.AllocsPerRun(500, func() { b.Next(dst, idx) }); a != 0 {
			t.Errorf("%v: %v allocations per batch", rem, a)
		}
		if b.Epoch() < 100 {
			t.Errorf("%v: only %d epochs in 500 batches", rem, b.Epoch())
		}
	}
}

// A checkpoint taken mid-epoch resumes the exact sequence.
func TestBatchesCheckpoint(t *testing.T) {
	data := rowsData(23, 2)
	for _, rem := range []Remainder{Wrap, DropLast, Partial} {
		cfg := BatchConfig{Size: 5, Seed: 99, Remainder: rem}
		a := mustBatches(t, data, 2, cfg)
		drain(t, a, data, 7)
		ck, err := a.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		want, wantEp := drain(t, a, data, 12)
		b := mustBatches(t, data, 2, cfg)
		drain(t, b, data, 3) // some other position, to be overwritten
		if err := b.UnmarshalBinary(ck); err != nil {
			t.Fatal(err)
		}
		got, gotEp := drain(t, b, data, 12)
		if !slices.EqualFunc(got, want, slices.Equal) || !slices.Equal(gotEp, wantEp) {
			t.Errorf("%v: resumed %v (epochs %v), want %v (epochs %v)", rem, got, gotEp, want, wantEp)
		}
	}
	a := mustBatches(t, data, 2, BatchConfig{Size: 5})
	ck, _ := a.MarshalBinary()
	for name, bad := range map[string]struct {
		b  *Batches
		ck []byte
	}{
		"other size": {mustBatches(t, data, 2, BatchConfig{Size: 4}), ck},
		"other rows": {mustBatches(t, data[:40], 2, BatchConfig{Size: 5}), ck},
		"garbage":    {mustBatches(t, data, 2, BatchConfig{Size: 5}), []byte("hello")},
		"truncated":  {mustBatches(t, data, 2, BatchConfig{Size: 5}), ck[:len(ck)-3]},
	} {
		if err := bad.b.UnmarshalBinary(bad.ck); !errors.Is(err, ErrBadFormat) {
			t.Errorf("%s: err = %v, want ErrBadFormat", name, err)
		}
	}
}

// Settings a user can get wrong are errors that say which; only misuse of
// Next by the calling code panics.
func TestBatchesErrors(t *testing.T) {
	data := rowsData(10, 2)
	for name, tc := range map[string]struct {
		data  []float64
		dim   int
		cfg   BatchConfig
		want  string
		shape bool
	}{
		"zero dim":       {data, 0, BatchConfig{Size: 1}, "rows of 0 values", true},
		"ragged":         {data[:5], 2, BatchConfig{Size: 1}, "5 values are not a whole number of rows of 2", true},
		"empty":          {nil, 2, BatchConfig{Size: 1}, "no rows", false},
		"zero size":      {data, 2, BatchConfig{}, "batch size 0", false},
		"bad remainder":  {data, 2, BatchConfig{Size: 1, Remainder: 7}, "unknown BatchConfig.Remainder 7", false},
		"droplast small": {data, 2, BatchConfig{Size: 11, Remainder: DropLast}, "DropLast with 10 rows and batch size 11", false},
	} {
		b, err := NewBatches(tc.data, tc.dim, tc.cfg)
		if b != nil || err == nil || !strings.HasPrefix(err.Error(), "datasets: NewBatches: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, %v; want an error containing %q", name, b, err, tc.want)
		}
		if errors.Is(err, energy.ErrShape) != tc.shape {
			t.Errorf("%s: errors.Is(err, energy.ErrShape) = %v", name, !tc.shape)
		}
	}
	for name, f := range map[string]func(){
		"short dst": func() { mustBatches(t, data, 2, BatchConfig{Size: 3}).Next(make([]float64, 5), nil) },
		"short idx": func() { mustBatches(t, data, 2, BatchConfig{Size: 3}).Next(make([]float64, 6), make([]int, 2)) },
	} {
		func() {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "datasets: ") {
					t.Errorf("%s: recovered %v, want a datasets panic", name, r)
				}
			}()
			f()
		}()
	}
}

// mustBatches returns NewBatches' iterator for settings valid by
// construction.
func mustBatches(t testing.TB, data []float64, dim int, cfg BatchConfig) *Batches {
	t.Helper()
	b, err := NewBatches(data, dim, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func BenchmarkBatchesNextMNIST(b *testing.B) {
	data := rowsData(10000, 784) // MNIST's test split in size
	it := mustBatches(b, data, 784, BatchConfig{Size: 128, Seed: 1})
	dst := make([]float64, 128*784)
	for b.Loop() {
		it.Next(dst, nil)
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "samples/s")
}

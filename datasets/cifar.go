package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// CIFAR-10's binary format: each record is one label byte (0..9) and
// 32×32×3 pixel bytes, the red plane, then green, then blue, each row-major.
const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
	cifarRecord = 1 + cifarPixels
	// cifarClasses is the number of CIFAR-10 classes.
	cifarClasses = 10
)

// cifarNames are CIFAR-10's classes, used when batches.meta.txt is absent.
var cifarNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// cifarDir returns the folder of CIFAR-10's batch files, dir itself or its
// cifar-10-batches-bin sub-folder (where the archive unpacks), or "".
func cifarDir(dir string) string {
	for _, d := range []string{dir, filepath.Join(dir, "cifar-10-batches-bin")} {
		for _, f := range []string{"data_batch_1.bin", "test_batch.bin"} {
			if st, err := os.Stat(filepath.Join(d, f)); err == nil && st.Mode().IsRegular() {
				return d
			}
		}
	}
	return ""
}

// cifarFiles returns the batch files of a split: data_batch_*.bin for
// Train (in numeric order), test_batch.bin for Test.
func cifarFiles(dir string, split Split) ([]string, error) {
	if split == Test {
		p := filepath.Join(dir, "test_batch.bin")
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("datasets: %s has no CIFAR-10 test batch test_batch.bin: %w: %w", dir, ErrNotFound, err)
		}
		return []string{p}, nil
	}
	m, err := filepath.Glob(filepath.Join(dir, "data_batch_*.bin"))
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	num := func(p string) int {
		k, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "data_batch_"), ".bin"))
		if err != nil {
			return 1 << 30
		}
		return k
	}
	sort.SliceStable(m, func(i, j int) bool { return num(m[i]) < num(m[j]) })
	if len(m) == 0 {
		return nil, fmt.Errorf("datasets: %s has no CIFAR-10 training batches (data_batch_1.bin …): %w", dir, ErrNotFound)
	}
	return m, nil
}

// DecodeCIFAR10 decodes CIFAR-10 records from data, a whole batch file
// (10 000 records of 3 073 bytes in the distribution): it returns the
// pixel bytes (n×3072, planar RGB) and the labels. Data that is not a whole
// number of records, or a label outside 0..9, is an error wrapping
// ErrBadFormat that gives the record.
func DecodeCIFAR10(data []byte) (pixels []byte, labels []int, err error) {
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%w: empty CIFAR-10 batch", ErrBadFormat)
	}
	if r := len(data) % cifarRecord; r != 0 {
		return nil, nil, fmt.Errorf("%w: %d bytes are not whole %d-byte CIFAR-10 records: record %d is truncated after %d bytes",
			ErrBadFormat, len(data), cifarRecord, len(data)/cifarRecord, r)
	}
	n := len(data) / cifarRecord
	pixels = make([]byte, n*cifarPixels)
	labels = make([]int, n)
	for i := range n {
		rec := data[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] >= cifarClasses {
			return nil, nil, fmt.Errorf("%w: record %d has label %d, not a CIFAR-10 class 0..9", ErrBadFormat, i, rec[0])
		}
		labels[i] = int(rec[0])
		copy(pixels[i*cifarPixels:], rec[1:])
	}
	return pixels, labels, nil
}

// loadCIFAR10 reads a split of CIFAR-10's binary batches.
func loadCIFAR10(ctx context.Context, path string, split Split, cfg ImagesConfig) (*ImageSet, error) {
	dir := cifarDir(path)
	files, err := cifarFiles(dir, split)
	if err != nil {
		return nil, err
	}
	var pixels []byte
	var labels []int
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if cfg.Limit > 0 && len(labels) >= cfg.Limit {
			break
		}
		data, err := readCIFARFile(f, cfg.Limit-len(labels))
		if err != nil {
			return nil, err
		}
		p, l, err := DecodeCIFAR10(data)
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: %w", f, err)
		}
		pixels, labels = append(pixels, p...), append(labels, l...)
		if cfg.Progress != nil {
			cfg.Progress(len(labels), len(labels))
		}
	}
	names := cifarNames
	meta := filepath.Join(dir, "batches.meta.txt")
	if lines, err := readLines(meta); err == nil {
		if len(lines) < cifarClasses {
			return nil, fmt.Errorf("%w: %s names %d classes, want %d", ErrBadFormat, meta, len(lines), cifarClasses)
		}
		names = lines[:cifarClasses]
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	classes, err := classNames(cfg, names, cifarClasses, meta)
	if err != nil {
		return nil, err
	}
	n := len(labels)
	s, err := fromBytes(ctx, pixels, n, 3, cifarSide, cifarSide, false, cfg)
	if err != nil {
		return nil, err
	}
	s.Labels, s.Classes, s.Format, s.Source = labels, classes, FormatCIFAR10, dir
	return s, nil
}

// readCIFARFile reads a batch file, or its first limit records if limit is
// positive.
func readCIFARFile(path string, limit int) ([]byte, error) {
	if limit <= 0 {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		return b, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	b := make([]byte, limit*cifarRecord)
	k, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("datasets: %s: %w", path, err)
	}
	return b[:k], nil
}

package trainer_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/internal/safetensors"
	"github.com/ebmgo/ebm/trainer"
)

// mustBatches returns b, or panics on err: for data iterators whose
// settings are valid by construction.
func mustBatches(b *datasets.Batches, err error) *datasets.Batches {
	if err != nil {
		panic(err)
	}
	return b
}

// Something other than a regular file where the checkpoint belongs (a
// directory, or a link to an endless device) is refused with an error that
// names it, without reading it.
func TestCheckpointNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.safetensors")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	s := newSetup(t, dir, 5, trainer.Replay)
	if _, err := trainer.New(s.model, s.data, s.cfg); !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), path) {
		t.Errorf("a directory as checkpoint: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		return
	}
	os.Remove(path)
	if err := os.Symlink("/dev/zero", path); err != nil {
		t.Fatal(err)
	}
	s = newSetup(t, dir, 5, trainer.Replay)
	if _, err := trainer.New(s.model, s.data, s.cfg); !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a checkpoint linked to /dev/zero: %v", err)
	}
}

// rewrite reads a checkpoint, lets edit change its tensors and metadata,
// and writes it back; with resign it recomputes the checksums as the
// format documents them (CRC-32C of each tensor's data under
// "crc32c/NAME", then of the sorted metadata under "crc32c").
func rewrite(t *testing.T, path string, resign bool, edit func(ts []safetensors.Tensor, meta map[string]string)) {
	t.Helper()
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	meta := f.Metadata()
	var ts []safetensors.Tensor
	for _, info := range f.Tensors() {
		b, err := f.Bytes(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, safetensors.Tensor{Name: info.Name, Dtype: info.Dtype, Shape: info.Shape, Data: b})
	}
	f.Close()
	edit(ts, meta)
	if resign {
		table := crc32.MakeTable(crc32.Castagnoli)
		for _, x := range ts {
			meta["crc32c/"+x.Name] = fmt.Sprintf("%08x", crc32.Checksum(x.Data, table))
		}
		keys := slices.Sorted(maps.Keys(meta))
		h := crc32.New(table)
		for _, k := range keys {
			if k != "crc32c" {
				h.Write([]byte(k + "\x00" + meta[k] + "\x00"))
			}
		}
		meta["crc32c"] = fmt.Sprintf("%08x", h.Sum32())
	}
	if err := safetensors.WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
}

// A flipped byte in any tensor of a checkpoint, or in its metadata, is
// found on resume: the error names the file and the tensor, and the model
// is left as it was. ReadBuffer checks the same.
func TestCheckpointChecksums(t *testing.T) {
	dir := t.TempDir()
	s := newSetup(t, dir, 5, trainer.Replay)
	if _, err := s.run(t, context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "checkpoint.safetensors")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	infos := f.Tensors()
	hdr := len(good) - int(infos[len(infos)-1].End) // header length, the data follow
	f.Close()
	for _, info := range infos {
		b := slices.Clone(good)
		b[hdr+int(info.Begin+info.End)/2] ^= 0x10
		os.WriteFile(path, b, 0o644)
		s := newSetup(t, dir, 10, trainer.Replay)
		before := paramsOf(s.model)
		_, err := trainer.New(s.model, s.data, s.cfg)
		want := fmt.Sprintf("tensor %q fails its CRC-32C check", info.Name)
		if !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("a byte flipped in %s: %v", info.Name, err)
		}
		if !sameBits(before, paramsOf(s.model)) {
			t.Errorf("a byte flipped in %s changed the parameters", info.Name)
		}
		if info.Name == "buffer" {
			if _, _, err := trainer.ReadBuffer(dir); !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), want) {
				t.Errorf("ReadBuffer of a flipped buffer: %v", err)
			}
		}
	}
	// A metadata value changed (iteration 5 → 9) without re-signing.
	os.WriteFile(path, good, 0o644)
	rewrite(t, path, false, func(_ []safetensors.Tensor, meta map[string]string) { meta["iteration"] = "9" })
	s = newSetup(t, dir, 10, trainer.Replay)
	if _, err := trainer.New(s.model, s.data, s.cfg); !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), "metadata fail their CRC-32C check") {
		t.Errorf("changed metadata: %v", err)
	}
	// The test's own signing follows the documented scheme: a re-signed
	// checkpoint resumes.
	os.WriteFile(path, good, 0o644)
	rewrite(t, path, true, func([]safetensors.Tensor, map[string]string) {})
	s = newSetup(t, dir, 10, trainer.Replay)
	if tr, err := trainer.New(s.model, s.data, s.cfg); err != nil || tr.Resumed() != 5 {
		t.Errorf("re-signed checkpoint: %v", err)
	}
}

// A checkpoint that holds NaN or Inf (with valid checksums: a run that
// diverged and was saved anyway) is refused on resume naming the tensor,
// not trained from until rollbacks run out.
func TestCheckpointNaNRefused(t *testing.T) {
	dir := t.TempDir()
	s := newSetup(t, dir, 5, trainer.Replay)
	if _, err := s.run(t, context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "checkpoint.safetensors")
	good, _ := os.ReadFile(path)
	for _, name := range []string{"param/0.weight", "adam/v/2.bias", "buffer"} {
		os.WriteFile(path, good, 0o644)
		rewrite(t, path, true, func(ts []safetensors.Tensor, _ map[string]string) {
			for _, x := range ts {
				if x.Name != name {
					continue
				}
				switch x.Dtype {
				case safetensors.F32:
					binary.LittleEndian.PutUint32(x.Data[4:], math.Float32bits(float32(math.Inf(1))))
				case safetensors.F64:
					binary.LittleEndian.PutUint64(x.Data[8:], math.Float64bits(math.NaN()))
				}
			}
		})
		s := newSetup(t, dir, 10, trainer.Replay)
		_, err := trainer.New(s.model, s.data, s.cfg)
		if !errors.Is(err, trainer.ErrCheckpoint) || !strings.Contains(err.Error(), fmt.Sprintf("tensor %q holds", name)) || !strings.Contains(err.Error(), "at element 1") {
			t.Errorf("non-finite %s: %v", name, err)
		}
	}
}

// Checkpoints written before checksums (format 1) still resume.
func TestCheckpointFormat1(t *testing.T) {
	dir := t.TempDir()
	s := newSetup(t, dir, 5, trainer.Replay)
	if _, err := s.run(t, context.Background()); err != nil {
		t.Fatal(err)
	}
	rewrite(t, filepath.Join(dir, "checkpoint.safetensors"), false, func(_ []safetensors.Tensor, meta map[string]string) {
		for k := range meta {
			if strings.HasPrefix(k, "crc32c") {
				delete(meta, k)
			}
		}
		meta["format"] = "ebm-trainer-checkpoint/1"
	})
	s = newSetup(t, dir, 10, trainer.Replay)
	if tr, err := trainer.New(s.model, s.data, s.cfg); err != nil || tr.Resumed() != 5 {
		t.Errorf("format-1 checkpoint: %v", err)
	}
}

package trainer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
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

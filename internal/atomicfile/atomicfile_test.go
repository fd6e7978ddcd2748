package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteBytes(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("stat: %v %v", st, err)
	}
	// A failing write leaves the old file and no temporary file.
	fail := errors.New("disk full")
	if err := Write(path, func(w io.Writer) error { w.Write([]byte("partial")); return fail }); !errors.Is(err, fail) {
		t.Fatalf("error %v, want %v", err, fail)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want 1", len(entries))
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file holds %q after a failed write, want %q", b, "old")
	}
	if err := WriteBytes(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("file holds %q, want %q", b, "new")
	}
	if err := WriteBytes(filepath.Join(dir, "missing", "f"), nil); err == nil {
		t.Error("no error writing into a missing directory")
	}
	// A directory in the way is named as such, and no temporary is left.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if err := WriteBytes(sub, []byte("x")); err == nil || !strings.Contains(err.Error(), sub+": it is a directory") {
		t.Errorf("writing over a directory: %v, want an error saying %s is a directory", err, sub)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("directory holds %d entries after writing over a directory, want 2", len(entries))
	}
}

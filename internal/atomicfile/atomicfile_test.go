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

func TestTempTarget(t *testing.T) {
	for name, want := range map[string]string{
		".model.safetensors.tmp123": "model.safetensors",
		".loss.png.tmp4294967295":   "loss.png",
		".a.tmp.b.tmp7":             "a.tmp.b",
		"model.safetensors.tmp123":  "",
		".model.safetensors.tmp":    "",
		".model.safetensors.tmp12x": "",
		".tmp12":                    "",
		".config.json":              "",
	} {
		got, ok := TempTarget(name)
		if got != want || ok != (want != "") {
			t.Errorf("TempTarget(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}

// What a killed Write leaves is found and removed; other files, and
// temporaries of targets not asked for, stay.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	// A temporary as Write names it, left as a kill would leave it.
	f, err := os.CreateTemp(dir, ".checkpoint.safetensors.tmp*")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 1000))
	f.Close()
	keepers := []string{".samples.png.tmp77", "checkpoint.safetensors", ".hidden"}
	for _, n := range keepers {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	removed, size, err := RemoveTemps(dir, func(target string) bool { return target != "samples.png" })
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != f.Name() || size != 1000 {
		t.Errorf("removed %v (%d bytes), want [%s] (1000 bytes)", removed, size, f.Name())
	}
	for _, n := range keepers {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was removed", n)
		}
	}
	if removed, _, err := RemoveTemps(filepath.Join(dir, "missing"), func(string) bool { return true }); err != nil || len(removed) != 0 {
		t.Errorf("missing folder: %v, %v", removed, err)
	}
}

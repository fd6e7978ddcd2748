package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Write creates or replaces path with what write produces, atomically.
// The file gets mode 0644; path must not be a directory. On error the temporary file is removed and any
// old file at path is untouched; an error from write is returned as is.
func Write(path string, write func(w io.Writer) error) (err error) {
	// A rename cannot replace a directory; say so plainly rather than with
	// the rename's "file exists" about a temporary name.
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		return fmt.Errorf("cannot write %s: it is a directory", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename durable. Some file systems cannot sync a directory;
	// the data itself is safe by then, so that is not an error.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteBytes writes b to path atomically, as Write does.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// tempPrefix and tempInfix make the name of Write's temporary file for
// target: "." + target + ".tmp" + digits (os.CreateTemp's random part).
const (
	tempPrefix = "."
	tempInfix  = ".tmp"
)

// TempTarget reports whether name is the name of a temporary file Write
// makes, and for which file: ".model.safetensors.tmp123" → "model.safetensors".
func TempTarget(name string) (target string, ok bool) {
	if !strings.HasPrefix(name, tempPrefix) {
		return "", false
	}
	i := strings.LastIndex(name, tempInfix)
	if i <= len(tempPrefix) {
		return "", false
	}
	digits := name[i+len(tempInfix):]
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return "", false
	}
	return name[len(tempPrefix):i], true
}

// RemoveTemps removes, in dir (not its sub-folders), the temporary files
// Write left behind for targets whose name keep accepts: a process killed
// while writing leaves its temporary file. It returns the paths it removed
// and their total size. Call it only while no other process can be
// writing those targets, for instance holding a lock on dir.
func RemoveTemps(dir string, keep func(target string) bool) (removed []string, bytes int64, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, 0, nil
		}
		return nil, 0, err
	}
	for _, e := range entries {
		target, ok := TempTarget(e.Name())
		if !ok || !e.Type().IsRegular() || !keep(target) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		var size int64
		if info, err := e.Info(); err == nil {
			size = info.Size()
		}
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return removed, bytes, err
		}
		removed = append(removed, path)
		bytes += size
	}
	return removed, bytes, nil
}

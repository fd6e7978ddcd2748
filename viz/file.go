package viz

import (
	"bufio"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
)

// WritePNG encodes img as PNG to w.
func WritePNG(w io.Writer, img image.Image) error {
	bw := bufio.NewWriter(w)
	if err := png.Encode(bw, img); err != nil {
		return fmt.Errorf("viz: encode PNG: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("viz: write PNG: %w", err)
	}
	return nil
}

// SavePNG writes img as a PNG file at path, atomically: to a temporary
// file in the same directory, synced and renamed over path.
func SavePNG(path string, img image.Image) error {
	return saveAtomic(path, func(w io.Writer) error { return WritePNG(w, img) })
}

func saveAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("viz: %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("viz: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

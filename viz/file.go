package viz

import (
	"bufio"
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/ebmgo/ebm/internal/atomicfile"
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

func saveAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("viz: %s: %w", path, err)
	}
	return nil
}

//go:build ignore

// Command gen writes the small data files the datasets tests read: image
// folders (PNG, JPEG, GIF; labelled, unlabelled, split; and broken ones),
// IDX pairs (Fashion-MNIST-style and EMNIST-style) and CIFAR-10 batches,
// each with pixel values the tests can recompute, plus corrupt and
// truncated variants. Run it from the datasets folder:
//
//	go generate ./datasets
//
// The output is deterministic. An empty folder cannot be committed to git;
// the tests make that one themselves.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"log"
	"os"
	"path/filepath"
)

const root = "testdata"

func main() {
	if err := os.RemoveAll(filepath.Join(root, "folder")); err != nil {
		log.Fatal(err)
	}
	for _, d := range []string{"idx", "emnist", "idx-truncated", "idx-mismatch", "cifar", "cifar-truncated", "cifar-badlabel"} {
		if err := os.RemoveAll(filepath.Join(root, d)); err != nil {
			log.Fatal(err)
		}
	}
	folders()
	idx()
	cifar()
}

// pattern is the value of pixel (c, r, x) of test image i, 0..255: every
// image, channel, row and column differ, so transpositions, channel swaps
// and off-by-one errors show.
func pattern(i, c, r, x int) uint8 { return uint8((37*i + 83*c + 11*r + 3*x) % 256) }

func write(path string, b []byte) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

func encode(img image.Image, format string) []byte {
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 100})
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}

// shape draws a filled circle or square of colour col on a dark 16×16
// background, centred at (cx, cy).
func shape(kind string, col color.NRGBA, cx, cy int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			dx, dy := x-cx, y-cy
			in := dx*dx+dy*dy <= 16
			if kind == "square" {
				in = dx >= -3 && dx <= 3 && dy >= -3 && dy <= 3
			}
			c := color.NRGBA{10, 10, 20, 255}
			if in {
				c = col
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// patternGray is image i as an 8-bit gray image of w×h, pattern channel 0.
func patternGray(i, w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for r := range h {
		for x := range w {
			img.Pix[r*img.Stride+x] = pattern(i, 0, r, x)
		}
	}
	return img
}

// patternRGB is image i as an opaque RGB image of w×h.
func patternRGB(i, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for r := range h {
		for x := range w {
			img.SetNRGBA(x, r, color.NRGBA{pattern(i, 0, r, x), pattern(i, 1, r, x), pattern(i, 2, r, x), 255})
		}
	}
	return img
}

func folders() {
	f := filepath.Join(root, "folder")
	// labelled: two classes of coloured shapes in three formats.
	cols := []color.NRGBA{{230, 40, 40, 255}, {40, 200, 60, 255}, {50, 80, 240, 255}}
	for k, kind := range []string{"circle", "square"} {
		for i, format := range []string{"png", "png", "jpg", "gif"} {
			img := shape(kind, cols[(i+k)%3], 6+i, 7+k)
			write(filepath.Join(f, "labelled", kind, fmt.Sprintf("%s%d.%s", kind, i, format)), encode(img, format))
		}
	}
	write(filepath.Join(f, "labelled", ".DS_Store"), []byte("ignored: hidden"))
	// gray: unlabelled 8-bit gray PNGs of known pixels, 6×5.
	for i := range 3 {
		write(filepath.Join(f, "gray", fmt.Sprintf("img%d.png", i)), encode(patternGray(i, 6, 5), "png"))
	}
	// rgb: unlabelled RGB PNGs of known pixels, 6×5.
	for i := range 3 {
		write(filepath.Join(f, "rgb", fmt.Sprintf("img%d.png", i)), encode(patternRGB(i, 6, 5), "png"))
	}
	// formats: one gray picture stored six ways; all must load alike.
	g := patternGray(0, 6, 5)
	write(filepath.Join(f, "formats", "gray8.png"), encode(g, "png"))
	g16 := image.NewGray16(g.Bounds())
	rgba := image.NewNRGBA(g.Bounds())
	pal := make(color.Palette, 256)
	for k := range pal {
		pal[k] = color.Gray{uint8(k)}
	}
	paletted := image.NewPaletted(g.Bounds(), pal)
	for y := range 5 {
		for x := range 6 {
			v := g.GrayAt(x, y).Y
			g16.SetGray16(x, y, color.Gray16{uint16(v) * 257})
			rgba.SetNRGBA(x, y, color.NRGBA{v, v, v, uint8(100 + 20*x)}) // alpha is dropped
			paletted.SetColorIndex(x, y, v)
		}
	}
	write(filepath.Join(f, "formats", "gray16.png"), encode(g16, "png"))
	write(filepath.Join(f, "formats", "nrgba.png"), encode(rgba, "png"))
	write(filepath.Join(f, "formats", "paletted.png"), encode(paletted, "png"))
	write(filepath.Join(f, "formats", "paletted.gif"), encode(paletted, "gif"))
	write(filepath.Join(f, "formats", "gray.jpg"), encode(g, "jpg"))
	// split: train/ and test/, classes a and b (test has no "b").
	for i := range 2 {
		write(filepath.Join(f, "split", "train", "a", fmt.Sprintf("%d.png", i)), encode(patternGray(i, 4, 4), "png"))
		write(filepath.Join(f, "split", "train", "b", fmt.Sprintf("%d.png", i)), encode(patternGray(10+i, 4, 4), "png"))
	}
	write(filepath.Join(f, "split", "test", "a", "0.png"), encode(patternGray(20, 4, 4), "png"))
	write(filepath.Join(f, "split", "test", "c", "0.png"), encode(patternGray(21, 4, 4), "png"))
	// sizes: mixed sizes (8×8, 12×6, 5×9), colour.
	for i, s := range [][2]int{{8, 8}, {12, 6}, {5, 9}} {
		write(filepath.Join(f, "sizes", fmt.Sprintf("img%d.png", i)), encode(patternRGB(i, s[0], s[1]), "png"))
	}
	// non-image: a text file among images.
	write(filepath.Join(f, "non-image", "img0.png"), encode(patternGray(0, 4, 4), "png"))
	write(filepath.Join(f, "non-image", "notes.txt"), []byte("not an image\n"))
	// corrupt: a PNG whose compressed pixels are damaged (header intact).
	good := encode(patternGray(0, 4, 4), "png")
	bad := bytes.Clone(good)
	idat := bytes.Index(bad, []byte("IDAT"))
	for k := idat + 6; k < idat+14; k++ {
		bad[k] ^= 0x5a
	}
	write(filepath.Join(f, "corrupt", "img0.png"), good)
	write(filepath.Join(f, "corrupt", "img1.png"), bad)
	// truncated: a PNG and a JPEG cut short.
	write(filepath.Join(f, "truncated-png", "img0.png"), good)
	write(filepath.Join(f, "truncated-png", "img1.png"), good[:len(good)-20])
	j := encode(patternRGB(0, 16, 16), "jpg")
	write(filepath.Join(f, "truncated-jpeg", "img0.jpg"), j[:len(j)/2])
	// bad-header: PNG magic then nonsense.
	write(filepath.Join(f, "bad-header", "img0.png"), append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 40)...))
	// stray: an image beside class folders.
	write(filepath.Join(f, "stray", "a", "0.png"), good)
	write(filepath.Join(f, "stray", "top.png"), good)
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	z, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	z.Write(b)
	z.Close()
	return out.Bytes()
}

// idxFile encodes a uint8 IDX array.
func idxFile(dims []int, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

// idxImages returns n images of h×w, pattern(first+i, 0, r, x), stored
// transposed (column-major) if transpose.
func idxImages(first, n, h, w int, transpose bool) []byte {
	var b []byte
	for i := range n {
		if transpose {
			for x := range w {
				for r := range h {
					b = append(b, pattern(first+i, 0, r, x))
				}
			}
			continue
		}
		for r := range h {
			for x := range w {
				b = append(b, pattern(first+i, 0, r, x))
			}
		}
	}
	return b
}

func idx() {
	// idx: a Fashion-MNIST-style pair of 7×5 images (gzipped), 6 train and
	// 4 test, labels i mod 3, and class names in classes.txt.
	d := filepath.Join(root, "idx")
	lbl := func(first, n int) []byte {
		var b []byte
		for i := range n {
			b = append(b, byte((first+i)%3))
		}
		return b
	}
	write(filepath.Join(d, "train-images-idx3-ubyte.gz"), gz(idxFile([]int{6, 7, 5}, idxImages(0, 6, 7, 5, false))))
	write(filepath.Join(d, "train-labels-idx1-ubyte.gz"), gz(idxFile([]int{6}, lbl(0, 6))))
	write(filepath.Join(d, "t10k-images-idx3-ubyte.gz"), gz(idxFile([]int{4, 7, 5}, idxImages(6, 4, 7, 5, false))))
	write(filepath.Join(d, "t10k-labels-idx1-ubyte.gz"), gz(idxFile([]int{4}, lbl(6, 4))))
	write(filepath.Join(d, "classes.txt"), []byte("T-shirt/top\nTrouser\nPullover\n"))
	// emnist: two EMNIST-style sets in one folder, images stored
	// transposed, "letters" labelled 1..3 with a mapping file.
	e := filepath.Join(root, "emnist")
	for _, split := range []string{"train", "test"} {
		write(filepath.Join(e, "emnist-letters-"+split+"-images-idx3-ubyte"), idxFile([]int{3, 6, 6}, idxImages(0, 3, 6, 6, true)))
		write(filepath.Join(e, "emnist-letters-"+split+"-labels-idx1-ubyte"), idxFile([]int{3}, []byte{1, 2, 3}))
		write(filepath.Join(e, "emnist-digits-"+split+"-images-idx3-ubyte.gz"), gz(idxFile([]int{2, 6, 6}, idxImages(5, 2, 6, 6, true))))
		write(filepath.Join(e, "emnist-digits-"+split+"-labels-idx1-ubyte.gz"), gz(idxFile([]int{2}, []byte{0, 9})))
	}
	write(filepath.Join(e, "emnist-letters-mapping.txt"), []byte("1 65 97\n2 66 98\n3 67 99\n"))
	// idx-truncated: the image file ends early.
	t := filepath.Join(root, "idx-truncated")
	full := idxFile([]int{6, 7, 5}, idxImages(0, 6, 7, 5, false))
	write(filepath.Join(t, "train-images-idx3-ubyte"), full[:len(full)-17])
	write(filepath.Join(t, "train-labels-idx1-ubyte"), idxFile([]int{6}, lbl(0, 6)))
	// idx-mismatch: 6 images, 5 labels.
	m := filepath.Join(root, "idx-mismatch")
	write(filepath.Join(m, "train-images-idx3-ubyte"), full)
	write(filepath.Join(m, "train-labels-idx1-ubyte"), idxFile([]int{5}, lbl(0, 5)))
}

// cifarBatch returns n CIFAR-10 records of images first.. with labels
// (first+i) mod 10 and pixels pattern.
func cifarBatch(first, n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, byte((first+i)%10))
		for c := range 3 {
			for r := range 32 {
				for x := range 32 {
					b = append(b, pattern(first+i, c, r, x))
				}
			}
		}
	}
	return b
}

func cifar() {
	// cifar: the archive's layout, 4 + 3 training records in two batches
	// and 2 test records.
	d := filepath.Join(root, "cifar", "cifar-10-batches-bin")
	write(filepath.Join(d, "data_batch_1.bin"), cifarBatch(0, 4))
	write(filepath.Join(d, "data_batch_2.bin"), cifarBatch(4, 3))
	write(filepath.Join(d, "test_batch.bin"), cifarBatch(7, 2))
	write(filepath.Join(d, "batches.meta.txt"), []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"))
	full := cifarBatch(0, 2)
	write(filepath.Join(root, "cifar-truncated", "data_batch_1.bin"), full[:len(full)-100])
	bad := cifarBatch(0, 2)
	bad[3073] = 12
	write(filepath.Join(root, "cifar-badlabel", "data_batch_1.bin"), bad)
}

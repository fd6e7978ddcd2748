package datasets

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // register the decoders LoadImageFolder reads
	_ "image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// maxImagePixels bounds the size of one image file's picture (4096×4096×4),
// so that a hostile header cannot make the decoder allocate gigabytes.
const maxImagePixels = 1 << 26

// splitDirs are the sub-folders that make an image folder a split one.
var (
	trainDirs = []string{"train"}
	testDirs  = []string{"test", "val", "valid", "validation"}
)

// imageFile is one file of an image folder.
type imageFile struct {
	path  string
	label int // −1 for an unlabelled folder
	// From the header: size and whether it is stored as grayscale.
	w, h int
	gray bool
}

// LoadImageFolder reads the PNG, JPEG and GIF files of a folder, the way
// torchvision's ImageFolder lays them out:
//
//	dir/cat/001.png, dir/cat/002.jpg, dir/dog/xyz.png, …   labelled: classes "cat", "dog"
//	dir/001.png, dir/002.png, …                            unlabelled
//	dir/train/…, dir/test/… (or val, valid, validation)    split, each part as above
//
// Classes are the sub-folder names in sorted order (with splits, those of
// both parts together, so that labels agree); each class folder is searched
// recursively, and may be empty (its class then has no images in this
// split). Without train/ and test/ sub-folders the whole folder is the
// Train split and asking for Test is an error wrapping ErrNotFound (see
// ImageSet.HoldOut). Files and folders whose names start with a dot are
// ignored.
//
// Every image is decoded by content, whatever its extension. A file that is
// not a PNG, JPEG or GIF image, a corrupt or truncated image, images of
// different sizes when cfg gives no size, a folder with images beside class
// sub-folders, and a folder without images are errors naming the file or
// folder (wrapping ErrBadFormat, or ErrNotFound for a missing or empty
// folder); with cfg.SkipBad, files that cannot be decoded are left out and
// listed in ImageSet.Skipped instead. Files are decoded on all cores; the
// whole set is held in memory, N·C·H·W float64 values.
func LoadImageFolder(ctx context.Context, dir string, split Split, cfg ImagesConfig) (*ImageSet, error) {
	if split != Train && split != Test {
		return nil, fmt.Errorf("datasets: unknown split %d", int(split))
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	root, classes, err := folderSplit(dir, split)
	if err != nil {
		return nil, err
	}
	files, skipped, err := listImages(root, classes, cfg.SkipBad)
	if err != nil {
		return nil, err
	}
	if cfg.Limit > 0 && len(files) > cfg.Limit {
		// Files come class by class: take them evenly spread, so that a
		// limited set still holds every class in proportion.
		picked := make([]imageFile, cfg.Limit)
		for i := range picked {
			picked[i] = files[i*len(files)/cfg.Limit]
		}
		files = picked
	}
	// Pass 1: headers, for the sizes and colour of every file.
	kept := files[:0]
	for i := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := readHeader(&files[i]); err != nil {
			if !cfg.SkipBad {
				return nil, err
			}
			skipped = append(skipped, err.Error())
			continue
		}
		kept = append(kept, files[i])
	}
	files = kept
	if len(files) == 0 {
		return nil, fmt.Errorf("datasets: %s: %w: no readable images", root, ErrNotFound)
	}
	s := &ImageSet{Channels: cfg.Channels, Height: cfg.Height, Width: cfg.Width, Range: cfg.Range, Format: FormatFolder, Source: root}
	if s.Height == 0 {
		first := files[0]
		for _, f := range files[1:] {
			if f.w != first.w || f.h != first.h {
				return nil, fmt.Errorf("%w: %s is %d×%d but %s is %d×%d; give a size to bring every image to (ImagesConfig.Height and Width)",
					ErrBadFormat, f.path, f.w, f.h, first.path, first.w, first.h)
			}
		}
		s.Height, s.Width = first.h, first.w
	}
	if cfg.Fit == CenterCrop {
		for _, f := range files {
			if f.w < s.Width || f.h < s.Height {
				return nil, fmt.Errorf("datasets: %s: %d×%d is smaller than the %d×%d to crop", f.path, f.w, f.h, s.Width, s.Height)
			}
		}
	}
	if s.Channels == 0 {
		s.Channels = 1
		for _, f := range files {
			if !f.gray {
				s.Channels = 3
				break
			}
		}
	}
	if classes != nil {
		if s.Classes, err = classNames(cfg, classes, len(classes), root); err != nil {
			return nil, err
		}
	}

	// Pass 2: decode, convert and resize on every core.
	d := s.Dim()
	s.Images = make([]float64, len(files)*d)
	bad := make([]error, len(files))
	if err := decodeAll(ctx, s, files, bad, cfg); err != nil {
		return nil, err
	}
	// Drop the files that failed (SkipBad) and scale.
	var labels []int
	if classes != nil {
		labels = make([]int, 0, len(files))
	}
	n := 0
	for i, f := range files {
		if bad[i] != nil {
			skipped = append(skipped, bad[i].Error())
			continue
		}
		if n != i {
			copy(s.Images[n*d:(n+1)*d], s.Images[i*d:(i+1)*d])
		}
		if labels != nil {
			labels = append(labels, f.label)
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("datasets: %s: %w: no readable images", root, ErrNotFound)
	}
	s.N, s.Images, s.Labels, s.Skipped = n, s.Images[:n*d:n*d], labels, skipped
	scaleRange(s.Images, cfg.Range)
	return s, nil
}

// decodeAll decodes files into s.Images on GOMAXPROCS goroutines, recording
// each file's error in bad. It returns the first error unless cfg.SkipBad,
// or ctx.Err() when ctx is cancelled.
func decodeAll(ctx context.Context, s *ImageSet, files []imageFile, bad []error, cfg ImagesConfig) error {
	d := s.Dim()
	wctx, cancel := context.WithCancel(ctx)
	jobs := make(chan int)
	done := make(chan int)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh := &shaper{c: s.Channels, h: s.Height, w: s.Width, fit: cfg.Fit}
			var buf []float64
			for i := range jobs {
				bad[i] = decodeInto(s.Images[i*d:(i+1)*d], &files[i], sh, &buf)
				select {
				case done <- i:
				case <-wctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range files {
			select {
			case jobs <- i:
			case <-wctx.Done():
				return
			}
		}
	}()
	progress := reportProgress(cfg, len(files))
	for n := 1; n <= len(files); n++ {
		var i int
		select {
		case i = <-done:
		case <-wctx.Done():
			return ctx.Err()
		}
		if bad[i] != nil && !cfg.SkipBad {
			// Report the first bad file in file order, whichever
			// goroutine finished first.
			cancel()
			wg.Wait()
			for _, err := range bad {
				if err != nil {
					return err
				}
			}
		}
		progress(n)
	}
	return nil
}

// folderSplit returns the folder holding split and, for a labelled
// folder, the class names (nil for an unlabelled one).
func folderSplit(dir string, split Split) (root string, classes []string, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return "", nil, fmt.Errorf("datasets: %w", err)
	}
	if !st.IsDir() {
		return "", nil, fmt.Errorf("datasets: %s is not a folder", dir)
	}
	train, test := firstDir(dir, trainDirs), firstDir(dir, testDirs)
	parts := []string{dir}
	root = dir
	switch {
	case train != "":
		parts = []string{train}
		if test != "" {
			parts = append(parts, test)
		}
		root = train
		if split == Test {
			if test == "" {
				return "", nil, fmt.Errorf("datasets: %s has a train/ folder but no test/ or val/ beside it: %w", dir, ErrNotFound)
			}
			root = test
		}
	case split == Test:
		return "", nil, fmt.Errorf("datasets: %s has no test split (a test/ or val/ folder beside train/): %w", dir, ErrNotFound)
	}
	// The classes are the sub-folders of every part, together.
	seen := map[string]bool{}
	for _, p := range parts {
		ents, err := os.ReadDir(p)
		if err != nil {
			return "", nil, fmt.Errorf("datasets: %w", err)
		}
		for _, e := range ents {
			if !hidden(e.Name()) && isDir(p, e) {
				seen[e.Name()] = true
			}
		}
	}
	for c := range seen {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	return root, classes, nil
}

// firstDir returns dir/name for the first name that is a folder, or "".
func firstDir(dir string, names []string) string {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	return ""
}

// isDir reports whether the entry is a folder, following a symbolic link.
func isDir(dir string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink != 0 {
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		return err == nil && st.IsDir()
	}
	return e.IsDir()
}

// listImages returns the files of root, labelled by class folder when
// classes is not nil, sorted by label and path. Files beside class folders
// are an error, or skipped with skipBad.
func listImages(root string, classes []string, skipBad bool) (files []imageFile, skipped []string, err error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("datasets: %w", err)
	}
	if classes == nil {
		for _, e := range ents {
			if !hidden(e.Name()) {
				files = append(files, imageFile{path: filepath.Join(root, e.Name()), label: -1})
			}
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("datasets: %s is empty: %w (%s)", root, ErrNotFound, formatsHelp)
		}
		return files, nil, nil
	}
	label := map[string]int{}
	for i, c := range classes {
		label[c] = i
	}
	for _, e := range ents {
		name := e.Name()
		if hidden(name) {
			continue
		}
		p := filepath.Join(root, name)
		if !isDir(root, e) {
			msg := fmt.Sprintf("%s: a file beside the class folders; every image must be in the folder of its class", p)
			if !skipBad {
				return nil, nil, fmt.Errorf("%w: %s", ErrBadFormat, msg)
			}
			skipped = append(skipped, msg)
			continue
		}
		err := filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if q != p && hidden(d.Name()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			files = append(files, imageFile{path: q, label: label[name]})
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: %w", err)
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("datasets: %s: %w: its class folders hold no images", root, ErrNotFound)
	}
	// WalkDir visits in lexical order and the classes are sorted, so
	// files are ordered by label, then path.
	return files, skipped, nil
}

// readHeader fills in f's size and colour from its header.
func readHeader(f *imageFile) error {
	r, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer r.Close()
	cfg, _, err := image.DecodeConfig(bufio.NewReader(r))
	if err != nil {
		return decodeError(f.path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxImagePixels {
		return fmt.Errorf("%w: %s: a %d×%d image (at most %d pixels are read)", ErrBadFormat, f.path, cfg.Width, cfg.Height, maxImagePixels)
	}
	f.w, f.h, f.gray = cfg.Width, cfg.Height, isGray(cfg.ColorModel)
	return nil
}

// decodeError explains why an image file could not be decoded.
func decodeError(path string, err error) error {
	switch {
	case errors.Is(err, image.ErrFormat):
		return fmt.Errorf("%w: %s is not a PNG, JPEG or GIF image", ErrBadFormat, path)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %s: truncated image", ErrBadFormat, path)
	}
	return fmt.Errorf("%w: %s: corrupt image: %v", ErrBadFormat, path, err)
}

// decodeInto decodes f and writes it, brought to the set's shape, into
// dst as intensities in [0, 1].
func decodeInto(dst []float64, f *imageFile, sh *shaper, buf *[]float64) error {
	r, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	defer r.Close()
	img, _, err := image.Decode(bufio.NewReader(r))
	if err != nil {
		return decodeError(f.path, err)
	}
	p := toPlanes(img, buf)
	if p.w != f.w || p.h != f.h {
		return fmt.Errorf("%w: %s: the header says %d×%d, the image is %d×%d", ErrBadFormat, f.path, f.w, f.h, p.w, p.h)
	}
	if err := sh.apply(dst, p); err != nil {
		return fmt.Errorf("datasets: %s: %v", f.path, err)
	}
	return nil
}

// isGray reports whether a colour model stores gray levels only.
func isGray(m color.Model) bool {
	switch m {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	if p, ok := m.(color.Palette); ok {
		for _, c := range p {
			v := color.NRGBA64Model.Convert(c).(color.NRGBA64)
			if v.R != v.G || v.G != v.B {
				return false
			}
		}
		return len(p) > 0
	}
	return false
}

// toPlanes converts img to intensities in [0, 1]: one plane for a gray
// image (see isGray), three (red, green, blue) otherwise, dropping alpha
// and keeping the colour under it. buf is reused.
func toPlanes(img image.Image, buf *[]float64) planes {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	c := 3
	if isGray(img.ColorModel()) {
		c = 1
	}
	*buf = grow(*buf, c*w*h)
	p := planes{c, h, w, *buf}
	n := w * h
	switch m := img.(type) {
	case *image.Gray:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			out := p.pix[y*w : (y+1)*w]
			for x, v := range row {
				out[x] = float64(v) / 255
			}
		}
		return p
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				i := y*w + x
				p.pix[i] = float64(row[4*x]) / 255
				p.pix[n+i] = float64(row[4*x+1]) / 255
				p.pix[2*n+i] = float64(row[4*x+2]) / 255
			}
		}
		return p
	case *image.RGBA:
		if m.Opaque() {
			for y := range h {
				row := m.Pix[y*m.Stride : y*m.Stride+4*w]
				for x := range w {
					i := y*w + x
					p.pix[i] = float64(row[4*x]) / 255
					p.pix[n+i] = float64(row[4*x+1]) / 255
					p.pix[2*n+i] = float64(row[4*x+2]) / 255
				}
			}
			return p
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				v := m.YCbCrAt(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(v.Y, v.Cb, v.Cr)
				i := y*w + x
				p.pix[i] = float64(r) / 255
				p.pix[n+i] = float64(g) / 255
				p.pix[2*n+i] = float64(bl) / 255
			}
		}
		return p
	case *image.Paletted:
		var lut [256][3]float64
		for k, col := range m.Palette {
			v := color.NRGBAModel.Convert(col).(color.NRGBA)
			lut[k] = [3]float64{float64(v.R) / 255, float64(v.G) / 255, float64(v.B) / 255}
		}
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, k := range row {
				i := y*w + x
				for ch := range c {
					p.pix[ch*n+i] = lut[k][ch]
				}
			}
		}
		return p
	}
	// Anything else (16-bit, CMYK, gray with alpha) through 16-bit
	// non-premultiplied colour.
	for y := range h {
		for x := range w {
			v := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			i := y*w + x
			p.pix[i] = float64(v.R) / 65535
			if c == 3 {
				p.pix[n+i] = float64(v.G) / 65535
				p.pix[2*n+i] = float64(v.B) / 65535
			}
		}
	}
	return p
}

// WriteImageFolder writes the images of s as 8-bit PNG files in the layout
// LoadImageFolder reads: dir/CLASS/000123.png for a labelled set (class
// names as folder names, with "/" and "\\" written as "_": Fashion-MNIST's
// "T-shirt/top" becomes "T-shirt_top"), dir/000123.png otherwise. Values are mapped from
// s.Range to 0..255 and rounded, so a set read from 8-bit images comes back
// unchanged. It creates dir if needed and fails, naming the file, on the
// first write error; a class name that cannot be a folder name is an
// error.
func WriteImageFolder(dir string, s *ImageSet) error {
	if s.Channels != 1 && s.Channels != 3 {
		return fmt.Errorf("datasets: WriteImageFolder: %d channels; PNG files hold 1 or 3", s.Channels)
	}
	folders := []string{dir}
	if s.Labels != nil {
		folders = folders[:0]
		seen := map[string]bool{}
		for _, c := range s.Classes {
			f := strings.NewReplacer("/", "_", "\\", "_").Replace(c)
			if f == "" || f == "." || f == ".." || hidden(f) || seen[f] {
				return fmt.Errorf("datasets: WriteImageFolder: class name %q cannot be a folder name", c)
			}
			seen[f] = true
			folders = append(folders, filepath.Join(dir, f))
		}
	}
	for _, f := range folders {
		if err := os.MkdirAll(f, 0o755); err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
	}
	h, w, plane := s.Height, s.Width, s.Height*s.Width
	level := func(v float64) uint8 {
		if s.Range == Signed {
			v = (v + 1) / 2
		}
		return uint8(math.Round(255 * math.Min(1, math.Max(0, v))))
	}
	for i := range s.N {
		x := s.Image(i)
		var img image.Image
		if s.Channels == 1 {
			g := image.NewGray(image.Rect(0, 0, w, h))
			for p := range plane {
				g.Pix[p] = level(x[p])
			}
			img = g
		} else {
			c := image.NewNRGBA(image.Rect(0, 0, w, h))
			for p := range plane {
				c.Pix[4*p] = level(x[p])
				c.Pix[4*p+1] = level(x[plane+p])
				c.Pix[4*p+2] = level(x[2*plane+p])
				c.Pix[4*p+3] = 255
			}
			img = c
		}
		folder := dir
		if s.Labels != nil {
			if s.Labels[i] < 0 || s.Labels[i] >= len(folders) {
				return fmt.Errorf("datasets: WriteImageFolder: image %d has label %d; there are %d classes", i, s.Labels[i], len(folders))
			}
			folder = folders[s.Labels[i]]
		}
		path := filepath.Join(folder, fmt.Sprintf("%06d.png", i))
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return fmt.Errorf("datasets: %s: %w", path, err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("datasets: %w", err)
		}
	}
	return nil
}

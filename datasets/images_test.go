package datasets

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/internal/safetensors"
)

// pattern is the pixel function of testdata/gen.go.
func pattern(i, c, r, x int) uint8 { return uint8((37*i + 83*c + 11*r + 3*x) % 256) }

func fixture(parts ...string) string {
	return filepath.Join(append([]string{"testdata"}, parts...)...)
}

// signed is 2p/255 − 1, the value an 8-bit intensity p loads as.
func signed(p uint8) float64 { return 2*float64(p)/255 - 1 }

// checkOneLine fails if err is nil, does not wrap want, does not mention
// every string of says, or spans more than one line.
func checkOneLine(t *testing.T, what string, err, want error, says ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	t.Logf("%s: %v", what, err)
	if want != nil && !errors.Is(err, want) {
		t.Errorf("%s: %v does not wrap %v", what, err, want)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: %q does not mention %q", what, err, s)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: error spans several lines: %q", what, err)
	}
}

func load(t *testing.T, path string, split Split, cfg ImagesConfig) *ImageSet {
	t.Helper()
	s, err := LoadImages(context.Background(), path, split, cfg)
	if err != nil {
		t.Fatalf("LoadImages(%s, %v): %v", path, split, err)
	}
	if len(s.Images) != s.N*s.Dim() || (s.Labels != nil && len(s.Labels) != s.N) {
		t.Fatalf("%s: %d values and %d labels for %d images of %v", path, len(s.Images), len(s.Labels), s.N, s.Shape())
	}
	return s
}

// The antialiased bilinear resize matches PyTorch's
// interpolate(antialias=True) (make_resize.py) to rounding.
func TestResizeAgainstTorch(t *testing.T) {
	f, err := safetensors.Open(fixture("resize_torch.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for k := 0; ; k++ {
		in, ok := f.Info("in_" + itoa(k))
		if !ok {
			if k == 0 {
				t.Fatal("no cases")
			}
			break
		}
		out, _ := f.Info("out_" + itoa(k))
		x, err := f.Float64s("in_"+itoa(k), nil)
		if err != nil {
			t.Fatal(err)
		}
		want, err := f.Float64s("out_"+itoa(k), nil)
		if err != nil {
			t.Fatal(err)
		}
		h, w, oh, ow := in.Shape[0], in.Shape[1], out.Shape[0], out.Shape[1]
		sh := &shaper{c: 1, h: oh, w: ow, fit: Resize}
		got := make([]float64, oh*ow)
		if err := sh.apply(got, planes{1, h, w, x}); err != nil {
			t.Fatal(err)
		}
		e := 0.0
		for i := range got {
			e = math.Max(e, math.Abs(got[i]-want[i]))
		}
		t.Logf("%d×%d → %d×%d: max |ebm − torch| = %.2g", h, w, oh, ow, e)
		if e > 1e-12 {
			t.Errorf("%d×%d → %d×%d: max error %.3g against torch", h, w, oh, ow, e)
		}
	}
}

func itoa(k int) string { return string(rune('0' + k)) }

// A constant image stays constant under every fit and size; ResizeCrop is
// Resize to the covering size followed by a centre crop; CenterCrop cuts.
func TestFitProperties(t *testing.T) {
	const h, w = 8, 16
	x := make([]float64, h*w)
	for i := range x {
		x[i] = float64(pattern(0, 0, i/w, i%w)) / 255
	}
	for _, fit := range []Fit{ResizeCrop, Resize, CenterCrop} {
		for _, size := range [][2]int{{4, 4}, {3, 7}, {8, 8}, {5, 16}} {
			sh := &shaper{c: 1, h: size[0], w: size[1], fit: fit}
			c := make([]float64, h*w)
			for i := range c {
				c[i] = 0.3
			}
			out := make([]float64, size[0]*size[1])
			if err := sh.apply(out, planes{1, h, w, c}); err != nil {
				t.Fatal(err)
			}
			for _, v := range out {
				if math.Abs(v-0.3) > 1e-15 {
					t.Fatalf("%v %v: constant 0.3 became %v", fit, size, v)
				}
			}
		}
	}
	// ResizeCrop to 4×4: the scale 1/2 covers 4×8; columns 2..5 of that.
	full := make([]float64, 4*8)
	(&shaper{c: 1, h: 4, w: 8, fit: Resize}).apply(full, planes{1, h, w, x})
	got := make([]float64, 24)
	(&shaper{c: 1, h: 4, w: 4, fit: ResizeCrop}).apply(got[:16], planes{1, h, w, x})
	for r := range 4 {
		for c := range 4 {
			if got[r*4+c] != full[r*8+c+2] {
				t.Fatalf("ResizeCrop (%d, %d) = %v, want %v", r, c, got[r*4+c], full[r*8+c+2])
			}
		}
	}
	// CenterCrop to 4×6: rows 2..5, columns 5..10.
	(&shaper{c: 1, h: 4, w: 6, fit: CenterCrop}).apply(got[:24], planes{1, h, w, x})
	for r := range 4 {
		for c := range 6 {
			if got[r*6+c] != x[(r+2)*w+c+5] {
				t.Fatalf("CenterCrop (%d, %d) = %v, want %v", r, c, got[r*6+c], x[(r+2)*w+c+5])
			}
		}
	}
	if err := (&shaper{c: 1, h: 9, w: 4, fit: CenterCrop}).apply(make([]float64, 36), planes{1, h, w, x}); err == nil {
		t.Error("CenterCrop of 8 rows to 9 succeeded")
	}
}

func TestFolderGrayExact(t *testing.T) {
	s := load(t, fixture("folder", "gray"), Train, ImagesConfig{})
	if s.N != 3 || !slices.Equal(s.Shape(), []int{1, 5, 6}) || s.Labels != nil || s.Classes != nil || s.Format != FormatFolder {
		t.Fatalf("got N=%d shape %v labels %v classes %v format %v", s.N, s.Shape(), s.Labels, s.Classes, s.Format)
	}
	for i := range 3 {
		for r := range 5 {
			for x := range 6 {
				if got, want := s.Image(i)[r*6+x], signed(pattern(i, 0, r, x)); got != want {
					t.Fatalf("image %d (%d, %d) = %v, want %v", i, r, x, got, want)
				}
			}
		}
	}
	unit := load(t, fixture("folder", "gray"), Train, ImagesConfig{Range: Unit, Channels: 3})
	if unit.Channels != 3 {
		t.Fatalf("Channels 3: got %d", unit.Channels)
	}
	for c := range 3 {
		if got, want := unit.Image(1)[c*30+7], float64(pattern(1, 0, 1, 1))/255; got != want {
			t.Errorf("gray as RGB, channel %d: %v, want %v", c, got, want)
		}
	}
}

func TestFolderRGBExact(t *testing.T) {
	s := load(t, fixture("folder", "rgb"), Train, ImagesConfig{})
	if !slices.Equal(s.Shape(), []int{3, 5, 6}) {
		t.Fatalf("shape %v", s.Shape())
	}
	for i := range 3 {
		for c := range 3 {
			for r := range 5 {
				for x := range 6 {
					if got, want := s.Image(i)[(c*5+r)*6+x], signed(pattern(i, c, r, x)); got != want {
						t.Fatalf("image %d (%d, %d, %d) = %v, want %v", i, c, r, x, got, want)
					}
				}
			}
		}
	}
	g := load(t, fixture("folder", "rgb"), Train, ImagesConfig{Channels: 1, Range: Unit})
	for r := range 5 {
		for x := range 6 {
			want := (0.299*float64(pattern(2, 0, r, x)) + 0.587*float64(pattern(2, 1, r, x)) + 0.114*float64(pattern(2, 2, r, x))) / 255
			if got := g.Image(2)[r*6+x]; math.Abs(got-want) > 1e-15 {
				t.Fatalf("luma (%d, %d) = %v, want %v", r, x, got, want)
			}
		}
	}
}

// The same gray picture stored as 8- and 16-bit gray PNG, RGBA PNG (alpha
// dropped), paletted PNG and GIF loads to the same values; as JPEG within
// its quantisation.
func TestFolderFormatsAgree(t *testing.T) {
	dir := fixture("folder", "formats")
	auto := load(t, dir, Train, ImagesConfig{})
	if auto.Channels != 3 {
		t.Errorf("a folder with an RGBA file loads as %d channels, want 3", auto.Channels)
	}
	s := load(t, dir, Train, ImagesConfig{Channels: 1})
	names := []string{"gray.jpg", "gray16.png", "gray8.png", "nrgba.png", "paletted.gif", "paletted.png"}
	if s.N != len(names) {
		t.Fatalf("N = %d", s.N)
	}
	ref := s.Image(2)
	for i, name := range names {
		tol := 1e-12
		if name == "gray.jpg" {
			tol = 4.0 / 255
		}
		for k, v := range s.Image(i) {
			if math.Abs(v-ref[k]) > tol {
				t.Errorf("%s: value %d is %v, gray8.png has %v", name, k, v, ref[k])
				break
			}
		}
	}
}

func TestFolderLabelled(t *testing.T) {
	var calls [][2]int
	s := load(t, fixture("folder", "labelled"), Train, ImagesConfig{Progress: func(d, n int) { calls = append(calls, [2]int{d, n}) }})
	if !slices.Equal(s.Classes, []string{"circle", "square"}) || !slices.Equal(s.Labels, []int{0, 0, 0, 0, 1, 1, 1, 1}) {
		t.Errorf("classes %v labels %v", s.Classes, s.Labels)
	}
	if !slices.Equal(s.Shape(), []int{3, 16, 16}) {
		t.Errorf("shape %v", s.Shape())
	}
	for _, v := range s.Images {
		if v < -1 || v > 1 {
			t.Fatalf("value %v outside [−1, 1]", v)
		}
	}
	if len(calls) == 0 || calls[len(calls)-1] != [2]int{8, 8} {
		t.Errorf("progress calls %v, want the last to be (8, 8)", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] <= calls[i-1][0] {
			t.Errorf("progress not increasing: %v", calls)
		}
	}
	// Resized to 8×8, gray, the first 3 only; names given.
	r := load(t, fixture("folder", "labelled"), Train, ImagesConfig{Height: 8, Channels: 1, Limit: 3, Classes: []string{"round", "box"}})
	if !slices.Equal(r.Shape(), []int{1, 8, 8}) || r.N != 3 || !slices.Equal(r.Classes, []string{"round", "box"}) {
		t.Errorf("resized: shape %v N %d classes %v", r.Shape(), r.N, r.Classes)
	}
	// The limited files are spread over the classes: 0, 2 and 5 of 8.
	if !slices.Equal(r.Labels, []int{0, 0, 1}) {
		t.Errorf("Limit 3 of a labelled folder: labels %v, want [0 0 1]", r.Labels)
	}
	_, err := LoadImages(context.Background(), fixture("folder", "labelled"), Train, ImagesConfig{Classes: []string{"one"}})
	checkOneLine(t, "too few class names", err, nil, "2 classes; 1 class names are not enough")
}

func TestFolderSplit(t *testing.T) {
	dir := fixture("folder", "split")
	train := load(t, dir, Train, ImagesConfig{})
	test := load(t, dir, Test, ImagesConfig{})
	want := []string{"a", "b", "c"}
	if !slices.Equal(train.Classes, want) || !slices.Equal(test.Classes, want) {
		t.Errorf("classes %v and %v, want %v for both", train.Classes, test.Classes, want)
	}
	if !slices.Equal(train.Labels, []int{0, 0, 1, 1}) || !slices.Equal(test.Labels, []int{0, 2}) {
		t.Errorf("labels %v and %v", train.Labels, test.Labels)
	}
	if test.Image(1)[5] != signed(pattern(21, 0, 1, 1)) {
		t.Errorf("test image 1 is not c/0.png")
	}
	_, err := LoadImages(context.Background(), fixture("folder", "gray"), Test, ImagesConfig{})
	checkOneLine(t, "test split of an unsplit folder", err, ErrNotFound, "no test split", fixture("folder", "gray"))
}

// Every broken input is one clear line naming the file, and no panic.
func TestFolderErrors(t *testing.T) {
	empty := t.TempDir()
	onlyHidden := t.TempDir()
	os.WriteFile(filepath.Join(onlyHidden, ".DS_Store"), []byte("x"), 0o644)
	emptyClass := t.TempDir()
	os.MkdirAll(filepath.Join(emptyClass, "cats"), 0o755)
	os.MkdirAll(filepath.Join(emptyClass, "dogs"), 0o755)
	png, _ := os.ReadFile(fixture("folder", "gray", "img1.png"))
	os.WriteFile(filepath.Join(emptyClass, "dogs", "a.png"), png, 0o644)
	s := load(t, emptyClass, Train, ImagesConfig{})
	if !slices.Equal(s.Classes, []string{"cats", "dogs"}) || !slices.Equal(s.Labels, []int{1}) {
		t.Errorf("an empty class folder: classes %v labels %v", s.Classes, s.Labels)
	}
	noImages := t.TempDir()
	os.MkdirAll(filepath.Join(noImages, "cats"), 0o755)
	f := func(name string) string { return fixture("folder", name) }
	for _, tc := range []struct {
		name string
		path string
		cfg  ImagesConfig
		want error
		says []string
	}{
		{"empty folder", empty, ImagesConfig{}, ErrNotFound, []string{empty, "empty"}},
		{"only hidden files", onlyHidden, ImagesConfig{}, ErrNotFound, []string{onlyHidden, "empty"}},
		{"missing folder", filepath.Join(empty, "nope"), ImagesConfig{}, ErrNotFound, []string{"nope"}},
		{"only empty class folders", noImages, ImagesConfig{}, ErrNotFound, []string{noImages, "class folders hold no images"}},
		{"non-image", f("non-image"), ImagesConfig{}, ErrBadFormat, []string{filepath.Join(f("non-image"), "notes.txt"), "not a PNG, JPEG or GIF image"}},
		{"corrupt", f("corrupt"), ImagesConfig{}, ErrBadFormat, []string{filepath.Join(f("corrupt"), "img1.png")}},
		{"truncated png", f("truncated-png"), ImagesConfig{}, ErrBadFormat, []string{filepath.Join(f("truncated-png"), "img1.png")}},
		{"truncated jpeg", f("truncated-jpeg"), ImagesConfig{}, ErrBadFormat, []string{filepath.Join(f("truncated-jpeg"), "img0.jpg")}},
		{"bad header", f("bad-header"), ImagesConfig{}, ErrBadFormat, []string{filepath.Join(f("bad-header"), "img0.png")}},
		{"stray file", f("stray"), ImagesConfig{}, ErrBadFormat, []string{filepath.Join(f("stray"), "top.png"), "beside the class folders"}},
		{"mixed sizes", f("sizes"), ImagesConfig{}, ErrBadFormat, []string{filepath.Join(f("sizes"), "img1.png"), "is 12×6", "give a size"}},
		{"crop too large", f("sizes"), ImagesConfig{Height: 8, Width: 8, Fit: CenterCrop}, nil, []string{filepath.Join(f("sizes"), "img1.png"), "smaller than the 8×8"}},
		{"bad channels", f("gray"), ImagesConfig{Channels: 2}, nil, []string{"2 channels"}},
		{"negative size", f("gray"), ImagesConfig{Height: -1}, nil, []string{"-1"}},
		{"huge size", f("gray"), ImagesConfig{Height: 1 << 20}, nil, []string{"larger than"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadImages(context.Background(), tc.path, Train, tc.cfg)
			if s != nil {
				t.Errorf("got a set with the error")
			}
			checkOneLine(t, tc.name, err, tc.want, tc.says...)
		})
	}
}

func TestFolderSkipBad(t *testing.T) {
	for _, dir := range []string{"non-image", "corrupt", "truncated-png", "stray"} {
		s := load(t, fixture("folder", dir), Train, ImagesConfig{SkipBad: true})
		if s.N != 1 || len(s.Skipped) != 1 {
			t.Errorf("%s: N = %d, skipped %q; want 1 image and 1 skipped", dir, s.N, s.Skipped)
		}
		if s.N == 1 && s.Image(0)[5] != signed(pattern(0, 0, 1, 1)) {
			t.Errorf("%s: the image kept is not img0.png", dir)
		}
	}
	_, err := LoadImages(context.Background(), fixture("folder", "truncated-jpeg"), Train, ImagesConfig{SkipBad: true})
	checkOneLine(t, "nothing readable", err, ErrNotFound, "no readable images")
}

func TestFolderSizes(t *testing.T) {
	for _, fit := range []Fit{ResizeCrop, Resize} {
		s := load(t, fixture("folder", "sizes"), Train, ImagesConfig{Height: 6, Width: 4, Fit: fit})
		if s.N != 3 || !slices.Equal(s.Shape(), []int{3, 6, 4}) {
			t.Errorf("%v: N %d shape %v", fit, s.N, s.Shape())
		}
	}
	s := load(t, fixture("folder", "sizes"), Train, ImagesConfig{Height: 5, Fit: CenterCrop})
	if !slices.Equal(s.Shape(), []int{3, 5, 5}) {
		t.Fatalf("shape %v", s.Shape())
	}
	// img1 is 12×6 (w×h): the centre 5×5 starts at row 0, column 3.
	for c := range 3 {
		if got, want := s.Image(1)[(c*5+2)*5+1], signed(pattern(1, c, 2, 4)); got != want {
			t.Errorf("crop channel %d: %v, want %v", c, got, want)
		}
	}
}

func TestFolderCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := LoadImages(ctx, fixture("folder", "labelled"), Train, ImagesConfig{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestIDXSet(t *testing.T) {
	dir := fixture("idx")
	if f, err := DetectFormat(dir); f != FormatIDX || err != nil {
		t.Fatalf("DetectFormat = %v, %v", f, err)
	}
	train := load(t, dir, Train, ImagesConfig{})
	test := load(t, dir, Test, ImagesConfig{})
	if train.N != 6 || test.N != 4 || !slices.Equal(train.Shape(), []int{1, 7, 5}) {
		t.Fatalf("N %d, %d shape %v", train.N, test.N, train.Shape())
	}
	if want := []string{"T-shirt/top", "Trouser", "Pullover"}; !slices.Equal(train.Classes, want) {
		t.Errorf("classes %q, want %q", train.Classes, want)
	}
	if !slices.Equal(train.Labels, []int{0, 1, 2, 0, 1, 2}) || !slices.Equal(test.Labels, []int{0, 1, 2, 0}) {
		t.Errorf("labels %v, %v", train.Labels, test.Labels)
	}
	for i, s := range []*ImageSet{train, test} {
		first := 6 * i
		for k := range s.N {
			for r := range 7 {
				for x := range 5 {
					if got, want := s.Image(k)[r*5+x], signed(pattern(first+k, 0, r, x)); got != want {
						t.Fatalf("image %d (%d, %d) = %v, want %v", first+k, r, x, got, want)
					}
				}
			}
		}
	}
	named := load(t, dir, Train, ImagesConfig{Classes: []string{"x", "y", "z", "w"}, Channels: 3, Height: 14, Width: 10, Fit: Resize, Limit: 2})
	if named.N != 2 || !slices.Equal(named.Shape(), []int{3, 14, 10}) || !slices.Equal(named.Classes, []string{"x", "y", "z", "w"}) {
		t.Errorf("converted: N %d shape %v classes %v", named.N, named.Shape(), named.Classes)
	}
}

func TestEMNISTSets(t *testing.T) {
	dir := fixture("emnist")
	_, err := LoadImages(context.Background(), dir, Train, ImagesConfig{})
	checkOneLine(t, "two sets", err, nil, "holds 2 IDX data sets", filepath.Join(dir, "emnist-letters"), filepath.Join(dir, "emnist-digits"))
	letters := load(t, filepath.Join(dir, "emnist-letters"), Train, ImagesConfig{})
	if !slices.Equal(letters.Classes, []string{"0", "A/a", "B/b", "C/c"}) || !slices.Equal(letters.Labels, []int{1, 2, 3}) {
		t.Errorf("letters: classes %q labels %v", letters.Classes, letters.Labels)
	}
	// Stored transposed, loaded upright.
	for k := range 3 {
		for r := range 6 {
			for x := range 6 {
				if got, want := letters.Image(k)[r*6+x], signed(pattern(k, 0, r, x)); got != want {
					t.Fatalf("letter %d (%d, %d) = %v, want %v", k, r, x, got, want)
				}
			}
		}
	}
	digits := load(t, filepath.Join(dir, "emnist-digits"), Test, ImagesConfig{})
	if len(digits.Classes) != 10 || digits.Classes[9] != "9" || digits.Image(1)[6] != signed(pattern(6, 0, 1, 0)) {
		t.Errorf("digits: classes %q", digits.Classes)
	}
	_, err = LoadImages(context.Background(), filepath.Join(dir, "emnist-byclass"), Train, ImagesConfig{})
	checkOneLine(t, "unknown set", err, ErrNotFound, "emnist-byclass")
}

func TestIDXSetErrors(t *testing.T) {
	_, err := LoadImages(context.Background(), fixture("idx-truncated"), Train, ImagesConfig{})
	checkOneLine(t, "truncated", err, ErrBadFormat, filepath.Join(fixture("idx-truncated"), "train-images-idx3-ubyte"), "truncated")
	_, err = LoadImages(context.Background(), fixture("idx-mismatch"), Train, ImagesConfig{})
	checkOneLine(t, "count mismatch", err, ErrBadFormat, "holds 6 images", "holds 5 labels")
	_, err = LoadImages(context.Background(), fixture("idx-mismatch"), Test, ImagesConfig{})
	checkOneLine(t, "no test split", err, ErrNotFound, "no test split")
}

func TestCIFAR10(t *testing.T) {
	dir := fixture("cifar")
	if f, err := DetectFormat(dir); f != FormatCIFAR10 || err != nil {
		t.Fatalf("DetectFormat = %v, %v", f, err)
	}
	train := load(t, dir, Train, ImagesConfig{})
	test := load(t, dir, Test, ImagesConfig{})
	if train.N != 7 || test.N != 2 || !slices.Equal(train.Shape(), []int{3, 32, 32}) {
		t.Fatalf("N %d, %d shape %v", train.N, test.N, train.Shape())
	}
	if train.Classes[0] != "airplane" || train.Classes[9] != "truck" || len(train.Classes) != 10 {
		t.Errorf("classes %q", train.Classes)
	}
	for i, s := range []*ImageSet{train, test} {
		first := 7 * i
		for k := range s.N {
			if s.Labels[k] != (first+k)%10 {
				t.Errorf("label of %d is %d", first+k, s.Labels[k])
			}
			for c := range 3 {
				for r := range 32 {
					for x := range 32 {
						if got, want := s.Image(k)[(c*32+r)*32+x], signed(pattern(first+k, c, r, x)); got != want {
							t.Fatalf("image %d (%d, %d, %d) = %v, want %v", first+k, c, r, x, got, want)
						}
					}
				}
			}
		}
	}
	lim := load(t, dir, Train, ImagesConfig{Limit: 5, Channels: 1, Height: 16})
	if lim.N != 5 || !slices.Equal(lim.Shape(), []int{1, 16, 16}) || lim.Labels[4] != 4 {
		t.Errorf("limited: N %d shape %v labels %v", lim.N, lim.Shape(), lim.Labels)
	}
	_, err := LoadImages(context.Background(), fixture("cifar-truncated"), Train, ImagesConfig{})
	checkOneLine(t, "truncated", err, ErrBadFormat, filepath.Join(fixture("cifar-truncated"), "data_batch_1.bin"), "record 1 is truncated")
	_, err = LoadImages(context.Background(), fixture("cifar-badlabel"), Train, ImagesConfig{})
	checkOneLine(t, "bad label", err, ErrBadFormat, filepath.Join(fixture("cifar-badlabel"), "data_batch_1.bin"), "record 1 has label 12")
	_, err = LoadImages(context.Background(), fixture("cifar-badlabel"), Test, ImagesConfig{})
	checkOneLine(t, "no test batch", err, ErrNotFound, "test_batch.bin")
}

// The default source is MNIST from the module cache, the same values as
// LoadMNIST's.
func TestLoadImagesMNIST(t *testing.T) {
	s := load(t, "", Test, ImagesConfig{Limit: 50})
	m, err := LoadMNIST(context.Background(), Test, MNISTConfig{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Images, m.Images) || !slices.Equal(s.Labels, m.Labels) || !slices.Equal(s.Shape(), []int{1, 28, 28}) || len(s.Classes) != 10 {
		t.Errorf("LoadImages(\"\") differs from LoadMNIST")
	}
	if ms := m.ImageSet(); !slices.Equal(ms.Images, s.Images) || ms.Classes[7] != "7" {
		t.Errorf("MNIST.ImageSet differs")
	}
}

func TestDetectFormat(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format
	}{
		{fixture("cifar"), FormatCIFAR10},
		{fixture("cifar", "cifar-10-batches-bin"), FormatCIFAR10},
		{fixture("idx"), FormatIDX},
		{fixture("emnist"), FormatIDX},
		{fixture("emnist", "emnist-letters"), FormatIDX},
		{fixture("folder", "labelled"), FormatFolder},
		{fixture("folder", "non-image"), FormatFolder},
	} {
		if got, err := DetectFormat(tc.path); got != tc.want || err != nil {
			t.Errorf("DetectFormat(%s) = %v, %v; want %v", tc.path, got, err, tc.want)
		}
	}
	_, err := DetectFormat(t.TempDir())
	checkOneLine(t, "empty", err, ErrNotFound, "is empty", "CIFAR-10")
	_, err = DetectFormat(fixture("idx", "classes.txt"))
	checkOneLine(t, "a file", err, nil, "is a file")
}

// Batches over a loaded set are seeded and allocation-free, as over MNIST.
func TestImageSetBatches(t *testing.T) {
	s := load(t, fixture("cifar"), Train, ImagesConfig{})
	next := func(seed uint64) []int {
		b := mustBatches(t, s.Images, s.Dim(), BatchConfig{Size: 3, Seed: seed})
		dst := make([]float64, 3*s.Dim())
		idx := make([]int, 3)
		var seen []int
		for range 5 {
			b.Next(dst, idx)
			for r, i := range idx {
				if !slices.Equal(dst[r*s.Dim():(r+1)*s.Dim()], s.Image(i)) {
					t.Fatalf("batch row %d is not image %d", r, i)
				}
			}
			seen = append(seen, idx...)
		}
		if a := testing.AllocsPerRun(20, func() { b.Next(dst, idx) }); a != 0 {
			t.Errorf("Next allocates %v times", a)
		}
		return seen
	}
	if a, b := next(3), next(3); !slices.Equal(a, b) {
		t.Errorf("equal seeds, different batches: %v, %v", a, b)
	}
}

func TestHoldOut(t *testing.T) {
	s := load(t, fixture("cifar"), Train, ImagesConfig{})
	rest, held, err := s.HoldOut(3, 9)
	if err != nil {
		t.Fatal(err)
	}
	if rest.N != 4 || held.N != 3 {
		t.Fatalf("sizes %d, %d", rest.N, held.N)
	}
	labels := append(slices.Clone(rest.Labels), held.Labels...)
	slices.Sort(labels)
	if !slices.Equal(labels, s.Labels) { // labels 0..6 are distinct: a partition
		t.Errorf("held-out labels %v and %v are not a partition of %v", rest.Labels, held.Labels, s.Labels)
	}
	_, held2, _ := s.HoldOut(3, 9)
	if !slices.Equal(held.Labels, held2.Labels) {
		t.Error("HoldOut is not determined by its seed")
	}
	for _, n := range []int{0, 7} {
		if _, _, err := s.HoldOut(n, 1); err == nil {
			t.Errorf("HoldOut(%d) of 7 succeeded", n)
		}
	}
}

// FuzzDecodeCIFAR10 checks that no input panics and that accepted input
// is whole records with labels 0..9.
func FuzzDecodeCIFAR10(f *testing.F) {
	for _, p := range []string{fixture("cifar-truncated", "data_batch_1.bin"), fixture("cifar-badlabel", "data_batch_1.bin")} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(make([]byte, cifarRecord))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		pix, labels, err := DecodeCIFAR10(data)
		if err != nil {
			if !errors.Is(err, ErrBadFormat) {
				t.Fatalf("error %v does not wrap ErrBadFormat", err)
			}
			return
		}
		if len(data) != len(labels)*cifarRecord || len(pix) != len(labels)*cifarPixels {
			t.Fatalf("%d bytes gave %d labels and %d pixels", len(data), len(labels), len(pix))
		}
		for i, l := range labels {
			if l < 0 || l > 9 || int(data[i*cifarRecord]) != l {
				t.Fatalf("label %d = %d", i, l)
			}
		}
	})
}

// FuzzImageFile runs any bytes through what LoadImageFolder does with a
// file (header, decode, conversion, resize) and checks that it never panics
// and that what it accepts lands in [0, 1].
func FuzzImageFile(f *testing.F) {
	for _, p := range []string{"formats/gray8.png", "formats/gray16.png", "formats/nrgba.png", "formats/paletted.gif",
		"formats/gray.jpg", "corrupt/img1.png", "truncated-png/img1.png", "bad-header/img0.png", "labelled/circle/circle0.png"} {
		b, err := os.ReadFile(fixture("folder", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(3), uint8(4), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, h, w, fit uint8) {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width*cfg.Height > 1<<16 || cfg.Width <= 0 || cfg.Height <= 0 {
			return
		}
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf []float64
		p := toPlanes(img, &buf)
		sh := &shaper{c: 3, h: int(h%9) + 1, w: int(w%9) + 1, fit: Fit(fit % 3)}
		out := make([]float64, 3*sh.h*sh.w)
		if err := sh.apply(out, p); err != nil {
			return
		}
		for _, v := range out {
			if !(v >= -1e-12 && v <= 1+1e-12) {
				t.Fatalf("value %v outside [0, 1]", v)
			}
		}
	})
}

// Shapes is seeded, balanced, and its classes are told apart by colour:
// the mean colour of the shape's pixels is nearest its class's colour.
func TestShapes(t *testing.T) {
	s, err := Shapes(ShapesConfig{N: 400, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Shapes(ShapesConfig{N: 400, Seed: 5})
	if !slices.Equal(s.Images, again.Images) || !slices.Equal(s.Labels, again.Labels) {
		t.Error("equal seeds gave different sets")
	}
	if !slices.Equal(s.Shape(), []int{3, 16, 16}) || len(s.Classes) != 4 {
		t.Fatalf("shape %v classes %v", s.Shape(), s.Classes)
	}
	var count [4]int
	plane := 16 * 16
	for i := range s.N {
		count[s.Labels[i]]++
		img := s.Image(i)
		var mean [3]float64
		lit := 0
		for p := range plane {
			if img[p] > -1 || img[plane+p] > -1 || img[2*plane+p] > -1 {
				lit++
				for c := range 3 {
					mean[c] += (img[c*plane+p] + 1) / 2
				}
			}
		}
		if lit < 10 {
			t.Fatalf("image %d has %d shape pixels", i, lit)
		}
		best, bestD := -1, math.Inf(1)
		for k, col := range shapeColours {
			d := 0.0
			for c := range 3 {
				d += math.Pow(mean[c]/float64(lit)-col[c], 2)
			}
			if d < bestD {
				best, bestD = k, d
			}
		}
		if best != s.Labels[i] {
			t.Errorf("image %d of class %d has the colour of class %d", i, s.Labels[i], best)
		}
	}
	for k, c := range count {
		// Binomial(400, 1/4): sd 8.7; 5 sd either side.
		if c < 100-44 || c > 100+44 {
			t.Errorf("class %d drawn %d times of 400", k, c)
		}
	}
	for _, bad := range []ShapesConfig{{N: -1}, {Size: 4}, {Range: 7}} {
		if _, err := Shapes(bad); err == nil {
			t.Errorf("Shapes(%+v) succeeded", bad)
		}
	}
}

func TestLoadTrainTest(t *testing.T) {
	ctx := context.Background()
	train, test, held, err := LoadTrainTest(ctx, fixture("folder", "labelled"), ImagesConfig{}, 0.25, 1)
	if err != nil || !held || train.N != 6 || test.N != 2 {
		t.Errorf("unsplit folder: %d and %d images, held out %v, %v", n(train), n(test), held, err)
	}
	train, test, held, err = LoadTrainTest(ctx, fixture("idx"), ImagesConfig{}, 0.25, 1)
	if err != nil || held || train.N != 6 || test.N != 4 {
		t.Errorf("IDX: %d and %d images, held out %v, %v", n(train), n(test), held, err)
	}
	_, _, _, err = LoadTrainTest(ctx, fixture("folder", "labelled"), ImagesConfig{}, 0, 1)
	checkOneLine(t, "no hold-out", err, ErrNotFound, "no test split")
	_, _, _, err = LoadTrainTest(ctx, fixture("folder", "labelled"), ImagesConfig{}, 1, 1)
	checkOneLine(t, "hold out everything", err, nil, "hold-out fraction 1")
}

func n(s *ImageSet) int {
	if s == nil {
		return -1
	}
	return s.N
}

func TestParseSize(t *testing.T) {
	for s, want := range map[string][2]int{"": {0, 0}, "0": {0, 0}, "32": {32, 32}, "64x48": {48, 64}, "20×10": {10, 20}, "8X8": {8, 8}} {
		h, w, err := ParseSize(s)
		if err != nil || h != want[0] || w != want[1] {
			t.Errorf("ParseSize(%q) = %d, %d, %v; want height %d, width %d", s, h, w, err, want[0], want[1])
		}
	}
	for _, s := range []string{"x", "-3", "3x", "0x4", "1x99999", "big"} {
		if _, _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) succeeded", s)
		}
	}
}

// WriteImageFolder and LoadImageFolder are inverse on 8-bit data.
func TestWriteImageFolderRoundTrip(t *testing.T) {
	for _, src := range []string{fixture("cifar"), fixture("idx"), fixture("folder", "gray")} {
		s := load(t, src, Train, ImagesConfig{})
		dir := t.TempDir()
		if err := WriteImageFolder(dir, s); err != nil {
			t.Fatal(err)
		}
		back := load(t, dir, Train, ImagesConfig{})
		if !slices.Equal(back.Shape(), s.Shape()) || back.N != s.N {
			t.Fatalf("%s: wrote %d of %v, read %d of %v", src, s.N, s.Shape(), back.N, back.Shape())
		}
		// Files sort by class, then index: compare image by image.
		order := make([]int, 0, s.N)
		labels := []int{-1}
		if s.Labels != nil {
			labels = make([]int, len(s.Classes))
			for k := range labels {
				labels[k] = k
			}
			slices.SortFunc(labels, func(a, b int) int {
				return strings.Compare(strings.ReplaceAll(s.Classes[a], "/", "_"), strings.ReplaceAll(s.Classes[b], "/", "_"))
			})
		}
		for _, k := range labels {
			for i := range s.N {
				if s.Labels == nil || s.Labels[i] == k {
					order = append(order, i)
				}
			}
		}
		for j, i := range order {
			if !slices.Equal(back.Image(j), s.Image(i)) || (s.Labels != nil && back.Classes[back.Labels[j]] != strings.ReplaceAll(s.Classes[s.Labels[i]], "/", "_")) {
				t.Fatalf("%s: image %d did not survive the round trip", src, i)
			}
		}
		if s.Labels != nil && !slices.Equal(back.Classes, sortedCopy(s.Classes)) {
			t.Errorf("%s: classes %v, wrote %v", src, back.Classes, s.Classes)
		}
	}
	bad := &ImageSet{N: 1, Channels: 1, Height: 1, Width: 1, Images: []float64{0}, Labels: []int{0}, Classes: []string{"a/b", "a_b"}}
	checkOneLine(t, "classes that make one folder", WriteImageFolder(t.TempDir(), bad), nil, `"a_b"`)
}

// sortedCopy returns the names as folder names, sorted.
func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	for i := range c {
		c[i] = strings.ReplaceAll(c[i], "/", "_")
	}
	slices.Sort(c)
	return c
}

package viz

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func nrgba(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

func TestImageGrid(t *testing.T) {
	// 5 grey images of 3×2 pixels: 3 per row, 2 rows, scale 2, border 1.
	const h, w = 3, 2
	x := make([]float64, 5*h*w)
	for k := range 5 {
		im := x[k*h*w : (k+1)*h*w]
		im[0], im[1] = -1, 1 // row 0: black, white
		im[2], im[3] = 0, 5  // row 1: mid grey, clipped white
		im[4], im[5] = -7, math.NaN()
		if k == 4 {
			im[0] = 0.5
		}
	}
	var buf bytes.Buffer
	if err := WriteImageGrid(&buf, x, []int{1, h, w}, GridConfig{Low: -1, High: 1, Scale: 2}); err != nil {
		t.Fatal(err)
	}
	img := decode(t, buf.Bytes())
	if b := img.Bounds(); b.Dx() != 3*2*w+4 || b.Dy() != 2*2*h+3 {
		t.Fatalf("size %v, want %d×%d", b.Size(), 3*2*w+4, 2*2*h+3)
	}
	grey := func(v uint8) color.NRGBA { return color.NRGBA{v, v, v, 255} }
	border := grey(128)
	// The pixel (px, py) of image k, at the top-left of its 2×2 block.
	at := func(k, px, py int) color.NRGBA {
		ox, oy := 1+(k%3)*(2*w+1), 1+(k/3)*(2*h+1)
		c := nrgba(img, ox+2*px, oy+2*py)
		for _, d := range [][2]int{{1, 0}, {0, 1}, {1, 1}} {
			if c2 := nrgba(img, ox+2*px+d[0], oy+2*py+d[1]); c2 != c {
				t.Fatalf("image %d pixel (%d,%d) is not a uniform 2×2 block: %v vs %v", k, px, py, c, c2)
			}
		}
		return c
	}
	for k := range 5 {
		want := [][]color.NRGBA{{grey(0), grey(255)}, {grey(128), grey(255)}, {grey(0), nanColor}}
		if k == 4 {
			want[0][0] = grey(191) // round(255·0.75)
		}
		for py := range h {
			for px := range w {
				if got := at(k, px, py); got != want[py][px] {
					t.Errorf("image %d pixel (%d,%d) = %v, want %v", k, px, py, got, want[py][px])
				}
			}
		}
	}
	for _, p := range []image.Point{{0, 0}, {5, 0}, {0, 7}, {img.Bounds().Dx() - 1, img.Bounds().Dy() - 1}} {
		if got := nrgba(img, p.X, p.Y); got != border {
			t.Errorf("border pixel %v = %v, want %v", p, got, border)
		}
	}
	// The empty sixth cell is border-coloured.
	if got := nrgba(img, 1+2*(2*w+1)+1, 1+(2*h+1)+1); got != border {
		t.Errorf("empty cell = %v, want %v", got, border)
	}
}

func TestImageGridRGB(t *testing.T) {
	// Two 1×1 RGB images, no border, default range [0, 1], one column.
	x := []float64{1, 0, 0.5, 0, 1, 0}
	img, err := ImageGrid(x, []int{3, 1, 1}, GridConfig{Cols: 1, NoBorder: true})
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 1 || img.Bounds().Dy() != 2 {
		t.Fatalf("size %v", img.Bounds())
	}
	if c := img.NRGBAAt(0, 0); c != (color.NRGBA{255, 0, 128, 255}) {
		t.Errorf("image 0 = %v", c)
	}
	if c := img.NRGBAAt(0, 1); c != (color.NRGBA{0, 255, 0, 255}) {
		t.Errorf("image 1 = %v", c)
	}
	// AutoRange maps the batch's extremes to 0 and 255.
	img, err = ImageGrid([]float64{-3, 7, 2, math.Inf(1)}, []int{2, 2}, GridConfig{AutoRange: true, NoBorder: true})
	if err != nil {
		t.Fatal(err)
	}
	got := []uint8{img.NRGBAAt(0, 0).R, img.NRGBAAt(1, 0).R, img.NRGBAAt(0, 1).R, img.NRGBAAt(1, 1).R}
	if want := []uint8{0, 255, 128, 255}; string(got) != string(want) {
		t.Errorf("AutoRange levels %v, want %v", got, want)
	}
}

func TestImageGridErrors(t *testing.T) {
	for _, tc := range []struct {
		x     []float64
		shape []int
		want  string
	}{
		{make([]float64, 10), []int{1, 2, 2}, "10 values is not a whole, positive number of images of shape [1 2 2]"},
		{nil, []int{1, 2, 2}, "0 values"},
		{make([]float64, 8), []int{2, 2, 2}, "C = 1 or 3"},
		{make([]float64, 8), []int{8}, "want (C, H, W) or (H, W)"},
		{make([]float64, 8), []int{1, 0, 2}, "positive H, W"},
	} {
		_, err := ImageGrid(tc.x, tc.shape, GridConfig{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ImageGrid(%d values, %v): %v, want an error containing %q", len(tc.x), tc.shape, err, tc.want)
		}
	}
	if _, err := ImageGrid(make([]float64, 4), []int{2, 2}, GridConfig{Scale: -1}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative Scale: %v, want an error", err)
	}
	if _, err := LinePlot(nil, PlotConfig{Smooth: 1}); err == nil || !strings.Contains(err.Error(), "Smooth") {
		t.Errorf("Smooth 1: %v, want an error", err)
	}
	if _, err := LinePlot(nil, PlotConfig{Width: -1}); err == nil {
		t.Error("LinePlot accepted a negative width")
	}
	if _, err := NewField(Box{0, 1, 0, 1}, 0, 3, func(x, y float64) float64 { return 0 }); err == nil || !strings.Contains(err.Error(), "0×3") {
		t.Errorf("0×3 grid: %v, want an error", err)
	}
	if _, err := NewField(Box{0, 0, 0, 1}, 3, 3, func(x, y float64) float64 { return 0 }); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty box: %v, want an error", err)
	}
}

// mustField is NewField for boxes and grids the test knows to be valid.
func mustField(t *testing.T, box Box, nx, ny int, fn func(x, y float64) float64) *Field {
	t.Helper()
	f, err := NewField(box, nx, ny, fn)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// colorPixels returns the positions of pixels of exactly colour c.
func colorPixels(img image.Image, c color.NRGBA) (xs, ys []float64) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if nrgba(img, x, y) == c {
				xs, ys = append(xs, float64(x)), append(ys, float64(y))
			}
		}
	}
	return xs, ys
}

// lineFit returns the largest distance (in rows) of the points from their
// least-squares line y = a + b·x, and b.
func lineFit(xs, ys []float64) (maxResid, slope float64) {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	slope = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	a := (sy - slope*sx) / n
	for i := range xs {
		maxResid = math.Max(maxResid, math.Abs(ys[i]-a-slope*xs[i]))
	}
	return maxResid, slope
}

func TestLinePlotGeometry(t *testing.T) {
	// y = 10^x is a straight line on a log axis and a curve on a linear one.
	var x, y []float64
	for i := range 301 {
		x = append(x, float64(i)/100)
		y = append(y, math.Pow(10, float64(i)/100))
	}
	c0 := seriesColors[0]
	for _, logY := range []bool{true, false} {
		var buf bytes.Buffer
		err := WriteLinePlot(&buf, []Series{{X: x, Y: y}}, PlotConfig{Title: "t", LogY: logY, Width: 600, Height: 400})
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, buf.Bytes())
		if img.Bounds().Dx() != 600 || img.Bounds().Dy() != 400 {
			t.Fatalf("size %v, want 600×400", img.Bounds().Size())
		}
		if c := nrgba(img, 0, 0); c != (color.NRGBA{255, 255, 255, 255}) {
			t.Errorf("background %v, want white", c)
		}
		xs, ys := colorPixels(img, c0)
		if len(xs) < 300 {
			t.Fatalf("logY=%v: only %d pixels of the series colour", logY, len(xs))
		}
		resid, slope := lineFit(xs, ys)
		t.Logf("logY=%v: %d pixels, slope %.3f, max residual %.1f px", logY, len(xs), slope, resid)
		if slope >= 0 {
			t.Errorf("logY=%v: slope %.3f: an increasing series must go up (rows decrease)", logY, slope)
		}
		if logY && resid > 2 {
			t.Errorf("log axis: 10^x deviates %.1f px from a straight line", resid)
		}
		if !logY && resid < 30 {
			t.Errorf("linear axis: 10^x is within %.1f px of a straight line", resid)
		}
	}
}

func TestLinePlotSeries(t *testing.T) {
	// Two series, NaN gaps, non-positive values on a log axis, an isolated
	// point and an empty series: all drawn without error, each series in
	// its own colour.
	a := []float64{3, 2, math.NaN(), 1, 0.5, -1, 0.2, math.Inf(1), 0.1}
	b := []float64{1, 1, 1, 1}
	img, err := LinePlot([]Series{{Name: "a", Y: a}, {Name: "b", X: []float64{0, 2, 4, 8}, Y: b}, {Name: "empty"}},
		PlotConfig{LogY: true, Smooth: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 800 || img.Bounds().Dy() != 500 {
		t.Errorf("default size %v, want 800×500", img.Bounds().Size())
	}
	for i := range 3 {
		if xs, _ := colorPixels(img, seriesColors[i]); len(xs) == 0 {
			t.Errorf("no pixel of series %d's colour %v", i, seriesColors[i])
		}
	}
	// Nothing finite at all still gives axes.
	if _, err := LinePlot([]Series{{Y: []float64{math.NaN(), -1}}}, PlotConfig{LogY: true}); err != nil {
		t.Error(err)
	}
	if _, err := LinePlot(nil, PlotConfig{}); err != nil {
		t.Error(err)
	}
	_, err = LinePlot([]Series{{Name: "bad", X: []float64{1, 2}, Y: []float64{1}}}, PlotConfig{})
	if err == nil || !strings.Contains(err.Error(), `series "bad" has 2 x and 1 y values`) {
		t.Errorf("mismatched series: %v", err)
	}
}

func TestEMA(t *testing.T) {
	got := ema([]float64{1, math.NaN(), 3, 5}, 0.5)
	want := []float64{1, math.NaN(), 2, 3.5}
	for i := range want {
		if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Fatalf("ema = %v, want %v", got, want)
		}
	}
}

func TestColorMap(t *testing.T) {
	for _, m := range []*ColorMap{Viridis, Magma, RdBu, Greys} {
		if m.At(0) != m.Stops[0] || m.At(1) != m.Stops[len(m.Stops)-1] || m.At(-5) != m.Stops[0] || m.At(7) != m.Stops[len(m.Stops)-1] {
			t.Errorf("%s: ends %v %v", m.Name, m.At(0), m.At(1))
		}
		if m.At(math.NaN()).A != 0 {
			t.Errorf("%s: NaN is not transparent", m.Name)
		}
	}
	if c := Greys.At(0.5); c != (color.NRGBA{128, 128, 128, 255}) {
		t.Errorf("Greys.At(0.5) = %v", c)
	}
	if c := Viridis.At(1.0 / 9); c != (color.NRGBA{0x48, 0x28, 0x78, 255}) {
		t.Errorf("Viridis.At(1/9) = %v, want the second stop", c)
	}
}

// quadratic is the energy f(x) = −½|x − c|²/σ² in two dimensions.
type quadratic struct{ cx, cy, s2 float64 }

func (q quadratic) Dim() int { return 2 }
func (q quadratic) F(dst, x []float64) error {
	if _, err := energy.CheckBatch(2, dst, x); err != nil {
		return err
	}
	for n := range dst {
		dx, dy := x[2*n]-q.cx, x[2*n+1]-q.cy
		dst[n] = -0.5 * (dx*dx + dy*dy) / q.s2
	}
	return nil
}

func TestFields(t *testing.T) {
	box := Box{-6, 6, -5, 7}
	q := quadratic{0.5, 1, 1.2}
	f, err := EnergyField(q, box, 60, 50)
	if err != nil {
		t.Fatal(err)
	}
	g := mustField(t, box, 60, 50, func(x, y float64) float64 {
		v := []float64{0}
		q.F(v, []float64{x, y})
		return v[0]
	})
	for k := range f.Z {
		if f.Z[k] != g.Z[k] {
			t.Fatalf("EnergyField and NewField differ at %d: %v vs %v", k, f.Z[k], g.Z[k])
		}
	}
	if f.X(0) != -5.9 || f.X(59) != 5.9 || f.Y(0) != -4.88 || math.Abs(f.Y(49)-6.88) > 1e-12 {
		t.Errorf("cell centres x %v..%v, y %v..%v", f.X(0), f.X(59), f.Y(0), f.Y(49))
	}
	// The density of a Gaussian well inside the box integrates to 1 and
	// matches N(c, σ²I) at the cell centres to quadrature accuracy.
	d := f.Density()
	cell := 0.2 * 0.24
	sum := 0.0
	for j := range d.NY {
		for i := range d.NX {
			p := d.Z[j*d.NX+i]
			sum += p * cell
			dx, dy := d.X(i)-q.cx, d.Y(j)-q.cy
			exact := math.Exp(-0.5*(dx*dx+dy*dy)/q.s2) / (2 * math.Pi * q.s2)
			if math.Abs(p-exact) > 1e-3 {
				t.Fatalf("density at (%g, %g) = %g, exact %g", d.X(i), d.Y(j), p, exact)
			}
		}
	}
	if math.Abs(sum-1) > 1e-12 {
		t.Errorf("density integrates to %v", sum)
	}
	if _, err := EnergyField(struct{ quadratic3 }{}, box, 4, 4); err == nil || !strings.Contains(err.Error(), "dimension 3") {
		t.Errorf("3-D energy: %v", err)
	}
}

type quadratic3 struct{}

func (quadratic3) Dim() int                 { return 3 }
func (quadratic3) F(dst, x []float64) error { return nil }

func TestHeatmap(t *testing.T) {
	// Left half 0, right half 1: the map shows the two ends of Viridis,
	// left of each other, and the colour bar shows the map from bottom to
	// top at the right edge.
	f := mustField(t, Box{0, 2, 0, 1}, 40, 20, func(x, y float64) float64 {
		if x < 1 {
			return 0
		}
		return 1
	})
	red := color.NRGBA{255, 0, 0, 255}
	inside := []float64{0.5, 0.5, 1.5, 0.25}
	outside := []float64{-1, 0.5, 3, 3}
	for _, tc := range []struct {
		name       string
		cfg        HeatmapConfig
		wantRed    bool
		wantBarRed bool
	}{
		{"samples", HeatmapConfig{Samples: inside, SampleColor: red, SampleRadius: 3}, true, false},
		{"outside", HeatmapConfig{Samples: outside, SampleColor: red}, false, false},
		{"no bar", HeatmapConfig{NoColorBar: true, Width: 300, Height: 200}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteHeatmap(&buf, f, tc.cfg); err != nil {
				t.Fatal(err)
			}
			img := decode(t, buf.Bytes())
			w, h := sizeOr(tc.cfg.Width, 640), sizeOr(tc.cfg.Height, 520)
			if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
				t.Fatalf("size %v, want %d×%d", img.Bounds().Size(), w, h)
			}
			lx, _ := colorPixels(img, Viridis.At(0))
			rx, _ := colorPixels(img, Viridis.At(1))
			if len(lx) < 1000 || len(rx) < 1000 {
				t.Fatalf("%d and %d pixels of the map's two colours", len(lx), len(rx))
			}
			if mean(lx) >= mean(rx) {
				t.Errorf("low values drawn right of high values: mean x %.0f vs %.0f", mean(lx), mean(rx))
			}
			if xs, _ := colorPixels(img, red); (len(xs) > 0) != tc.wantRed {
				t.Errorf("%d sample pixels, want some: %v", len(xs), tc.wantRed)
			}
			// The colour bar: a column near the right edge going from
			// Viridis(0) at the bottom to Viridis(1) at the top.
			col := w - 10 - 9
			top, bottom := -1, -1
			for y := range h {
				c := nrgba(img, col, y)
				if near(c, Viridis.At(1), 8) && top < 0 {
					top = y
				}
				if near(c, Viridis.At(0), 8) {
					bottom = y
				}
			}
			hasBar := top >= 0 && bottom > top+100
			if hasBar == tc.cfg.NoColorBar {
				t.Errorf("colour bar column %d: top %d, bottom %d; NoColorBar %v", col, top, bottom, tc.cfg.NoColorBar)
			}
		})
	}
	for _, bad := range []struct {
		f    *Field
		cfg  HeatmapConfig
		want string
	}{
		{&Field{Box: Box{0, 1, 0, 1}, NX: 2, NY: 2, Z: make([]float64, 3)}, HeatmapConfig{}, "field of 3 values for a 2×2 grid"},
		{&Field{Box: Box{1, 1, 0, 1}, NX: 1, NY: 1, Z: make([]float64, 1)}, HeatmapConfig{}, "box"},
		{f, HeatmapConfig{Samples: []float64{1}}, "1 sample coordinates"},
	} {
		if _, err := Heatmap(bad.f, bad.cfg); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Heatmap error %v, want one containing %q", err, bad.want)
		}
	}
	// A constant or all-NaN field draws without error.
	for _, v := range []float64{3, math.NaN()} {
		c := mustField(t, Box{0, 1, 0, 1}, 3, 3, func(x, y float64) float64 { return v })
		if _, err := Heatmap(c, HeatmapConfig{Density: true}); err != nil {
			t.Errorf("constant %v field: %v", v, err)
		}
	}
}

// near reports whether every channel of a and b differs by at most tol.
func near(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B) && d(a.A, b.A)
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func TestSaveAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "grid.png")
	if err := SaveImageGrid(path, []float64{0, 1, 1, 0}, []int{2, 2}, GridConfig{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, b)
	// A failed save leaves the old file and no temporary files.
	if err := SaveImageGrid(path, []float64{0, 1, 1}, []int{2, 2}, GridConfig{}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("bad grid: %v", err)
	}
	if err := SaveLinePlot(path, []Series{{X: []float64{1}, Y: nil}}, PlotConfig{}); err == nil {
		t.Error("bad series saved")
	}
	fail := errors.New("disk full")
	if err := saveAtomic(path, func(w io.Writer) error { w.Write([]byte("partial")); return fail }); !errors.Is(err, fail) {
		t.Errorf("saveAtomic: %v", err)
	}
	if b2, _ := os.ReadFile(path); !bytes.Equal(b, b2) {
		t.Error("a failed save changed the file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the directory, want 1", len(entries))
	}
	if err := SaveHeatmap(filepath.Join(dir, "missing", "h.png"), mustField(t, Box{0, 1, 0, 1}, 2, 2, func(x, y float64) float64 { return x }), HeatmapConfig{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("save into a missing directory: %v", err)
	}
}

// Tile puts each picture in its cell, row by row, on white.
func TestTile(t *testing.T) {
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	cell := func(c color.Color) image.Image {
		m := image.NewRGBA(image.Rect(0, 0, 2, 3))
		draw.Draw(m, m.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		return m
	}
	out := Tile([]image.Image{cell(red), cell(blue), cell(red)}, 2)
	if b := out.Bounds(); b.Dx() != 4 || b.Dy() != 6 {
		t.Fatalf("3 cells of 2×3 in rows of 2: %v, want 4×6", b)
	}
	for _, tc := range []struct {
		x, y int
		want color.Color
	}{{0, 0, red}, {3, 2, blue}, {1, 4, red}, {3, 5, color.RGBA{255, 255, 255, 255}}} {
		if got := out.At(tc.x, tc.y); got != tc.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	if b := Tile([]image.Image{cell(red), cell(blue)}, 0).Bounds(); b.Dx() != 4 || b.Dy() != 3 {
		t.Errorf("cols 0: %v, want one row 4×3", b)
	}
	if b := Tile(nil, 3).Bounds(); b.Dx() != 1 || b.Dy() != 1 {
		t.Errorf("no pictures: %v, want 1×1", b)
	}
}

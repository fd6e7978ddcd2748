package viz

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
)

// GridConfig says how ImageGrid lays out and colours a batch of images.
// The zero value puts ⌈√N⌉ images per row, maps [0, 1] to black…white,
// and draws 1-pixel grey borders.
type GridConfig struct {
	// Cols is the number of images per row; 0 means ⌈√N⌉.
	Cols int
	// Low and High are the values drawn as 0 and 255; values outside are
	// clipped. Both zero means [0, 1]. Use Low: −1, High: 1 for images
	// scaled to [−1, 1].
	Low, High float64
	// AutoRange maps the batch's smallest and largest finite values to 0
	// and 255 instead of Low and High.
	AutoRange bool
	// Scale repeats every pixel Scale×Scale times; 0 means 1.
	Scale int
	// Border is the width in pixels of the lines around and between the
	// images; 0 means 1. NoBorder leaves them out.
	Border   int
	NoBorder bool
	// BorderColor colours the borders and empty cells; nil means mid grey.
	BorderColor color.Color
}

// nanColor marks NaN pixels.
var nanColor = color.NRGBA{255, 0, 255, 255}

// ImageGrid tiles the images of the batch x into one picture. shape is
// the shape of one image: (C, H, W) with C = 1 (grey) or 3 (RGB), or
// (H, W); x holds N images row-major, N = len(x)/(C·H·W). It returns an
// error if x is empty or not a whole number of images, or shape is not
// one of these.
func ImageGrid(x []float64, shape []int, cfg GridConfig) (*image.NRGBA, error) {
	if cfg.Cols < 0 || cfg.Scale < 0 || cfg.Border < 0 {
		return nil, fmt.Errorf("viz: ImageGrid: GridConfig Cols %d, Scale %d, Border %d: negative", cfg.Cols, cfg.Scale, cfg.Border)
	}
	var c, h, w int
	switch len(shape) {
	case 2:
		c, h, w = 1, shape[0], shape[1]
	case 3:
		c, h, w = shape[0], shape[1], shape[2]
	default:
		return nil, fmt.Errorf("viz: ImageGrid: image shape %v, want (C, H, W) or (H, W)", shape)
	}
	if c != 1 && c != 3 || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("viz: ImageGrid: image shape %v, want C = 1 or 3 channels and positive H, W", shape)
	}
	dim := c * h * w
	if len(x) == 0 || len(x)%dim != 0 {
		return nil, fmt.Errorf("viz: ImageGrid: %d values is not a whole, positive number of images of shape %v (%d values each)", len(x), shape, dim)
	}
	n := len(x) / dim
	cols := cfg.Cols
	if cols == 0 {
		cols = int(math.Ceil(math.Sqrt(float64(n))))
	}
	cols = min(cols, n)
	rows := (n + cols - 1) / cols
	scale := max(cfg.Scale, 1)
	border := max(cfg.Border, 1)
	if cfg.NoBorder {
		border = 0
	}
	lo, hi := cfg.Low, cfg.High
	if lo == 0 && hi == 0 {
		hi = 1
	}
	if cfg.AutoRange {
		lo, hi = finiteRange(x)
	}
	if !(hi > lo) { // a constant batch, or Low ≥ High
		hi = lo + 1
	}
	tw, th := w*scale, h*scale
	img := image.NewNRGBA(image.Rect(0, 0, cols*tw+(cols+1)*border, rows*th+(rows+1)*border))
	bc := color.NRGBAModel.Convert(orDefault(cfg.BorderColor, color.Gray{128})).(color.NRGBA)
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = bc.R, bc.G, bc.B, bc.A
	}
	level := func(v float64) uint8 {
		t := (v - lo) / (hi - lo)
		return uint8(math.Round(255 * math.Min(1, math.Max(0, t))))
	}
	for k := range n {
		ox := border + (k%cols)*(tw+border)
		oy := border + (k/cols)*(th+border)
		im := x[k*dim : (k+1)*dim]
		for y := range h {
			for xx := range w {
				var px color.NRGBA
				nan := false
				var ch [3]uint8
				for ci := range c {
					v := im[ci*h*w+y*w+xx]
					if math.IsNaN(v) {
						nan = true
					}
					ch[ci] = level(v)
				}
				switch {
				case nan:
					px = nanColor
				case c == 1:
					px = color.NRGBA{ch[0], ch[0], ch[0], 255}
				default:
					px = color.NRGBA{ch[0], ch[1], ch[2], 255}
				}
				for sy := range scale {
					off := img.PixOffset(ox+xx*scale, oy+y*scale+sy)
					for sx := range scale {
						p := img.Pix[off+4*sx : off+4*sx+4 : off+4*sx+4]
						p[0], p[1], p[2], p[3] = px.R, px.G, px.B, px.A
					}
				}
			}
		}
	}
	return img, nil
}

// WriteImageGrid writes ImageGrid(x, shape, cfg) to w as PNG.
func WriteImageGrid(w io.Writer, x []float64, shape []int, cfg GridConfig) error {
	img, err := ImageGrid(x, shape, cfg)
	if err != nil {
		return err
	}
	return WritePNG(w, img)
}

// SaveImageGrid writes ImageGrid(x, shape, cfg) to the PNG file at path,
// atomically.
func SaveImageGrid(path string, x []float64, shape []int, cfg GridConfig) error {
	img, err := ImageGrid(x, shape, cfg)
	if err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	return SavePNG(path, img)
}

// finiteRange returns the smallest and largest finite values of x
// (0, 1 if there are none).
func finiteRange(x []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range x {
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return 0, 1
	}
	return lo, hi
}

func orDefault(c, def color.Color) color.Color {
	if c == nil {
		return def
	}
	return c
}

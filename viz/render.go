package viz

import (
	"fmt"
	"image"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// dpi is the resolution drawings are rendered at: sizes are given in
// pixels, fonts in points.
const dpi = 96

// render draws with fn on a white w×h-pixel canvas. gonum/plot panics on
// some degenerate input; render turns that into an error.
func render(what string, w, h int, fn func(dc draw.Canvas)) (img *image.RGBA, err error) {
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("viz: %s: size %d×%d is not positive", what, w, h))
	}
	c := vgimg.NewWith(
		vgimg.UseWH(vg.Length(w)*vg.Inch/dpi, vg.Length(h)*vg.Inch/dpi),
		vgimg.UseDPI(dpi))
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("viz: %s: %v", what, r)
		}
	}()
	fn(draw.New(c))
	rgba, ok := c.Image().(*image.RGBA)
	if !ok {
		return nil, fmt.Errorf("viz: %s: canvas is a %T", what, c.Image())
	}
	return rgba, nil
}

// px converts pixels to vg lengths at the rendering resolution.
func px(n float64) vg.Length { return vg.Length(n) * vg.Inch / dpi }

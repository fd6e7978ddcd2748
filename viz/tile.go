package viz

import (
	"image"
	"image/color"
	"image/draw"
)

// Tile lays pictures out in rows of cols on a white canvas, each in a cell
// the size of the first picture (a larger one is cut, a smaller one sits in
// its cell's top-left corner). cols < 1 puts them all in one row; no
// pictures give a 1×1 white canvas. It is how the example programs put the
// panels of a study side by side.
func Tile(imgs []image.Image, cols int) *image.RGBA {
	if len(imgs) == 0 {
		out := image.NewRGBA(image.Rect(0, 0, 1, 1))
		out.Set(0, 0, color.White)
		return out
	}
	if cols < 1 {
		cols = len(imgs)
	}
	w, h := imgs[0].Bounds().Dx(), imgs[0].Bounds().Dy()
	rows := (len(imgs) + cols - 1) / cols
	out := image.NewRGBA(image.Rect(0, 0, cols*w, rows*h))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	for i, img := range imgs {
		at := image.Pt((i%cols)*w, (i/cols)*h)
		draw.Draw(out, image.Rectangle{Min: at, Max: at.Add(image.Pt(w, h))}, img, img.Bounds().Min, draw.Src)
	}
	return out
}

package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// ShapesConfig configures Shapes. The zero value draws 1000 images of
// 16×16.
type ShapesConfig struct {
	// N is the number of images; 0 means 1000.
	N int
	// Size is the height and width of every image, at least 8; 0 means
	// 16.
	Size int
	// Seed seeds the drawing; equal seeds give equal sets.
	Seed uint64
	// Range is the interval values are scaled to; the zero value is
	// Signed, [−1, 1].
	Range Range
}

// ShapeClasses are the classes of Shapes, in label order: each is a shape
// in a colour of its own.
var ShapeClasses = []string{"red disc", "green square", "blue cross", "yellow ring"}

// shapeColours are the classes' colours in [0, 1].
var shapeColours = [][3]float64{{0.9, 0.15, 0.1}, {0.15, 0.8, 0.2}, {0.2, 0.35, 0.95}, {0.95, 0.85, 0.15}}

// Shapes draws a labelled set of RGB images with known structure, for
// tests and demonstrations that need image data but no files: each image
// is one shape on a black background, its class (uniform over
// ShapeClasses) deciding both the shape and its colour. The centre is
// uniform over the middle of the image, the radius r uniform in [Size/6,
// Size/3.5], the colour the class's own with each channel shifted by up
// to ±0.1. Pixels whose centre lies in the shape take its colour:
//
//	disc:   |p − c| ≤ r
//	square: |p − c|∞ ≤ 0.8·r
//	cross:  |p − c|∞ ≤ r and the smaller of |dx|, |dy| ≤ r/3
//	ring:   0.55·r ≤ |p − c| ≤ r
//
// A class is therefore told by colour alone, and also by shape alone.
func Shapes(cfg ShapesConfig) (*ImageSet, error) {
	n, size := cfg.N, cfg.Size
	if n == 0 {
		n = 1000
	}
	if size == 0 {
		size = 16
	}
	switch {
	case n < 0:
		return nil, fmt.Errorf("datasets: Shapes: N %d: must not be negative", cfg.N)
	case size < 8 || size > maxSide:
		return nil, fmt.Errorf("datasets: Shapes: Size %d: want 8 to %d", cfg.Size, maxSide)
	case cfg.Range != Signed && cfg.Range != Unit:
		return nil, fmt.Errorf("datasets: Shapes: Range %d: want Signed or Unit", int(cfg.Range))
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5a4a_9e5))
	plane := size * size
	s := &ImageSet{
		N: n, Channels: 3, Height: size, Width: size,
		Images: make([]float64, n*3*plane), Labels: make([]int, n),
		Classes: append([]string(nil), ShapeClasses...), Range: cfg.Range, Source: "datasets.Shapes",
	}
	fs := float64(size)
	for i := range n {
		k := rng.IntN(len(ShapeClasses))
		s.Labels[i] = k
		r := fs/6 + rng.Float64()*(fs/3.5-fs/6)
		cx := fs/2 + (rng.Float64()-0.5)*(fs-2*r)*0.8
		cy := fs/2 + (rng.Float64()-0.5)*(fs-2*r)*0.8
		var col [3]float64
		for c := range col {
			col[c] = math.Min(1, math.Max(0, shapeColours[k][c]+0.2*(rng.Float64()-0.5)))
		}
		img := s.Images[i*3*plane : (i+1)*3*plane]
		for y := range size {
			for x := range size {
				dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
				d, ax, ay := math.Hypot(dx, dy), math.Abs(dx), math.Abs(dy)
				var in bool
				switch k {
				case 0:
					in = d <= r
				case 1:
					in = ax <= 0.8*r && ay <= 0.8*r
				case 2:
					in = ax <= r && ay <= r && min(ax, ay) <= r/3
				case 3:
					in = d <= r && d >= 0.55*r
				}
				if in {
					for c := range 3 {
						img[c*plane+y*size+x] = col[c]
					}
				}
			}
		}
	}
	scaleRange(s.Images, cfg.Range)
	return s, nil
}

package viz

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"github.com/ebmgo/ebm/energy"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Box is a rectangle [XMin, XMax] × [YMin, YMax] in the plane.
type Box struct {
	XMin, XMax, YMin, YMax float64
}

func (b Box) valid() bool {
	return b.XMax > b.XMin && b.YMax > b.YMin && isFinite(b.XMax-b.XMin) && isFinite(b.YMax-b.YMin)
}

// Field is a scalar function sampled at the centres of an NX×NY grid of
// cells over Box: Z[j*NX+i] is the value at (X(i), Y(j)), row j = 0 at the
// bottom (YMin). Its methods only read it, so it is safe for concurrent
// use while nothing changes its fields.
type Field struct {
	Box    Box
	NX, NY int
	Z      []float64
}

// X returns the x coordinate of column i's cell centres.
func (f *Field) X(i int) float64 {
	return f.Box.XMin + (float64(i)+0.5)*(f.Box.XMax-f.Box.XMin)/float64(f.NX)
}

// Y returns the y coordinate of row j's cell centres.
func (f *Field) Y(j int) float64 {
	return f.Box.YMin + (float64(j)+0.5)*(f.Box.YMax-f.Box.YMin)/float64(f.NY)
}

// NewField samples fn at the cell centres of an nx×ny grid over box. It
// returns an error if the grid has no cells or the box is empty or not
// finite.
func NewField(box Box, nx, ny int, fn func(x, y float64) float64) (*Field, error) {
	f, err := newField("NewField", box, nx, ny)
	if err != nil {
		return nil, err
	}
	for j := range ny {
		for i := range nx {
			f.Z[j*nx+i] = fn(f.X(i), f.Y(j))
		}
	}
	return f, nil
}

func newField(fn string, box Box, nx, ny int) (*Field, error) {
	if nx <= 0 || ny <= 0 {
		return nil, fmt.Errorf("viz: %s: grid of %d×%d cells, want at least 1×1", fn, nx, ny)
	}
	if !box.valid() {
		return nil, fmt.Errorf("viz: %s: box %+v is empty or not finite", fn, box)
	}
	return &Field{Box: box, NX: nx, NY: ny, Z: make([]float64, nx*ny)}, nil
}

// EnergyField samples the log-density f of a 2-D energy at the cell
// centres of an nx×ny grid over box, one grid row per call to e.F.
func EnergyField(e energy.Energy, box Box, nx, ny int) (*Field, error) {
	if e.Dim() != 2 {
		return nil, fmt.Errorf("viz: EnergyField: energy of dimension %d, want 2", e.Dim())
	}
	f, err := newField("EnergyField", box, nx, ny)
	if err != nil {
		return nil, err
	}
	x := make([]float64, 2*nx)
	for j := range ny {
		for i := range nx {
			x[2*i], x[2*i+1] = f.X(i), f.Y(j)
		}
		if err := e.F(f.Z[j*nx:(j+1)*nx], x); err != nil {
			return nil, fmt.Errorf("viz: EnergyField: row %d (y = %g): %w", j, f.Y(j), err)
		}
	}
	return f, nil
}

// Density returns the density exp(Z) normalised over the grid, treating Z
// as a log-density: p_ij = exp(Z_ij − max Z) / (Σ exp(Z − max Z)·ΔxΔy).
// Non-finite Z other than −Inf (density 0) give NaN.
func (f *Field) Density() *Field {
	out := &Field{Box: f.Box, NX: f.NX, NY: f.NY, Z: make([]float64, len(f.Z))}
	m := math.Inf(-1)
	for _, z := range f.Z {
		if isFinite(z) {
			m = math.Max(m, z)
		}
	}
	sum := 0.0
	for k, z := range f.Z {
		switch {
		case math.IsInf(z, -1):
			out.Z[k] = 0
		case isFinite(z):
			out.Z[k] = math.Exp(z - m)
			sum += out.Z[k]
		default:
			out.Z[k] = math.NaN()
		}
	}
	cell := (f.Box.XMax - f.Box.XMin) * (f.Box.YMax - f.Box.YMin) / float64(f.NX*f.NY)
	for k := range out.Z {
		out.Z[k] /= sum * cell
	}
	return out
}

// HeatmapConfig says how Heatmap draws. The zero value is a 640×520-pixel
// viridis map of the values over their own range, with a colour bar.
type HeatmapConfig struct {
	Title, XLabel, YLabel string
	// Width and Height are the picture's size in pixels; 0 means 640 and
	// 520.
	Width, Height int
	// ColorMap colours the values; nil means Viridis.
	ColorMap *ColorMap
	// Density shows the field's Density() instead of its values, for a
	// field of log-densities such as EnergyField gives.
	Density bool
	// Min and Max are the values at the two ends of the colour map; values
	// outside are clipped. Min = Max (both zero, say) means the range of
	// the finite values shown.
	Min, Max float64
	// Samples are points drawn over the map, row-major (x, y) pairs like
	// a batch of 2-D samples; points outside the box are left out.
	Samples []float64
	// SampleColor colours the samples; nil means white.
	SampleColor color.Color
	// SampleRadius is the radius of a sample's dot in pixels; 0 means 1.5.
	SampleRadius float64
	// NoColorBar leaves out the colour bar.
	NoColorBar bool
}

// Heatmap draws the field as coloured cells with axes, a colour bar and
// the samples over it. It returns an error if len(f.Z) ≠ NX·NY or
// Samples has an odd length.
func Heatmap(f *Field, cfg HeatmapConfig) (*image.RGBA, error) {
	if f.NX <= 0 || f.NY <= 0 || len(f.Z) != f.NX*f.NY {
		return nil, fmt.Errorf("viz: Heatmap: field of %d values for a %d×%d grid", len(f.Z), f.NX, f.NY)
	}
	if !f.Box.valid() {
		return nil, fmt.Errorf("viz: Heatmap: box %+v is empty or not finite", f.Box)
	}
	if len(cfg.Samples)%2 != 0 {
		return nil, fmt.Errorf("viz: Heatmap: %d sample coordinates is not a whole number of (x, y) pairs", len(cfg.Samples))
	}
	if cfg.Width < 0 || cfg.Height < 0 {
		return nil, fmt.Errorf("viz: Heatmap: HeatmapConfig size %d×%d is negative", cfg.Width, cfg.Height)
	}
	if cfg.Density {
		f = f.Density()
	}
	cm := cfg.ColorMap
	if cm == nil {
		cm = Viridis
	}
	lo, hi := cfg.Min, cfg.Max
	if lo == hi {
		lo, hi = finiteRange(f.Z)
	}
	if !(hi > lo) {
		lo, hi = lo-0.5, lo+0.5
	}
	// One pixel per cell, row 0 of the image at the top (YMax).
	cells := image.NewNRGBA(image.Rect(0, 0, f.NX, f.NY))
	for j := range f.NY {
		for i := range f.NX {
			cells.SetNRGBA(i, f.NY-1-j, cm.At((f.Z[j*f.NX+i]-lo)/(hi-lo)))
		}
	}
	b := f.Box
	p := plot.New()
	p.Title.Text = cfg.Title
	p.X.Label.Text = cfg.XLabel
	p.Y.Label.Text = cfg.YLabel
	p.X.Padding, p.Y.Padding = 0, 0
	p.Add(&cellImage{cells, b})
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = b.XMin, b.XMax, b.YMin, b.YMax
	if len(cfg.Samples) > 0 {
		var pts plotter.XYs
		for k := 0; k < len(cfg.Samples); k += 2 {
			x, y := cfg.Samples[k], cfg.Samples[k+1]
			if x >= b.XMin && x <= b.XMax && y >= b.YMin && y <= b.YMax {
				pts = append(pts, plotter.XY{X: x, Y: y})
			}
		}
		if len(pts) > 0 {
			s, err := plotter.NewScatter(pts)
			if err != nil {
				return nil, fmt.Errorf("viz: Heatmap: samples: %w", err)
			}
			r := cfg.SampleRadius
			if r == 0 {
				r = 1.5
			}
			s.GlyphStyle = draw.GlyphStyle{Color: orDefault(cfg.SampleColor, color.White), Radius: px(r), Shape: draw.CircleGlyph{}}
			p.Add(s)
		}
	}
	w, h := sizeOr(cfg.Width, 640), sizeOr(cfg.Height, 520)
	return render("Heatmap", w, h, func(dc draw.Canvas) {
		if cfg.NoColorBar {
			p.Draw(dc)
			return
		}
		// The colour bar takes a strip on the right, as tall as the
		// map's data area, with its tick labels between the two.
		bar := plot.New()
		bar.HideX()
		bar.Y.Padding = 0
		bar.Add(&plotter.ColorBar{ColorMap: &rangedMap{m: cm, lo: lo, hi: hi}, Vertical: true})
		axisW := bar.DataCanvas(dc).Min.X - dc.Min.X // tick labels and marks
		barW, gap, right := px(18), px(16), px(10)
		main := draw.Crop(dc, 0, -(gap + axisW + barW + right), 0, 0)
		p.Draw(main)
		da := p.DataCanvas(main)
		bar.Draw(draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: dc.Max.X - right - barW - axisW, Y: da.Min.Y},
			Max: vg.Point{X: dc.Max.X - right, Y: da.Max.Y},
		}})
	})
}

// cellImage draws the grid's cells as sharp rectangles: it scales the
// one-pixel-per-cell image (nearest neighbour) to the pixels the box
// covers on the canvas, so the rasteriser draws it 1:1 without blurring.
type cellImage struct {
	cells *image.NRGBA
	box   Box
}

func (ci *cellImage) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	r := vg.Rectangle{
		Min: vg.Point{X: trX(ci.box.XMin), Y: trY(ci.box.YMin)},
		Max: vg.Point{X: trX(ci.box.XMax), Y: trY(ci.box.YMax)},
	}
	w := max(1, int(math.Round(r.Size().X.Dots(dpi))))
	h := max(1, int(math.Round(r.Size().Y.Dots(dpi))))
	nx, ny := ci.cells.Bounds().Dx(), ci.cells.Bounds().Dy()
	up := image.NewNRGBA(image.Rect(0, 0, w, h))
	for v := range h {
		row := ci.cells.Pix[ci.cells.PixOffset(0, v*ny/h):]
		dst := up.Pix[up.PixOffset(0, v):]
		for u := range w {
			copy(dst[4*u:4*u+4], row[4*(u*nx/w):])
		}
	}
	c.DrawImage(r, up)
}

func (ci *cellImage) DataRange() (xmin, xmax, ymin, ymax float64) {
	return ci.box.XMin, ci.box.XMax, ci.box.YMin, ci.box.YMax
}

// WriteHeatmap writes Heatmap(f, cfg) to w as PNG.
func WriteHeatmap(w io.Writer, f *Field, cfg HeatmapConfig) error {
	img, err := Heatmap(f, cfg)
	if err != nil {
		return err
	}
	return WritePNG(w, img)
}

// SaveHeatmap writes Heatmap(f, cfg) to the PNG file at path, atomically.
func SaveHeatmap(path string, f *Field, cfg HeatmapConfig) error {
	img, err := Heatmap(f, cfg)
	if err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	return SavePNG(path, img)
}

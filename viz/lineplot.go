package viz

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one named curve of a line plot.
type Series struct {
	Name string
	// X and Y are the points; X nil means 0, 1, ..., len(Y)−1.
	X, Y []float64
}

// PlotConfig says how LinePlot draws. The zero value is an 800×500-pixel
// plot with linear axes and no title.
type PlotConfig struct {
	Title, XLabel, YLabel string
	// LogY uses a log-10 y axis; points with y ≤ 0 are left out.
	LogY bool
	// Width and Height are the picture's size in pixels; 0 means 800 and
	// 500.
	Width, Height int
	// Smooth in (0, 1) draws each series' exponential moving average with
	// this weight (0.9 is heavy smoothing) over the faded raw curve; 0
	// draws the raw curve only.
	Smooth float64
}

// LinePlot draws the series as lines with axes, ticks, grid, a legend
// and a title. Non-finite points (and y ≤ 0 on a log axis) break a line.
// It returns an error if a series has len(X) ≠ len(Y).
func LinePlot(series []Series, cfg PlotConfig) (*image.RGBA, error) {
	if !(cfg.Smooth >= 0 && cfg.Smooth < 1) {
		return nil, fmt.Errorf("viz: LinePlot: PlotConfig.Smooth %v is not in [0, 1)", cfg.Smooth)
	}
	if cfg.Width < 0 || cfg.Height < 0 {
		return nil, fmt.Errorf("viz: LinePlot: PlotConfig size %d×%d is negative", cfg.Width, cfg.Height)
	}
	for _, s := range series {
		if s.X != nil && len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("viz: LinePlot: series %q has %d x and %d y values", s.Name, len(s.X), len(s.Y))
		}
	}
	w, h := sizeOr(cfg.Width, 800), sizeOr(cfg.Height, 500)
	p := plot.New()
	p.Title.Text = cfg.Title
	p.X.Label.Text = cfg.XLabel
	p.Y.Label.Text = cfg.YLabel
	p.Add(plotter.NewGrid())
	if cfg.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Legend.Top = true
	drawnAny := false
	for i, s := range series {
		col := seriesColors[i%len(seriesColors)]
		x := s.X
		if x == nil {
			x = make([]float64, len(s.Y))
			for k := range x {
				x[k] = float64(k)
			}
		}
		raw := col
		if cfg.Smooth > 0 {
			raw.A = 70
			if n := addLines(p, x, s.Y, raw, 1, cfg.LogY); n > 0 {
				drawnAny = true
			}
			addLines(p, x, ema(s.Y, cfg.Smooth), col, 2, cfg.LogY)
		} else if addLines(p, x, s.Y, col, 2, cfg.LogY) > 0 {
			drawnAny = true
		}
		if s.Name != "" {
			thumb := &plotter.Line{LineStyle: draw.LineStyle{Color: col, Width: px(3)}}
			p.Legend.Add(s.Name, thumb)
		}
	}
	if !drawnAny { // nothing finite to show: still draw the axes
		p.X.Min, p.X.Max = 0, 1
		p.Y.Min, p.Y.Max = 0, 1
		if cfg.LogY {
			p.Y.Min, p.Y.Max = 1, 10
		}
	}
	return render("LinePlot", w, h, func(dc draw.Canvas) { p.Draw(dc) })
}

// addLines adds the finite runs of (x, y) to p as lines (single points as
// dots) and returns the number of points drawn.
func addLines(p *plot.Plot, x, y []float64, col color.NRGBA, width float64, logY bool) int {
	ok := func(k int) bool {
		return isFinite(x[k]) && isFinite(y[k]) && (!logY || y[k] > 0)
	}
	drawn := 0
	for k := 0; k < len(y); {
		if !ok(k) {
			k++
			continue
		}
		var run plotter.XYs
		for ; k < len(y) && ok(k); k++ {
			run = append(run, plotter.XY{X: x[k], Y: y[k]})
		}
		drawn += len(run)
		if len(run) == 1 {
			s, _ := plotter.NewScatter(run)
			s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: px(width + 1), Shape: draw.CircleGlyph{}}
			p.Add(s)
			continue
		}
		l, _ := plotter.NewLine(run)
		l.LineStyle = draw.LineStyle{Color: col, Width: px(width)}
		p.Add(l)
	}
	return drawn
}

// ema returns the exponential moving average of y with weight a, skipping
// (and keeping) non-finite values.
func ema(y []float64, a float64) []float64 {
	out := make([]float64, len(y))
	s, started := 0.0, false
	for k, v := range y {
		if !isFinite(v) {
			out[k] = v
			continue
		}
		if !started {
			s, started = v, true
		} else {
			s = a*s + (1-a)*v
		}
		out[k] = s
	}
	return out
}

// WriteLinePlot writes LinePlot(series, cfg) to w as PNG.
func WriteLinePlot(w io.Writer, series []Series, cfg PlotConfig) error {
	img, err := LinePlot(series, cfg)
	if err != nil {
		return err
	}
	return WritePNG(w, img)
}

// SaveLinePlot writes LinePlot(series, cfg) to the PNG file at path,
// atomically.
func SaveLinePlot(path string, series []Series, cfg PlotConfig) error {
	img, err := LinePlot(series, cfg)
	if err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	return SavePNG(path, img)
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// sizeOr returns v, or def if v is 0; callers have rejected negative sizes.
func sizeOr(v, def int) int {
	if v < 0 {
		panic(fmt.Sprintf("viz: negative size %d", v))
	}
	if v == 0 {
		return def
	}
	return v
}

package viz

import (
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
)

// ColorMap maps [0, 1] to colours by linear interpolation between evenly
// spaced stops. It is safe for concurrent use while nothing changes its
// fields.
type ColorMap struct {
	Name  string
	Stops []color.NRGBA
}

// At returns the colour at t, clamped to [0, 1]. NaN gives a transparent
// colour.
func (m *ColorMap) At(t float64) color.NRGBA {
	if math.IsNaN(t) {
		return color.NRGBA{}
	}
	t = math.Min(1, math.Max(0, t))
	n := len(m.Stops) - 1
	f := t * float64(n)
	i := min(int(f), n-1)
	u := f - float64(i)
	a, b := m.Stops[i], m.Stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-u) + float64(y)*u)) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), mix(a.A, b.A)}
}

func hexStops(hex ...string) []color.NRGBA {
	out := make([]color.NRGBA, len(hex))
	for i, h := range hex {
		var v uint32
		for _, c := range h[1:] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= uint32(c - '0')
			case c >= 'a' && c <= 'f':
				v |= uint32(c-'a') + 10
			}
		}
		out[i] = color.NRGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}
	}
	return out
}

// Colour maps. Viridis and Magma are matplotlib's perceptually uniform
// maps (sampled at 10 stops); RdBu is ColorBrewer's diverging map from
// blue (low) to red (high), for signed quantities; Greys goes from black
// to white.
var (
	Viridis = &ColorMap{"viridis", hexStops("#440154", "#482878", "#3e4989", "#31688e", "#26828e",
		"#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725")}
	Magma = &ColorMap{"magma", hexStops("#000004", "#180f3d", "#440f76", "#721f81", "#9e2f7f",
		"#cd4071", "#f1605d", "#fd9668", "#feca8d", "#fcfdbf")}
	RdBu = &ColorMap{"RdBu", hexStops("#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
		"#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f")}
	Greys = &ColorMap{"greys", hexStops("#000000", "#ffffff")}
)

// seriesColors are the colours of line plot series (Tableau 10).
var seriesColors = hexStops("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
	"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

// rangedMap adapts a ColorMap over [min, max] to gonum's palette.ColorMap.
type rangedMap struct {
	m          *ColorMap
	lo, hi, al float64
}

var _ palette.ColorMap = (*rangedMap)(nil)

func (r *rangedMap) At(v float64) (color.Color, error) {
	return r.m.At((v - r.lo) / (r.hi - r.lo)), nil
}
func (r *rangedMap) Max() float64     { return r.hi }
func (r *rangedMap) SetMax(v float64) { r.hi = v }
func (r *rangedMap) Min() float64     { return r.lo }
func (r *rangedMap) SetMin(v float64) { r.lo = v }
func (r *rangedMap) Alpha() float64   { return 1 }
func (r *rangedMap) SetAlpha(float64) {}
func (r *rangedMap) Palette(n int) palette.Palette {
	cs := make([]color.Color, n)
	for i := range cs {
		cs[i] = r.m.At(float64(i) / float64(max(n-1, 1)))
	}
	return plainPalette(cs)
}

type plainPalette []color.Color

func (p plainPalette) Colors() []color.Color { return p }

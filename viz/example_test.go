package viz_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ebmgo/ebm/viz"
)

// A batch of 6 grey 28×28 images in [−1, 1] as a grid of 3 columns,
// upscaled 2×, with 1-pixel borders.
func ExampleImageGrid() {
	const n, h, w = 6, 28, 28
	x := make([]float64, n*h*w)
	for k := range n {
		for i := range h * w {
			x[k*h*w+i] = math.Cos(float64(i%w+k) / 5) // stripes
		}
	}
	img, err := viz.ImageGrid(x, []int{1, h, w}, viz.GridConfig{Cols: 3, Low: -1, High: 1, Scale: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds().Size())
	fmt.Println(img.NRGBAAt(0, 0), img.NRGBAAt(1, 1)) // border, then image 0's pixel (0, 0) = cos 0 = 1
	// Output:
	// (172,115)
	// {128 128 128 255} {255 255 255 255}
}

// Loss curves of a training run on a log axis, smoothed, saved as PNG.
func ExampleSaveLinePlot() {
	dir, _ := os.MkdirTemp("", "viz")
	defer os.RemoveAll(dir)
	var loss, gap []float64
	for step := range 1000 {
		loss = append(loss, 2*math.Exp(-float64(step)/200)+0.05*math.Sin(float64(step)))
		gap = append(gap, 1/(1+float64(step)/50))
	}
	path := filepath.Join(dir, "loss.png")
	err := viz.SaveLinePlot(path, []viz.Series{
		{Name: "CD loss", Y: loss},
		{Name: "f(data) − f(samples)", Y: gap},
	}, viz.PlotConfig{Title: "training", XLabel: "step", LogY: true, Smooth: 0.6})
	fmt.Println(err)
	st, _ := os.Stat(path)
	fmt.Println(st.Size() > 0)
	// Output:
	// <nil>
	// true
}

// gaussian2 is the energy f(x) = −½|x|² in the plane.
type gaussian2 struct{}

func (gaussian2) Dim() int { return 2 }
func (gaussian2) F(dst, x []float64) error {
	for n := range dst {
		dst[n] = -0.5 * (x[2*n]*x[2*n] + x[2*n+1]*x[2*n+1])
	}
	return nil
}

// The density of a 2-D energy on a grid, with samples over it.
func ExampleHeatmap() {
	box := viz.Box{XMin: -4, XMax: 4, YMin: -4, YMax: 4}
	f, err := viz.EnergyField(gaussian2{}, box, 100, 100)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := f.Density()
	mass := 0.0
	for _, p := range d.Z {
		mass += p * 0.08 * 0.08
	}
	fmt.Printf("mass in the box %.4f, p(0, 0) ≈ %.4f (exact 1/2π = %.4f)\n", mass, d.Z[50*100+50], 1/(2*math.Pi))

	img, err := viz.Heatmap(f, viz.HeatmapConfig{
		Title: "p(x) ∝ exp(f(x))", XLabel: "x₁", YLabel: "x₂",
		Density: true,
		Samples: []float64{0, 0, 1, -1, -2, 0.5}, // three (x, y) samples
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.Bounds().Size())
	// Output:
	// mass in the box 1.0000, p(0, 0) ≈ 0.1589 (exact 1/2π = 0.1592)
	// (640,520)
}

package main

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"strings"

	"github.com/ebmgo/ebm/viz"
)

// scatter draws, for one target, each sampler's draws (at most 2000) over
// the exact log-density of the plotted coordinates, side by side.
func scatter(path string, t *target, runs []*runOutput, res int) error {
	field, err := t.field(res)
	if err != nil {
		return err
	}
	top := math.Inf(-1)
	for _, z := range field.Z {
		top = math.Max(top, z)
	}
	var imgs []image.Image
	for _, r := range runs {
		tr := &r.trace
		total := tr.Draws * tr.Chains
		stride := max(1, total/2000)
		var pts []float64
		for k := 0; k < total; k += stride {
			x, y := t.PlotXY(tr.X[k*tr.Dim : (k+1)*tr.Dim])
			pts = append(pts, x, y)
		}
		title := fmt.Sprintf("%s on %s: %d draws, %d divergent", strings.ToUpper(r.Sampler), t.Name, len(pts)/2, r.Divergences)
		if r.Sampler == "exact" {
			title = fmt.Sprintf("%s: %d exact independent draws", t.Name, len(pts)/2)
		}
		img, err := viz.Heatmap(field, viz.HeatmapConfig{
			Title:  title,
			XLabel: t.XLabel, YLabel: t.YLabel, Width: 420, Height: 380,
			// Log-density over 14 nats below the mode, so the funnel's
			// neck and the tails both show.
			Min: top - 14, Max: top, Samples: pts, SampleRadius: 1.2,
			SampleColor: color.NRGBA{255, 255, 255, 200}, NoColorBar: true,
		})
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	return viz.SavePNG(path, viz.Tile(imgs, len(imgs)))
}

// traces plots coordinate dim of chain 0 for every sampler against the
// gradient evaluations spent, over the first budget of them, so that the
// samplers are compared at equal cost.
func traces(path string, t *target, runs []*runOutput, dim int, name string, budget float64) error {
	var series []viz.Series
	for _, r := range runs {
		if len(r.gradAt) == 0 {
			continue // exact draws cost no gradients
		}
		tr := &r.trace
		var xs, ys []float64
		for k := 0; k < tr.Draws && k < len(r.gradAt); k++ {
			if r.gradAt[k] > budget {
				break
			}
			xs = append(xs, r.gradAt[k])
			ys = append(ys, tr.At(k, 0)[dim])
		}
		series = append(series, viz.Series{Name: strings.ToUpper(r.Sampler), X: xs, Y: ys})
	}
	return viz.SaveLinePlot(path, series, viz.PlotConfig{
		Title:  fmt.Sprintf("%s: trace of %s (chain 1) against gradient evaluations", t.Name, name),
		XLabel: "gradient evaluations (sampling phase)", YLabel: name, Width: 900, Height: 360,
	})
}

// pictures writes the scatter plots of every target and the trace plots
// of the funnel's v and the Gaussian's first coordinate.
func pictures(out string, targets []*target, runs map[string][]*runOutput, res int) error {
	for _, t := range targets {
		rs := runs[t.Name]
		if len(rs) == 0 {
			continue
		}
		if err := scatter(filepath.Join(out, t.Name+".png"), t, rs, res); err != nil {
			return fmt.Errorf("%s picture: %w", t.Name, err)
		}
		dim, label := 0, "x₁"
		if t.Name == "funnel" {
			label = "v"
		}
		if t.Name == "rosenbrock" || t.Name == "banana" {
			dim, label = 1, "x₂"
		}
		// The budget: what HMC or NUTS spent on 300 draws.
		budget := 0.0
		for _, r := range rs {
			if (r.Sampler == "hmc" || r.Sampler == "nuts") && len(r.gradAt) > 0 {
				budget = math.Max(budget, r.gradAt[min(299, len(r.gradAt)-1)])
			}
		}
		if budget == 0 {
			budget = math.Inf(1)
		}
		if err := traces(filepath.Join(out, t.Name+"-trace.png"), t, rs, dim, label, budget); err != nil {
			return fmt.Errorf("%s trace: %w", t.Name, err)
		}
	}
	return nil
}

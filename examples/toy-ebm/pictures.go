package main

import (
	"fmt"
	"image"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/viz"
)

// fields returns the true and the learned log-density of one data set on
// a PictureRes² grid over the toy's box.
func (r *toyRun) fields() (truth, learned *viz.Field, err error) {
	b := r.toy.Bounds()
	box := viz.Box{XMin: b.XMin, XMax: b.XMax, YMin: b.YMin, YMax: b.YMax}
	n := r.cfg.PictureRes
	if truth, err = viz.EnergyField(r.toy, box, n, n); err != nil {
		return nil, nil, err
	}
	e, err := graph.NewEnergy(r.model, graph.Config{Shape: []int{2}})
	if err != nil {
		return nil, nil, err
	}
	if learned, err = viz.EnergyField(e, box, n, n); err != nil {
		return nil, nil, err
	}
	return truth, learned, nil
}

// panels draws the pictures of one data set, each w×h pixels: the true
// density with test points over it, the learned density exp(f)/Z and, with
// full set, also the learned density with model samples over it. All share
// one colour scale, the true density's range, so a model sharper than the
// data saturates.
func (r *toyRun) panels(truth, learned *viz.Field, w, h int, full bool) ([]image.Image, error) {
	dots := r.test[:min(len(r.test), 2*800)]
	samples := r.samples[:min(len(r.samples), 2*800)]
	base := viz.HeatmapConfig{Width: w, Height: h, Density: true, Min: 0, Max: maxOf(truth.Density().Z), SampleRadius: 1, NoColorBar: true}
	type panel struct {
		title string
		f     *viz.Field
		dots  []float64
	}
	ps := []panel{
		{r.toy.Name() + ": data", truth, dots},
		{fmt.Sprintf("model, KL %.3f", r.result.KL), learned, samples},
	}
	if full {
		ps = []panel{
			{r.toy.Name() + ": true density, test points", truth, dots},
			{fmt.Sprintf("learned exp f / Z (KL %.3f nats)", r.result.KL), learned, nil},
			{"learned density, model samples", learned, samples},
		}
	}
	var imgs []image.Image
	for _, p := range ps {
		c := base
		c.Title, c.Samples = p.title, p.dots
		img, err := viz.Heatmap(p.f, c)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

func maxOf(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	return m
}

package monitor

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/trainer"
	"github.com/ebmgo/ebm/viz"
)

// Pictures draws a run's pictures into Dir:
//
//	loss.png, energy.png    loss and energy curves, after every checkpoint
//	samples/NNNNNN.png      the iteration's model samples x⁻ (image data)
//	buffer/NNNNNN.png       64 replay-buffer samples (image data, Replay)
//	landscape/NNNNNN.png    exp f over the data and samples, with the
//	                        samples on top (2-D data)
//
// every Every iterations and after the last. Image data are samples of
// shape (C, H, W) with C = 1 or 3 and values in [−1, 1]. The zero value
// draws into the trainer's run folder every checkpoint. A Pictures is used
// by one trainer at a time.
type Pictures struct {
	// Dir is the folder to draw into; empty means the trainer's
	// Config.Dir (and nothing is drawn when that is empty too).
	Dir string
	// Every is the number of iterations between sample grids or
	// landscapes; 0 means the trainer's CheckpointEvery, negative means
	// only curves.
	Every int

	landscape *graph.Energy // compiled once, for 2-D landscapes
}

var _ trainer.Monitor = (*Pictures)(nil)

// Observe draws what is due after iteration p.Iteration.
func (m *Pictures) Observe(t *trainer.Trainer, p trainer.Progress) error {
	cfg := t.Config()
	dir := m.Dir
	if dir == "" {
		dir = cfg.Dir
	}
	if dir == "" {
		return nil
	}
	if p.Checkpointed {
		if err := Curves(dir, t.History()); err != nil {
			return err
		}
	}
	every := m.Every
	if every == 0 {
		every = cfg.CheckpointEvery
	}
	if every < 0 || (p.Iteration%every != 0 && p.Iteration != p.Iterations) {
		return nil
	}
	name := fmt.Sprintf("%06d.png", p.Iteration)
	shape := cfg.Shape
	switch {
	case isImage(shape):
		dim := shape[0] * shape[1] * shape[2]
		xneg := t.Samples()
		n := min(len(xneg)/dim, 64)
		grid := viz.GridConfig{Low: -1, High: 1, Scale: 2}
		if err := save(dir, "samples", name, func(path string) error {
			return viz.SaveImageGrid(path, xneg[:n*dim], shape, grid)
		}); err != nil {
			return err
		}
		if buf := t.Buffer(); buf != nil && buf.Len() > 0 {
			return save(dir, "buffer", name, func(path string) error {
				return viz.SaveImageGrid(path, buf.Samples(64), shape, grid)
			})
		}
	case len(shape) == 1 && shape[0] == 2:
		return save(dir, "landscape", name, func(path string) error { return m.drawLandscape(path, t, p.Iteration) })
	}
	return nil
}

func isImage(shape []int) bool {
	return len(shape) == 3 && (shape[0] == 1 || shape[0] == 3)
}

// Curves draws dir/loss.png and dir/energy.png from a run's metrics.
func Curves(dir string, history []trainer.Metrics) error {
	n := len(history)
	if n == 0 {
		return nil
	}
	it := make([]float64, n)
	loss, fpos, fneg, gap := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, h := range history {
		it[i], loss[i], fpos[i], fneg[i], gap[i] = float64(h.Iter), h.Loss, h.FPos, h.FNeg, h.Gap
	}
	smooth := 0.0
	if n > 50 {
		smooth = 0.9
	}
	if err := viz.SaveLinePlot(filepath.Join(dir, "loss.png"),
		[]viz.Series{{Name: "loss", X: it, Y: loss}},
		viz.PlotConfig{Title: "training loss", XLabel: "iteration", YLabel: "loss", Smooth: smooth}); err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	if err := viz.SaveLinePlot(filepath.Join(dir, "energy.png"),
		[]viz.Series{{Name: "f(x⁺) data", X: it, Y: fpos}, {Name: "f(x⁻) samples", X: it, Y: fneg}, {Name: "gap f(x⁺) − f(x⁻)", X: it, Y: gap}},
		viz.PlotConfig{Title: "energies", XLabel: "iteration", YLabel: "mean f", Smooth: smooth}); err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	return nil
}

func save(dir, sub, name string, write func(path string) error) error {
	d := filepath.Join(dir, sub)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	if err := write(filepath.Join(d, name)); err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	return nil
}

// drawLandscape draws exp(f) of a 2-D model over a box that holds the data
// batch and the samples, with the samples on top.
func (m *Pictures) drawLandscape(path string, t *trainer.Trainer, iter int) error {
	xpos, xneg := t.DataBatch(), t.Samples()
	box := viz.Box{XMin: math.Inf(1), XMax: math.Inf(-1), YMin: math.Inf(1), YMax: math.Inf(-1)}
	for _, x := range [][]float64{xpos, xneg} {
		for i := 0; i+1 < len(x); i += 2 {
			box.XMin, box.XMax = math.Min(box.XMin, x[i]), math.Max(box.XMax, x[i])
			box.YMin, box.YMax = math.Min(box.YMin, x[i+1]), math.Max(box.YMax, x[i+1])
		}
	}
	if !(box.XMin <= box.XMax && box.YMin <= box.YMax) {
		return errors.New("no finite points to frame the landscape")
	}
	pad := 0.1 * math.Max(box.XMax-box.XMin, box.YMax-box.YMin)
	box.XMin, box.XMax, box.YMin, box.YMax = box.XMin-pad, box.XMax+pad, box.YMin-pad, box.YMax+pad
	if err := t.SyncModel(); err != nil {
		return err
	}
	if m.landscape == nil {
		e, err := graph.NewEnergy(t.Model(), graph.Config{Shape: t.Config().Shape})
		if err != nil {
			return err
		}
		m.landscape = e
	}
	field, err := viz.EnergyField(m.landscape, box, 128, 128)
	if err != nil {
		return err
	}
	return viz.SaveHeatmap(path, field, viz.HeatmapConfig{
		Title: fmt.Sprintf("exp f and samples, iteration %d", iter), Density: true, Samples: xneg})
}

package trainer

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/viz"
)

// pictures writes what people look at: at checkpoints the loss and
// energy curves (loss.png, energy.png); every SampleEvery iterations a
// grid of the iteration's samples and of the replay buffer for image data
// (samples/NNNNNN.png, buffer/NNNNNN.png), or the energy landscape with
// the samples over it for 2-D data (landscape/NNNNNN.png).
func (t *Trainer) pictures(ckpt bool) error {
	if t.cfg.Dir == "" {
		return nil
	}
	if ckpt && len(t.history) > 0 {
		if err := t.plotCurves(); err != nil {
			return err
		}
	}
	if t.cfg.SampleEvery <= 0 || (t.iter%t.cfg.SampleEvery != 0 && t.iter != t.cfg.Iterations) {
		return nil
	}
	name := fmt.Sprintf("%06d.png", t.iter)
	shape := t.cfg.Shape
	switch {
	case len(shape) == 3 && (shape[0] == 1 || shape[0] == 3):
		n := min(t.batch, 64)
		grid := viz.GridConfig{Low: -1, High: 1, Scale: 2}
		if err := t.save("samples", name, func(p string) error {
			return viz.SaveImageGrid(p, t.xneg[:n*t.dim], shape, grid)
		}); err != nil {
			return err
		}
		if t.buf != nil && t.buf.Len() > 0 {
			if err := t.save("buffer", name, func(p string) error {
				return viz.SaveImageGrid(p, t.buf.Samples(64), shape, grid)
			}); err != nil {
				return err
			}
		}
	case len(shape) == 1 && shape[0] == 2:
		return t.save("landscape", name, t.plotLandscape)
	}
	return nil
}

func (t *Trainer) save(sub, name string, write func(path string) error) error {
	dir := filepath.Join(t.cfg.Dir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := write(filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

func (t *Trainer) plotCurves() error {
	n := len(t.history)
	it := make([]float64, n)
	loss, fpos, fneg, gap := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, m := range t.history {
		it[i], loss[i], fpos[i], fneg[i], gap[i] = float64(m.Iter), m.Loss, m.FPos, m.FNeg, m.Gap
	}
	smooth := 0.0
	if n > 50 {
		smooth = 0.9
	}
	if err := viz.SaveLinePlot(filepath.Join(t.cfg.Dir, "loss.png"),
		[]viz.Series{{Name: "loss", X: it, Y: loss}},
		viz.PlotConfig{Title: "contrastive-divergence loss", XLabel: "iteration", YLabel: "loss", Smooth: smooth}); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	if err := viz.SaveLinePlot(filepath.Join(t.cfg.Dir, "energy.png"),
		[]viz.Series{{Name: "f(x⁺) data", X: it, Y: fpos}, {Name: "f(x⁻) samples", X: it, Y: fneg}, {Name: "gap f(x⁺) − f(x⁻)", X: it, Y: gap}},
		viz.PlotConfig{Title: "energies", XLabel: "iteration", YLabel: "mean f", Smooth: smooth}); err != nil {
		return fmt.Errorf("trainer: %w", err)
	}
	return nil
}

// plotLandscape draws exp(f) of a 2-D model over a box that holds the data
// batch and the samples, with the samples on top.
func (t *Trainer) plotLandscape(path string) error {
	box := viz.Box{XMin: math.Inf(1), XMax: math.Inf(-1), YMin: math.Inf(1), YMax: math.Inf(-1)}
	for _, x := range [][]float64{t.xpos, t.xneg} {
		for i := 0; i+1 < len(x); i += 2 {
			box.XMin, box.XMax = math.Min(box.XMin, x[i]), math.Max(box.XMax, x[i])
			box.YMin, box.YMax = math.Min(box.YMin, x[i+1]), math.Max(box.YMax, x[i+1])
		}
	}
	pad := 0.1 * math.Max(box.XMax-box.XMin, box.YMax-box.YMin)
	box.XMin, box.XMax, box.YMin, box.YMax = box.XMin-pad, box.XMax+pad, box.YMin-pad, box.YMax+pad
	if err := t.backend.SyncParams(); err != nil {
		return err
	}
	if t.landscape == nil {
		e, err := graph.NewEnergy(t.model, graph.Config{Shape: t.cfg.Shape})
		if err != nil {
			return err
		}
		t.landscape = e
	}
	field, err := viz.EnergyField(t.landscape, box, 128, 128)
	if err != nil {
		return err
	}
	return viz.SaveHeatmap(path, field, viz.HeatmapConfig{
		Title: fmt.Sprintf("exp f and samples, iteration %d", t.iter), Density: true, Samples: t.xneg})
}

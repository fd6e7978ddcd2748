package main

import (
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ebmgo/ebm/viz"
)

// report is what results.json holds.
type report struct {
	Config   config   `json:"config"`
	Results  []result `json:"results"`
	WallSec  float64  `json:"wall_s"`
	CPUs     int      `json:"cpus"`
	pictures []image.Image
}

// write saves results.json, results.md and summary.png (cols pictures a
// row) into dir.
func (r *report) write(dir string, cols int) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	r.markdown(&md)
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	return viz.SavePNG(filepath.Join(dir, "summary.png"), viz.Tile(r.pictures, cols))
}

func (r *report) cell(data, obj string) (result, bool) {
	for _, x := range r.Results {
		if x.Data == data && x.Objective == obj {
			return x, true
		}
	}
	return result{}, false
}

// markdown writes the tables: KL(p_data‖p_θ) per data set and objective,
// and the iterations each objective ran in its budget.
func (r *report) markdown(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "KL(p_data‖p_θ) in nats (test NLL − entropy, Z by quadrature on a %d² grid, ± standard error over %d test points) after %v of training each; MLP 2-%d-%d-1 (SiLU), batch %d, Adam lr %g.\n\n",
		c.Grid, c.Test, c.Budget, c.Hidden, c.Hidden, c.Batch, c.LR)
	fmt.Fprintf(w, "| data | %s |\n", strings.Join(c.Objectives, " | "))
	fmt.Fprintf(w, "|---|%s\n", strings.Repeat("---:|", len(c.Objectives)))
	for _, d := range c.Data {
		fmt.Fprintf(w, "| %s |", d)
		for _, o := range c.Objectives {
			if x, ok := r.cell(d, o); ok {
				fmt.Fprintf(w, " %.3f ± %.3f |", x.KL, x.KLSE)
			} else {
				fmt.Fprint(w, " |")
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nIterations in the budget:\n\n| data | %s |\n|---|%s\n", strings.Join(c.Objectives, " | "), strings.Repeat("---:|", len(c.Objectives)))
	for _, d := range c.Data {
		fmt.Fprintf(w, "| %s |", d)
		for _, o := range c.Objectives {
			if x, ok := r.cell(d, o); ok {
				fmt.Fprintf(w, " %d |", x.Iterations)
			} else {
				fmt.Fprint(w, " |")
			}
		}
		fmt.Fprintln(w)
	}
	var nce []string
	for _, x := range r.Results {
		if x.NCELogZ != nil {
			nce = append(nce, fmt.Sprintf("%s %.3f (quadrature %.3f)", x.Data, *x.NCELogZ, x.LogZ))
		}
	}
	if len(nce) > 0 {
		fmt.Fprintf(w, "\nNCE's learned log Z: %s.\n", strings.Join(nce, "; "))
	}
	fmt.Fprintln(w, "\nObjectives:")
	for _, o := range c.Objectives {
		fmt.Fprintf(w, "- %s: %s\n", o, recipes[o].desc)
	}
	fmt.Fprintf(w, "\nWall time %.0f s on %d CPUs.\n", r.WallSec, r.CPUs)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// report is what results.json holds.
type report struct {
	Config  config      `json:"config"`
	Results []toyResult `json:"results"`
	WallSec float64     `json:"wall_s"`
	CPUSec  float64     `json:"cpu_s"` // user + system time of the process
	GoArch  string      `json:"goarch"`
	CPUs    int         `json:"cpus"`
}

func (r *report) json() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// markdown writes the results table.
func (r *report) markdown(w io.Writer) {
	c := r.Config
	steps := fmt.Sprintf("%d %s steps", c.Steps, strings.ToUpper(c.Sampler))
	if c.Sampler == "hmc" {
		steps = fmt.Sprintf("%d HMC transitions of %d leapfrog steps", c.Steps, c.Leapfrogs)
	}
	fmt.Fprintf(w, "MLP 2-%d-%d-1 (SiLU, first layer initialised ×%g), %d iterations, batch %d, %s per iteration, replay buffer %d (restarts from %s with probability %.2g), Adam lr %g",
		c.Hidden, c.Hidden, c.InitScale, c.Iterations, c.Batch, steps, c.Buffer, c.Restart, c.Reinit, c.LR)
	if c.MinLR > 0 {
		fmt.Fprintf(w, "→%g (cosine)", c.MinLR)
	}
	fmt.Fprintf(w, ", β₁ %g, α %g; test NLL over %d points, Z by quadrature on a %d² grid over the toy's box.\n\n", c.Beta1, c.Alpha, c.Test, c.Grid)
	fmt.Fprintln(w, "| data | H(p_data) | NLL untrained | NLL trained | NLL − H | KL(p_data‖p_θ) | quad. err | edge mass | E_θ[log p_data] | accept | train s |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, x := range r.Results {
		slp := "−∞"
		if x.SampleLogP != nil {
			slp = fmt.Sprintf("%.3f", *x.SampleLogP)
		}
		fmt.Fprintf(w, "| %s | %.4f | %.3f | %.4f ± %.4f | %.4f | **%.4f ± %.4f** | %.1e | %.1e | %s | %.2f | %.0f |\n",
			x.Data, x.Entropy, x.UntrainedNLL, x.NLL, x.NLLSE, x.Gap, x.KL, x.KLSE,
			x.QuadErr, x.EdgeMass, slp, x.Accept, x.TrainSec)
	}
	for _, x := range r.Results {
		for _, msg := range x.SamplerWarnings {
			fmt.Fprintf(w, "\nWarning (%s, sampling the trained model): %s\n", x.Data, msg)
		}
	}
	fmt.Fprintf(w, "\nWall time %.0f s, CPU time %.0f s (%d CPUs).\n", r.WallSec, r.CPUSec, r.CPUs)
}

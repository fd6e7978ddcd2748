package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// report is what results.json holds.
type report struct {
	Config  config            `json:"config"`
	Targets map[string]string `json:"targets"`
	Results []runResult       `json:"results"`
	WallSec float64           `json:"wall_s"`
	CPUSec  float64           `json:"cpu_s"` // user + system time of the process
	CPUs    int               `json:"cpus"`
}

func (r *report) json() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// markdown writes one table per target.
func (r *report) markdown(w io.Writer) {
	c := r.Config
	fmt.Fprintf(w, "%d chains from U(−2, 2)^d; HMC and NUTS: %d warm-up iterations (Stan's windowed adaptation of ε and a diagonal metric) and %d draws per chain; MALA: %d and %d. "+
		"HMC: integration time %g in the adapted metric, step jitter ±%.0f%%. NUTS: multinomial, max depth 10, each chain's tree built on its own. "+
		"ESS are the worst over coordinates (bulk and tail, rank-normalised, Vehtari et al. 2021), per gradient evaluation of the sampling phase; "+
		"z = (estimate − truth)/MCSE for every coordinate's mean and variance, worst |z| and RMS over coordinates (a sampler whose errors match its MCSE has RMS ≈ 1, max |z| ≲ 3.5 over 100 coordinates).\n",
		c.Chains, c.Warmup, c.Draws, c.Warmup*c.MALAMult, c.Draws*c.MALAMult, c.HMCTime, 100*c.Jitter)
	if c.Reps > 1 {
		r.summary(w)
		fmt.Fprintf(w, "\n### Every run\n")
	}
	for _, name := range targetNameOrder(r.Results) {
		fmt.Fprintf(w, "\n**%s** — %s\n\n", name, r.Targets[name])
		fmt.Fprintln(w, "| sampler | grads/chain | leapfrogs/iter | accept | bulk ESS | tail ESS | bulk ESS/1k grads | tail ESS/1k grads | max R̂ | max \\|z\\| mean | max \\|z\\| var | RMS z mean, var | divergent | time s |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, x := range r.Results {
			if x.Target != name {
				continue
			}
			s := strings.ToUpper(x.Sampler)
			steps := jf(x.StepsPerIter)
			if x.Sampler == "exact" {
				s, steps = "exact draws", jf(math.Inf(1))
			}
			if c.Reps > 1 {
				s += fmt.Sprintf(" #%d", x.Rep+1)
			}
			fmt.Fprintf(w, "| %s | %.0f | %s | %.2f | %s | %s | %s | %s | %s | %s | %s | %s, %s | %d (+%d) | %.2f |\n",
				s, x.Grads, cell(steps, 1), x.MeanAccept, cell(x.MinESSBulk, 0), cell(x.MinESSTail, 0),
				cell(1000*x.BulkPerGrad, 2), cell(1000*x.TailPerGrad, 2), cell(x.MaxRHat, 3), cell(x.MaxZMean, 1), cell(x.MaxZVar, 1),
				cell(x.RMSZMean, 2), cell(x.RMSZVar, 2), x.Divergences, x.WarmupDivergences, x.WarmupSec+x.SampleSec)
		}
		warned := false
		for _, x := range r.Results {
			if x.Target != name || len(x.Warnings) == 0 {
				continue
			}
			if !warned {
				fmt.Fprintf(w, "\nWarnings of sampling.Run:\n\n")
				warned = true
			}
			for _, msg := range x.Warnings {
				fmt.Fprintf(w, "- %s #%d: %s\n", strings.ToUpper(x.Sampler), x.Rep+1, msg)
			}
		}
	}
	fmt.Fprintf(w, "\nDivergent: transitions after warm-up (+ during warm-up), over all chains. Wall time %.0f s, CPU time %.0f s (%d CPUs).\n", r.WallSec, r.CPUSec, r.CPUs)
}

// summary writes, per target and sampler, the median over repetitions of
// each diagnostic with its range.
func (r *report) summary(w io.Writer) {
	fmt.Fprintf(w, "\n### Summary over %d seeds: median [min, max]\n\n", r.Config.Reps)
	fmt.Fprintln(w, "| target | sampler | grads/chain | bulk ESS/1k grads | tail ESS/1k grads | max R̂ | max \\|z\\| mean | max \\|z\\| var | divergent (all seeds) | runs with warnings |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, name := range targetNameOrder(r.Results) {
		var samplers []string
		by := map[string][]runResult{}
		for _, x := range r.Results {
			if x.Target != name {
				continue
			}
			if by[x.Sampler] == nil {
				samplers = append(samplers, x.Sampler)
			}
			by[x.Sampler] = append(by[x.Sampler], x)
		}
		for _, s := range samplers {
			xs := by[s]
			col := func(prec int, f func(x runResult) jf) string {
				v := make([]float64, len(xs))
				for i, x := range xs {
					v[i] = float64(f(x))
				}
				sort.Float64s(v)
				med := v[len(v)/2]
				if len(v)%2 == 0 {
					med = (v[len(v)/2-1] + v[len(v)/2]) / 2
				}
				if math.IsInf(med, 0) {
					return "—"
				}
				return fmt.Sprintf("%s [%s, %s]", cell(jf(med), prec), cell(jf(v[0]), prec), cell(jf(v[len(v)-1]), prec))
			}
			div, warned := 0, 0
			for _, x := range xs {
				div += x.Divergences
				if len(x.Warnings) > 0 {
					warned++
				}
			}
			label := strings.ToUpper(s)
			if s == "exact" {
				label = "exact draws"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %d | %d of %d |\n", name, label,
				col(0, func(x runResult) jf { return jf(x.Grads) }),
				col(2, func(x runResult) jf { return 1000 * x.BulkPerGrad }),
				col(2, func(x runResult) jf { return 1000 * x.TailPerGrad }),
				col(3, func(x runResult) jf { return x.MaxRHat }),
				col(1, func(x runResult) jf { return x.MaxZMean }),
				col(1, func(x runResult) jf { return x.MaxZVar }), div, warned, len(xs))
		}
	}
}

// cell formats a number with prec decimals: "—" where it is infinite or
// zero-cost (exact draws), "NaN" where a diagnostic is undefined (a chain
// that never crossed a quantile).
func cell(x jf, prec int) string {
	v := float64(x)
	switch {
	case math.IsInf(v, 0):
		return "—"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// targetNameOrder lists the targets of the results in their first order.
func targetNameOrder(rs []runResult) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range rs {
		if !seen[r.Target] {
			seen[r.Target] = true
			names = append(names, r.Target)
		}
	}
	return names
}

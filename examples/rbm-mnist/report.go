package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/ebmgo/ebm/energy"
	"github.com/ebmgo/ebm/viz"
)

var mnistShape = []int{1, 28, 28}

// savePictureOfData draws the first 100 binarised test images.
func savePictureOfData(out string, d *dataset) error {
	n := min(100, d.nTest)
	if d.dim != 784 {
		return nil
	}
	return viz.SaveImageGrid(filepath.Join(out, "data.png"), d.test[:n*d.dim], mnistShape, viz.GridConfig{Cols: 10, Scale: 2})
}

// savePictures draws a model's samples (p(v | h) at the end of the Gibbs
// chains) and its filters (each hidden unit's weights as a 28×28 tile,
// grey at 0, scaled by the unit's largest |w|).
func savePictures(out string, mr *ModelResult, rbm *energy.RBM, probs []float64) error {
	if rbm.Visible() != 784 {
		return nil
	}
	n := min(100, len(probs)/784)
	if err := viz.SaveImageGrid(filepath.Join(out, "samples-"+mr.Slug+".png"), probs[:n*784], mnistShape, viz.GridConfig{Cols: 10, Scale: 2}); err != nil {
		return err
	}
	w, _, _ := rbm.Params()
	nh := rbm.Hidden()
	tiles := make([]float64, nh*784)
	for j := range nh {
		var m float64
		for i := range 784 {
			m = math.Max(m, math.Abs(w[i*nh+j]))
		}
		if m == 0 {
			m = 1
		}
		for i := range 784 {
			tiles[j*784+i] = 0.5 + 0.5*w[i*nh+j]/m
		}
	}
	cols := int(math.Ceil(math.Sqrt(float64(nh))))
	if nh == 500 {
		cols = 25
	}
	return viz.SaveImageGrid(filepath.Join(out, "filters-"+mr.Slug+".png"), tiles, mnistShape, viz.GridConfig{Cols: cols})
}

// saveCurves draws the training curves of all models.
func saveCurves(out string, res *Results) error {
	var recon, gap, llExact, llAIS []viz.Series
	for _, m := range res.Models {
		var x, r, g, l []float64
		for _, p := range m.Curve {
			x = append(x, float64(p.Epoch))
			r = append(r, float64(p.ReconError))
			g = append(g, float64(p.TrainF-p.TestF))
			switch {
			case p.TestLL != nil:
				l = append(l, float64(*p.TestLL))
			case p.TestLLAIS != nil:
				l = append(l, float64(*p.TestLLAIS))
			}
		}
		if len(x) == 0 {
			continue
		}
		recon = append(recon, viz.Series{Name: m.Name, X: x, Y: r})
		gap = append(gap, viz.Series{Name: m.Name, X: x, Y: g})
		if len(l) == len(x) {
			s := viz.Series{Name: m.Name, X: x, Y: l}
			if m.ExactLogZ != nil {
				llExact = append(llExact, s)
			} else {
				llAIS = append(llAIS, s)
			}
		}
	}
	plots := []struct {
		file   string
		series []viz.Series
		cfg    viz.PlotConfig
	}{
		{"curve-recon.png", recon, viz.PlotConfig{Title: "Reconstruction error (1000 training images)", XLabel: "epoch", YLabel: "Σ_i (v_i − p(v_i|h))² per image", LogY: true}},
		{"curve-free-energy-gap.png", gap, viz.PlotConfig{Title: "Mean free energy f(v): training minus test images", XLabel: "epoch", YLabel: "nats (> 0: over-fitting)"}},
		{"curve-test-ll.png", llExact, viz.PlotConfig{Title: fmt.Sprintf("Test log-likelihood of the 784×%d models (exact)", res.Config.Small.Hidden), XLabel: "epoch", YLabel: "nats per image"}},
		{"curve-test-ll-ais.png", llAIS, viz.PlotConfig{Title: fmt.Sprintf("Test log-likelihood of the 784×%d models (forward AIS, %d temperatures: an upper bound)", res.Config.Large.Hidden, res.Config.CurveAISTemps), XLabel: "epoch", YLabel: "nats per image"}},
	}
	for _, p := range plots {
		if len(p.series) == 0 {
			continue
		}
		if err := viz.SaveLinePlot(filepath.Join(out, p.file), p.series, p.cfg); err != nil {
			return err
		}
	}
	return nil
}

// writeResults writes results.json and results.md.
func writeResults(out string, res *Results) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("results.json: %w", err)
	}
	if err := writeAtomic(filepath.Join(out, "results.json"), append(b, '\n')); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(out, "results.md"), []byte(res.Markdown()))
}

func f2(v num) string {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return "–"
	}
	return strings.Replace(fmt.Sprintf("%.2f", float64(v)), "-", "−", 1)
}

func secs(wall, cpu num) string {
	return fmt.Sprintf("%s / %s", fmtDur(float64(wall)), fmtDur(float64(cpu)))
}

// Markdown returns the results table, the settings and the references.
func (res *Results) Markdown() string {
	var b strings.Builder
	c := res.Config
	fmt.Fprintf(&b, "# RBMs on binarised MNIST\n\n")
	fmt.Fprintf(&b, "%d training and %d test images, binarised by %s; preset %s, seed %d; %s, GOMAXPROCS %d. "+
		"Whole run: %s wall, %s CPU.\n\n", res.TrainImages, res.TestImages, binarizeText(c.Binarize), c.Preset, c.Seed, res.Platform, res.GOMAXPROCS,
		fmtDur(float64(res.WallSeconds)), fmtDur(float64(res.CPUSeconds)))
	fmt.Fprintf(&b, "| model | method | epochs | training (wall / CPU) | test log-likelihood (nats) | train LL | log Z | how | temperatures (forward / reverse or RAISE) | forward weight ESS |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---|---:|---:|\n")
	var notes []string
	for _, m := range res.Models {
		model := fmt.Sprintf("%d×%d", m.Visible, m.Hidden)
		train := secs(m.TrainWall, m.TrainCPU)
		if m.Reused {
			train += " (earlier run)"
		}
		a := m.AIS
		temps, ess := "–", "–"
		if a != nil {
			temps = fmt.Sprintf("%d", a.Temps)
			switch {
			case a.Reverse != nil:
				temps += fmt.Sprintf(" / %d", a.ReverseTemps)
			case a.RAISE != nil:
				temps += fmt.Sprintf(" / %d", a.RAISE.Temps)
			}
			ess = fmt.Sprintf("%.0f of %d", float64(a.Forward.ESS), a.Chains)
		}
		if m.ExactLogZ != nil {
			how := fmt.Sprintf("exact (2^%d terms)", min(m.Visible, m.Hidden))
			if a != nil {
				how += "; AIS check below"
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | **%s** | %s | %s | %s | %s | %s |\n", model, m.Method.Name, m.Epochs, train,
				f2(*m.ExactTestLL), f2(*m.ExactTrainLL), f2(*m.ExactLogZ), how, temps, ess)
			continue
		}
		if a == nil {
			continue
		}
		how := fmt.Sprintf("forward AIS %s ± %s", f2(a.Forward.LogZ), f2(a.Forward.StdErr))
		ll := fmt.Sprintf("≤ %s (± %s)", f2(a.TestLLHigh), f2(a.Forward.StdErr))
		trainLL, logZ := "≤ "+f2(m.TrainF-a.Forward.LogZ), "≥ "+f2(a.Forward.LogZ)
		if r := a.RAISE; r != nil {
			how += fmt.Sprintf(", RAISE %s ± %s (%d test images)", f2(r.LogZ), f2(r.StdErr), r.Images)
			se := math.Max(float64(a.Forward.StdErr), float64(r.StdErr))
			lo, hi := min(a.TestLLLow, a.TestLLHigh), max(a.TestLLLow, a.TestLLHigh)
			zlo, zhi := min(a.Forward.LogZ, r.LogZ), max(a.Forward.LogZ, r.LogZ)
			ll = fmt.Sprintf("**%s … %s** (± %s)", f2(lo), f2(hi), f2(num(se)))
			trainLL, logZ = f2(m.TrainF-zhi)+" … "+f2(m.TrainF-zlo), f2(zlo)+" … "+f2(zhi)
		}
		if a.Note != "" {
			notes = append(notes, fmt.Sprintf("%s %s: %s.", model, m.Method.Name, a.Note))
			how += fmt.Sprintf(" (note %d)", len(notes))
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", model, m.Method.Name, m.Epochs, train,
			ll, trainLL, logZ, how, temps, ess)
	}
	for i, n := range notes {
		fmt.Fprintf(&b, "\n%d. %s", i+1, n)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}
	if check := res.checkTable(); check != "" {
		fmt.Fprintf(&b, "\n## AIS where log Z is exact\n\n"+
			"The large models' estimators on the small models, whose log Z is known: forward AIS, reverse AIS from exact samples (a stochastic upper bound), "+
			"and RAISE from test images as for the large models (the log Z it implies; conservative for the log-likelihood). "+
			"Each with its standard error, its distance from the exact value in standard errors, and, for AIS, its weight ESS.\n\n%s", check)
	}
	fmt.Fprintf(&b, "\nThe test log-likelihood is the mean of log p(v) = f(v) − log Z over the test images. "+
		"Forward AIS underestimates log Z on average, so it gives an upper bound of the log-likelihood. "+
		"The other side comes from RAISE (Burda, Grosse & Salakhutdinov 2015): reverse annealing chains started at test images (%d of them, chosen by the seed, the same for every model) estimate, for each image, its log-probability under the annealing model — the distribution forward AIS's chains end in — from below on average. "+
		"Its chains lag behind a distribution that sharpens as β grows, so that model is usually more spread out than the RBM and the estimate errs low where forward AIS errs high, without any samples of the RBM: the two bracket the test log-likelihood, and the width says how well it is known. "+
		"Mass of the RBM that no annealing chain reaches escapes both sides alike; agreement rules out lagging chains, not unseen modes. "+
		"The log Z column is what each side implies (RAISE's: the mean over its images of f(v) − log q̂(v)); the ± is the larger of the two standard errors (forward: delta method over the chains; RAISE: over the images). "+
		"A forward weight ESS far below the chains means its estimate rests on a few chains and its standard error cannot be trusted.\n\n", c.RAISEImages)
	if sweep := res.sweepTable(); sweep != "" {
		fmt.Fprintf(&b, "## AIS: weight ESS against temperatures\n\n"+
			"Every AIS run of the large models: the sweep (-ais-sweep, forward), and the runs behind the table, each repeated with more temperatures while its ESS was below %.0f%% of the chains (-ais-min-ess, up to -ais-max-temps %d); the last forward run (and, for the small models, the last reverse run) is the one reported.\n\n%s\n", 100*c.AISMinESS, c.AISMaxTemps, sweep)
	}
	fmt.Fprintf(&b, "## Settings\n\n")
	fmt.Fprintf(&b, "| model | method | k | learning rate | momentum | weight decay | batch | updates | evaluation (wall / CPU) |\n")
	fmt.Fprintf(&b, "|---|---|---:|---|---|---:|---:|---:|---:|\n")
	for _, m := range res.Models {
		lr := fmt.Sprintf("%g", m.Method.LearningRate)
		if m.Method.DecayLR {
			lr += ", linear decay to 0"
		}
		mom := fmt.Sprintf("%g for %d epochs, then %g", m.Method.Momentum, m.Method.MomentumEpochs, m.Method.FinalMomentum)
		chains := "CD from the data batch"
		if m.Method.Persistent {
			chains = fmt.Sprintf("PCD, %d persistent chains", c.BatchSize)
		}
		fmt.Fprintf(&b, "| %d×%d | %s (%s) | %d | %s | %s | %g | %d | %d | %s |\n", m.Visible, m.Hidden, m.Method.Name, chains, m.Method.K,
			lr, mom, m.Method.WeightDecay, c.BatchSize, m.Updates, secs(m.EvalWall, m.EvalCPU))
	}
	fmt.Fprintf(&b, "\nInitialisation (Hinton's guide): weights N(0, 0.01²), hidden biases 0, visible biases the log-odds of the training pixel means (smoothed by 1/(N+2)). "+
		"The positive phase uses p(h|v); the negative phase samples v and uses p(h|v⁻). "+
		"AIS: from %s, Salakhutdinov & Murray's piecewise-linear schedule (knots 0, 0.5, 0.9, 1; their 14,500 temperatures scaled to %d for the large models and %d for the check on the small ones), one block-Gibbs step per temperature, %d chains; "+
		"reverse AIS starts from exact samples for the small models (the hidden layer's marginal enumerated); RAISE runs %d chain(s) from each of %d test images on the same schedule at the configured temperatures (%d and %d). "+
		"Model samples (pictures) are the ends of %d-step block-Gibbs chains started at the ends of forward AIS.\n\n", baseText(c), c.AISTemps, c.SmallAISTemps, c.AISChains, c.RAISEChains, c.RAISEImages, c.AISTemps, c.SmallAISTemps, c.GibbsSteps)
	fmt.Fprintf(&b, "## Published numbers\n\n"+
		"Salakhutdinov & Murray (2008), 784×500 RBMs on binarised MNIST after long training, AIS: CD-1 ≈ −125.5, CD-3 ≈ −105.5, CD-25 ≈ −86.3 nats; "+
		"small 784×25 RBMs ≈ −140s by exact enumeration. Tieleman (2008) trains with PCD, which reaches better likelihoods than CD-1 at equal cost. "+
		"Those models were trained for hundreds of epochs (and on a stochastically binarised MNIST: -binarize sample); the default run here trains for a few epochs, so its numbers are lower. "+
		"`-preset paper` (200 epochs, CD-1/3/25 and PCD, 784×20 (exact; energy.RBM.LogZ enumerates at most 2^24 states, and every epoch is evaluated) and 784×500, the full 14,500-temperature AIS, 10,000-step chains) approaches the published setting; it takes many hours on 2 cores.\n\n")
	fmt.Fprintf(&b, "Pictures: data.png, samples-*.png (p(v|h) at the end of the Gibbs chains), filters-*.png, curve-*.png.\n")
	return b.String()
}

func binarizeText(s string) string {
	if s == "sample" {
		return "sampling Bernoulli(p/255) once"
	}
	return "thresholding at p/255 > 0.5"
}

// baseText says what the large models' AIS starts from.
func baseText(c Config) string {
	if c.AISBase == "" || c.AISBase == "base-rate" {
		return "Salakhutdinov & Murray's base-rate RBM (visible biases from the smoothed training pixel means, no weights)"
	}
	return fmt.Sprintf("the trained 784×%d %s model (its log Z and samples exact by enumeration; the small models' own AIS starts from the base-rate RBM)", c.Small.Hidden, strings.ToUpper(c.AISBase))
}

// checkTable returns the Markdown table of the AIS checks on the models
// with an exact log Z, or "" if there are none.
func (res *Results) checkTable() string {
	var b strings.Builder
	cell := func(logZ, se, ess, exact num) string {
		out := fmt.Sprintf("%s ± %s (%+.1f SE", f2(logZ), f2(se), float64((logZ-exact)/se))
		if !math.IsNaN(float64(ess)) {
			out += fmt.Sprintf(", ESS %.0f", float64(ess))
		}
		return out + ")"
	}
	for _, m := range res.Models {
		a := m.AIS
		if m.ExactLogZ == nil || a == nil {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("| model | method | exact log Z | temperatures | forward AIS | reverse AIS from exact samples | RAISE from test images |\n|---|---|---:|---:|---:|---:|---:|\n")
		}
		rev, raise := "–", "–"
		if r := a.Reverse; r != nil {
			rev = cell(r.LogZ, r.StdErr, r.ESS, *m.ExactLogZ)
		}
		if r := a.RAISE; r != nil {
			raise = cell(r.LogZ, r.StdErr, num(math.NaN()), *m.ExactLogZ) + fmt.Sprintf(", %d images", r.Images)
		}
		fmt.Fprintf(&b, "| %d×%d | %s | %s | %d / %d | %s | %s | %s |\n", m.Visible, m.Hidden, m.Method.Name, f2(*m.ExactLogZ), a.Temps, a.ReverseTemps,
			cell(a.Forward.LogZ, a.Forward.StdErr, a.Forward.ESS, *m.ExactLogZ), rev, raise)
	}
	return b.String()
}

// sweepTable returns the Markdown table of the large models' AIS runs (the
// sweep and the attempts behind the results), or "" if there are none.
func (res *Results) sweepTable() string {
	var b strings.Builder
	row := func(m ModelResult, p SweepPoint) {
		if b.Len() == 0 {
			fmt.Fprintf(&b, "| model | method | run | temperatures | chains | log Z | weight ESS | wall / CPU |\n|---|---|---|---:|---:|---:|---:|---:|\n")
		}
		fmt.Fprintf(&b, "| %d×%d | %s | %s | %d | %d | %s ± %s | %.1f | %s |\n", m.Visible, m.Hidden, m.Method.Name, p.Run, p.Temps, p.Chains,
			f2(p.LogZ), f2(p.StdErr), float64(p.ESS), secs(p.Wall, p.CPU))
	}
	for _, m := range res.Models {
		if m.ExactLogZ != nil {
			continue
		}
		for _, p := range m.Sweep {
			row(m, p)
		}
		if a := m.AIS; a != nil {
			for _, p := range a.Attempts {
				row(m, p)
			}
		}
	}
	return b.String()
}

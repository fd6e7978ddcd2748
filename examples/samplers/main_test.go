package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/energy"
)

// Exact independent draws must get z-scores that look standard normal,
// ESS near the number of draws and R̂ near 1: the yardstick the table
// measures samplers with.
func TestDiagnoseExactDraws(t *testing.T) {
	tg, err := newTarget("gauss100", 1e4, 1)
	if err != nil {
		t.Fatal(err)
	}
	const chains, draws = 4, 500
	cfg := defaults()
	cfg.Chains, cfg.Draws = chains, draws
	for seed := range uint64(3) {
		cfg.Seed = seed
		out, err := exactDraws(tg, 0, cfg)
		if err != nil {
			t.Fatal(err)
		}
		r := out.runResult
		// Over 100 coordinates the RMS of standard normal z-scores is
		// 1 ± 0.07; the largest |z| is below 4.4 with probability 0.999.
		for name, v := range map[string]jf{"RMS z mean": r.RMSZMean, "RMS z var": r.RMSZVar} {
			if v < 0.75 || v > 1.3 {
				t.Errorf("seed %d: %s = %.3f, want ≈ 1", seed, name, v)
			}
		}
		if r.MaxZMean > 4.4 || r.MaxZVar > 4.4 {
			t.Errorf("seed %d: max |z| = %.2f (mean), %.2f (var), want below 4.4", seed, r.MaxZMean, r.MaxZVar)
		}
		if r.MaxRHat > 1.02 {
			t.Errorf("seed %d: max R̂ = %.4f for independent draws", seed, r.MaxRHat)
		}
		if n := float64(chains * draws); float64(r.MinESSBulk) < 0.7*n {
			t.Errorf("seed %d: min bulk ESS %.0f of %.0f independent draws", seed, r.MinESSBulk, n)
		}
	}
}

// The pictures' exact 2-D marginals: the funnel's (x₁, v) is the 2-D
// funnel, and the Gaussian's (x₁, x₂) log-density integrates to 1.
func TestMarginals(t *testing.T) {
	fun, err := newTarget("funnel", 1e4, 1)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := energy.NewFunnel(2, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 100 {
		v, x1 := 12*rng.Float64()-6, 20*rng.Float64()-10
		var f [1]float64
		if err := f2.F(f[:], []float64{v, x1}); err != nil {
			t.Fatal(err)
		}
		if got := fun.LogP2(x1, v); math.Abs(got-f[0]) > 1e-9*math.Max(1, math.Abs(f[0])) {
			t.Fatalf("funnel marginal at (x₁, v) = (%g, %g): %g, want %g", x1, v, got, f[0])
		}
	}
	g, err := newTarget("gauss100", 1e4, 1)
	if err != nil {
		t.Fatal(err)
	}
	q, err := energy.Quadrature(context.Background(), marginal{g.LogP2}, energy.Grid{Lo: []float64{-6, -6}, Hi: []float64{6, 6}, N: []int{512, 512}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(q.LogZ) > 1e-9 || math.Abs(q.Cov[0]-g.Var[0]) > 1e-9 || math.Abs(q.Cov[3]-g.Var[1]) > 1e-9 {
		t.Errorf("Gaussian marginal: log Z %g, variances %g, %g; want 0, %g, %g", q.LogZ, q.Cov[0], q.Cov[3], g.Var[0], g.Var[1])
	}
}

func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	cfg := defaults()
	cfg.Dir, cfg.Chains, cfg.Warmup, cfg.Draws, cfg.MALAMult, cfg.Res, cfg.Reps = dir, 2, 60, 40, 2, 24, 1
	var log bytes.Buffer
	if _, err := study(context.Background(), cfg, &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, f := range []string{"results.md", "results.json", "funnel.png", "funnel-trace.png", "banana.png", "gauss100-trace.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if want := len(targetNames) * len(samplerNames); len(rep.Results) != want {
		t.Fatalf("results.json has %d results, want %d", len(rep.Results), want)
	}
	for _, r := range rep.Results {
		if (r.Sampler != "exact" && r.Grads <= 0) || r.GradsTotal < r.Grads || len(r.Dims) != r.runDim() {
			t.Errorf("%s/%s: implausible result: %d dims, %g grads of %g", r.Target, r.Sampler, len(r.Dims), r.Grads, r.GradsTotal)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "results.md"))
	if !strings.Contains(string(md), "| NUTS |") {
		t.Errorf("results.md lacks NUTS rows:\n%s", md)
	}
	// 40 draws of 2 chains are far below 100 effective draws per chain:
	// every sampler run must carry Run's ESS warning, in the JSON and the
	// table.
	for _, r := range rep.Results {
		if r.Sampler != "exact" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "ESS") }) {
			t.Errorf("%s/%s: warnings %q, want a low-ESS one", r.Target, r.Sampler, r.Warnings)
		}
	}
	if !strings.Contains(string(md), "Warnings of sampling.Run:") {
		t.Errorf("the warnings are not in results.md:\n%s", md)
	}
}

// With several seeds the table starts with the medians over them.
func TestSummary(t *testing.T) {
	cfg := defaults()
	cfg.Dir, cfg.Chains, cfg.Warmup, cfg.Draws, cfg.MALAMult, cfg.Res, cfg.Reps = t.TempDir(), 2, 40, 20, 1, 8, 2
	cfg.Targets = []string{"banana"}
	rep, err := study(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2*len(samplerNames) {
		t.Fatalf("%d results, want %d", len(rep.Results), 2*len(samplerNames))
	}
	var md strings.Builder
	rep.markdown(&md)
	for _, want := range []string{"Summary over 2 seeds", "| banana | NUTS | ", "| NUTS #2 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, md.String())
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-targets", "nope"},
		{"-samplers", "gibbs"},
		{"-chains", "1"},
		{"-jitter", "1"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit code %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

func (r runResult) runDim() int {
	if r.Target == "funnel" {
		return 10
	}
	if r.Target == "gauss100" {
		return 100
	}
	return 2
}

// marginal is a 2-D log-density as an energy.
type marginal struct{ f func(x, y float64) float64 }

func (m marginal) Dim() int { return 2 }
func (m marginal) F(dst, x []float64) error {
	for i := range dst {
		dst[i] = m.f(x[2*i], x[2*i+1])
	}
	return nil
}

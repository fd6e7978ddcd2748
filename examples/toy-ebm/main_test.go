package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/energy"
)

// The evaluation of the exact density must find KL = 0 and NLL = H within
// its standard error.
func TestEvaluateTrueDensity(t *testing.T) {
	toy, err := datasets.ToyByName("8gaussians")
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(3) {
		test := toy.SampleN(rand.New(rand.NewPCG(seed, 7)), 4000)
		r, err := evaluate(context.Background(), toy, toy, test, 256)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.KL) > 1e-8 || r.KLSE > 1e-8 {
			t.Errorf("seed %d: KL of the data to itself = %g ± %g, want 0", seed, r.KL, r.KLSE)
		}
		if math.Abs(r.LogZ) > 1e-8 || r.EdgeMass > 1e-10 {
			t.Errorf("seed %d: log Z = %g (edge mass %g), want 0", seed, r.LogZ, r.EdgeMass)
		}
		if h := toy.Entropy(); math.Abs(r.NLL-h) > 4*r.NLLSE {
			t.Errorf("seed %d: NLL %g ± %g, want the entropy %g", seed, r.NLL, r.NLLSE, h)
		}
	}
}

// Against a Gaussian model the KL has a closed form:
// KL(p‖q) = −H(p) + log 2πs² + E|x|²/2s², with E|x|² = R² + 2σ² for the
// eight Gaussians.
func TestEvaluateGaussianModel(t *testing.T) {
	g := datasets.EightGaussians{}
	toy, err := g.Toy()
	if err != nil {
		t.Fatal(err)
	}
	const s = 1.5
	q, err := energy.NewDiagGaussian([]float64{0, 0}, []float64{s * s, s * s})
	if err != nil {
		t.Fatal(err)
	}
	r0, sd := 4/1.414, 0.5/1.414
	want := -toy.Entropy() + math.Log(2*math.Pi*s*s) + (r0*r0+2*sd*sd)/(2*s*s)
	for seed := range uint64(3) {
		test := toy.SampleN(rand.New(rand.NewPCG(seed, 8)), 4000)
		r, err := evaluate(context.Background(), q, toy, test, 256)
		if err != nil {
			t.Fatal(err)
		}
		// The box holds all but ~4e−5 of the Gaussian: Z over it is below 1.
		if math.Abs(r.KL-want) > 4*r.KLSE+1e-4 {
			t.Errorf("seed %d: KL = %.5f ± %.5f, want %.5f", seed, r.KL, r.KLSE, want)
		}
		if math.Abs(r.NLL-toy.Entropy()-want) > 4*r.NLLSE+1e-4 {
			t.Errorf("seed %d: NLL − H = %.5f ± %.5f, want %.5f", seed, r.NLL-toy.Entropy(), r.NLLSE, want)
		}
	}
}

func tiny(out string) config {
	c := defaults()
	c.Dir = out
	c.Data = []string{"8gaussians", "checkerboard"}
	c.Hidden, c.Iterations, c.Batch, c.Steps = 16, 20, 32, 3
	c.Train, c.Test, c.Grid = 500, 300, 64
	c.Chains, c.EvalSteps, c.PictureRes = 50, 5, 30
	return c
}

// The whole program with tiny settings: it writes its files, and a second
// run resumes from the checkpoints and evaluates the same models.
func TestSmoke(t *testing.T) {
	dir := t.TempDir()
	cfg := tiny(dir)
	var log bytes.Buffer
	rep, err := study(context.Background(), cfg, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, f := range []string{"results.md", "results.json", "summary.png", "8gaussians/density.png", "checkerboard/checkpoint.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got report
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Results) != 2 {
		t.Fatalf("results.json has %d results, want 2", len(got.Results))
	}
	for _, r := range got.Results {
		if r.Iterations != cfg.Iterations || math.IsNaN(r.KL) || r.KL < -4*r.KLSE || r.NLL <= 0 {
			t.Errorf("%s: implausible result %+v", r.Data, r)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "results.md"))
	if !strings.Contains(string(md), "| checkerboard |") {
		t.Errorf("results.md lacks the checkerboard row:\n%s", md)
	}

	again, err := study(context.Background(), cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Results {
		if a, b := rep.Results[i].NLL, again.Results[i].NLL; a != b {
			t.Errorf("%s: resumed run evaluates NLL %v, first run %v", rep.Results[i].Data, b, a)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-data", "nope"},
		{"-sampler", "gibbs"},
		{"-grid", "33"},
		{"-iters", "0"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit code %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

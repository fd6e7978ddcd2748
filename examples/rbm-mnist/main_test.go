package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyConfig is the whole pipeline at toy size: a few seconds.
func tinyConfig(out string) Config {
	cfg := presets["default"]()
	cfg.Dir = out
	cfg.TrainLimit, cfg.TestLimit = 600, 200
	cfg.Small = ModelSpec{Hidden: 6, Epochs: 2, Methods: methods("cd1,pcd1")}
	cfg.Large = ModelSpec{Hidden: 20, Epochs: 1, Methods: methods("cd2")}
	cfg.AISChains, cfg.AISTemps, cfg.SmallAISTemps, cfg.GibbsSteps = 16, 100, 100, 20
	cfg.AISMaxTemps = 200 // at most one doubling of the AIS temperatures
	cfg.CurveAISTemps = 50
	cfg.RAISEImages = 60
	cfg.Preset = "test"
	return cfg
}

// TestRunSmoke runs the program's core on 600 images with tiny models and
// checks what it writes: the table, the JSON, the pictures, numbers that
// make sense, and that a second run reuses the saved models.
func TestRunSmoke(t *testing.T) {
	out := t.TempDir()
	var log bytes.Buffer
	res, err := Run(context.Background(), tinyConfig(out), &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(res.Models) != 3 {
		t.Fatalf("%d models, want 3", len(res.Models))
	}
	for _, m := range res.Models[:2] {
		if m.ExactLogZ == nil || m.ExactTestLL == nil {
			t.Fatalf("%s: no exact log-likelihood", m.Name)
		}
		ll := float64(*m.ExactTestLL)
		// Between the uniform distribution (784 log 2 = 543 nats) and 0.
		if !(ll < 0 && ll > -543) {
			t.Errorf("%s: exact test log-likelihood %v", m.Name, ll)
		}
		if len(m.Curve) != 2 || m.Curve[1].TestLL == nil {
			t.Errorf("%s: curve %+v, want 2 epochs with test LL", m.Name, m.Curve)
		}
		a := m.AIS
		if a == nil || a.Reverse == nil || a.RAISE == nil {
			t.Fatalf("%s: AIS check %+v, want reverse AIS from exact samples and RAISE", m.Name, a)
		}
		// RAISE against the exact log Z: conservative (not clearly below
		// it) and close on these nearly independent pixels.
		if r, exact := a.RAISE, *m.ExactLogZ; r.Images != 60 || r.LogZ < exact-4*r.StdErr || r.LogZ > exact+4*r.StdErr+1 {
			t.Errorf("%s: RAISE %+v, exact log Z %.3f", m.Name, *r, exact)
		}
	}
	large := res.Models[2]
	if large.ExactLogZ != nil || large.AIS == nil {
		t.Fatalf("%s: want an AIS estimate and no exact one", large.Name)
	}
	if len(large.Curve) != 1 || large.Curve[0].TestLLAIS == nil || large.Curve[0].TestLL != nil {
		t.Errorf("%s: curve %+v, want one epoch with an AIS test log-likelihood", large.Name, large.Curve)
	}
	if large.AIS.Reverse != nil || large.AIS.RAISE == nil {
		t.Fatalf("%s: AIS %+v, want forward AIS and RAISE", large.Name, large.AIS)
	}
	for _, v := range []num{large.AIS.Forward.LogZ, large.AIS.RAISE.LogZ, large.AIS.TestLLHigh, large.AIS.TestLLLow} {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Errorf("%s: AIS %+v has a non-finite value", large.Name, large.AIS)
		}
	}
	if a := large.AIS; a.TestLLLow != large.TestF-a.RAISE.LogZ || a.RAISE.Temps != 100 {
		t.Errorf("%s: lower end %v from RAISE %+v at %d temperatures", large.Name, a.TestLLLow, *a.RAISE, a.Temps)
	}
	if large.Updates != 600/100 {
		t.Errorf("%s: %d updates, want 6", large.Name, large.Updates)
	}

	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 784×6 | CD-1 |", "| 784×6 | PCD-1 |", "| 784×20 | CD-2 |", "exact (2^6 terms)", "RAISE from test images"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	var back Results
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if len(back.Models) != 3 || back.Models[0].Method.Name != "CD-1" || *back.Models[0].ExactTestLL != *res.Models[0].ExactTestLL {
		t.Errorf("results.json does not hold the results")
	}
	for _, name := range []string{"data.png", "samples-784x20-cd2.png", "filters-784x20-cd2.png", "samples-784x6-pcd1.png",
		"curve-recon.png", "curve-test-ll.png", "curve-test-ll-ais.png", "curve-free-energy-gap.png"} {
		f, err := os.Open(filepath.Join(out, name))
		if err != nil {
			t.Error(err)
			continue
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		f.Close()
	}

	// The same command again loads the trained models instead of training.
	log.Reset()
	again, err := Run(context.Background(), tinyConfig(out), &log)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range again.Models {
		if !m.Reused {
			t.Errorf("%s: trained again instead of reusing the saved state", m.Name)
		}
		if m.TestF != res.Models[i].TestF {
			t.Errorf("%s: reused model has mean f(test) %v, first run %v", m.Name, m.TestF, res.Models[i].TestF)
		}
	}
}

// TestRunResumesInterrupted stops training mid-way, then runs again and
// checks that the resumed model equals one trained without interruption.
func TestRunResumesInterrupted(t *testing.T) {
	cfg := tinyConfig(t.TempDir())
	cfg.Large.Methods = nil
	cfg.Small.Methods = methods("pcd1")
	cfg.Small.Epochs = 3
	cfg.SmallAIS = false
	straight, err := Run(context.Background(), cfg, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}

	cfg.Dir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var log strings.Builder
	w := &cancelAfter{w: &log, marker: "epoch 2/3", cancel: cancel}
	if _, err := Run(ctx, cfg, w); err == nil {
		t.Fatal("Run did not stop when cancelled")
	}
	if !strings.Contains(log.String(), "epoch 2/3") || strings.Contains(log.String(), "epoch 3/3") {
		t.Fatalf("cancelled at the wrong place:\n%s", log.String())
	}
	log.Reset()
	resumed, err := Run(context.Background(), cfg, &log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "resuming after epoch 2 of 3") {
		t.Errorf("no resume:\n%s", log.String())
	}
	a, b := straight.Models[0], resumed.Models[0]
	if *a.ExactTestLL != *b.ExactTestLL || len(b.Curve) != 3 {
		t.Errorf("resumed: test LL %v with %d epochs of curve; straight: %v", *b.ExactTestLL, len(b.Curve), *a.ExactTestLL)
	}
}

// cancelAfter cancels a context once marker has been written to it.
type cancelAfter struct {
	w      *strings.Builder
	marker string
	cancel func()
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if strings.Contains(string(p), c.marker) {
		c.cancel()
	}
	return n, err
}

// TestAISBaseAndSweep runs the large model's AIS and RAISE from a trained
// small model, and the temperature sweep.
func TestAISBaseAndSweep(t *testing.T) {
	cfg := tinyConfig(t.TempDir())
	cfg.Small.Methods = methods("pcd1")
	cfg.Large.Methods = methods("cd1")
	cfg.CurveAISTemps = 0
	cfg.AISBase = "pcd1"
	cfg.AISSweep = []int{30, 60}
	res, err := Run(context.Background(), cfg, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	small, large := res.Models[0], res.Models[1]
	if r := small.AIS.RAISE; r == nil || math.IsNaN(float64(r.LogZ)) {
		t.Errorf("small model: RAISE %+v", small.AIS.RAISE)
	}
	if a := large.AIS; a.Base != "784×6 PCD1" || math.IsNaN(float64(a.Forward.LogZ)) || a.RAISE == nil || math.IsNaN(float64(a.RAISE.LogZ)) {
		t.Errorf("large model's AIS from the small PCD-1 model: %+v", a)
	}
	attempts := large.AIS.Attempts
	if len(attempts) < 1 || large.AIS.Temps < 100 || large.AIS.Temps > 200 || large.AIS.ReverseTemps != 0 || attempts[len(attempts)-1].Temps != large.AIS.Temps {
		t.Errorf("AIS attempts %+v, temps %d/%d", attempts, large.AIS.Temps, large.AIS.ReverseTemps)
	}
	for _, p := range attempts {
		if p.Run != "forward" {
			t.Errorf("large model: a %s AIS run, want forward only", p.Run)
		}
	}
	if len(large.Sweep) != 2 || large.Sweep[1].Temps != 60 || !(large.Sweep[0].ESS >= 1 && float64(large.Sweep[0].ESS) <= float64(cfg.AISChains)) {
		t.Errorf("sweep %+v", large.Sweep)
	}
	if md := res.Markdown(); !strings.Contains(md, "weight ESS against temperatures") || !strings.Contains(md, "trained 784×6 PCD1 model") {
		t.Errorf("results.md lacks the sweep or the base:\n%s", md)
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-h"}, 0},
		{[]string{"-preset", "nope"}, 2},
		{[]string{"-small-methods", "cdx"}, 2},
		{[]string{"-small-hidden", "30"}, 2},
		{[]string{"-binarize", "maybe"}, 2},
		{[]string{"stray"}, 2},
		{[]string{"-ais-base", "pcd7"}, 2},
		{[]string{"-ais-sweep", "100,x"}, 2},
		{[]string{"-ais-sweep", "5"}, 2},
		{[]string{"-ais-min-ess", "1.5"}, 2},
		{[]string{"-ais-max-temps", "10"}, 2},
		{[]string{"-cd-lr", "NaN"}, 2},
		{[]string{"-pcd-momentum", "+Inf"}, 2},
		{[]string{"-weight-decay", "nan"}, 2},
		{[]string{"-large-methods", "cd3:m0.9:fast"}, 2},
		{[]string{"-large-methods", "cd3:lrInf"}, 2},
		{[]string{"-large-methods", "pcd1:const"}, 2},
	} {
		var out, errs bytes.Buffer
		if code := mainRun(context.Background(), tc.args, &out, &errs); code != tc.code {
			t.Errorf("%v: exit %d, want %d (%s)", tc.args, code, tc.code, errs.String())
		}
	}
	cfg, err := parseFlags([]string{"-preset=paper", "-large-methods", "cd1,pcd2", "-pcd-lr", "0.01", "-large-epochs", "7"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Large.Epochs != 7 || cfg.AISTemps != 14500 || len(cfg.Large.Methods) != 2 {
		t.Errorf("flags over the paper preset: %+v", cfg)
	}
	if m := cfg.Large.Methods[1]; m.Name != "PCD-2" || m.K != 2 || !m.Persistent || m.LearningRate != 0.01 || !m.DecayLR {
		t.Errorf("pcd2: %+v", m)
	}
}

// TestParseMethods checks the method list: the recipe flags apply to every
// method, the settings after a colon to that method alone, and a preset's
// list survives the round trip through its flag.
func TestParseMethods(t *testing.T) {
	cfg, err := parseFlags([]string{"-large-methods", "cd1,cd3:m0.9:const,pcd1:lr0.02", "-cd-lr", "0.02", "-cd-momentum", "0.7"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	want := []Method{
		{Name: "CD-1", Spec: "cd1", K: 1, LearningRate: 0.02, DecayLR: true, Momentum: 0.5, FinalMomentum: 0.7, MomentumEpochs: 5, WeightDecay: 2e-4},
		{Name: "CD-3 (momentum 0.9, constant rate)", Spec: "cd3:m0.9:const", K: 3, LearningRate: 0.02, Momentum: 0.5, FinalMomentum: 0.9, MomentumEpochs: 5, WeightDecay: 2e-4},
		{Name: "PCD-1 (rate 0.02)", Spec: "pcd1:lr0.02", K: 1, Persistent: true, LearningRate: 0.02, DecayLR: true, Momentum: 0.5, FinalMomentum: defaultPCDMomentum, MomentumEpochs: 5, WeightDecay: 2e-4},
	}
	if len(cfg.Large.Methods) != len(want) {
		t.Fatalf("methods %+v", cfg.Large.Methods)
	}
	for i, m := range cfg.Large.Methods {
		if m != want[i] {
			t.Errorf("method %d: %+v, want %+v", i, m, want[i])
		}
	}
	mom, err := parseFlags([]string{"-preset", "momentum"}, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range mom.Large.Methods {
		if p := presets["momentum"]().Large.Methods[i]; m != p {
			t.Errorf("momentum preset through its flag: %+v, want %+v", m, p)
		}
	}
	if m := mom.Large.Methods[0]; m.FinalMomentum != 0.9 || m.DecayLR || m.Name != "CD-1 (momentum 0.9, constant rate)" {
		t.Errorf("rbm.m's recipe: %+v", m)
	}
}

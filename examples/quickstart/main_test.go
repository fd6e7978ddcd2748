package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"testing"
)

// The tour runs end to end with short training, and what it prints is
// consistent: a KL that is finite and non-negative up to Monte Carlo
// error, and a MALA run that accepts and mixes.
func TestQuickstartRuns(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, 200); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	kl := regexp.MustCompile(`KL\(data‖model\) ≈ (-?[0-9.]+)`).FindStringSubmatch(out.String())
	if kl == nil {
		t.Fatalf("no KL line in\n%s", out.String())
	}
	if v, _ := strconv.ParseFloat(kl[1], 64); !(v > -0.05 && v < 10) {
		t.Errorf("KL(data‖model) = %s, want a finite value ≥ 0 (up to Monte Carlo error)", kl[1])
	}
	acc := regexp.MustCompile(`acceptance ([0-9.]+)`).FindStringSubmatch(out.String())
	if acc == nil {
		t.Fatalf("no MALA line in\n%s", out.String())
	}
	if v, _ := strconv.ParseFloat(acc[1], 64); !(v > 0.3 && v < 0.9) {
		t.Errorf("MALA acceptance %s after adaptation towards 0.574", acc[1])
	}
}

// A cancelled context stops the tour with the context's error.
func TestQuickstartCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run(ctx, new(bytes.Buffer), 200); err == nil {
		t.Fatal("no error from a cancelled run")
	}
}

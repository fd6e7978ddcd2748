package benchmarks

import (
	"strings"
	"testing"
)

// runWorkload benchmarks w with b.Loop and reports its unit per second.
func runWorkload(b *testing.B, name string) {
	w, ok := Lookup(name)
	if !ok {
		b.Fatalf("no workload %q", name)
	}
	op, err := w.Setup(1)
	if err != nil {
		b.Fatal(err)
	}
	if err := op(); err != nil { // warm up: first-run allocations
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(w.Units*float64(b.N)/b.Elapsed().Seconds(), strings.ReplaceAll(w.Unit, " ", "_"))
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/op")
}

func BenchmarkLangevinToy2D(b *testing.B)  { runWorkload(b, "langevin/toy2d") }
func BenchmarkLangevinMLP784(b *testing.B) { runWorkload(b, "langevin/mlp784") }
func BenchmarkLangevinCNN(b *testing.B)    { runWorkload(b, "langevin/cnn") }
func BenchmarkTrainCNN(b *testing.B)       { runWorkload(b, "train/cnn") }

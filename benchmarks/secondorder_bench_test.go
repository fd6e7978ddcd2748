package benchmarks

import "testing"

func BenchmarkDSMCNN(b *testing.B) { runWorkload(b, "dsm/cnn") }

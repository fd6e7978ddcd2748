//go:build torch

package benchmarks

import "testing"

func BenchmarkTorchLangevinToy2D(b *testing.B)  { runWorkload(b, "langevin/toy2d@torch") }
func BenchmarkTorchLangevinMLP784(b *testing.B) { runWorkload(b, "langevin/mlp784@torch") }
func BenchmarkTorchLangevinCNN(b *testing.B)    { runWorkload(b, "langevin/cnn@torch") }
func BenchmarkTorchTrainCNN(b *testing.B)       { runWorkload(b, "train/cnn@torch") }

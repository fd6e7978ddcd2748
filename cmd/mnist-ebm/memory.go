package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// fallbackMemory is what memoryAvailable assumes where the operating
// system does not say (no /proc/meminfo): enough for any sane setting on a
// workstation, far below what absurd ones ask for.
const fallbackMemory = 256 << 30

// memoryAvailable returns the memory the command can count on, in bytes,
// and where the figure comes from: MemAvailable of /proc/meminfo (Linux),
// else fallbackMemory.
func memoryAvailable() (uint64, string) {
	f, err := os.Open("/proc/meminfo")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "MemAvailable:" {
				if kb, err := strconv.ParseUint(fields[1], 10, 64); err == nil {
					return kb << 10, "available (MemAvailable in /proc/meminfo)"
				}
			}
		}
	}
	return fallbackMemory, "assumed at most (this system does not report its free memory)"
}

// need is memory one setting asks for.
type need struct {
	flag  string  // the flag that sets it, e.g. "buffer"
	value int     // the flag's value
	what  string  // what takes the memory
	bytes float64 // at least this many
}

// Lower bounds, in bytes, of what the pieces of a run take: they are set
// below what was measured (peak RSS of short runs of the default CNN on
// MNIST: about 27 bytes per value of a sample per unit of -hidden for a
// training batch, 2026-12-03), so that only settings that cannot fit are
// refused.
const (
	stepBytesPerValueHidden = 16 // forward and backward activations of a training step
	paramBytes              = 24 // a float32 parameter, its gradient, Adam's two float64 moments
	cnnWeightsPerHidden2    = 58 // NewCNN's convolution weights ≈ 58.5·hidden²
)

// memoryNeeds returns what cfg's sizes ask for in mode, for samples of
// dim values each.
func (c Config) memoryNeeds(mode string, dim int) []need {
	d, h := float64(dim), float64(c.Hidden)
	needs := []need{{"hidden", c.Hidden, "the network's parameters and optimiser state", cnnWeightsPerHidden2 * h * h * paramBytes}}
	switch mode {
	case "train":
		needs = append(needs,
			need{"buffer", c.Buffer, "the replay buffer", float64(c.Buffer) * d * 4},
			need{"batch", c.Batch, "a training step", float64(c.Batch) * d * (h*stepBytesPerValueHidden + 4*8)})
	case "sample":
		needs = append(needs, need{"num-samples", c.NumSamples, "the samples", float64(c.NumSamples) * d * 8})
	case "eval":
		needs = append(needs, need{"num-samples", c.NumSamples, "the samples", float64(max(c.NumSamples, scoreN)) * d * 8})
	}
	return needs
}

// checkMemory refuses settings whose memory needs together exceed what the
// machine has, naming the flag of the largest need.
func checkMemory(needs []need) error {
	avail, where := memoryAvailable()
	total, big := 0.0, needs[0]
	for _, n := range needs {
		total += n.bytes
		if n.bytes > big.bytes {
			big = n
		}
	}
	if total <= float64(avail) {
		return nil
	}
	return fmt.Errorf("-%s %d: %s would need at least %s of memory (the run in all %s), and %s is %s: %w",
		big.flag, big.value, big.what, byteSize(big.bytes), byteSize(total), byteSize(float64(avail)), where, errUsage)
}

// byteSize formats a number of bytes with a binary prefix: "2.9 TiB".
func byteSize(b float64) string {
	const units = "KMGTPEZY"
	if b < 1024 {
		return fmt.Sprintf("%.0f B", b)
	}
	i := -1
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", b, units[i])
}

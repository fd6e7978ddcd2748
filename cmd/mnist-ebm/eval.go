package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/ebmgo/ebm/graph"
)

// auroc returns the area under the ROC curve for telling pos from neg by
// score (higher means "positive"): the probability that a random positive
// scores above a random negative, ties counting half (Mann–Whitney U).
func auroc(pos, neg []float64) float64 {
	type item struct {
		s   float64
		pos bool
	}
	all := make([]item, 0, len(pos)+len(neg))
	for _, s := range pos {
		all = append(all, item{s, true})
	}
	for _, s := range neg {
		all = append(all, item{s, false})
	}
	// cmp.Compare is a total order (NaN first, NaN ties NaN), and every
	// pass of the tie loop advances, so scores that are not numbers cannot
	// stall it; callers refuse non-finite energies before they get here.
	slices.SortFunc(all, func(a, b item) int { return cmp.Compare(a.s, b.s) })
	var rankSum float64
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && cmp.Compare(all[j].s, all[i].s) == 0 {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].pos {
				rankSum += mid
			}
		}
		i = j
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
}

// energies returns f of every image in x, of the set called what; a NaN or
// infinite energy is an error. It stops when ctx is cancelled.
func energies(ctx context.Context, e *graph.Energy, what string, x []float64) ([]float64, error) {
	const batch = 500
	d := e.Dim()
	n := len(x) / d
	out := make([]float64, n)
	for i := 0; i < n; i += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		j := min(n, i+batch)
		if err := e.F(out[i:j], x[i*d:j*d]); err != nil {
			return nil, err
		}
		if k := firstNonFinite(out[i:j]); k >= 0 {
			return nil, fmt.Errorf("the energy of %s %d is %g: a model with NaN or infinite energies cannot be evaluated", what, i+k, out[i+k])
		}
	}
	return out, nil
}

// firstNonFinite returns the index of the first NaN or ±Inf in v, or −1.
func firstNonFinite(v []float64) int {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return i
		}
	}
	return -1
}

// outOfDistribution returns the test images' contrasts: uniform noise,
// images with Gaussian pixel noise, images with 30% of pixels replaced by
// noise, images shifted right and down by a seventh of their size (4
// pixels for MNIST) with black filling in, and upside-down images. noun
// names the images ("digits").
func outOfDistribution(rng *rand.Rand, test []float64, shape []int, noun string) map[string][]float64 {
	c, h, w := shape[0], shape[1], shape[2]
	dim := c * h * w
	n := len(test) / dim
	clamp := func(v float64) float64 { return math.Max(-1, math.Min(1, v)) }
	sets := map[string][]float64{}
	noise := make([]float64, len(test))
	for i := range noise {
		noise[i] = 2*rng.Float64() - 1
	}
	sets["uniform noise"] = noise
	gauss := make([]float64, len(test))
	for i, v := range test {
		gauss[i] = clamp(v + 0.3*rng.NormFloat64())
	}
	sets["Gaussian-noised "+noun+" (σ=0.3)"] = gauss
	salt := make([]float64, len(test))
	for i, v := range test {
		if rng.Float64() < 0.3 {
			v = 2*rng.Float64() - 1
		}
		salt[i] = v
	}
	sets[noun+" with 30% pixels replaced"] = salt
	dr, dc := max(1, int(math.Round(float64(h)/7))), max(1, int(math.Round(float64(w)/7)))
	shift := make([]float64, len(test))
	flip := make([]float64, len(test))
	for k := range n {
		for ch := range c {
			o := k*dim + ch*h*w
			img, s, f := test[o:o+h*w], shift[o:o+h*w], flip[o:o+h*w]
			for r := range h {
				for x := range w {
					s[r*w+x] = -1
					if r >= dr && x >= dc {
						s[r*w+x] = img[(r-dr)*w+x-dc]
					}
					f[r*w+x] = img[(h-1-r)*w+x]
				}
			}
		}
	}
	sets[fmt.Sprintf("%s shifted by (%d, %d) pixels", noun, dr, dc)] = shift
	sets["upside-down "+noun] = flip
	return sets
}

func eval(ctx context.Context, cfg Config, stdout, stderr io.Writer) error {
	m, shape, path, err := loadModel(ctx, cfg, "eval")
	if err != nil {
		return err
	}
	test, what, err := loadTest(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	if !slices.Equal(test.Shape(), shape) {
		return fmt.Errorf("%s holds %s images, the model of %s takes %s (train and evaluate with the same -size and -channels)", test.Source, shapeText(test.Shape()), path, shapeText(shape))
	}
	e, err := graph.NewEnergy(m, graph.Config{Shape: shape})
	if err != nil {
		return err
	}
	if cfg.noiseConditional() {
		// A score model's energy of (nearly) clean images: its smallest level.
		if err := e.SetNoise(cfg.SigmaMin); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "mnist-ebm: the model is noise-conditional; its energies are f(x; σ = %g), the smallest level\n", cfg.SigmaMin)
	}
	noun := "images"
	if cfg.Data == "" {
		noun, what = "digits", strings.Replace(what, "images", "digits", 1)
	}
	one := strings.TrimSuffix(what, "s")
	fmt.Fprintf(stdout, "mnist-ebm: evaluating %s on %d %s of %s\n", path, test.N, what, cfg.dataName())
	fTest, err := energies(ctx, e, one, test.Images)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(stdout, "\nOut-of-distribution detection by energy (AUROC: P(f(%s) > f(other)); 0.5 is chance)\n", one)
	fmt.Fprintf(stdout, "  %-34s %10s %8s\n", what+" against", "mean f", "AUROC")
	fmt.Fprintf(stdout, "  %-34s %10.4f %8s\n", "("+what+" themselves)", mean(fTest), "")
	sets := outOfDistribution(rand.New(rand.NewPCG(cfg.Seed, 3)), test.Images, shape, noun)
	names := make([]string, 0, len(sets))
	for k := range sets {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		f, err := energies(ctx, e, "image of \""+name+"\"", sets[name])
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		fmt.Fprintf(stdout, "  %-34s %10.4f %8.4f\n", name, mean(f), auroc(fTest, f))
	}
	return evalQuality(ctx, cfg, m, shape, stdout)
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

package quality

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/ebmgo/ebm/datasets"
)

// Scores are the sample-quality scores of a set of images (see Score).
type Scores struct {
	// N is the number of images scored.
	N int
	// Confidence is the mean over the images of the classifier's largest
	// class probability, max_k p(k|x): near 1 for clear digits, 1/K for
	// an image the classifier cannot place at all.
	Confidence float64
	// Confident is the fraction of images with max_k p(k|x) > 0.9.
	Confident float64
	// Histogram counts the images by predicted class; it has K entries.
	Histogram []int
	// ClassEntropy is the entropy −Σ_k h_k log h_k (nats) of the
	// predicted-class frequencies h_k = Histogram[k]/N: log K (log 10 ≈
	// 2.303 for MNIST) for perfectly balanced classes, 0 if every image
	// gets one class (mode collapse).
	ClassEntropy float64
	// ClassifierScore is the Inception score computed with this
	// classifier, exp(E_x KL(p(y|x) ‖ p(y))) with p(y) = E_x p(y|x): up to
	// K for confident predictions spread evenly over the classes.
	ClassifierScore float64
	// FD is the Fréchet distance between the Gaussian fit of the
	// classifier's penultimate features on the images and on its
	// reference images, the test set (the "FID", with this classifier in
	// place of Inception). Lower is better; it has an upward bias of order
	// 1/N, so compare scores of equally many images.
	FD float64
}

// String formats the scores on one line.
func (s Scores) String() string {
	var h strings.Builder
	for k, c := range s.Histogram {
		if k > 0 {
			h.WriteByte(' ')
		}
		fmt.Fprint(&h, c)
	}
	return fmt.Sprintf("FD %.3f  confidence %.3f (%.1f%% > 0.9)  class entropy %.3f nats (balanced %.3f)  classifier score %.2f  classes [%s]  (%d images)",
		s.FD, s.Confidence, 100*s.Confident, s.ClassEntropy, math.Log(float64(max(len(s.Histogram), 1))), s.ClassifierScore, h.String(), s.N)
}

// Score scores n images, row-major n×Dim() with values in [−1, 1] (for
// MNIST a blank background is −1, the range of datasets.LoadMNIST), the
// way generative models of images are scored: by the classifier's
// confidence on them, how evenly they spread over its classes, and the
// Fréchet distance of their features to those of its reference images,
// real test images (see Scores and doc.go).
//
// samples must hold n·Dim() finite values, and n ≥ 2 (a covariance needs
// two images; a few hundred give a useful FD); otherwise the error wraps
// ErrInput and names the problem. Values outside [−1, 1] are scored as
// they are. c must have reference statistics (c.Ref), as the embedded
// classifier of LoadClassifier and every file cmd/train-classifier writes
// have. Score stops early with ctx.Err() when ctx is cancelled.
func Score(ctx context.Context, c *Classifier, samples []float64, n int) (Scores, error) {
	if c.Ref == nil {
		return Scores{}, fmt.Errorf("quality: Score: the classifier has no reference statistics; compute them with SetReference on the test images: %w", ErrInput)
	}
	if n < 2 {
		return Scores{}, fmt.Errorf("quality: Score: %d images; the Fréchet distance needs at least 2: %w", n, ErrInput)
	}
	o, err := c.Run(ctx, samples, n)
	if err != nil {
		return Scores{}, err
	}
	s := scoreOutputs(o)
	g, err := FitGaussian(o.Features, n, FeatureDim)
	if err != nil {
		return Scores{}, fmt.Errorf("quality: Score: features: %w", err)
	}
	if s.FD, err = FrechetDistance(g, c.Ref); err != nil {
		return Scores{}, err
	}
	return s, nil
}

// scoreOutputs computes everything but the Fréchet distance.
func scoreOutputs(o *Outputs) Scores {
	s := Scores{N: o.N}
	k := o.K
	s.Histogram = make([]int, k)
	p := make([]float64, k)
	marginal := make([]float64, k)
	negEntropy := 0.0 // Σ_x Σ_y p(y|x) log p(y|x)
	for i := range o.N {
		z := o.Logits[i*k : (i+1)*k]
		softmax(p, z)
		best := argmax(z)
		s.Histogram[best]++
		s.Confidence += p[best]
		if p[best] > 0.9 {
			s.Confident++
		}
		lse := z[best] + math.Log(sumExpShifted(z, z[best]))
		for y, py := range p {
			marginal[y] += py
			if py > 0 {
				negEntropy += py * (z[y] - lse)
			}
		}
	}
	n := float64(o.N)
	s.Confidence /= n
	s.Confident /= n
	for _, c := range s.Histogram {
		if c > 0 {
			h := float64(c) / n
			s.ClassEntropy -= h * math.Log(h)
		}
	}
	// E_x KL(p(y|x) ‖ p(y)) = E_x Σ_y p(y|x) log p(y|x) − Σ_y p(y) log p(y).
	kl := negEntropy / n
	for _, m := range marginal {
		if m > 0 {
			m /= n
			kl -= m * math.Log(m)
		}
	}
	s.ClassifierScore = math.Exp(max(kl, 0))
	return s
}

// sumExpShifted returns Σ exp(z_i − m).
func sumExpShifted(z []float64, m float64) float64 {
	s := 0.0
	for _, v := range z {
		s += math.Exp(v - m)
	}
	return s
}

// ReferenceConfig configures Reference. The zero value scores 1000 real
// MNIST training digits from the Go module cache and 1000 noise images,
// seed 0.
type ReferenceConfig struct {
	// N is the number of images in each set; 0 means 1000. Use the number
	// of samples you score, since the Fréchet distance of N images is
	// biased upwards by an amount that shrinks like 1/N.
	N int
	// Data, if not nil, holds the real images, for a classifier of
	// anything but MNIST: its training split, which the reference
	// statistics (fitted on the test split) have not seen. It must have
	// at least N images of the classifier's shape. Split and Dir are then
	// unused.
	Data *datasets.ImageSet
	// Split is where the real MNIST digits come from. The zero value,
	// datasets.Train, gives digits the reference statistics (fitted on
	// the test set) have not seen: what a perfect generator would score.
	// datasets.Test scores a subset of the reference set itself, which
	// is lower.
	Split datasets.Split
	// Seed picks the real images (for MNIST among the first 10·N of the
	// split) and draws the noise.
	Seed uint64
	// Dir is the folder of the MNIST files; "" means the Go module cache
	// (see datasets.MNISTConfig).
	Dir string
}

// References are the scores of real images and of noise, the two ends of
// the scale samples are judged on.
type References struct {
	Real  Scores // N real images
	Noise Scores // N images of independent uniform noise on [−1, 1]
}

// String formats the two reference scores on two lines.
func (r References) String() string {
	return "real images: " + r.Real.String() + "\nuniform noise: " + r.Noise.String()
}

// Reference scores real images (MNIST digits, or cfg.Data) and uniform
// noise with c, to show the scale of Score's numbers: samples as good as
// real images score like Real, and no model should score worse than Noise.
func Reference(ctx context.Context, c *Classifier, cfg ReferenceConfig) (References, error) {
	if cfg.N < 0 {
		return References{}, fmt.Errorf("quality: Reference: negative N %d: %w", cfg.N, ErrInput)
	}
	n := orDefault(cfg.N, 1000)
	data := cfg.Data
	if data == nil {
		// Draw the digits from the first 10·N images of the split (MNIST's
		// order is already random), which loads much faster than all
		// 60 000.
		m, err := datasets.LoadMNIST(ctx, cfg.Split, datasets.MNISTConfig{Dir: cfg.Dir, Limit: 10 * n})
		if err != nil {
			return References{}, fmt.Errorf("quality: Reference: %w", err)
		}
		data = m.ImageSet()
	}
	if !slices.Equal(data.Shape(), c.Shape()) {
		return References{}, fmt.Errorf("quality: Reference: %s holds %v images, the classifier takes %v: %w", data.Source, data.Shape(), c.Shape(), ErrInput)
	}
	if n > data.N {
		return References{}, fmt.Errorf("quality: Reference: N = %d is more than the %d images of %s: %w", n, data.N, data.Source, ErrInput)
	}
	d := data.Dim()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7265_6665))
	real := make([]float64, n*d)
	for i, j := range rng.Perm(data.N)[:n] {
		copy(real[i*d:(i+1)*d], data.Image(j))
	}
	noise := make([]float64, n*d)
	for i := range noise {
		noise[i] = 2*rng.Float64() - 1
	}
	var r References
	var err error
	if r.Real, err = Score(ctx, c, real, n); err != nil {
		return References{}, err
	}
	if r.Noise, err = Score(ctx, c, noise, n); err != nil {
		return References{}, err
	}
	return r, nil
}

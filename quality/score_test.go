package quality

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ebmgo/ebm/datasets"
)

var (
	testOnce sync.Once
	testSet  *datasets.MNIST
	testErr  error
)

// mnistTest loads the MNIST test set once for all tests.
func mnistTest(t *testing.T) *datasets.MNIST {
	t.Helper()
	testOnce.Do(func() {
		testSet, testErr = datasets.LoadMNIST(context.Background(), datasets.Test, datasets.MNISTConfig{})
	})
	if testErr != nil {
		t.Fatal(testErr)
	}
	return testSet
}

func embedded(t *testing.T) *Classifier {
	t.Helper()
	c, err := LoadClassifier()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The embedded classifier classifies at least 99% of the 10 000 MNIST test
// digits correctly, as its file says, and scoring the test set itself
// gives a Fréchet distance of zero: the reference statistics are the
// Gaussian fit of exactly these features.
func TestEmbeddedClassifier(t *testing.T) {
	ctx := context.Background()
	test := mnistTest(t)
	c := embedded(t)
	acc, err := c.Accuracy(ctx, test.Images, test.Labels)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test accuracy %.4f; file says %s", acc, c.Meta["test_accuracy"])
	if acc < 0.99 {
		t.Errorf("test accuracy %.4f, want ≥ 0.99", acc)
	}
	// The file's number was measured with OpenBLAS or gonum in float32;
	// another summation order may flip a borderline digit or two.
	if said, err := strconv.ParseFloat(c.Meta["test_accuracy"], 64); err != nil || math.Abs(said-acc) > 3e-4 {
		t.Errorf("file metadata test_accuracy = %q, measured %.4f", c.Meta["test_accuracy"], acc)
	}
	if c.Ref == nil || c.Ref.N != test.N {
		t.Fatalf("reference statistics %v, want a fit of the %d test images", c.Ref, test.N)
	}
	s, err := Score(ctx, c, test.Images, test.N)
	if err != nil {
		t.Fatal(err)
	}
	// The features are float32: their fit differs from the stored one
	// by rounding only.
	if s.FD > 1e-6 {
		t.Errorf("FD of the reference set to itself %g, want 0", s.FD)
	}
	if !(s.Confidence > 0.98 && s.ClassEntropy > 2.29 && s.ClassifierScore > 9.5) {
		t.Errorf("test set scores %v", s)
	}
	var hist [Classes]int
	for _, y := range test.Labels {
		hist[y]++
	}
	for k := range hist {
		if d := s.Histogram[k] - hist[k]; d*d > 50*50 {
			t.Errorf("class %d: %d predicted, %d in the test set", k, s.Histogram[k], hist[k])
		}
	}
}

// Over several seeds real digits score far better than noise on every
// score, and a mode-collapsed set (one digit only) is caught by the class
// entropy and the Fréchet distance.
func TestReferenceRealBeatsNoise(t *testing.T) {
	ctx := context.Background()
	c := embedded(t)
	const n = 500
	for seed := range uint64(3) {
		r, err := Reference(ctx, c, ReferenceConfig{N: n, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d:\n%v", seed, r)
		re, no := r.Real, r.Noise
		if re.N != n || no.N != n {
			t.Fatalf("scored %d and %d images, want %d", re.N, no.N, n)
		}
		if !(re.FD < no.FD/50) {
			t.Errorf("seed %d: FD of real digits %.3g, of noise %.3g", seed, re.FD, no.FD)
		}
		if !(re.Confidence > 0.97 && re.Confident > 0.93 && no.Confidence < 0.6 && no.Confident < 0.05) {
			t.Errorf("seed %d: confidence %.3f (%.3f > 0.9) on digits, %.3f (%.3f) on noise", seed, re.Confidence, re.Confident, no.Confidence, no.Confident)
		}
		// Real digits are balanced up to sampling noise: for n = 500 from
		// ~uniform classes E[log 10 − H] ≈ (K−1)/(2n) ≈ 0.01.
		if !(re.ClassEntropy > math.Log(10)-0.05 && no.ClassEntropy < 1.8) {
			t.Errorf("seed %d: class entropy %.3f on digits, %.3f on noise", seed, re.ClassEntropy, no.ClassEntropy)
		}
		if !(re.ClassifierScore > 9 && no.ClassifierScore < 2) {
			t.Errorf("seed %d: classifier score %.2f on digits, %.2f on noise", seed, re.ClassifierScore, no.ClassifierScore)
		}
	}

	test := mnistTest(t)
	var ones []float64
	for i, y := range test.Labels {
		if y == 1 && len(ones) < n*Pixels {
			ones = append(ones, test.Image(i)...)
		}
	}
	s, err := Score(ctx, c, ones, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("only ones: %v", s)
	if s.ClassEntropy > 0.1 || s.Histogram[1] < n-5 || s.FD < 100 || s.ClassifierScore > 1.2 {
		t.Errorf("a set of ones only scores %v", s)
	}
}

// Score does not depend on the order of the samples, nor on how they fall
// into the classifier's batches, beyond float32 rounding.
func TestScoreOrderInvariant(t *testing.T) {
	ctx := context.Background()
	c := embedded(t)
	test := mnistTest(t)
	const n = 700 // more than one batch, and a padded one
	x := test.Images[:n*Pixels]
	a, err := Score(ctx, c, x, n)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	y := make([]float64, len(x))
	for i, p := range rng.Perm(n) {
		copy(y[i*Pixels:(i+1)*Pixels], x[p*Pixels:(p+1)*Pixels])
	}
	b, err := Score(ctx, c, y, n)
	if err != nil {
		t.Fatal(err)
	}
	// A sample's float32 outputs may change in the last bits with its
	// place in a batch (the GEMM kernels split the work by position), so
	// the scores agree to float32 rounding, not bit for bit.
	if !slices.Equal(a.Histogram, b.Histogram) || math.Abs(a.FD-b.FD) > 1e-6*a.FD || math.Abs(a.Confidence-b.Confidence) > 1e-6 ||
		math.Abs(a.ClassifierScore-b.ClassifierScore) > 1e-6*a.ClassifierScore {
		t.Errorf("scores change with the order of the samples:\n%v\n%v", a, b)
	}
}

func TestScoreBadInput(t *testing.T) {
	ctx := context.Background()
	c := embedded(t)
	good := make([]float64, 3*Pixels)
	for _, tc := range []struct {
		name string
		x    []float64
		n    int
		msg  string
	}{
		{"wrong length", good[:3*Pixels-1], 3, "2351 values for 3 images"},
		{"NaN", withValue(good, 2*Pixels+5*Side+7, math.NaN()), 3, "image 2 pixel (5, 7) is NaN"},
		{"Inf", withValue(good, 0, math.Inf(1)), 3, "image 0 pixel (0, 0) is +Inf"},
		{"one image", good[:Pixels], 1, "at least 2"},
		{"no images", nil, 0, "at least 2"},
	} {
		_, err := Score(ctx, c, tc.x, tc.n)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %v, want ErrInput saying %q", tc.name, err, tc.msg)
		}
	}
	c.Ref = nil
	if _, err := Score(ctx, c, good, 3); err == nil || !strings.Contains(err.Error(), "reference statistics") {
		t.Errorf("without reference statistics: error %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Run(cctx, good, 3); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v", err)
	}
}

func withValue(x []float64, i int, v float64) []float64 {
	y := append([]float64(nil), x...)
	y[i] = v
	return y
}

// The scores of hand-made classifier outputs against their definitions.
func TestScoreOutputs(t *testing.T) {
	// Two samples, certain of classes 0 and 1: confidence 1, entropy
	// log 2, classifier score 2.
	o := &Outputs{N: 2, K: Classes, Logits: make([]float64, 2*Classes)}
	o.Logits[0] = 100
	o.Logits[Classes+1] = 100
	s := scoreOutputs(o)
	if math.Abs(s.Confidence-1) > 1e-12 || s.Confident != 1 || math.Abs(s.ClassEntropy-math.Log(2)) > 1e-12 ||
		math.Abs(s.ClassifierScore-2) > 1e-9 || s.Histogram[0] != 1 || s.Histogram[1] != 1 {
		t.Errorf("two certain samples: %v", s)
	}
	// Uniform predictions: confidence 0.1, classifier score 1.
	o = &Outputs{N: 3, K: Classes, Logits: make([]float64, 3*Classes)}
	s = scoreOutputs(o)
	if math.Abs(s.Confidence-0.1) > 1e-12 || s.Confident != 0 || math.Abs(s.ClassifierScore-1) > 1e-12 {
		t.Errorf("uniform predictions: %v", s)
	}
	// A general case against a direct computation.
	rng := rand.New(rand.NewPCG(8, 8))
	o = &Outputs{N: 5, K: Classes, Logits: make([]float64, 5*Classes)}
	for i := range o.Logits {
		o.Logits[i] = 3 * rng.NormFloat64()
	}
	s = scoreOutputs(o)
	var marg [Classes]float64
	probs := make([][]float64, o.N)
	conf := 0.0
	for i := range o.N {
		probs[i] = o.Probs(nil, i)
		m := 0.0
		for k, p := range probs[i] {
			marg[k] += p / float64(o.N)
			m = math.Max(m, p)
		}
		conf += m / float64(o.N)
	}
	kl := 0.0
	for i := range o.N {
		for k, p := range probs[i] {
			kl += p * math.Log(p/marg[k]) / float64(o.N)
		}
	}
	if math.Abs(s.Confidence-conf) > 1e-12 || math.Abs(s.ClassifierScore-math.Exp(kl)) > 1e-9 {
		t.Errorf("confidence %v, classifier score %v; want %v, %v", s.Confidence, s.ClassifierScore, conf, math.Exp(kl))
	}
}

package quality_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ebmgo/ebm/datasets"
	"github.com/ebmgo/ebm/quality"
	"gonum.org/v1/gonum/mat"
)

// Scoring a batch of images, here the first 1000 test digits standing in
// for a model's samples (N×784 values in [−1, 1]). Their FD is higher than
// that of 1000 random test digits (≈ 7): MNIST's first 5000 test digits
// come from NIST's cleaner training set, the last 5000 from its test set.
func ExampleScore() {
	ctx := context.Background()
	clf, err := quality.LoadClassifier()
	if err != nil {
		fmt.Println(err)
		return
	}
	const n = 1000
	test, err := datasets.LoadMNIST(ctx, datasets.Test, datasets.MNISTConfig{Limit: n})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := quality.Score(ctx, clf, test.Images, n)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("confidence %.2f, %.0f%% above 0.9\n", s.Confidence, 100*s.Confident)
	fmt.Printf("class entropy %.2f nats of at most %.2f\n", s.ClassEntropy, math.Log(10))
	fmt.Printf("Fréchet distance %.0f\n", s.FD)
	// Output:
	// confidence 0.99, 98% above 0.9
	// class entropy 2.29 nats of at most 2.30
	// Fréchet distance 19
}

// Classifying digits with the embedded classifier.
func ExampleClassifier_Run() {
	ctx := context.Background()
	clf, err := quality.LoadClassifier()
	if err != nil {
		fmt.Println(err)
		return
	}
	test, err := datasets.LoadMNIST(ctx, datasets.Test, datasets.MNISTConfig{Limit: 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := clf.Run(ctx, test.Images, test.N)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("predicted", out.Predict())
	fmt.Println("labels   ", test.Labels)
	fmt.Println(len(out.Features)/test.N, "features per image")
	// Output:
	// predicted [7 2 1 0 4 1 4 9 5 9]
	// labels    [7 2 1 0 4 1 4 9 5 9]
	// 64 features per image
}

// The Fréchet distance between N(0, 1) and N(1, 4) in one dimension is
// (μ₁ − μ₂)² + (σ₁ − σ₂)² = 1 + 1.
func ExampleFrechetDistance() {
	a := &quality.Gaussian{N: 100, Mean: []float64{0}, Cov: mat.NewSymDense(1, []float64{1})}
	b := &quality.Gaussian{N: 100, Mean: []float64{1}, Cov: mat.NewSymDense(1, []float64{4})}
	fd, err := quality.FrechetDistance(a, b)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.6f\n", fd)
	// Output:
	// 2.000000
}

// The two ends of the scale: real digits the reference statistics have not
// seen, and uniform noise, scored like 1000 samples.
func ExampleReference() {
	ctx := context.Background()
	clf, err := quality.LoadClassifier()
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := quality.Reference(ctx, clf, quality.ReferenceConfig{N: 1000})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("FD: real digits %.0f, noise %.0f\n", r.Real.FD, r.Noise.FD)
	fmt.Printf("confidence: real digits %.2f, noise %.2f\n", r.Real.Confidence, r.Noise.Confidence)
	fmt.Printf("class entropy: real digits %.2f, noise %.2f\n", r.Real.ClassEntropy, r.Noise.ClassEntropy)
	// Output:
	// FD: real digits 9, noise 1303
	// confidence: real digits 1.00, noise 0.35
	// class entropy: real digits 2.30, noise 1.55
}

// A judge of any labelled images: trained on a synthetic set of coloured
// shapes, it tells real shapes from noise the way the MNIST classifier
// tells digits from noise.
func ExampleNewClassifierFor() {
	ctx := context.Background()
	shapes, err := datasets.Shapes(datasets.ShapesConfig{N: 1000, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	train, test, err := shapes.HoldOut(200, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	judge, err := quality.NewClassifierFor(rand.New(rand.NewPCG(1, 1)), quality.ClassifierConfig{
		Channels: 3, Height: 16, Width: 16, ClassNames: shapes.Classes})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := quality.Train(ctx, judge, train, test, quality.TrainConfig{Epochs: 3, Batch: 50, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := judge.SetReference(ctx, test.Images, test.N); err != nil {
		fmt.Println(err)
		return
	}
	refs, err := quality.Reference(ctx, judge, quality.ReferenceConfig{N: 200, Data: train})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("classes:", judge.Names())
	fmt.Println("test accuracy above 0.95:", res.TestAccuracy > 0.95)
	fmt.Println("real shapes nearer than noise:", refs.Real.FD < refs.Noise.FD/10)
	// Output:
	// classes: [red disc green square blue cross yellow ring]
	// test accuracy above 0.95: true
	// real shapes nearer than noise: true
}

package datasets_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/ebmgo/ebm/datasets"
)

func ExampleLoadMNIST() {
	// Limit keeps the example quick; the zero MNISTConfig loads all 60000
	// training images, scaled to [−1, 1], from the Go module cache.
	train, err := datasets.LoadMNIST(context.Background(), datasets.Train, datasets.MNISTConfig{Limit: 1000})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(train.N, "images of shape", train.Shape())
	fmt.Println("first label:", train.Labels[0])
	img := train.Image(0)
	fmt.Printf("pixel (14, 14) of the first image: %.4f\n", img[14*28+14])
	// Output:
	// 1000 images of shape [1 28 28]
	// first label: 5
	// pixel (14, 14) of the first image: 0.8824
}

func ExampleToy() {
	d, err := datasets.EightGaussians{}.Toy()
	if err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := d.SampleN(rng, 1000) // 1000 points, x₀ y₀ x₁ y₁ ...
	fmt.Println(len(x))
	fmt.Printf("log p at a mean: %.6f\n", d.LogDensity([]float64{4 / 1.414, 0}))
	fmt.Printf("log p at the origin: %.6f\n", d.LogDensity([]float64{0, 0}))
	fmt.Printf("entropy: %.4f nats\n", d.Entropy())
	// Output:
	// 2000
	// log p at a mean: -1.838179
	// log p at the origin: -31.758738
	// entropy: 2.8319 nats
}

func ExampleToyByName() {
	for _, name := range datasets.ToyNames() {
		d, _ := datasets.ToyByName(name)
		b := d.Bounds()
		fmt.Printf("%-12s box [%.2f, %.2f]×[%.2f, %.2f]\n", name, b.XMin, b.XMax, b.YMin, b.YMax)
	}
	// Output:
	// 2spirals     box [-4.14, 4.14]×[-3.64, 3.64]
	// 8gaussians   box [-6.36, 6.36]×[-6.36, 6.36]
	// checkerboard box [-4.00, 4.00]×[-4.00, 4.00]
	// moons        box [-5.00, 5.00]×[-3.20, 3.80]
	// pinwheel     box [-6.36, 6.36]×[-6.36, 6.36]
	// rings        box [-3.80, 3.80]×[-3.80, 3.80]
	// swissroll    box [-3.90, 4.52]×[-4.21, 4.83]
}

func ExampleCheckerboard() {
	d, err := datasets.Checkerboard{}.Toy()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.6f %.6f\n", d.LogDensity([]float64{0.5, 0.5}), d.LogDensity([]float64{2.5, 0.5}))
	fmt.Printf("entropy log 32 = %.6f\n", d.Entropy())
	// Output:
	// -3.465736 -Inf
	// entropy log 32 = 3.465736
}

func ExampleBatches() {
	// Five rows of two values each: row i is (i, 10i).
	data := []float64{0, 0, 1, 10, 2, 20, 3, 30, 4, 40}
	b, err := datasets.NewBatches(data, 2, datasets.BatchConfig{Size: 2, Remainder: datasets.Partial, Sequential: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	batch := make([]float64, 2*2)
	idx := make([]int, 2)
	for b.Epoch() < 1 {
		n := b.Next(batch, idx)
		fmt.Println(idx[:n], batch[:2*n])
	}
	// Output:
	// [0 1] [0 0 1 10]
	// [2 3] [2 20 3 30]
	// [4] [4 40]
}

func ExampleReadIDX() {
	var buf bytes.Buffer
	labels := &datasets.IDX{Type: datasets.IDXUint8, Dims: []int{4}, Data: []byte{7, 2, 1, 0}}
	if err := datasets.WriteIDX(&buf, labels); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% x\n", buf.Bytes()[:8])
	m, err := datasets.ReadIDX(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Type, m.Dims, m.Float64s(nil))
	// Output:
	// 00 00 08 01 00 00 00 04
	// uint8 [4] [7 2 1 0]
}

func ExampleLoadImages() {
	// A folder with one sub-folder per class; the format is detected, and
	// every image is brought to 8×8 RGB in [−1, 1].
	ctx := context.Background()
	train, err := datasets.LoadImages(ctx, "testdata/folder/labelled", datasets.Train,
		datasets.ImagesConfig{Height: 8, Width: 8, Channels: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(train.Format, train.N, "images of shape", train.Shape())
	fmt.Println("classes:", train.Classes, "labels:", train.Labels)

	// CIFAR-10's binary batches, at their own 3×32×32.
	cifar, err := datasets.LoadImages(ctx, "testdata/cifar", datasets.Test, datasets.ImagesConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cifar.Format, cifar.N, "images of shape", cifar.Shape(), "first:", cifar.Classes[cifar.Labels[0]])

	// Broken input is one line naming the file.
	_, err = datasets.LoadImages(ctx, "testdata/folder/non-image", datasets.Train, datasets.ImagesConfig{})
	fmt.Println(err)
	// Output:
	// image folder 8 images of shape [3 8 8]
	// classes: [circle square] labels: [0 0 0 0 1 1 1 1]
	// CIFAR-10 2 images of shape [3 32 32] first: horse
	// datasets: bad format: testdata/folder/non-image/notes.txt is not a PNG, JPEG or GIF image
}

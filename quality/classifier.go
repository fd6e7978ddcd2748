package quality

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/ebmgo/ebm/graph"
	"github.com/ebmgo/ebm/nn"
	G "gorgonia.org/gorgonia"
)

// Sizes of the classifier's input and outputs.
const (
	// Side is the height and width of an MNIST image; one image has
	// Pixels = Side·Side values in [−1, 1], row-major.
	Side   = 28
	Pixels = Side * Side
	// Classes is the number of digit classes.
	Classes = 10
	// FeatureDim is the size of the penultimate features the Fréchet
	// distance compares.
	FeatureDim = 64
)

// evalBatch is the batch size the classifier's inference graph is
// compiled for; shorter inputs are padded.
const evalBatch = 500

// Classifier is the digit classifier that scores samples: a small CNN on
// 28×28 images in [−1, 1] (see NewClassifier), together with the Gaussian
// fit of its penultimate features on the MNIST test digits that the
// Fréchet distance compares samples with.
//
// Run, Accuracy and Score may be called from several goroutines at once:
// they are serialised on one compiled graph. Train and SetReference change
// the classifier and must not run concurrently with anything else on it.
type Classifier struct {
	// Net is the network, an nn.Sequential of 8 layers ending in the
	// Linear(64→10) head. Training updates its parameters in place.
	Net *nn.Sequential
	// Ref is the Gaussian fit of the penultimate features of the MNIST
	// test digits; nil for a classifier whose reference has not been
	// computed (see SetReference). Score needs it for the Fréchet distance.
	Ref *Gaussian
	// Meta holds the facts about training stored with the weights, such
	// as "test_accuracy" and "command"; nil if none.
	Meta map[string]string

	mu  sync.Mutex
	fwd *graph.Forward
	out []float64 // evalBatch × (FeatureDim + Classes)
	in  []float64 // evalBatch × Pixels, for padded batches
}

// The index of the layer whose output is the feature vector, and the head.
const (
	featureLayer = 6
	headLayer    = 7
)

// NewClassifier returns an untrained classifier with PyTorch's
// initialisation drawn from rng:
//
//	0 Conv2d(1→16, 5×5, stride 2, pad 2)   28×28 → 14×14
//	1 SiLU
//	2 Conv2d(16→32, 3×3, stride 2, pad 1)  14×14 → 7×7
//	3 SiLU
//	4 Flatten                              32·7·7 = 1568
//	5 Linear(1568→64)
//	6 SiLU                                 features (64)
//	7 Linear(64→10)                        logits
//
// Parameter names are those of the torch.nn.Sequential of the same layers
// ("0.weight", "0.bias", "2.weight", ..., "7.bias"). It panics if rng is
// nil.
func NewClassifier(rng *rand.Rand) *Classifier {
	if rng == nil {
		panic("quality: NewClassifier: nil *rand.Rand")
	}
	net := nn.NewSequential(
		nn.NewConv2d(rng, 1, 16, 5, nn.Conv2dConfig{Stride: 2, Padding: 2}), nn.SiLU(),
		nn.NewConv2d(rng, 16, 32, 3, nn.Conv2dConfig{Stride: 2, Padding: 1}), nn.SiLU(),
		nn.Flatten{},
		nn.NewLinear(rng, 32*7*7, FeatureDim), nn.SiLU(),
		nn.NewLinear(rng, FeatureDim, Classes),
	)
	return &Classifier{Net: net}
}

// inference is the network as a model whose output, per sample, is the
// features followed by the logits: (N, FeatureDim+Classes), so one pass
// gives both.
func (c *Classifier) inference() graph.Model {
	return graph.Func{P: c.Net.Params(), Fn: func(b *graph.Builder, x *G.Node) (*G.Node, error) {
		body := &nn.Sequential{Layers: c.Net.Layers[:featureLayer+1]}
		feat, err := body.Forward(b, x)
		if err != nil {
			return nil, err
		}
		logits, err := c.Net.Layers[headLayer].Forward(b, feat)
		if err != nil {
			return nil, err
		}
		return G.Concat(1, feat, logits)
	}}
}

// Outputs holds the classifier's outputs on a batch of N images, row-major.
type Outputs struct {
	N        int
	Features []float64 // N × FeatureDim, the penultimate activations
	Logits   []float64 // N × Classes
}

// Probs returns the softmax of image i's logits in dst (allocated when
// nil), computed stably.
func (o *Outputs) Probs(dst []float64, i int) []float64 {
	if dst == nil {
		dst = make([]float64, Classes)
	}
	softmax(dst, o.Logits[i*Classes:(i+1)*Classes])
	return dst
}

// Predict returns the most likely class of each image.
func (o *Outputs) Predict() []int {
	pred := make([]int, o.N)
	for i := range pred {
		pred[i] = argmax(o.Logits[i*Classes : (i+1)*Classes])
	}
	return pred
}

// Run computes the features and logits of the n images in x (row-major,
// n×784, values in [−1, 1]). It checks x first: a wrong length or a NaN or
// infinite pixel is an error that names the image. Run stops between
// batches of 500 images when ctx is cancelled, returning ctx.Err().
func (c *Classifier) Run(ctx context.Context, x []float64, n int) (*Outputs, error) {
	if err := checkImages(x, n); err != nil {
		return nil, err
	}
	o := &Outputs{N: n, Features: make([]float64, n*FeatureDim), Logits: make([]float64, n*Classes)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fwd == nil {
		fwd, err := graph.NewForward(c.inference(), graph.Config{Shape: []int{1, Side, Side}, Batch: evalBatch})
		if err != nil {
			return nil, fmt.Errorf("quality: compile classifier: %w", err)
		}
		c.fwd = fwd
		c.out = make([]float64, evalBatch*(FeatureDim+Classes))
	}
	const w = FeatureDim + Classes
	for lo := 0; lo < n; lo += evalBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+evalBatch, n)
		in := x[lo*Pixels : hi*Pixels]
		if hi-lo < evalBatch {
			if c.in == nil {
				c.in = make([]float64, evalBatch*Pixels)
			}
			copy(c.in, in)
			clear(c.in[len(in):])
			in = c.in
		}
		if err := c.fwd.Run(c.out, in); err != nil {
			return nil, fmt.Errorf("quality: classifier: %w", err)
		}
		for i := lo; i < hi; i++ {
			row := c.out[(i-lo)*w : (i-lo+1)*w]
			copy(o.Features[i*FeatureDim:(i+1)*FeatureDim], row[:FeatureDim])
			copy(o.Logits[i*Classes:(i+1)*Classes], row[FeatureDim:])
		}
	}
	return o, nil
}

// Accuracy returns the fraction of the n images in x whose predicted
// class equals labels[i].
func (c *Classifier) Accuracy(ctx context.Context, x []float64, labels []int) (float64, error) {
	n := len(labels)
	if n == 0 {
		return 0, fmt.Errorf("quality: Accuracy: no labels")
	}
	o, err := c.Run(ctx, x, n)
	if err != nil {
		return 0, err
	}
	right := 0
	for i, p := range o.Predict() {
		if p == labels[i] {
			right++
		}
	}
	return float64(right) / float64(n), nil
}

// SetReference computes the Gaussian fit of the classifier's features on
// the n reference images in x (the MNIST test digits) and stores it in
// c.Ref.
func (c *Classifier) SetReference(ctx context.Context, x []float64, n int) error {
	o, err := c.Run(ctx, x, n)
	if err != nil {
		return err
	}
	g, err := FitGaussian(o.Features, n, FeatureDim)
	if err != nil {
		return fmt.Errorf("quality: reference features: %w", err)
	}
	c.Ref = g
	return nil
}

// checkImages reports an input that is not n finite 28×28 images.
func checkImages(x []float64, n int) error {
	if n <= 0 {
		return fmt.Errorf("quality: %d images: need at least one: %w", n, ErrInput)
	}
	if len(x) != n*Pixels {
		return fmt.Errorf("quality: %d values for %d images of 28×28 = %d, want %d: %w", len(x), n, Pixels, n*Pixels, ErrInput)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("quality: image %d pixel (%d, %d) is %v: %w", i/Pixels, i%Pixels/Side, i%Side, v, ErrInput)
		}
	}
	return nil
}

// softmax sets p = exp(z − max z) / Σ exp(z − max z).
func softmax(p, z []float64) {
	m := z[argmax(z)]
	s := 0.0
	for i, v := range z {
		p[i] = math.Exp(v - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
}

func argmax(z []float64) int {
	best := 0
	for i, v := range z {
		if v > z[best] {
			best = i
		}
	}
	return best
}
